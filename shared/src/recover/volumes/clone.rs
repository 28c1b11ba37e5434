//! Clones every cached volume's latest recovery point onto the volume standby.
//!
//! Each clone's name and client token are chosen once per outage and written in the ledger
//! before the call (`clone#<volume arn>`), so every rerun, after any crash, asks for the
//! same clone, and AWS's `ClientToken` makes it answer the same volume instead of creating
//! a second one.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use futures::StreamExt;
use futures::stream;

use super::{Source, digest};
use crate::arn::{GatewayArn, VolumeArn};
use crate::ledger::{self, CloneRecord, gateway_pk};
use crate::model::{CachedVolume, CloneRequest, CreatedVolume, GatewayKind, KmsSettings};
use crate::pacing::Retry;
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, StorageGateway};
use crate::recover::lease::Lease;
use crate::recover::report::{ItemError, ItemResult, Outcome, Reconnect, Status};
use crate::recover::run::{Draft, Run, Stop};
use crate::recover::standby::{self, MAX_VOLUMES_PER_GATEWAY};

/// The iSCSI port a gateway serves its targets on.
const ISCSI_PORT: i32 = 3260;
/// Most tags a resource carries.
const MAX_TAGS: usize = 50;

/// The clones' results, and the refusal that stopped the clones not started yet.
pub(super) struct Cloned {
    pub results: Vec<ItemResult>,
    pub stopped_by: Option<AwsError>,
}

/// The clone chosen for one source volume: its target name, its client token, and its
/// ledger record when an earlier run chose it.
struct Choice {
    name: String,
    token: String,
    record: Option<ledger::Stored<CloneRecord>>,
}

/// What the standby checks found.
struct Target {
    network_interface: String,
    /// Target names in use on the standby, and by which volume.
    names: HashMap<String, VolumeArn>,
    volumes: usize,
}

/// A target name AWS accepts (1 to 200 of `[-.;a-z0-9]`), from a volume's own.
fn sanitize(name: &str) -> String {
    let s: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || "-.;".contains(c) { c } else { '-' })
        .collect();
    let s = s.trim_matches('-').to_owned();
    let s: String = s.chars().take(190).collect();
    if s.is_empty() { "volume".to_owned() } else { s }
}

/// The clone's target name: the source's, or the first of `<name>-r2`, `<name>-r3`, ... not
/// taken on the standby (by anything but this very clone). Predictable, and the ledger
/// pins the choice for reruns.
pub(super) fn target_name(source: &Source, taken: &dyn Fn(&str) -> bool) -> String {
    let base = sanitize(source.target_name.as_deref().unwrap_or(source.volume.volume_id()));
    std::iter::once(base.clone()).chain((2..).map(|n| format!("{base}-r{n}"))).find(|n| !taken(n)).unwrap_or(base)
}

/// A client token per volume and recovery point: the same in every run that recovers this
/// outage (a later outage brings a newer recovery point, so a new clone), whoever invoked it.
fn client_token(volume: &VolumeArn, recovery_point: &str) -> String {
    format!("rcv-{}", digest(&[volume.as_str(), recovery_point]))
}

fn tags_of(source: &Source, failed: &GatewayArn, recovery_id: &str) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = source
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !k.starts_with("recovery:"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .take(MAX_TAGS - 4)
        .collect();
    tags.push(("recovery:source-volume".into(), source.volume.to_string()));
    tags.push(("recovery:source-gateway".into(), failed.to_string()));
    tags.push(("recovery:recovery-point-time".into(), source.recovery_point.clone()));
    tags.push(("recovery:recovery-id".into(), recovery_id.to_owned()));
    tags
}

fn reconnect(v: &CachedVolume, target_name: &str, nic: &str) -> Reconnect {
    Reconnect {
        volume_arn: v.volume.to_string(),
        target_arn: v.target_arn.clone(),
        target_name: v.target_name.clone().unwrap_or_else(|| target_name.to_owned()),
        network_interface: v.network_interface.clone().or_else(|| Some(nic.to_owned())),
        port: v.port.unwrap_or(ISCSI_PORT),
        status: Some(v.status.clone()),
    }
}

