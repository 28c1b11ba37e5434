//! The correlated-outage guard, as a plain function. When many watched gateways of a
//! region are unhealthy at once, the likeliest cause is shared (AWS itself, the site's
//! power or network, the monitor's own path), not many independent failures: disabling
//! them would turn an incident into a fleet-wide outage. The Kubernetes node lifecycle
//! controller stops evicting when a zone is this disrupted (`--unhealthy-zone-threshold`
//! 0.55); this guard stops automatic disables in the region the same way.

use serde::Serialize;

use crate::config::GuardThresholds;

/// A region's watched gateways, as the monitor sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionHealth {
    pub watched: usize,
    /// Offline, or unreachable by the monitor (unknown): both count, so a monitor whose own
    /// network path breaks holds rather than acts.
    pub unhealthy: usize,
}

/// Whether the region's outage counts as correlated: at least `min_offline` unhealthy, and
/// at least `fraction` of the watched ones. With the defaults (0.55, 3): 1 of 10 recovers,
/// 6 of 10 hold, a lone gateway (1 of 1) recovers, 3 of 3 hold, 275 of 500 hold.
pub fn correlated(h: RegionHealth, t: &GuardThresholds) -> bool {
    h.watched > 0 && h.unhealthy >= t.min_offline && h.unhealthy as f64 >= t.fraction * h.watched as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn region(unhealthy: usize, watched: usize) -> RegionHealth {
        RegionHealth { watched, unhealthy }
    }

    #[test]
    fn the_issues_cases() {
        let t = GuardThresholds::default();
        assert!(!correlated(region(1, 10), &t), "1 of 10 recovers automatically");
        assert!(correlated(region(6, 10), &t), "6 of 10 hold");
        assert!(!correlated(region(1, 1), &t), "a lone watched gateway recovers automatically");
        assert!(!correlated(region(5, 10), &t));
        assert!(correlated(region(3, 3), &t));
        assert!(!correlated(region(274, 500), &t));
        assert!(correlated(region(275, 500), &t));
        assert!(!correlated(region(0, 0), &t));
    }

    proptest! {
        #[test]
        fn more_unhealthy_never_lifts_a_hold(watched in 1usize..500, a in 0usize..500, b in 0usize..500) {
            let t = GuardThresholds::default();
            let (lo, hi) = (a.min(b).min(watched), a.max(b).min(watched));
            prop_assert!(!correlated(region(lo, watched), &t) || correlated(region(hi, watched), &t));
        }
    }
}
