//! `DisableGateway`, irreversible, done only after everything else said yes: the gateway
//! re-confirmed offline when the run's own answer is old, the region's holds read again
//! right before, an automatic disable counted against the hourly cap, and the audit record
//! written first (in the ledger, with a condition, and on the report topic). No audit
//! record, no disable.

use serde_json::json;

use super::interlock::DisableDecision;
use super::lease::Lease;
use super::observe::{Observed, find_gateway};
use super::report::Status;
use super::run::{Run, Stop, hold_refs};
use crate::arn::GatewayArn;
use crate::ledger::{self, DisableAudit, DisableCount, Hold, gateway_pk, region_pk};
use crate::pacing::Retry;
use crate::ports::{Clock, Condition, ErrorKind, Key, Ledger, Notifier, Publication, StorageGateway, Written};
use crate::time::rfc3339_ms;

/// What the disable is for.
pub(super) struct Purpose<'a> {
    pub why: &'a str,
    pub automatic: bool,
    pub standby: &'a GatewayArn,
    pub tapes: usize,
    pub tapes_complete: bool,
}

/// The hour an automatic disable is counted in: `2026-12-01T10`.
fn hour_of(ms: i64) -> String {
    rfc3339_ms(ms).chars().take(13).collect()
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    /// Disables the failed gateway; answers when (epoch ms).
    pub(super) async fn disable(
        &self,
        observed: &Observed,
        lease: &Lease<'_, L, C>,
        p: &Purpose<'_>,
    ) -> Result<i64, Stop> {
        let failed = &self.req.failed;
        let until = self.budget.stop_at();
        if lease.lost() {
            return Err(Stop::Ended(Status::Duplicate, "another run took over the lease; nothing was changed".into()));
        }
        if observed.described_at.elapsed() >= self.rec.config.reconfirm_after {
            self.reconfirm().await?;
        }
        // The holds again, right before the irreversible call: one may have been placed
        // since the run began.
        let region = region_pk(failed.region());
        let holds: Vec<Hold> = self
            .aux
            .call(Retry::Idempotent, until, || ledger::load_all::<Hold>(self.rec.ledger, &region, "hold#"))
            .await
            .map_err(|e| Stop::Failed("could not read the region's holds right before DisableGateway", e))?
            .into_iter()
            .map(|s| s.value)
            .filter(|h| h.active() && !self.req.approval.override_holds.contains(&h.id))
            .collect();
        if !holds.is_empty() {
            let refs = hold_refs(&holds);
            return Err(Stop::Ended(
                Status::AwaitingApproval,
                format!(
                    "a correlated-outage hold was placed on the region ({}); the gateway was not disabled",
                    refs[0].reason
                ),
            ));
        }
        if p.automatic {
            self.count_automatic_disable().await?;
        }
        let at = self.rec.clock.now_ms();
        self.audit(p, at).await?;
        tracing::warn!(gateway = %failed, reason = p.why, recovery_id = self.id.recovery_id, "disabling the gateway (irreversible)");
        let r = self.sgw.call(Retry::Throttles, until, || self.rec.gateway.disable_gateway(failed)).await;
        if let Err(e) = r {
            // Disabled meanwhile (an answer lost, a concurrent run, an operator): fine, if
            // ListGateways agrees.
            match find_gateway(self.rec.gateway, &self.sgw, self.budget.finish_by(), failed).await {
                Ok(Some(s)) if s.disabled => {}
                _ => return Err(Stop::Failed("DisableGateway failed", e)),
            }
        }
        Ok(at)
    }

    /// Asks again, right before the irreversible call, whether the gateway is still offline.
    async fn reconfirm(&self) -> Result<(), Stop> {
        let failed = &self.req.failed;
        let until = self.budget.stop_at();
        let (described, summary) = tokio::join!(
            self.sgw.call(Retry::Idempotent, until, || self.rec.gateway.describe_gateway(failed)),
            find_gateway(self.rec.gateway, &self.sgw, until, failed)
        );
        if matches!(summary, Ok(Some(ref s)) if s.disabled) {
            return Ok(());
        }
        match described {
            Ok(info) => Err(Stop::Ended(
                Status::NotFailed,
                format!("the gateway came back (state {}) before it was disabled; nothing was changed", info.state),
            )),
            Err(e) if e.kind == ErrorKind::NotConnected => Ok(()),
            Err(e) => Err(Stop::Failed("could not re-confirm the gateway is offline before disabling it", e)),
        }
    }

    /// Counts this automatic disable against the region's hourly cap, with compare-and-set.
    async fn count_automatic_disable(&self) -> Result<(), Stop> {
        let cap = self.rec.config.max_auto_disables_per_hour;
        let failed = self.req.failed.to_string();
        let now = self.rec.clock.now_ms();
        let key = Key::new(region_pk(self.req.failed.region()), format!("disables#{}", hour_of(now)));
        let until = self.budget.stop_at();
        loop {
            let current = self
                .aux
                .call(Retry::Idempotent, until, || ledger::load::<DisableCount>(self.rec.ledger, &key))
                .await
                .map_err(|e| Stop::Failed("could not read the hourly count of automatic disables", e))?;
            let (mut count, version) = match current {
                Some(s) => (s.value, Some(s.version)),
                None => (DisableCount::default(), None),
            };
            if count.gateways.contains(&failed) {
                return Ok(());
            }
            if count.count >= cap {
                return Err(Stop::Ended(
                    Status::AwaitingApproval,
                    format!(
                        "{} automatic disables in region {} this hour reach the cap (MAX_AUTO_DISABLES_PER_HOUR={cap}); an operator must approve",
                        count.count,
                        self.req.failed.region()
                    ),
                ));
            }
            count.count += 1;
            count.gateways.push(failed.clone());
            // Kept two days: the count only matters within its hour.
            let expires = Some(now / 1000 + 2 * 86_400);
            let written = self
                .aux
                .call(Retry::Idempotent, until, || ledger::upsert(self.rec.ledger, &key, &count, version, expires))
                .await
                .map_err(|e| Stop::Failed("could not count the automatic disable", e))?;
            if written == Written::Done {
                return Ok(());
            }
        }
    }

    /// The audit record, in the ledger and on the report topic, before the disable.
    async fn audit(&self, p: &Purpose<'_>, at: i64) -> Result<(), Stop> {
        let failed = &self.req.failed;
        let until = self.budget.stop_at();
        let record = DisableAudit {
            recovery_id: self.id.recovery_id.clone(),
            request_id: self.id.request_id.clone(),
            gateway_arn: failed.to_string(),
            standby_gateway_arn: p.standby.to_string(),
            reason: p.why.to_owned(),
            tapes: p.tapes,
            tapes_complete: p.tapes_complete,
            at,
            by: self.req.approval.operator.clone().unwrap_or_else(|| "recover-gateway".to_owned()),
        };
        let key = Key::new(gateway_pk(failed), "audit#disable");
        // Absent, or this same recovery's (a rerun after a crash between audit and disable).
        let condition =
            Condition::AbsentOrEquals { field: ledger::audit::RECOVERY_ID, value: self.id.recovery_id.clone() };
        let written = self
            .aux
            .call(Retry::Idempotent, until, || ledger::write(self.rec.ledger, &key, &record, 1, &condition, None))
            .await
            .map_err(|e| {
                Stop::Failed("the audit record could not be written in the ledger, so the gateway was not disabled", e)
            })?;
        if written == Written::Conflict {
            return Err(Stop::Ended(
                Status::Refused,
                "another recovery has already recorded disabling this gateway (audit#disable in the ledger); this run does not disable it again".into(),
            ));
        }
        let tapes =
            if p.tapes_complete { json!(p.tapes) } else { json!(format!("at least {} (listing continues)", p.tapes)) };
        let audit = Publication {
            topic: self.rec.config.report_topic.clone(),
            subject: Some(format!("AUDIT: disabling Storage Gateway {} (irreversible)", failed.id())),
            body: serde_json::to_string_pretty(&json!({
                "event": "DisableGateway",
                "gatewayArn": failed.as_str(),
                "standbyGatewayArn": p.standby.as_str(),
                "reason": p.why,
                "tapesToRecover": tapes,
                "recoveryId": self.id.recovery_id,
                "requestId": self.id.request_id,
                "by": record.by,
                "at": rfc3339_ms(at),
                "ledger": format!("{} / {}", key.pk, key.sk),
            }))
            .unwrap_or_default(),
            attributes: vec![("event".into(), "DisableGateway".into()), ("gatewayId".into(), failed.id().to_owned())],
        };
        self.aux
            .call(Retry::Idempotent, until, || self.rec.notifier.publish(&audit))
            .await
            .map_err(|e| Stop::Failed("the audit record could not be published, so the gateway was not disabled", e))?;
        Ok(())
    }
}

