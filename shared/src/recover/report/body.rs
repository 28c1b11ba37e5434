//! The report as people read it: a subject under 100 characters and a body under SNS's limit.

use std::fmt::Write as _;

use super::{Counts, ItemResult, MAX_BODY_BYTES, Outcome, RecoveryReport, Status};
use crate::model::GatewayKind;
use crate::time::human;

/// Failures listed in the SNS body; the rest are in the logs.
const MAX_FAILURES_LISTED: usize = 500;
/// Items listed by name in a section (tapes not yet RECOVERED, volumes to reconnect).
const MAX_LISTED: usize = 100;

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

fn is_tapes(r: &RecoveryReport) -> bool {
    r.tapes.total > 0 || r.failed_gateway.kind == Some(GatewayKind::Tape)
}

fn tally(what: &str, c: &Counts, gw: &str, to: &str, complete: bool) -> String {
    let mut s = if complete {
        format!("Recovered {}/{} {what} from {gw} to {to}", c.recovered(), c.total)
    } else {
        format!("Recovered {} of {}+ {what} from {gw} to {to}, listing incomplete", c.recovered(), c.total)
    };
    if c.failed > 0 || c.pending > 0 {
        let _ = write!(s, ", {} failed", c.failed);
    }
    if c.pending > 0 {
        let _ = write!(s, ", {} left", c.pending);
    }
    s
}

pub(super) fn subject(r: &RecoveryReport) -> String {
    let gw = &r.failed_gateway.id;
    let to = r.standby_gateway.as_ref().map_or("?", |s| s.id.as_str());
    let (t, v) = (&r.tapes, &r.volumes);
    let tapes = is_tapes(r);
    let s = match r.status {
        Status::Completed | Status::Partial | Status::AlreadyCompleted if tapes => {
            tally("tapes", t, gw, to, r.listing_complete)
        }
        Status::Completed | Status::Partial | Status::AlreadyCompleted if r.standby_gateway.is_some() => {
            tally("volumes", v, gw, to, true)
        }
        Status::Completed | Status::Partial | Status::AlreadyCompleted => {
            let mut s = format!("Snapshotted {}/{} volumes of {gw}", v.recovered(), v.total);
            if v.failed > 0 || v.pending > 0 {
                let _ = write!(s, ", {} failed", v.failed);
            }
            s
        }
        Status::Continued if tapes => {
            format!("Recovering {gw}: {}/{} tapes so far, continuing", t.recovered(), t.total)
        }
        Status::Continued => format!("Recovering {gw}: {}/{} volumes so far, continuing", v.recovered(), v.total),
        Status::AwaitingApproval if !r.holds.is_empty() => {
            format!("Held: {gw} not disabled during a correlated outage, {} tapes waiting", t.total)
        }
        Status::AwaitingApproval => format!("Approval needed to disable {gw} and recover {} tapes to {to}", t.total),
        Status::NotFailed => format!("Not recovering {gw}: it is online"),
        Status::DryRun if tapes => {
            format!("Dry run: {} of {} tapes would be recovered from {gw} to {to}", t.planned, t.total)
        }
        Status::DryRun => format!("Dry run: {} of {} volumes of {gw} would be recovered", v.planned, v.total),
        Status::Refused => format!("Recovery of {gw} refused: {}", r.summary),
        Status::Duplicate => format!("Recovery of {gw} is already in progress elsewhere"),
        Status::Error => format!("Recovery of {gw} stopped: {}", r.summary),
    };
    // One line, under 100 characters (SNS's limit).
    truncate_chars(&s.replace(['\n', '\r'], " "), 99)
}

fn counts_section(b: &mut String, what: &str, c: &Counts, done: &str, already: &str, complete: bool) {
    if c.total == 0 {
        return;
    }
    let _ = writeln!(b);
    if complete {
        let _ = writeln!(b, "{what}: {}", c.total);
    } else {
        let _ = writeln!(b, "{what}: {} listed so far (the listing of recovery points is incomplete)", c.total);
    }
    for (label, n) in [
        (done, c.done),
        (already, c.already_done),
        ("failed", c.failed),
        ("not attempted yet", c.pending),
        ("planned", c.planned),
        ("need a person", c.manual),
        ("confirmed on the standby", c.verified),
        ("not confirmed yet", c.unverified),
    ] {
        if n > 0 || label == "failed" {
            let _ = writeln!(b, "  {label:<26}{n:>6}");
        }
    }
}

fn listed(b: &mut String, title: &str, items: &[&ItemResult], line: impl Fn(&ItemResult) -> String) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(b);
    let _ = writeln!(b, "{title} ({}):", items.len());
    for (n, i) in items.iter().enumerate() {
        let text = format!("  {}\n", line(i));
        if n >= MAX_LISTED || b.len() + text.len() > MAX_BODY_BYTES / 2 {
            let _ = writeln!(b, "  ... and {} more (see the logs)", items.len() - n);
            break;
        }
        b.push_str(&text);
    }
}

