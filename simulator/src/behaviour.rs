//! The behaviour matrix: one switch for each point where AWS's documentation is silent
//! and the answer matters to the functions.
//!
//! Nobody here knows what AWS does at these points, so the defaults are guesses (they are
//! the simulator's historical choices). The functions must be correct under every
//! combination, so each guess can be turned the other way: in the fleet file
//! (`"behaviour": {...}`), on the control API (`GET`/`POST /_sim/behaviour`), from Rust
//! (`Simulator::set_behaviour`), or with `--aws-behaviour NAMES` on `sgw-sim serve`.
//!
//! Each switch, its default, and the sentence of the API reference or user guide it
//! follows are listed in `simulator/README.md` ("Behaviour where the reference is silent").

use std::fmt;

use serde::{Deserialize, Serialize};

/// How the simulator answers where AWS's documentation does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// `DescribeTapeRecoveryPoints` lists nothing for a tape gateway until it is disabled
    /// (the user guide: disabling the gateway "exposes any available recovery points").
    pub recovery_points_after_disable: bool,
    /// A disabled gateway answers `DescribeGatewayInformation` as a running one would
    /// (`GatewayState` `RUNNING`), while `ListGateways` reports it `DISABLED`.
    pub disabled_gateway_answers: bool,
    /// `GatewayNotConnected` arrives in the message only, with no `error` member.
    pub not_connected_in_message_only: bool,
    /// Injected `InternalServerError` faults are answered with HTTP 400 instead of 500.
    pub internal_error_400: bool,
    /// `Marker` values are decimal offsets into the listing (`"100"`), not opaque
    /// positions, so a listing read while items disappear shifts.
    pub offset_markers: bool,
    /// A tape's recovery point disappears from `DescribeTapeRecoveryPoints` once the tape
    /// is retrieved.
    pub recovery_points_vanish: bool,
    /// Recovery points listed per tape: the tape's recovery point time and this many minus
    /// one earlier ones, an hour apart, all with the same `TapeARN`. Retrieval takes the latest.
    pub recovery_points_per_tape: u32,
    /// A retrieved tape shows `RETRIEVING` on its new gateway for this long, then `RECOVERED`.
    pub recovered_after_ms: u64,
    /// `AddTagsToResource` and `RemoveTagsFromResource` on a disconnected or disabled
    /// gateway, or a volume of one, answer `GatewayNotConnected`.
    pub tag_writes_need_connection: bool,
    /// `ListVolumeRecoveryPoints`, `CreateSnapshotFromVolumeRecoveryPoint` and
    /// `DescribeCachediSCSIVolumes` answer `GatewayNotConnected` for an offline gateway.
    pub volume_calls_need_connection: bool,
    /// `DisableGateway` is refused (`InvalidGateway`) on a gateway that is connected.
    pub disable_needs_disconnected: bool,
    /// A volume made by `CreateCachediSCSIVolume` shows `CREATING` (an empty volume) or
    /// `BOOTSTRAPPING` (a clone or a restored snapshot) for this long, then `AVAILABLE`.
    pub volume_available_after_ms: u64,
}

impl Default for Behaviour {
    /// The simulator's historical choices.
    fn default() -> Self {
        Self {
            recovery_points_after_disable: false,
            disabled_gateway_answers: false,
            not_connected_in_message_only: false,
            internal_error_400: false,
            offset_markers: false,
            recovery_points_vanish: false,
            recovery_points_per_tape: 1,
            recovered_after_ms: 0,
            tag_writes_need_connection: false,
            volume_calls_need_connection: false,
            disable_needs_disconnected: false,
            volume_available_after_ms: 0,
        }
    }
}

