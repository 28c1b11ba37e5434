//! Recovery point and recovery time objectives, per recovery: how much data the failure
//! may have lost, and how long the gateway's data was out of reach.

use serde::Serialize;

use super::{ItemResult, Outcome};
use crate::time::{parse_rfc3339, rfc3339};

/// How much each tape may have lost: the time between its recovery point and the failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rpo {
    /// When the gateway failed (first seen offline), RFC 3339.
    pub failure_at: String,
    pub worst_secs: i64,
    pub worst_tape: String,
    pub median_secs: i64,
    /// Tapes with a recovery point time.
    pub tapes: usize,
    /// Tapes written (as the ledger last saw them) after their recovery point: AWS warns
    /// that recovered tapes can be incomplete or empty, and these are the likeliest.
    pub written_after_recovery_point: Vec<String>,
}

/// How long the data was out of reach: from the last time the gateway was seen online to
/// the last tape on the standby.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rto {
    pub last_seen_online: String,
    pub last_item_at: String,
    pub secs: i64,
}

/// The objectives of a recovery's tapes. `failure_at` and `last_seen_online` are epoch
/// seconds; `last_writes` gives, per barcode, the last write the ledger knows of (epoch s).
pub fn recovery_objectives(
    items: &[ItemResult],
    failure_at: Option<i64>,
    last_seen_online: Option<i64>,
    last_item_at: Option<i64>,
    last_writes: &dyn Fn(&str) -> Option<i64>,
) -> (Option<Rpo>, Option<Rto>) {
    let recovered =
        || items.iter().filter(|i| matches!(i.outcome, Outcome::Done | Outcome::AlreadyDone | Outcome::Planned));
    let rpo = failure_at.and_then(|failed| {
        let mut windows: Vec<(i64, &str)> = recovered()
            .filter_map(|i| Some(((failed - parse_rfc3339(i.recovery_point.as_deref()?)?).max(0), i.id.as_str())))
            .collect();
        if windows.is_empty() {
            return None;
        }
        windows.sort_unstable();
        let (worst_secs, worst_tape) = windows[windows.len() - 1];
        let median_secs = windows[windows.len() / 2].0;
        let written_after = recovered()
            .filter(|i| {
                let rp = i.recovery_point.as_deref().and_then(parse_rfc3339);
                matches!((rp, last_writes(&i.id)), (Some(rp), Some(w)) if w > rp)
            })
            .map(|i| i.id.clone())
            .collect();
        Some(Rpo {
            failure_at: rfc3339(failed),
            worst_secs,
            worst_tape: worst_tape.to_owned(),
            median_secs,
            tapes: windows.len(),
            written_after_recovery_point: written_after,
        })
    });
    let rto = match (last_seen_online, last_item_at) {
        (Some(online), Some(last)) if last >= online => {
            Some(Rto { last_seen_online: rfc3339(online), last_item_at: rfc3339(last), secs: last - online })
        }
        _ => None,
    };
    (rpo, rto)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_600_800;

    fn tape(id: &str, rp: i64) -> ItemResult {
        ItemResult::new(id, id, Outcome::Done).at(Some(rfc3339(rp)))
    }

    #[test]
    fn the_worst_and_the_median_window() {
        let items = [tape("A", T0 - 3600), tape("B", T0 - 60), tape("C", T0 - 600)];
        let (rpo, rto) =
            recovery_objectives(&items, Some(T0), Some(T0 - 300), Some(T0 + 200), &|b| (b == "B").then_some(T0 - 10));
        let rpo = rpo.unwrap();
        assert_eq!((rpo.worst_secs, rpo.worst_tape.as_str(), rpo.median_secs), (3600, "A", 600));
        assert_eq!(rpo.written_after_recovery_point, ["B"], "B was written 50 s after its recovery point");
        assert_eq!(rto.unwrap().secs, 500);
    }

    #[test]
    fn nothing_known_is_nothing_said() {
        let (rpo, rto) = recovery_objectives(&[], Some(T0), None, None, &|_| None);
        assert!(rpo.is_none() && rto.is_none());
    }
}