impl<G: StorageGateway, N: Notifier, L: Ledger, C: Clock> Run<'_, G, N, L, C> {
    /// Checks the standby, then clones every source onto it.
    pub(super) async fn clone_all(
        &self,
        d: &mut Draft,
        standby: &GatewayArn,
        sources: &[Source],
        lease: Option<&Lease<'_, L, C>>,
    ) -> Result<Cloned, Stop> {
        let target = self.check_volume_standby(d, standby).await?;
        let pk = gateway_pk(&self.req.failed);
        let until = self.budget.stop_at();
        // The clones already chosen for this outage: their names are theirs.
        let records: HashMap<String, ledger::Stored<CloneRecord>> = self
            .aux
            .call(Retry::Idempotent, until, || ledger::load_all::<CloneRecord>(self.rec.ledger, &pk, "clone#"))
            .await
            .map_err(|e| Stop::Failed("could not read the clones from the ledger", e))?
            .into_iter()
            .filter(|r| {
                let source = sources.iter().find(|s| r.key.sk == format!("clone#{}", s.volume));
                source.is_some_and(|s| r.value.client_token == client_token(&s.volume, &s.recovery_point))
            })
            .map(|r| (r.key.sk.clone(), r))
            .collect();
        let ours: BTreeSet<String> = records.values().map(|r| r.value.target_name.clone()).collect();
        let new = sources.iter().filter(|s| !records.contains_key(&format!("clone#{}", s.volume))).count();
        if !self.req.dry_run {
            standby::volume_room(standby, target.volumes, new).map_err(Stop::Refused)?;
        }
        // Names are chosen in order, so two volumes never pick the same one.
        let mut chosen: Vec<Choice> = Vec::new();
        let mut picked: BTreeSet<String> = BTreeSet::new();
        for s in sources {
            let sk = format!("clone#{}", s.volume);
            match records.get(&sk) {
                Some(r) => chosen.push(Choice {
                    name: r.value.target_name.clone(),
                    token: r.value.client_token.clone(),
                    record: Some(r.clone()),
                }),
                None => {
                    let taken = |n: &str| (target.names.contains_key(n) && !ours.contains(n)) || picked.contains(n);
                    let name = target_name(s, &taken);
                    picked.insert(name.clone());
                    chosen.push(Choice { token: client_token(&s.volume, &s.recovery_point), name, record: None });
                }
            }
        }
        if self.req.dry_run {
            let results = sources
                .iter()
                .zip(&chosen)
                .map(|(s, Choice { name, .. })| {
                    ItemResult::new(s.volume.volume_id(), s.volume.as_str(), Outcome::Planned)
                        .at(Some(s.recovery_point.clone()))
                        .note(format!("would be cloned onto {} as target {name}", standby.id()))
                })
                .collect();
            return Ok(Cloned { results, stopped_by: None });
        }
        let lost = || lease.is_some_and(Lease::lost);
        let nic = &target.network_interface;
        // The first refusal that would fail every clone (the standby gone offline, full,
        // denied) stops the clones not started yet: they stay pending, not failed one by one.
        let halt: OnceLock<AwsError> = OnceLock::new();
        let halt = &halt;
        let results: Vec<ItemResult> = stream::iter(sources.iter().zip(chosen))
            .map(|(s, choice)| async move {
                if self.budget.expired() || lost() || halt.get().is_some() {
                    return ItemResult::new(s.volume.volume_id(), s.volume.as_str(), Outcome::Pending)
                        .at(Some(s.recovery_point.clone()));
                }
                self.clone_one(standby, nic, s, choice, halt).await
            })
            .buffer_unordered(self.rec.config.max_concurrency.min(MAX_VOLUMES_PER_GATEWAY))
            .collect()
            .await;
        // Every later slice's report covers the clones this recovery made in earlier ones.
        for r in &results {
            if let (Outcome::Done, Some(c)) = (r.outcome, &r.reconnect) {
                if !d.progress.clones.iter().any(|(src, _)| src == &r.arn) {
                    d.progress.clones.push((r.arn.clone(), c.volume_arn.clone()));
                }
            }
        }
        let results = self.verify_clones(results, standby, &target.network_interface).await;
        Ok(Cloned { results, stopped_by: halt.get().cloned() })
    }

    /// The volume standby: a connected cached volume gateway with a network interface, a
    /// cache and an upload buffer; answers its free room and the target names in use.
    async fn check_volume_standby(&self, d: &mut Draft, standby: &GatewayArn) -> Result<Target, Stop> {
        let (sg, until) = (self.rec.gateway, self.budget.stop_at());
        let (described, cache, upload, volumes) = tokio::join!(
            self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(standby)),
            self.sgw.call(Retry::Idempotent, until, || sg.describe_cache(standby)),
            self.sgw.call(Retry::Idempotent, until, || sg.describe_upload_buffer(standby)),
            crate::pacing::all(&self.sgw, until, Box::new(move |from| sg.list_volumes(standby, from))),
        );
        if let Ok(info) = &described {
            if let Some(s) = d.standby_ref.as_mut() {
                s.name = Some(info.name.clone());
                s.kind = Some(info.kind);
            }
        }
        standby::check(standby, &self.req.failed, GatewayKind::CachedVolume, &described).map_err(Stop::Refused)?;
        let network_interface =
            described.ok().and_then(|i| i.network_interfaces.first().cloned()).ok_or_else(|| {
                Stop::Ended(
                    Status::Refused,
                    format!("standby {} has no network interface for the iSCSI targets", standby.id()),
                )
            })?;
        for (what, disks) in [("cache", cache), ("upload buffer", upload)] {
            match disks {
                Ok(d) if !d.disk_ids.is_empty() => {}
                Ok(_) => {
                    return Err(Stop::Ended(
                        Status::Refused,
                        format!("standby {} has no {what} disk configured; a cached volume needs one", standby.id()),
                    ));
                }
                Err(e) => return Err(Stop::Failed("could not check the standby's disks", e)),
            }
        }
        let volumes = volumes.map_err(|e| Stop::Failed("could not list the standby's volumes", e))?;
        let arns: Vec<VolumeArn> = volumes.iter().map(|v| v.volume.clone()).collect();
        let described = if arns.is_empty() {
            vec![]
        } else {
            self.sgw
                .call(Retry::Idempotent, until, || sg.describe_cached_volumes(&arns))
                .await
                .map_err(|e| Stop::Failed("could not read the standby's volumes", e))?
        };
        let names = described.into_iter().filter_map(|v| Some((v.target_name?, v.volume))).collect();
        Ok(Target { network_interface, names, volumes: volumes.len() })
    }

    async fn clone_one(
        &self,
        standby: &GatewayArn,
        nic: &str,
        s: &Source,
        choice: Choice,
        halt: &OnceLock<AwsError>,
    ) -> ItemResult {
        let Choice { name, token, record } = choice;
        let (id, arn) = (s.volume.volume_id(), s.volume.as_str());
        let key = Key::new(gateway_pk(&self.req.failed), format!("clone#{}", s.volume));
        let until = self.budget.stop_at();
        let now = self.rec.clock.now_ms();
        let mut value = match &record {
            Some(r) => r.value.clone(),
            None => CloneRecord {
                recovery_id: self.id.recovery_id.clone(),
                standby_gateway_arn: standby.to_string(),
                target_name: name.clone(),
                client_token: token.clone(),
                volume_arn: None,
                target_arn: None,
                at: now,
            },
        };
        // The choice first, so a rerun asks for the same clone.
        if record.is_none() {
            match self.aux.call(Retry::Idempotent, until, || ledger::create(self.rec.ledger, &key, &value, None)).await
            {
                Ok(_) => {}
                Err(e) => return ItemResult::failed(id, arn, &e).at(Some(s.recovery_point.clone())),
            }
        }
        let request = CloneRequest {
            gateway: standby.clone(),
            source: s.volume.clone(),
            size_bytes: s.size_bytes,
            target_name: name.clone(),
            network_interface: nic.to_owned(),
            client_token: token,
            kms: KmsSettings { encrypted: s.kms.encrypted || s.kms.key.is_some(), key: s.kms.key.clone() },
            // The recovery that first chose this clone: the request must be the same in every
            // run, or AWS refuses the reused client token.
            tags: tags_of(s, &self.req.failed, &value.recovery_id),
        };
        // A clone already recorded with its volume is not asked for again: verification
        // confirms it is on the standby, and the time goes to the clones still to make.
        let recorded = value.volume_arn.as_deref().and_then(|v| VolumeArn::parse("VolumeARN", v).ok());
        let was_recorded = recorded.is_some();
        let created = match recorded {
            Some(volume) => CreatedVolume { volume, target_arn: value.target_arn.clone() },
            // The client token makes a retry of this call safe.
            None => match self.sgw.call(Retry::Idempotent, until, || self.rec.gateway.clone_volume(&request)).await {
                Ok(c) => self.record_clone(&key, &mut value, record.as_ref(), c, until).await,
                // Refused before anything was done: the next slice asks again.
                Err(e) if e.kind == ErrorKind::Throttled => {
                    return ItemResult::new(id, arn, Outcome::Pending)
                        .at(Some(s.recovery_point.clone()))
                        .note(format!("throttled until the run ran out of time ({e}); the next slice goes on"));
                }
                Err(e) => {
                    if e.stops_the_run() {
                        let _ = halt.set(e.clone());
                    }
                    return ItemResult::failed(id, arn, &e).at(Some(s.recovery_point.clone()));
                }
            },
        };
        // Done by this recovery (in this slice or an earlier one), or by an earlier recovery.
        let earlier = self.req_progress_clones().iter().any(|(src, _)| src == arn);
        let before_this_recovery = was_recorded && value.recovery_id != self.id.recovery_id && !earlier;
        let outcome = if before_this_recovery { Outcome::AlreadyDone } else { Outcome::Done };
        let mut r = ItemResult::new(id, arn, outcome).at(Some(s.recovery_point.clone()));
        r.reconnect = Some(Reconnect {
            volume_arn: created.volume.to_string(),
            target_arn: created.target_arn,
            target_name: name,
            network_interface: Some(nic.to_owned()),
            port: ISCSI_PORT,
            status: None,
        });
        if s.known_from != "AWS" {
            r.note = Some(format!(
                "the source's size, name and KMS settings came from {} (AWS would not answer while the gateway is offline)",
                s.known_from
            ));
        }
        r
    }

    /// Writes the new volume into the clone's record, so reruns need not ask again.
    async fn record_clone(
        &self,
        key: &Key,
        value: &mut CloneRecord,
        record: Option<&ledger::Stored<CloneRecord>>,
        created: CreatedVolume,
        until: tokio::time::Instant,
    ) -> CreatedVolume {
        value.volume_arn = Some(created.volume.to_string());
        value.target_arn = created.target_arn.clone();
        let version = record.map_or(1, |r| r.version);
        let written = self
            .aux
            .call(Retry::Idempotent, until, || ledger::replace(self.rec.ledger, key, &*value, version, None))
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, volume = %created.volume, "the clone could not be recorded in the ledger; a rerun finds it by its client token");
        }
        created
    }

    fn req_progress_clones(&self) -> Vec<(String, String)> {
        match &self.req.source {
            crate::recover::Source::Continuation(c) => c.progress.clones.clone(),
            _ => vec![],
        }
    }

    /// Confirms each clone on the standby: its status, size and target.
    async fn verify_clones(&self, mut results: Vec<ItemResult>, standby: &GatewayArn, nic: &str) -> Vec<ItemResult> {
        let mut created: Vec<VolumeArn> = results
            .iter()
            .filter_map(|r| r.reconnect.as_ref())
            .filter_map(|c| VolumeArn::parse("VolumeARN", &c.volume_arn).ok())
            .collect();
        if created.is_empty() {
            return results;
        }
        let (sg, until) = (self.rec.gateway, self.budget.finish_by());
        let mut described = self.sgw.call(Retry::Idempotent, until, || sg.describe_cached_volumes(&created)).await;
        // One volume AWS does not know (a clone deleted since) fails the whole call: ask
        // again for the volumes the standby still has; the others are reported missing.
        if described.as_ref().is_err_and(|e| e.kind == ErrorKind::NotFound) {
            let listed =
                crate::pacing::all(&self.sgw, until, Box::new(move |from| sg.list_volumes(standby, from))).await;
            if let Ok(listed) = listed {
                created.retain(|v| listed.iter().any(|l| &l.volume == v));
                described = if created.is_empty() {
                    Ok(vec![])
                } else {
                    self.sgw.call(Retry::Idempotent, until, || sg.describe_cached_volumes(&created)).await
                };
            }
        }
        let described: HashMap<String, CachedVolume> = match described {
            Ok(v) => v.into_iter().map(|v| (v.volume.to_string(), v)).collect(),
            Err(e) => {
                for r in results.iter_mut().filter(|r| r.reconnect.is_some()) {
                    r.verified = Some(false);
                    r.note = Some(format!("the clone could not be confirmed: {e}"));
                }
                return results;
            }
        };
        for r in results.iter_mut() {
            let Some(c) = r.reconnect.clone() else { continue };
            let Some(v) = described.get(&c.volume_arn) else {
                fail(r, format!("the clone {} is not on the standby", c.volume_arn));
                continue;
            };
            r.reconnect = Some(reconnect(v, &c.target_name, nic));
            let name_ok = v.target_name.as_deref().is_none_or(|n| n == c.target_name);
            if !v.healthy() {
                fail(r, format!("the clone is in state {}", v.status));
            } else if !name_ok {
                fail(
                    r,
                    format!(
                        "the clone's target is {} instead of {}",
                        v.target_name.as_deref().unwrap_or("?"),
                        c.target_name
                    ),
                );
            } else {
                r.verified = Some(true);
            }
        }
        results
    }
}

