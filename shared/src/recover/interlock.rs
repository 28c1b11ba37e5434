//! The safety interlock for `DisableGateway`, as a pure function of what the run knows.

use super::request::Approval;
use crate::config::DisablePolicy;
use crate::ledger::Hold;

/// What would make the disable necessary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// These many tapes have recovery points and are not on the standby.
    Tapes(usize),
    /// No recovery point is listed, but the gateway holds these many tapes: AWS may list
    /// recovery points only once the gateway is disabled.
    HiddenTapes(usize),
    /// Nothing to retrieve.
    Nothing,
}

impl Need {
    pub fn tapes(self) -> usize {
        match self {
            Need::Tapes(n) | Need::HiddenTapes(n) => n,
            Need::Nothing => 0,
        }
    }
}

/// The operator's `recovery:auto-disable` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoDisableTag {
    Yes,
    No,
    Unset,
}

/// Everything the interlock weighs.
#[derive(Debug, Clone, Copy)]
pub struct Weighed<'a> {
    pub policy: DisablePolicy,
    pub tag: AutoDisableTag,
    pub approval: &'a Approval,
    /// `ListGateways` says the gateway is disabled already.
    pub already_disabled: bool,
    pub need: Need,
    /// The region's active holds.
    pub holds: &'a [Hold],
    /// Automatic disables left this hour in the region (`None`: not counted yet).
    pub cap_left: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DisableDecision {
    /// The gateway is disabled already: nothing irreversible is left to do.
    AlreadyDisabled,
    /// Nothing needs retrieving, so the gateway need not be disabled.
    NotNeeded,
    /// Allowed, why, and whether it counts against the hourly cap.
    Allowed { why: String, automatic: bool },
    /// Not without an operator, and why.
    NeedsApproval(String),
    /// A correlated-outage hold is active: not without an operator overriding these holds.
    Held(Vec<Hold>),
}

