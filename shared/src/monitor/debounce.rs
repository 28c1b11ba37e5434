//! The debounce, as a plain function: from what a probe saw and the gateway's debounce
//! item in the ledger, what to do. A gateway is declared failed only once it has been seen
//! offline for the whole grace period; being seen online at any sweep in between starts
//! over, so a flap never hands off.

use serde::Serialize;

use crate::ledger::{Watch, WatchState};

/// What a probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Online,
    /// `GatewayNotConnected`.
    Offline,
    Disabled,
    /// `GatewayNotFound`.
    Gone,
    /// Any other failure: reported, never treated as offline.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    /// Record the first offline sighting (and schedule the re-probe at the grace period's end).
    Suspect,
    /// The gateway is back, or gone for good (disabled, deleted): its debounce item goes.
    Clear,
    /// Claim the hand-off with compare-and-set, then publish it.
    HandOff {
        since: i64,
    },
    /// A hand-off claimed long ago whose message may never have gone out: publish it again.
    Republish,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "change")]
pub enum Change {
    Steady,
    NewlySuspected,
    /// Offline for `for_secs`, less than the grace period.
    StillSuspected {
        for_secs: i64,
    },
    NewlyFailed,
    /// Failed and handed off in an earlier sweep.
    AlreadyHandedOff,
    /// Back online after being suspected or handed off.
    RecoveredOnline,
}

/// How far in the future an `offlineSince` may be (clock skew) before it counts as unreadable.
const FUTURE_SLACK_SECS: i64 = 300;
/// A claimed hand-off not marked published after this long is published again (the claim's
/// writer crashed between the claim and the publish).
pub const CLAIM_TIMEOUT_SECS: i64 = 120;

pub fn decide(health: Health, watch: Option<&Watch>, now: i64, grace_secs: u64) -> (Action, Change) {
    match health {
        Health::Online => match watch {
            Some(_) => (Action::Clear, Change::RecoveredOnline),
            None => (Action::None, Change::Steady),
        },
        Health::Offline => match watch {
            None => (Action::Suspect, Change::NewlySuspected),
            // A time in the future (a skewed clock) would hold the hand-off back until
            // then: the clock starts again now.
            Some(w) if w.offline_since > now + FUTURE_SLACK_SECS => (Action::Suspect, Change::NewlySuspected),
            Some(w) if w.state == WatchState::HandedOff => {
                let stale = w.handed_off_at.is_some_and(|t| now - t >= CLAIM_TIMEOUT_SECS);
                if !w.published && stale {
                    (Action::Republish, Change::AlreadyHandedOff)
                } else {
                    (Action::None, Change::AlreadyHandedOff)
                }
            }
            Some(w) => {
                let offline_for = now - w.offline_since;
                if offline_for >= i64::try_from(grace_secs).unwrap_or(i64::MAX) {
                    (Action::HandOff { since: w.offline_since }, Change::NewlyFailed)
                } else {
                    (Action::None, Change::StillSuspected { for_secs: offline_for.max(0) })
                }
            }
        },
        // Disabled (most often by its recovery) or deleted: nothing more to debounce, and
        // an item left behind would count it offline in the region for good.
        Health::Disabled | Health::Gone => match watch {
            Some(_) => (Action::Clear, Change::Steady),
            None => (Action::None, Change::Steady),
        },
        Health::Unknown => (Action::None, Change::Steady),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::GatewayKind;

    const T0: i64 = 1_795_600_800;
    const GRACE: u64 = 900;

    fn suspected(since: i64) -> Watch {
        Watch {
            gateway_arn: "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B".into(),
            name: "p".into(),
            kind: GatewayKind::Tape,
            state: WatchState::Suspected,
            offline_since: since,
            last_seen_online: None,
            outage_id: None,
            handed_off_at: None,
            published: false,
            held_by: None,
            reprobe_at: None,
        }
    }

    fn handed_off(at: i64, published: bool) -> Watch {
        Watch { state: WatchState::HandedOff, handed_off_at: Some(at), published, ..suspected(T0) }
    }

    #[test]
    fn the_first_offline_sighting_only_suspects() {
        assert_eq!(decide(Health::Offline, None, T0, GRACE), (Action::Suspect, Change::NewlySuspected));
    }

    #[test]
    fn offline_for_less_than_the_grace_period_waits() {
        assert_eq!(
            decide(Health::Offline, Some(&suspected(T0)), T0 + 899, GRACE),
            (Action::None, Change::StillSuspected { for_secs: 899 })
        );
    }

    #[test]
    fn offline_for_the_whole_grace_period_hands_off_once() {
        assert_eq!(
            decide(Health::Offline, Some(&suspected(T0)), T0 + 900, GRACE),
            (Action::HandOff { since: T0 }, Change::NewlyFailed)
        );
        assert_eq!(
            decide(Health::Offline, Some(&handed_off(T0 + 900, true)), T0 + 5000, GRACE),
            (Action::None, Change::AlreadyHandedOff)
        );
    }

    #[test]
    fn a_claim_whose_publish_was_lost_is_published_again_but_not_too_soon() {
        let claim = handed_off(T0 + 900, false);
        assert_eq!(
            decide(Health::Offline, Some(&claim), T0 + 960, GRACE).0,
            Action::None,
            "its writer may still be publishing"
        );
        assert_eq!(decide(Health::Offline, Some(&claim), T0 + 1020, GRACE).0, Action::Republish);
    }

    #[test]
    fn seen_online_clears_and_other_health_never_counts_as_offline() {
        assert_eq!(
            decide(Health::Online, Some(&handed_off(T0, true)), T0, GRACE),
            (Action::Clear, Change::RecoveredOnline)
        );
        assert_eq!(decide(Health::Online, None, T0, GRACE), (Action::None, Change::Steady));
        assert_eq!(
            decide(Health::Unknown, Some(&suspected(T0 - 10_000)), T0, GRACE),
            (Action::None, Change::Steady),
            "unknown is never offline, and never back either"
        );
        for h in [Health::Gone, Health::Disabled] {
            assert_eq!(decide(h, Some(&suspected(T0 - 10_000)), T0, GRACE), (Action::Clear, Change::Steady));
            assert_eq!(decide(h, Some(&handed_off(T0, true)), T0, GRACE), (Action::Clear, Change::Steady));
            assert_eq!(decide(h, None, T0, GRACE), (Action::None, Change::Steady));
        }
    }

    #[test]
    fn a_flapping_gateway_never_reaches_the_grace_period() {
        // Offline 10 minutes, online, offline again, ...: every online sighting clears.
        let mut watch: Option<Watch> = None;
        let mut now = T0;
        for _ in 0..1000 {
            if decide(Health::Offline, watch.as_ref(), now, GRACE).0 == Action::Suspect {
                watch = Some(suspected(now));
            }
            now += 600;
            let (a, c) = decide(Health::Offline, watch.as_ref(), now, GRACE);
            assert!(!matches!(a, Action::HandOff { .. }), "{c:?}");
            now += 60;
            if decide(Health::Online, watch.as_ref(), now, GRACE).0 == Action::Clear {
                watch = None;
            }
            now += 60;
        }
    }

    #[test]
    fn a_time_in_the_future_restarts_the_clock() {
        assert_eq!(
            decide(Health::Offline, Some(&suspected(T0 + 86_400)), T0, GRACE),
            (Action::Suspect, Change::NewlySuspected)
        );
        assert!(matches!(
            decide(Health::Offline, Some(&suspected(T0 + 30)), T0, GRACE).1,
            Change::StillSuspected { .. }
        ));
    }
}