fn fail(r: &mut ItemResult, why: String) {
    r.verified = Some(false);
    r.outcome = Outcome::Failed;
    r.error =
        Some(ItemError { kind: crate::ports::ErrorKind::Permanent, code: Some("CloneNotUsable".into()), message: why });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: Option<&str>) -> Source {
        Source {
            volume: VolumeArn::parse(
                "v",
                "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-34C5678D/volume/vol-1122AABB",
            )
            .unwrap(),
            size_bytes: 1,
            recovery_point: "2026-11-20T10:00:00.000Z".into(),
            target_name: name.map(str::to_owned),
            kms: KmsSettings::default(),
            tags: Default::default(),
            known_from: "AWS".into(),
        }
    }

    #[test]
    fn target_names_follow_the_source_and_resolve_collisions_predictably() {
        assert_eq!(target_name(&source(Some("backup-db")), &|_| false), "backup-db");
        assert_eq!(target_name(&source(Some("backup-db")), &|n| n == "backup-db"), "backup-db-r2");
        assert_eq!(
            target_name(&source(Some("backup-db")), &|n| n == "backup-db" || n == "backup-db-r2"),
            "backup-db-r3"
        );
        assert_eq!(target_name(&source(Some("Backup DB_1")), &|_| false), "backup-db-1", "to the model's [-.;a-z0-9]");
        assert_eq!(target_name(&source(None), &|_| false), "vol-1122aabb");
    }

    #[test]
    fn client_tokens_are_per_volume_and_recovery_point_and_within_the_models_bounds() {
        let v = source(None).volume;
        let t = client_token(&v, "2026-11-20T10:00:00.000Z");
        assert_eq!(t, client_token(&v, "2026-11-20T10:00:00.000Z"), "every run of one outage asks for the same clone");
        assert_ne!(t, client_token(&v, "2026-11-21T10:00:00.000Z"), "a newer recovery point is a new clone");
        assert!((5..=100).contains(&t.len()));
    }
}