/// A switch's field, by its kind.
enum Slot<'a> {
    Flag(&'a mut bool),
    Count(&'a mut u32),
    Millis(&'a mut u64),
}

/// Most recovery points a tape can be given (a sanity bound, not an AWS limit).
pub const MAX_RECOVERY_POINTS_PER_TAPE: u32 = 100;
/// Longest transitional status (one hour): longer would only stall a test.
pub const MAX_TRANSITION_MS: u64 = 3_600_000;

impl Behaviour {
    /// Every switch name, in kebab-case, as `from_names` takes them.
    pub const NAMES: &'static [&'static str] = &[
        "recovery-points-after-disable",
        "disabled-gateway-answers",
        "not-connected-in-message-only",
        "internal-error-400",
        "offset-markers",
        "recovery-points-vanish",
        "recovery-points-per-tape",
        "recovered-after-ms",
        "tag-writes-need-connection",
        "volume-calls-need-connection",
        "disable-needs-disconnected",
        "volume-available-after-ms",
    ];

    /// Every switch turned away from its default: flags on, three recovery points per
    /// tape, and 250 ms transitional statuses (long enough to be seen, short enough for tests).
    pub fn all() -> Self {
        Self {
            recovery_points_after_disable: true,
            disabled_gateway_answers: true,
            not_connected_in_message_only: true,
            internal_error_400: true,
            offset_markers: true,
            recovery_points_vanish: true,
            recovery_points_per_tape: 3,
            recovered_after_ms: 250,
            tag_writes_need_connection: true,
            volume_calls_need_connection: true,
            disable_needs_disconnected: true,
            volume_available_after_ms: 250,
        }
    }

    /// Parses `"recovery-points-after-disable,offset-markers"`, `"all"`, or numeric
    /// switches with a value (`"recovery-points-per-tape=5"`); a numeric switch named
    /// without a value takes its `all()` value. Applied in order over the defaults.
    pub fn from_names(names: &str) -> Result<Self, String> {
        Self::default().with_names(names)
    }

    /// Like `from_names`, applied on top of `self` (a fleet file's behaviour, say).
    pub fn with_names(mut self, names: &str) -> Result<Self, String> {
        for item in names.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            self.apply(item)?;
        }
        self.validate()?;
        Ok(self)
    }

    fn apply(&mut self, item: &str) -> Result<(), String> {
        let (name, value) = match item.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (item, None),
        };
        let name = name.replace('_', "-");
        if name == "all" {
            return match value {
                None => {
                    *self = Self::all();
                    Ok(())
                }
                Some(_) => Err("`all` takes no value".into()),
            };
        }
        let mut all = Self::all();
        let (Some(slot), Some(on)) = (self.slot(&name), all.slot(&name)) else {
            return Err(format!("unknown behaviour switch `{name}`; known: {}, or all", Self::NAMES.join(", ")));
        };
        let bad = |kind: &str| format!("behaviour switch `{name}` takes {kind}, got `{}`", value.unwrap_or(""));
        match (slot, on, value) {
            (Slot::Flag(f), _, None) => *f = true,
            (Slot::Flag(f), _, Some(v)) => *f = v.parse().map_err(|_| bad("true or false"))?,
            (Slot::Count(c), Slot::Count(a), None) => *c = *a,
            (Slot::Count(c), _, Some(v)) => *c = v.parse().map_err(|_| bad("a whole number"))?,
            (Slot::Millis(m), Slot::Millis(a), None) => *m = *a,
            (Slot::Millis(m), _, Some(v)) => *m = v.parse().map_err(|_| bad("a number of milliseconds"))?,
            _ => return Err(format!("behaviour switch `{name}` is inconsistent")),
        }
        Ok(())
    }

    fn slot(&mut self, name: &str) -> Option<Slot<'_>> {
        Some(match name {
            "recovery-points-after-disable" => Slot::Flag(&mut self.recovery_points_after_disable),
            "disabled-gateway-answers" => Slot::Flag(&mut self.disabled_gateway_answers),
            "not-connected-in-message-only" => Slot::Flag(&mut self.not_connected_in_message_only),
            "internal-error-400" => Slot::Flag(&mut self.internal_error_400),
            "offset-markers" => Slot::Flag(&mut self.offset_markers),
            "recovery-points-vanish" => Slot::Flag(&mut self.recovery_points_vanish),
            "recovery-points-per-tape" => Slot::Count(&mut self.recovery_points_per_tape),
            "recovered-after-ms" => Slot::Millis(&mut self.recovered_after_ms),
            "tag-writes-need-connection" => Slot::Flag(&mut self.tag_writes_need_connection),
            "volume-calls-need-connection" => Slot::Flag(&mut self.volume_calls_need_connection),
            "disable-needs-disconnected" => Slot::Flag(&mut self.disable_needs_disconnected),
            "volume-available-after-ms" => Slot::Millis(&mut self.volume_available_after_ms),
            _ => return None,
        })
    }

    /// The switches away from their default, as `from_names` takes them
    /// (`["offset-markers", "recovery-points-per-tape=3"]`); empty for the default.
    pub fn to_names(&self) -> Vec<String> {
        let (mut me, mut default) = (*self, Self::default());
        Self::NAMES
            .iter()
            .filter_map(|name| match (me.slot(name)?, default.slot(name)?) {
                (Slot::Flag(v), Slot::Flag(d)) if *v != *d => Some(format!("{name}={v}")),
                (Slot::Count(v), Slot::Count(d)) if *v != *d => Some(format!("{name}={v}")),
                (Slot::Millis(v), Slot::Millis(d)) if *v != *d => Some(format!("{name}={v}")),
                _ => None,
            })
            .map(|s| s.strip_suffix("=true").map(str::to_owned).unwrap_or(s))
            .collect()
    }

    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Refuses values that make no sense (no recovery point per tape, hour-long waits).
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_RECOVERY_POINTS_PER_TAPE).contains(&self.recovery_points_per_tape) {
            return Err(format!(
                "behaviour: recovery_points_per_tape must be 1 to {MAX_RECOVERY_POINTS_PER_TAPE}, got {}",
                self.recovery_points_per_tape
            ));
        }
        for (name, ms) in [
            ("recovered_after_ms", self.recovered_after_ms),
            ("volume_available_after_ms", self.volume_available_after_ms),
        ] {
            if ms > MAX_TRANSITION_MS {
                return Err(format!("behaviour: {name} must be at most {MAX_TRANSITION_MS}, got {ms}"));
            }
        }
        Ok(())
    }
}

