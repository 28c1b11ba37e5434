//! The run's first reads, all at once, and what they say about the failure. Reads only: a
//! run that ends up refusing has changed nothing.

use tokio::time::Instant;

use super::lease::{Lease, LeaseDeps, Seen};
use super::run::Run;
use crate::arn::GatewayArn;
use crate::ledger::{self, Hold, Outage, Stored, Watch, fleet_pk, gateway_pk, region_pk};
use crate::model::{GatewayDescription, GatewayKind, GatewaySummary, Tags};
use crate::pacing::{Pages, Retry};
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, StorageGateway};

/// What the first reads found.
pub(super) struct Observed {
    pub described: Result<GatewayDescription, AwsError>,
    /// When the description's answer came (the re-check before `DisableGateway` counts from it).
    pub described_at: Instant,
    pub summary: Result<Option<GatewaySummary>, AwsError>,
    pub tags: Result<Tags, AwsError>,
    /// The region's holds, active or released.
    pub holds: Result<Vec<Hold>, AwsError>,
    pub outage: Result<Option<Stored<Outage>>, AwsError>,
    /// The monitor's debounce item, for when the gateway was last seen online.
    pub watch: Option<Watch>,
    /// The gateway's lease before anything else was looked at (see [`super::lease`]).
    pub lease: Seen,
}

/// What the reads say.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Verdict {
    /// It has failed: not connected, or disabled (`ListGateways` says so, whatever the
    /// description answers).
    Failed { kind: GatewayKind, disabled: bool },
    /// It answers as healthy.
    NotFailed { state: String },
    /// It does not exist, or its kind is unknown.
    Refused(String),
    /// A read failed; `what` says which.
    Error(&'static str, AwsError),
}

/// Finds one gateway in `ListGateways`, stopping at the page that has it.
pub(super) async fn find_gateway<'a, G: StorageGateway>(
    gateway: &'a G,
    pacer: &'a crate::pacing::Pacer,
    until: Instant,
    arn: &GatewayArn,
) -> Result<Option<GatewaySummary>, AwsError> {
    let mut pages = Pages::new(pacer, until, Box::new(move |from| gateway.list_gateways(from)));
    while let Some(page) = pages.next().await {
        if let Some(s) = page?.into_iter().find(|s| &s.arn == arn) {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    pub(super) async fn observe(&self) -> Observed {
        let failed = &self.req.failed;
        let until = self.budget.stop_at();
        let (sg, aux, ledger) = (self.rec.gateway, &self.aux, self.rec.ledger);
        // First, so any run that worked on the gateway after these reads moved its version.
        let lease = Lease::peek(LeaseDeps { ledger, clock: self.rec.clock, pacer: aux }, failed, until).await;
        let describe = async {
            let r = self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(failed)).await;
            (r, Instant::now())
        };
        let tags = self.sgw.call(Retry::Idempotent, until, || sg.list_tags(failed.into()));
        let summary = find_gateway(sg, &self.sgw, until, failed);
        let region = region_pk(failed.region());
        let holds = aux.call(Retry::Idempotent, until, || ledger::load_all::<Hold>(ledger, &region, "hold#"));
        let outage_key = self.id.outage_id.as_ref().map(|o| Key::new(gateway_pk(failed), format!("outage#{o}")));
        let outage = async {
            match &outage_key {
                Some(k) => aux.call(Retry::Idempotent, until, || ledger::load::<Outage>(ledger, k)).await,
                None => Ok(None),
            }
        };
        let watch_key = Key::new(fleet_pk(failed.region()), format!("gateway#{failed}"));
        let watch = aux.call(Retry::Idempotent, until, || ledger::load::<Watch>(ledger, &watch_key));
        let ((described, described_at), tags, summary, holds, outage, watch) =
            tokio::join!(describe, tags, summary, holds, outage, watch);
        Observed {
            described,
            described_at,
            summary,
            tags,
            holds: holds.map(|h| h.into_iter().map(|s| s.value).collect()),
            outage,
            watch: watch.ok().flatten().map(|s| s.value),
            lease,
        }
    }
}

/// The verdict of the first reads (pure).
pub(super) fn verdict(o: &Observed, handed_off_kind: Option<GatewayKind>) -> Verdict {
    let summary = match &o.summary {
        Ok(s) => s.as_ref(),
        Err(e) => return Verdict::Error("could not list gateways", e.clone()),
    };
    let kind = summary.map(|s| s.kind).or(o.described.as_ref().ok().map(|d| d.kind)).or(handed_off_kind);
    if let Some(s) = summary.filter(|s| s.disabled) {
        return Verdict::Failed { kind: s.kind, disabled: true };
    }
    match &o.described {
        Ok(info) => Verdict::NotFailed { state: info.state.clone() },
        Err(e) if e.kind == ErrorKind::NotConnected => match kind {
            Some(kind) => Verdict::Failed { kind, disabled: false },
            None => Verdict::Refused("the gateway is not in ListGateways, so its type is unknown".into()),
        },
        Err(e) if e.kind == ErrorKind::NotFound => Verdict::Refused(format!("the gateway does not exist ({e})")),
        Err(e) => Verdict::Error("could not confirm the gateway has failed", e.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::error;

    fn gw() -> GatewayArn {
        GatewayArn::parse("t", "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B").unwrap()
    }

    fn observed(described: Result<GatewayDescription, AwsError>, disabled: Option<bool>) -> Observed {
        Observed {
            described,
            described_at: Instant::now(),
            summary: Ok(disabled.map(|d| GatewaySummary {
                arn: gw(),
                name: "p".into(),
                kind: GatewayKind::Tape,
                disabled: d,
            })),
            tags: Ok(Tags::new()),
            holds: Ok(vec![]),
            outage: Ok(None),
            watch: None,
            lease: Seen::Absent,
        }
    }

    fn running() -> Result<GatewayDescription, AwsError> {
        Ok(GatewayDescription {
            arn: gw(),
            name: "p".into(),
            kind: GatewayKind::Tape,
            state: "RUNNING".into(),
            network_interfaces: vec![],
            tags: Tags::new(),
            tags_complete: true,
        })
    }

    #[test]
    fn listgateways_says_disabled_whatever_the_description_answers() {
        assert_eq!(
            verdict(&observed(running(), Some(true)), None),
            Verdict::Failed { kind: GatewayKind::Tape, disabled: true }
        );
        let offline = Err(error("DescribeGatewayInformation", "GatewayNotConnected", 400));
        assert_eq!(
            verdict(&observed(offline, Some(true)), None),
            Verdict::Failed { kind: GatewayKind::Tape, disabled: true }
        );
    }

    #[test]
    fn not_connected_is_failed_and_running_is_not() {
        let offline = || Err(error("DescribeGatewayInformation", "GatewayNotConnected", 400));
        assert_eq!(
            verdict(&observed(offline(), Some(false)), None),
            Verdict::Failed { kind: GatewayKind::Tape, disabled: false }
        );
        assert!(matches!(verdict(&observed(running(), Some(false)), None), Verdict::NotFailed { .. }));
        assert!(matches!(verdict(&observed(offline(), None), None), Verdict::Refused(_)), "kind unknown");
        assert_eq!(
            verdict(&observed(offline(), None), Some(GatewayKind::Tape)),
            Verdict::Failed { kind: GatewayKind::Tape, disabled: false },
            "a hand-off names the kind"
        );
        let gone = Err(error("DescribeGatewayInformation", "GatewayNotFound", 400));
        assert!(matches!(verdict(&observed(gone, None), None), Verdict::Refused(_)));
    }
}
