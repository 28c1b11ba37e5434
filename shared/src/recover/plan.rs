//! The decisions of a recovery, as plain functions: which tapes to retrieve, whether the
//! standby has room, and whether `DisableGateway` is allowed.

use std::collections::HashSet;

use crate::arn::{GatewayArn, TapeArn};
use crate::config::DisablePolicy;
use crate::model::{Tags, TapeRecoveryPoint, tag};

/// Most tapes a tape gateway can hold.
pub const MAX_TAPES_PER_GATEWAY: usize = 1500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapePlan {
    /// Recovery points whose tape is not on the standby yet.
    pub retrieve: Vec<TapeRecoveryPoint>,
    /// Recovery points whose tape is on the standby already; `true` when this recovery
    /// put it there in an earlier slice.
    pub on_standby: Vec<(TapeRecoveryPoint, bool)>,
    /// Tapes on the standby now.
    pub standby_tapes: usize,
}

/// Splits the recovery points into what is left to do and what is done. A tape that is on
/// the standby is never retrieved again: this is what makes reruns safe.
pub fn plan_tapes(
    points: Vec<TapeRecoveryPoint>,
    standby_tapes: &HashSet<TapeArn>,
    retrieved_earlier: &HashSet<String>,
) -> TapePlan {
    let mut seen = HashSet::new();
    let (mut retrieve, mut on_standby) = (Vec::new(), Vec::new());
    for rp in points {
        // Pages can repeat an item when the world changes between them; count it once.
        if !seen.insert(rp.tape.clone()) {
            continue;
        }
        if standby_tapes.contains(&rp.tape) {
            let ours = retrieved_earlier.contains(rp.tape.barcode());
            on_standby.push((rp, ours));
        } else {
            retrieve.push(rp);
        }
    }
    TapePlan { retrieve, on_standby, standby_tapes: standby_tapes.len() }
}

impl TapePlan {
    /// Whether the standby can take every tape left, as a refusal reason if not.
    pub fn check_room(&self, standby: &GatewayArn) -> Result<(), String> {
        let after = self.standby_tapes + self.retrieve.len();
        if after > MAX_TAPES_PER_GATEWAY {
            Err(format!(
                "standby {} holds {} tapes; {} more would exceed the {MAX_TAPES_PER_GATEWAY}-tape limit of a tape gateway (room for {})",
                standby.id(),
                self.standby_tapes,
                self.retrieve.len(),
                MAX_TAPES_PER_GATEWAY.saturating_sub(self.standby_tapes)
            ))
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisableDecision {
    /// The gateway is disabled already: nothing irreversible is left to do.
    AlreadyDisabled,
    /// No tape needs retrieving, so the gateway need not be disabled.
    NotNeeded,
    /// Allowed, and why.
    Allowed(String),
    /// Not allowed without an operator, and why.
    NeedsApproval(String),
}

/// The safety interlock for `DisableGateway`.
///
/// - An operator's `"approveDisable": true` allows it under either policy.
/// - Under `tagged` (the default), a gateway tagged `recovery:auto-disable=true` is
///   disabled without asking.
/// - Under `approval`, nothing is disabled without an operator.
pub fn disable_decision(
    policy: DisablePolicy,
    tags: &Tags,
    approved: bool,
    already_disabled: bool,
    tapes_to_retrieve: usize,
) -> DisableDecision {
    if already_disabled {
        return DisableDecision::AlreadyDisabled;
    }
    if tapes_to_retrieve == 0 {
        return DisableDecision::NotNeeded;
    }
    if approved {
        return DisableDecision::Allowed("approved by an operator (\"approveDisable\": true)".into());
    }
    let tagged = tags.get(tag::AUTO_DISABLE).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    match policy {
        DisablePolicy::Tagged if tagged => {
            DisableDecision::Allowed(format!("tagged {}=true under DISABLE_POLICY=tagged", tag::AUTO_DISABLE))
        }
        DisablePolicy::Tagged => DisableDecision::NeedsApproval(format!(
            "DISABLE_POLICY=tagged and the gateway is not tagged {}=true",
            tag::AUTO_DISABLE
        )),
        DisablePolicy::Approval => {
            DisableDecision::NeedsApproval("DISABLE_POLICY=approval: an operator must approve".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(barcode: &str) -> TapeRecoveryPoint {
        TapeRecoveryPoint {
            tape: TapeArn::parse("t", &format!("arn:aws:storagegateway:us-east-1:123456789012:tape/{barcode}"))
                .unwrap(),
            time: Some(0),
            size_bytes: None,
        }
    }

    #[test]
    fn tapes_on_the_standby_are_never_planned_again() {
        let on = HashSet::from([rp("AAAAA1").tape, rp("OTHER1").tape]);
        let plan =
            plan_tapes(vec![rp("AAAAA1"), rp("AAAAA2"), rp("AAAAA2")], &on, &HashSet::from(["AAAAA1".to_owned()]));
        assert_eq!(plan.retrieve, vec![rp("AAAAA2")]);
        assert_eq!(plan.on_standby, vec![(rp("AAAAA1"), true)]);
        assert_eq!(plan.standby_tapes, 2);
    }

    #[test]
    fn the_standby_must_have_room_for_every_tape_left() {
        let standby =
            GatewayArn::parse("s", "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-23B4567C").unwrap();
        let full: HashSet<TapeArn> = (0..1499).map(|i| rp(&format!("S{i:05}")).tape).collect();
        let plan = plan_tapes(vec![rp("AAAAA1")], &full, &HashSet::new());
        assert!(plan.check_room(&standby).is_ok());
        let plan = plan_tapes(vec![rp("AAAAA1"), rp("AAAAA2")], &full, &HashSet::new());
        let e = plan.check_room(&standby).unwrap_err();
        assert!(e.contains("1499 tapes") && e.contains("room for 1"), "{e}");
    }

    #[test]
    fn the_interlock() {
        let tagged = Tags::from([(tag::AUTO_DISABLE.to_owned(), "true".to_owned())]);
        let untagged = Tags::new();
        use DisableDecision as D;
        assert!(matches!(disable_decision(DisablePolicy::Tagged, &tagged, false, false, 5), D::Allowed(_)));
        assert!(matches!(disable_decision(DisablePolicy::Tagged, &untagged, false, false, 5), D::NeedsApproval(_)));
        assert!(matches!(disable_decision(DisablePolicy::Tagged, &untagged, true, false, 5), D::Allowed(_)));
        assert!(matches!(disable_decision(DisablePolicy::Approval, &tagged, false, false, 5), D::NeedsApproval(_)));
        assert!(matches!(disable_decision(DisablePolicy::Approval, &tagged, true, false, 5), D::Allowed(_)));
        assert_eq!(disable_decision(DisablePolicy::Approval, &untagged, false, true, 5), D::AlreadyDisabled);
        assert_eq!(disable_decision(DisablePolicy::Tagged, &tagged, false, false, 0), D::NotNeeded);
        let other = Tags::from([(tag::AUTO_DISABLE.to_owned(), "yes".to_owned())]);
        assert!(matches!(disable_decision(DisablePolicy::Tagged, &other, false, false, 5), D::NeedsApproval(_)));
    }
}