/// The interlock:
///
/// - a disabled gateway, or nothing to retrieve: nothing to decide;
/// - an active hold the operator has not named in `overrideHolds`: held, whatever the
///   policy or an approval says (an approval given before the hold existed cannot pass it);
/// - an operator's `"approveDisable": true`: allowed under either policy (not counted
///   against the cap: it is a person's decision);
/// - under `tagged` (the default), a gateway tagged `recovery:auto-disable=true` is
///   disabled without asking, while the region's hourly cap allows;
/// - otherwise an operator must approve.
pub fn decide(w: &Weighed<'_>) -> DisableDecision {
    if w.already_disabled {
        return DisableDecision::AlreadyDisabled;
    }
    if w.need == Need::Nothing {
        return DisableDecision::NotNeeded;
    }
    let held: Vec<Hold> =
        w.holds.iter().filter(|h| h.active() && !w.approval.override_holds.contains(&h.id)).cloned().collect();
    if !held.is_empty() {
        return DisableDecision::Held(held);
    }
    if w.approval.disable {
        let by = w.approval.operator.as_deref().map(|o| format!(" {o}")).unwrap_or_default();
        return DisableDecision::Allowed {
            why: format!("approved by an operator{by} (\"approveDisable\": true)"),
            automatic: false,
        };
    }
    match (w.policy, w.tag) {
        (DisablePolicy::Tagged, AutoDisableTag::Yes) => match w.cap_left {
            Some(0) => DisableDecision::NeedsApproval(
                "the cap on automatic disables in this region this hour is reached (MAX_AUTO_DISABLES_PER_HOUR)".into(),
            ),
            _ => DisableDecision::Allowed {
                why: "tagged recovery:auto-disable=true under DISABLE_POLICY=tagged".into(),
                automatic: true,
            },
        },
        (DisablePolicy::Tagged, _) => DisableDecision::NeedsApproval(
            "DISABLE_POLICY=tagged and the gateway is not tagged recovery:auto-disable=true".into(),
        ),
        (DisablePolicy::Approval, _) => {
            DisableDecision::NeedsApproval("DISABLE_POLICY=approval: an operator must approve".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{HoldKind, HoldState};

    fn hold(id: &str) -> Hold {
        Hold {
            id: id.into(),
            region: "us-west-2".into(),
            kind: HoldKind::Fleet,
            state: HoldState::Active,
            since: 0,
            reason: "6 of 10 offline".into(),
            offline: 6,
            watched: 10,
            gateways: vec![],
            updated_at: 0,
            alerted: true,
        }
    }

    fn weigh<'a>(policy: DisablePolicy, tag: AutoDisableTag, approval: &'a Approval, holds: &'a [Hold]) -> Weighed<'a> {
        Weighed { policy, tag, approval, already_disabled: false, need: Need::Tapes(5), holds, cap_left: Some(3) }
    }

    #[test]
    fn the_policy_and_the_tag() {
        use AutoDisableTag::{No, Unset, Yes};
        use DisablePolicy::Tagged;
        let none = Approval::default();
        let yes = Approval { disable: true, ..Approval::default() };
        assert!(matches!(decide(&weigh(Tagged, Yes, &none, &[])), DisableDecision::Allowed { automatic: true, .. }));
        assert!(matches!(decide(&weigh(Tagged, No, &none, &[])), DisableDecision::NeedsApproval(_)));
        assert!(matches!(decide(&weigh(Tagged, Unset, &yes, &[])), DisableDecision::Allowed { automatic: false, .. }));
        let approval = DisablePolicy::Approval;
        assert!(matches!(decide(&weigh(approval, Yes, &none, &[])), DisableDecision::NeedsApproval(_)));
        assert!(matches!(decide(&weigh(approval, Yes, &yes, &[])), DisableDecision::Allowed { .. }));
    }

    #[test]
    fn nothing_to_do_and_already_done() {
        let none = Approval::default();
        let mut w = weigh(DisablePolicy::Tagged, AutoDisableTag::Yes, &none, &[]);
        w.need = Need::Nothing;
        assert_eq!(decide(&w), DisableDecision::NotNeeded);
        w.already_disabled = true;
        assert_eq!(decide(&w), DisableDecision::AlreadyDisabled);
        w.already_disabled = false;
        w.need = Need::HiddenTapes(3);
        assert!(matches!(decide(&w), DisableDecision::Allowed { .. }), "hidden recovery points still need the disable");
    }

    #[test]
    fn a_hold_stops_every_automatic_and_approved_disable_unless_overridden_by_name() {
        let holds = [hold("fleet-us-west-2-1")];
        let approved = Approval { disable: true, ..Approval::default() };
        let overridden = Approval { disable: true, override_holds: vec!["fleet-us-west-2-1".into()], operator: None };
        let stale = Approval { disable: true, override_holds: vec!["some-older-hold".into()], operator: None };
        for a in [&Approval::default(), &approved, &stale] {
            let d = decide(&weigh(DisablePolicy::Tagged, AutoDisableTag::Yes, a, &holds));
            assert!(matches!(d, DisableDecision::Held(ref h) if h.len() == 1), "{d:?}");
        }
        assert!(matches!(
            decide(&weigh(DisablePolicy::Tagged, AutoDisableTag::Yes, &overridden, &holds)),
            DisableDecision::Allowed { automatic: false, .. }
        ));
    }

    #[test]
    fn the_hourly_cap_stops_automatic_disables_only() {
        let none = Approval::default();
        let approved = Approval { disable: true, ..Approval::default() };
        let mut w = weigh(DisablePolicy::Tagged, AutoDisableTag::Yes, &none, &[]);
        w.cap_left = Some(0);
        assert!(matches!(decide(&w), DisableDecision::NeedsApproval(ref why) if why.contains("cap")));
        w.approval = &approved;
        assert!(matches!(decide(&w), DisableDecision::Allowed { automatic: false, .. }));
    }
}
