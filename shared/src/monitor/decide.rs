//! The debounce, as a plain function: from what a probe saw and the gateway's own tags,
//! what to do. A gateway is declared failed only once it has been seen offline for the
//! whole grace period; being seen online at any sweep in between starts over, so a flap
//! never hands off.

use serde::Serialize;

use crate::model::{Tags, tag};
use crate::time::parse_rfc3339;

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Online,
    /// `InvalidGatewayRequestException` with `GatewayNotConnected`.
    Offline,
    Disabled,
    /// `GatewayNotFound`.
    Gone,
    /// Any other failure: reported, never treated as offline.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    None,
    /// Record when the gateway was first seen offline.
    MarkSuspected,
    /// Remove the debounce tags: the gateway is back.
    Clear(Vec<&'static str>),
    /// Publish the hand-off, then mark the gateway handed off.
    HandOff {
        since: i64,
    },
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

/// How far in the future an `offline-since` may be (clock skew) before it counts as unreadable.
const FUTURE_SLACK_SECS: i64 = 300;

/// The tags the debounce owns, cleared when the gateway is seen online.
pub const DEBOUNCE_TAGS: [&str; 3] = [tag::OFFLINE_SINCE, tag::STATE, tag::HANDED_OFF_AT];

pub fn decide(health: &Health, tags: &Tags, now: i64, grace_secs: u64) -> (Action, Change) {
    // A time in the future (a mistyped tag, a skewed clock) would hold the hand-off back
    // until then: it counts as unreadable, and the clock starts now.
    let since = tags.get(tag::OFFLINE_SINCE).and_then(|s| parse_rfc3339(s)).filter(|t| *t <= now + FUTURE_SLACK_SECS);
    let handed_off = tags.get(tag::STATE).is_some_and(|s| s == tag::STATE_HANDED_OFF);
    match health {
        Health::Online => {
            let present: Vec<&'static str> = DEBOUNCE_TAGS.into_iter().filter(|k| tags.contains_key(*k)).collect();
            if present.is_empty() {
                (Action::None, Change::Steady)
            } else {
                (Action::Clear(present), Change::RecoveredOnline)
            }
        }
        Health::Offline => match since {
            // A missing or unreadable time starts the clock now.
            None if handed_off => (Action::MarkSuspected, Change::AlreadyHandedOff),
            None => (Action::MarkSuspected, Change::NewlySuspected),
            Some(t) => {
                let offline_for = now - t;
                if offline_for >= i64::try_from(grace_secs).unwrap_or(i64::MAX) {
                    if handed_off {
                        (Action::None, Change::AlreadyHandedOff)
                    } else {
                        (Action::HandOff { since: t }, Change::NewlyFailed)
                    }
                } else {
                    (Action::None, Change::StillSuspected { for_secs: offline_for.max(0) })
                }
            }
        },
        Health::Disabled | Health::Gone | Health::Unknown => (Action::None, Change::Steady),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;

    const T0: i64 = 1_795_600_800;
    const GRACE: u64 = 900;

    fn tags(pairs: &[(&str, String)]) -> Tags {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn the_first_offline_sighting_only_suspects() {
        assert_eq!(decide(&Health::Offline, &Tags::new(), T0, GRACE), (Action::MarkSuspected, Change::NewlySuspected));
    }

    #[test]
    fn offline_for_less_than_the_grace_period_waits() {
        let t = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0))]);
        assert_eq!(
            decide(&Health::Offline, &t, T0 + 899, GRACE),
            (Action::None, Change::StillSuspected { for_secs: 899 })
        );
    }

    #[test]
    fn offline_for_the_whole_grace_period_hands_off_once() {
        let t = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0))]);
        assert_eq!(decide(&Health::Offline, &t, T0 + 900, GRACE), (Action::HandOff { since: T0 }, Change::NewlyFailed));
        let after = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0)), (tag::STATE, tag::STATE_HANDED_OFF.into())]);
        assert_eq!(decide(&Health::Offline, &after, T0 + 5000, GRACE), (Action::None, Change::AlreadyHandedOff));
    }

    #[test]
    fn seen_online_clears_the_state() {
        let t = tags(&[
            (tag::OFFLINE_SINCE, rfc3339(T0)),
            (tag::STATE, tag::STATE_HANDED_OFF.into()),
            ("other", "x".into()),
        ]);
        let (action, change) = decide(&Health::Online, &t, T0, GRACE);
        assert_eq!(action, Action::Clear(vec![tag::OFFLINE_SINCE, tag::STATE]));
        assert_eq!(change, Change::RecoveredOnline);
        assert_eq!(decide(&Health::Online, &Tags::new(), T0, GRACE), (Action::None, Change::Steady));
    }

    #[test]
    fn unknown_health_is_never_treated_as_offline() {
        let t = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0 - 10_000))]);
        for h in [Health::Unknown, Health::Gone, Health::Disabled] {
            assert_eq!(decide(&h, &t, T0, GRACE), (Action::None, Change::Steady));
        }
    }

    #[test]
    fn a_flapping_gateway_never_reaches_the_grace_period() {
        // Offline 10 minutes, online, offline again, ...: every online sighting clears.
        let mut t = Tags::new();
        let mut now = T0;
        for _ in 0..1000 {
            let (a, _) = decide(&Health::Offline, &t, now, GRACE);
            if a == Action::MarkSuspected {
                t.insert(tag::OFFLINE_SINCE.into(), rfc3339(now));
            }
            now += 600;
            let (a, c) = decide(&Health::Offline, &t, now, GRACE);
            assert!(!matches!(a, Action::HandOff { .. }), "{c:?}");
            now += 60;
            if let (Action::Clear(keys), _) = decide(&Health::Online, &t, now, GRACE) {
                for k in keys {
                    t.remove(k);
                }
            }
            now += 60;
        }
    }

    #[test]
    fn a_time_in_the_future_restarts_the_clock() {
        let t = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0 + 86_400))]);
        assert_eq!(decide(&Health::Offline, &t, T0, GRACE), (Action::MarkSuspected, Change::NewlySuspected));
        let skewed = tags(&[(tag::OFFLINE_SINCE, rfc3339(T0 + 30))]);
        assert!(matches!(decide(&Health::Offline, &skewed, T0, GRACE).1, Change::StillSuspected { .. }));
    }

    #[test]
    fn an_unreadable_time_restarts_the_clock() {
        let t = tags(&[(tag::OFFLINE_SINCE, "garbage".into())]);
        assert_eq!(decide(&Health::Offline, &t, T0, GRACE), (Action::MarkSuspected, Change::NewlySuspected));
    }
}