pub(super) fn body(r: &RecoveryReport) -> String {
    let mut b = String::new();
    let g = &r.failed_gateway;
    let _ = writeln!(b, "Storage Gateway recovery: {}", r.status.as_str().to_uppercase());
    let _ = writeln!(b, "{}", r.summary);
    let _ = writeln!(b);
    let kind = g.kind.map(|k| format!(", {}", k.as_api())).unwrap_or_default();
    let _ = writeln!(b, "Failed gateway:  {} ({}){kind}", g.name.as_deref().unwrap_or("?"), g.id);
    let _ = writeln!(b, "                 {}", g.arn);
    if let Some(s) = &r.standby_gateway {
        let _ = writeln!(b, "Standby gateway: {} ({})", s.name.as_deref().unwrap_or("?"), s.id);
        let _ = writeln!(b, "                 {}", s.arn);
    }
    let _ = writeln!(b, "Recovery id:     {}", r.recovery_id);
    let _ = writeln!(b, "Started:         {}", r.started_at);
    let _ = writeln!(b, "Finished:        {}", r.finished_at);
    let _ = writeln!(
        b,
        "Duration:        {:.1} s this run, {:.1} s in all ({} run{})",
        r.duration_ms as f64 / 1000.0,
        r.total_duration_ms as f64 / 1000.0,
        r.slice,
        if r.slice == 1 { "" } else { "s" }
    );
    if let Some(d) = &r.disable {
        let at = d.at.as_ref().map(|a| format!(" at {a}")).unwrap_or_default();
        let action =
            serde_json::to_value(d.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let _ = writeln!(b, "DisableGateway:  {action} ({}){at}", d.reason);
    }
    for h in &r.holds {
        let _ = writeln!(b, "Hold:            {} since {}: {}", h.id, h.since, truncate_chars(&h.reason, 300));
    }
    counts_section(&mut b, "Tapes", &r.tapes, "retrieved", "already on the standby", r.listing_complete);
    counts_section(&mut b, "Volumes", &r.volumes, "recovered", "already recovered", true);
    if let Some(p) = &r.rpo {
        let _ = writeln!(b);
        let _ = writeln!(
            b,
            "Recovery point:  the gateway failed at {}; tapes may have lost up to {} of writes (median {}, worst tape {})",
            p.failure_at,
            human(p.worst_secs),
            human(p.median_secs),
            p.worst_tape
        );
        if !p.written_after_recovery_point.is_empty() {
            let shown: Vec<&str> = p.written_after_recovery_point.iter().take(20).map(String::as_str).collect();
            let _ = writeln!(
                b,
                "                 {} tapes were written after their recovery point and may be incomplete: {}{}",
                p.written_after_recovery_point.len(),
                shown.join(", "),
                if p.written_after_recovery_point.len() > shown.len() { ", ..." } else { "" }
            );
        }
    }
    if let Some(t) = &r.rto {
        let _ = writeln!(
            b,
            "Recovery time:   {} from the last sighting online ({}) to the last item on the standby ({})",
            human(t.secs),
            t.last_seen_online,
            t.last_item_at
        );
    }
    if let Some(a) = &r.approval {
        let _ = writeln!(b);
        let _ = writeln!(b, "To approve DisableGateway (irreversible) and recover, invoke recover-gateway with:");
        let _ = writeln!(b, "  {a}");
    }
    let unconfirmed: Vec<&ItemResult> = r.tape_results.iter().filter(|i| i.verified == Some(false)).collect();
    listed(&mut b, "Tapes on the standby, not RECOVERED yet", &unconfirmed, |i| {
        format!("{}  {}", i.id, i.standby_status.as_deref().unwrap_or("not found"))
    });
    let reconnect: Vec<&ItemResult> = r.volume_results.iter().filter(|i| i.reconnect.is_some()).collect();
    listed(&mut b, "Volumes to reconnect", &reconnect, |i| match &i.reconnect {
        Some(c) => format!(
            "{} -> {} target {} at {}:{}{}",
            i.id,
            c.volume_arn,
            c.target_arn.as_deref().unwrap_or(&c.target_name),
            c.network_interface.as_deref().unwrap_or("?"),
            c.port,
            c.status.as_ref().map(|s| format!(" ({s})")).unwrap_or_default()
        ),
        None => i.id.clone(),
    });
    let manual: Vec<&ItemResult> = r.volume_results.iter().filter(|i| i.outcome == Outcome::Manual).collect();
    listed(&mut b, "Volumes that need a person", &manual, |i| format!("{}: {}", i.id, i.note.as_deref().unwrap_or("")));
    let failures: Vec<&ItemResult> =
        r.tape_results.iter().chain(&r.volume_results).filter(|i| i.outcome == Outcome::Failed).collect();
    if !failures.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Failures ({}):", failures.len());
        for (n, f) in failures.iter().enumerate() {
            let (code, message) = match &f.error {
                Some(e) => (e.code.clone().unwrap_or_else(|| e.kind.to_string()), e.message.clone()),
                None => ("error".to_owned(), f.note.clone().unwrap_or_default()),
            };
            let line = format!("  {}  {code}: {}\n", f.id, truncate_chars(&message, 300));
            if n >= MAX_FAILURES_LISTED || b.len() + line.len() > MAX_BODY_BYTES - 4096 {
                let _ = writeln!(b, "  ... and {} more (see the logs)", failures.len() - n);
                break;
            }
            b.push_str(&line);
        }
    }
    if !r.next_steps.is_empty() {
        let _ = writeln!(b);
        let _ = writeln!(b, "Next steps:");
        for (n, s) in r.next_steps.iter().enumerate() {
            let _ = writeln!(b, "  {}. {s}", n + 1);
        }
    }
    let _ = writeln!(b);
    let _ = writeln!(
        b,
        "The lease and the audit record live in {} ({}; {}).",
        r.ledger.location, r.ledger.lease, r.ledger.audit
    );
    let _ = writeln!(
        b,
        "Every tape and volume, with its outcome, is in the function's logs (log message \"recovery item\", recoveryId {}).",
        r.recovery_id
    );
    b
}

