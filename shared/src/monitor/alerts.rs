//! The readable messages the monitor publishes on the report topic: a gateway being
//! recovered, and one message per hold (placed, lifted, released) for the whole event.

use std::fmt::Write as _;

use serde_json::json;

use super::probe::Observation;
use crate::config::MonitorConfig;
use crate::ledger::{Hold, HoldKind, Watch};
use crate::ports::Publication;
use crate::time::{human, rfc3339, rfc3339_ms};

/// SNS wants subjects under 100 characters, on one line.
fn subject(s: &str) -> Option<String> {
    Some(s.replace(['\n', '\r'], " ").chars().take(99).collect())
}

fn publication(config: &MonitorConfig, subject_text: &str, body: String, event: &str, region: &str) -> Publication {
    Publication {
        topic: config.report_topic.clone(),
        subject: subject(subject_text),
        body,
        attributes: vec![("event".into(), event.into()), ("region".into(), region.into())],
    }
}

pub(super) fn gateway_failed(config: &MonitorConfig, o: &Observation, w: &Watch, now: i64) -> Publication {
    let name = o.name.as_deref().unwrap_or(&w.name);
    let offline_for = human(now - w.offline_since);
    let short: String = name.chars().take(40).collect();
    let body = format!(
        "Storage Gateway {name} ({}) has been offline since {} ({offline_for}, grace period {} s).\n\
         It was handed off to recover-gateway (outage {}).\nGateway: {}\nType: {}\n\
         A recovery report follows on this topic.",
        o.arn.id(),
        rfc3339(w.offline_since),
        config.grace.as_secs(),
        w.outage_id.as_deref().unwrap_or("?"),
        o.arn,
        w.kind.as_api(),
    );
    let mut p = publication(
        config,
        &format!("Gateway {} ({short}) offline for {offline_for}: recovery started", o.arn.id()),
        body,
        "GatewayFailed",
        o.arn.region(),
    );
    p.attributes.push(("gatewayId".into(), o.arn.id().to_owned()));
    p
}

pub(super) fn hold_placed(config: &MonitorConfig, h: &Hold) -> Publication {
    let mut b = String::new();
    let what = match &h.kind {
        HoldKind::Fleet => {
            format!("HOLD: {} of {} gateways offline in {}; no automatic disable", h.offline, h.watched, h.region)
        }
        HoldKind::Health { .. } => format!("HOLD: AWS Health reports a Storage Gateway issue in {}", h.region),
    };
    let _ = writeln!(b, "Correlated-outage hold {} on region {} since {}.", h.id, h.region, rfc3339_ms(h.since));
    let _ = writeln!(b, "{}", h.reason);
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "While the hold is active, recover-gateway disables no gateway of {} by itself, whatever DISABLE_POLICY says. \
         Recoveries still read, clone volumes, and retrieve tapes of gateways already disabled; only DisableGateway waits for you.",
        h.region
    );
    if !h.gateways.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Gateways offline or unreachable now ({}):", h.gateways.len());
        for g in h.gateways.iter().take(200) {
            let _ = writeln!(b, "  {g}");
        }
    }
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "If these are real failures, let every held recovery go on under the normal policy by invoking gateway-monitor with:"
    );
    let _ = writeln!(
        b,
        "  {}",
        json!({"action": "release-hold", "region": h.region, "holdId": h.id, "operator": "<your name>", "reason": "<why>"})
    );
    let _ = writeln!(b, "Or approve one gateway by invoking recover-gateway with:");
    let _ = writeln!(
        b,
        "  {}",
        json!({"failedGatewayArn": "<gateway ARN>", "approveDisable": true, "overrideHolds": [h.id], "operator": "<your name>"})
    );
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "The hold lifts by itself when the region's gateways are back (or the AWS Health event closes). This is the only alert for this event."
    );
    let mut p = publication(config, &what, b, "HoldPlaced", &h.region);
    p.attributes.push(("holdId".into(), h.id.clone()));
    p
}

pub(super) fn hold_lifted(config: &MonitorConfig, h: &Hold, why: &str) -> Publication {
    let body = format!(
        "Hold {} on region {} (since {}) is lifted: {why}.\nRecoveries it held go on under the normal policy.",
        h.id,
        h.region,
        rfc3339_ms(h.since)
    );
    publication(config, &format!("Hold lifted in {}: {}", h.region, h.id), body, "HoldLifted", &h.region)
}

pub(super) fn hold_released(config: &MonitorConfig, h: &Hold, operator: &str, reason: &str) -> Publication {
    let body = format!(
        "Hold {} on region {} was released by {operator}: {reason}\nThe gateways it held are handed off again and recover under the normal policy.",
        h.id, h.region
    );
    publication(config, &format!("Hold released in {} by {operator}", h.region), body, "HoldReleased", &h.region)
}