/// A decision's record for the report.
pub(super) fn record_of(decision: &DisableDecision, dry_run: bool) -> super::report::DisableRecord {
    use super::report::{DisableAction as A, DisableRecord};
    let (action, reason) = match decision {
        DisableDecision::AlreadyDisabled => (A::AlreadyDisabled, "the gateway is disabled already".to_owned()),
        DisableDecision::NotNeeded => (A::NotNeeded, "every tape is on the standby already".to_owned()),
        DisableDecision::Allowed { why, .. } if dry_run => (A::WouldDisable, why.clone()),
        DisableDecision::Allowed { why, .. } => (A::Disabled, why.clone()),
        DisableDecision::NeedsApproval(why) => (A::NeedsApproval, why.clone()),
        DisableDecision::Held(holds) => (
            A::NeedsApproval,
            format!("held: {}", holds.iter().map(|h| h.reason.as_str()).collect::<Vec<_>>().join("; ")),
        ),
    };
    DisableRecord { action, reason, at: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_disables_are_counted_per_hour() {
        assert_eq!(hour_of(1_795_600_800_000), "2026-11-25T10");
        assert_eq!(hour_of(1_795_604_399_000), "2026-11-25T10");
        assert_eq!(hour_of(1_795_604_400_000), "2026-11-25T11");
    }
}