#[cfg(test)]
mod tests {
    use super::super::{GatewayRef, LedgerRefs};
    use super::*;
    use crate::pacing::PacerStats;

    fn report(status: Status, tapes: usize, failed: usize) -> RecoveryReport {
        let tape_results: Vec<ItemResult> = (0..tapes)
            .map(|i| {
                let id = format!("TAPE{i:06}");
                let arn = format!("arn:aws:storagegateway:us-east-1:123456789012:tape/{id}");
                if i < failed {
                    let e = crate::memory::error("RetrieveTapeRecoveryPoint", "InvalidParameters", 400);
                    ItemResult::failed(&id, &arn, &e)
                } else {
                    ItemResult::new(&id, &arn, Outcome::Done)
                }
            })
            .collect();
        let gw = |id: &str, name: &str| GatewayRef {
            arn: format!("arn:aws:storagegateway:us-east-1:123456789012:gateway/{id}"),
            id: id.into(),
            name: Some(name.into()),
            kind: Some(GatewayKind::Tape),
        };
        RecoveryReport {
            status,
            summary: "done".into(),
            recovery_id: "r".into(),
            failed_gateway: gw("sgw-12A3456B", "tape-primary"),
            standby_gateway: Some(gw("sgw-23B4567C", "tape-standby")),
            dry_run: false,
            started_at: "2026-11-25T10:00:00Z".into(),
            finished_at: "2026-11-25T10:00:10Z".into(),
            duration_ms: 10_000,
            total_duration_ms: 10_000,
            slice: 1,
            disable: None,
            holds: vec![],
            tapes: Counts::of(&tape_results),
            volumes: Counts::default(),
            approval: None,
            retryable: false,
            listing_complete: true,
            rpo: None,
            rto: None,
            next_steps: vec![],
            ledger: LedgerRefs {
                location: "DynamoDB table t".into(),
                lease: "a / lease".into(),
                audit: "a / audit".into(),
            },
            pacing: PacerStats::default(),
            tape_results,
            volume_results: vec![],
        }
    }

    #[test]
    fn the_subject_says_the_outcome_in_under_100_characters() {
        let r = report(Status::Partial, 1500, 2);
        assert_eq!(r.subject(), "Recovered 1498/1500 tapes from sgw-12A3456B to sgw-23B4567C, 2 failed");
        assert_eq!(report(Status::Completed, 3, 0).subject(), "Recovered 3/3 tapes from sgw-12A3456B to sgw-23B4567C");
        let mut long = report(Status::Refused, 0, 0);
        long.summary = "a very long reason\nwith a line break ".repeat(10);
        let s = long.subject();
        assert!(s.chars().count() < 100 && !s.contains('\n'), "{s}");
    }

    #[test]
    fn the_body_stays_under_the_sns_limit_whatever_fails() {
        let mut r = report(Status::Partial, 1500, 1500);
        for t in &mut r.tape_results {
            t.error.as_mut().unwrap().message = "x".repeat(400);
        }
        let body = r.body();
        assert!(body.len() < MAX_BODY_BYTES, "{}", body.len());
        assert!(body.contains("Failures (1500):"));
        assert!(body.contains("more (see the logs)"));
        assert!(body.contains("TAPE000000"));
    }

    #[test]
    fn the_body_lists_counts_and_every_failure_when_few() {
        let body = report(Status::Partial, 10, 2).body();
        assert!(body.contains(&format!("  {:<26}{:>6}", "retrieved", 8)), "{body}");
        assert!(body.contains(&format!("  {:<26}{:>6}", "failed", 2)), "{body}");
        assert!(body.contains("TAPE000001  InvalidParameters: injected"), "{body}");
        assert!(!body.contains("more (see the logs)"));
        assert!(body.contains("DynamoDB table t"), "the report says where the lease and audit live");
    }
}