/// `default`, or the switches away from it, comma-separated (what `from_names` takes).
impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.to_names();
        if names.is_empty() { f.write_str("default") } else { f.write_str(&names.join(",")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_turn_single_switches_on() {
        let b = Behaviour::from_names("recovery-points-after-disable, offset-markers").unwrap();
        assert!(b.recovery_points_after_disable && b.offset_markers);
        assert_eq!(
            Behaviour { recovery_points_after_disable: false, offset_markers: false, ..b },
            Behaviour::default()
        );
    }

    #[test]
    fn all_turns_every_switch_away_from_its_default() {
        let all = Behaviour::from_names("all").unwrap();
        assert_eq!(all, Behaviour::all());
        assert_eq!(all.to_names().len(), Behaviour::NAMES.len(), "{:?}", all.to_names());
        assert!(all.validate().is_ok());
    }

    #[test]
    fn numeric_switches_take_a_value_or_their_all_value() {
        let b = Behaviour::from_names("recovery-points-per-tape=5,recovered-after-ms").unwrap();
        assert_eq!(b.recovery_points_per_tape, 5);
        assert_eq!(b.recovered_after_ms, Behaviour::all().recovered_after_ms);
        let b = Behaviour::from_names("all,recovery-points-per-tape=1,offset-markers=false").unwrap();
        assert_eq!(b.recovery_points_per_tape, 1);
        assert!(!b.offset_markers && b.recovery_points_vanish);
    }

    #[test]
    fn empty_means_default_and_snake_case_is_accepted() {
        assert_eq!(Behaviour::from_names("").unwrap(), Behaviour::default());
        assert_eq!(Behaviour::from_names(" , ").unwrap(), Behaviour::default());
        assert!(Behaviour::from_names("offset_markers").unwrap().offset_markers);
    }

    #[test]
    fn unknown_names_and_bad_values_are_refused_with_the_name() {
        let e = Behaviour::from_names("offset-markers,no-such-switch").unwrap_err();
        assert!(e.contains("no-such-switch") && e.contains("offset-markers"), "{e}");
        assert!(Behaviour::from_names("recovery-points-per-tape=x").unwrap_err().contains("whole number"));
        assert!(Behaviour::from_names("recovery-points-per-tape=0").unwrap_err().contains("1 to 100"));
        assert!(Behaviour::from_names("offset-markers=maybe").unwrap_err().contains("true or false"));
        assert!(Behaviour::from_names("all=1").is_err());
        assert!(Behaviour::from_names("recovered-after-ms=99999999").is_err());
    }

    #[test]
    fn names_round_trip_through_display() {
        for b in [Behaviour::default(), Behaviour::all(), Behaviour::from_names("recovery-points-per-tape=7").unwrap()]
        {
            assert_eq!(Behaviour::from_names(&b.to_string().replace("default", "")).unwrap(), b);
        }
        assert_eq!(Behaviour::default().to_string(), "default");
    }

    #[test]
    fn json_is_partial_and_strict() {
        let b: Behaviour = serde_json::from_str(r#"{"offset_markers": true}"#).unwrap();
        assert_eq!(b, Behaviour { offset_markers: true, ..Behaviour::default() });
        assert!(serde_json::from_str::<Behaviour>(r#"{"offset_marker": true}"#).is_err());
    }
}
