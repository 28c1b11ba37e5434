//! Confirms on the standby what the run retrieved: each tape there, `RECOVERED`. A tape
//! still arriving (a transitional status) is waited for a while, then left to the next
//! slice; a tape that is not there at all is a failure.

use std::collections::HashMap;
use std::time::Duration;

use futures::future::join_all;
use tokio::time::Instant;

use crate::arn::{GatewayArn, TapeArn};
use crate::model::TapeStatus;
use crate::pacing::{Pacer, Retry};
use crate::ports::{AwsError, StorageGateway};

/// How often tapes still arriving are looked at again.
const POLL: Duration = Duration::from_secs(2);

/// Each tape's status on the standby (`None`: not there).
pub(crate) async fn statuses<G: StorageGateway>(
    gateway: &G,
    pacer: &Pacer,
    standby: &GatewayArn,
    tapes: &[TapeArn],
    until: Instant,
) -> Result<HashMap<TapeArn, Option<TapeStatus>>, AwsError> {
    let chunks = tapes.chunks(100).map(|chunk| async move {
        pacer.call(Retry::Idempotent, until, || gateway.find_tapes(standby, chunk)).await.map(|found| (chunk, found))
    });
    let mut out = HashMap::new();
    for r in join_all(chunks).await {
        let (chunk, found) = r?;
        for t in chunk {
            out.insert(t.clone(), found.iter().find(|f| &f.tape == t).map(|f| f.status.clone()));
        }
    }
    Ok(out)
}

/// Waits (up to `wait`, and not past `until`) for tapes in a transitional status to become
/// `RECOVERED`; answers every tape's last status.
pub(crate) async fn confirm<G: StorageGateway>(
    gateway: &G,
    pacer: &Pacer,
    standby: &GatewayArn,
    tapes: &[TapeArn],
    wait: Duration,
    until: Instant,
) -> Result<HashMap<TapeArn, Option<TapeStatus>>, AwsError> {
    let mut all = statuses(gateway, pacer, standby, tapes, until).await?;
    let give_up = (Instant::now() + wait).min(until);
    loop {
        let arriving: Vec<TapeArn> = all
            .iter()
            .filter(|(_, s)| matches!(s, Some(s) if *s != TapeStatus::Recovered))
            .map(|(t, _)| t.clone())
            .collect();
        if arriving.is_empty() || Instant::now() + POLL > give_up {
            return Ok(all);
        }
        tracing::info!(tapes = arriving.len(), "waiting for retrieved tapes to become RECOVERED");
        tokio::time::sleep(POLL).await;
        all.extend(statuses(gateway, pacer, standby, &arriving, until).await?);
    }
}
