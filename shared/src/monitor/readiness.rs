//! The readiness check (`{"action": "readiness"}`, daily and on demand): could each
//! watched gateway be recovered now, how much would a failure lose, and how long would the
//! recovery take? It makes the reads a recovery's dry run makes, with the same standby
//! rules, records each gateway's inventory in the ledger (so a recovery can still name its
//! tapes and clone its volumes when the failed gateway cannot be read), and reports.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use futures::{StreamExt, stream};
use serde::Serialize;
use tokio::time::Instant;

use super::run::Sweep;
use crate::arn::{GatewayArn, TapeArn};
use crate::config::DisablePolicy;
use crate::ledger::{self, Inventory, InventoryTape, InventoryVolume, RunRecord, gateway_pk};
use crate::model::{GatewayKind, Tags, tag};
use crate::pacing::{Retry, all};
use crate::ports::{AwsError, Clock, ErrorKind, Key, Ledger, Notifier, Publication, Queue, StorageGateway};
use crate::recover::standby::{MAX_TAPES_PER_GATEWAY, MAX_VOLUMES_PER_GATEWAY, resolve};
use crate::time::{human, millis, rfc3339};

/// The documented model, when the ledger has no recovery of this gateway to learn from: a
/// minute to read, check and disable, then tapes at 10 a second (a conservative share of an
/// account's Storage Gateway rate; a run at 64 in flight and 50 ms a call does about 500).
const MODEL_OVERHEAD_SECS: f64 = 60.0;
const MODEL_TAPES_PER_SECOND: f64 = 10.0;
/// Clones and snapshots are one call each, a few seconds apart at most.
const MODEL_SECS_PER_VOLUME: f64 = 2.0;

/// Tape figures of one gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TapeFigures {
    pub total: usize,
    /// `None` where AWS lists recovery points only once the gateway is disabled.
    pub with_recovery_point: Option<usize>,
    pub without_recovery_point: Option<usize>,
    /// Tapes whose data may not be in AWS yet (`IN_TRANSIT_TO_VTS`, `CREATING`, ...).
    pub at_risk: Vec<String>,
    pub newest_recovery_point_age_secs: Option<i64>,
    pub oldest_recovery_point_age_secs: Option<i64>,
}

/// Volume figures of one gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeFigures {
    pub total: usize,
    pub with_recovery_point: usize,
}

/// One gateway's verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayReadiness {
    pub gateway_arn: String,
    pub gateway_id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<GatewayKind>,
    pub ready: bool,
    /// Why not, or what to know (readable sentences).
    pub reasons: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tapes: Option<TapeFigures>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<VolumeFigures>,
    pub estimated_recovery_secs: Option<f64>,
    /// `measured` (from the ledger's run history) or `model`.
    pub estimate_from: &'static str,
    #[serde(skip)]
    needs: Need,
}

/// What a gateway would bring to its standby, for shared-standby room.
#[derive(Debug, Clone, Copy, Default)]
struct Need {
    tapes: usize,
    volumes: usize,
}

/// The readiness answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessReport {
    pub checked_at: String,
    pub ready: usize,
    pub not_ready: usize,
    /// Not-ready gateways first.
    pub gateways: Vec<GatewayReadiness>,
    pub errors: Vec<String>,
    pub duration_ms: u64,
}

/// A standby as read, shared by the gateways that name it.
#[derive(Debug, Clone)]
struct Standby {
    kind: Option<GatewayKind>,
    problem: Option<String>,
    tapes: usize,
    volumes: usize,
}

fn denied(e: &AwsError) -> Option<String> {
    (e.kind == ErrorKind::Denied).then(|| format!("the role cannot call {}: {}", e.operation, e.message))
}

impl<G: StorageGateway, N: Notifier, L: Ledger, Q: Queue, C: Clock> Sweep<'_, G, N, L, Q, C> {
    pub(super) async fn readiness(&self) -> ReadinessReport {
        let started = Instant::now();
        let mut errors = Vec::new();
        let watched = match self.watched().await {
            Ok(w) => w,
            Err(e) => {
                errors.push(format!("could not list the watched gateways: {e}"));
                vec![]
            }
        };
        let mut standbys: HashMap<GatewayArn, Standby> = HashMap::new();
        for arn in watched.iter().filter_map(|(_, tags, kind)| self.standby_of(tags, *kind).ok()) {
            if let std::collections::hash_map::Entry::Vacant(slot) = standbys.entry(arn.clone()) {
                slot.insert(self.read_standby(&arn).await);
            }
        }
        let mut gateways: Vec<GatewayReadiness> = stream::iter(&watched)
            .map(|(arn, tags, kind)| self.check_gateway(arn, tags, *kind, &standbys))
            .buffer_unordered(self.m.config.max_concurrency.min(16))
            .collect()
            .await;
        // Gateways that share a standby must fit on it together.
        let mut shared: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, g) in gateways.iter().enumerate() {
            if let Some(s) = &g.standby {
                shared.entry(s.clone()).or_default().push(i);
            }
        }
        for (standby, users) in shared.iter().filter(|(_, u)| u.len() > 1) {
            let Some(s) = GatewayArn::parse("standby", standby).ok().and_then(|a| standbys.get(&a).cloned()) else {
                continue;
            };
            let tapes: usize = users.iter().map(|i| gateways[*i].needs.tapes).sum();
            let volumes: usize = users.iter().map(|i| gateways[*i].needs.volumes).sum();
            let ids: Vec<String> = users.iter().map(|i| gateways[*i].gateway_id.clone()).collect();
            let over_tapes = s.tapes + tapes > MAX_TAPES_PER_GATEWAY;
            let over_volumes = s.volumes + volumes > MAX_VOLUMES_PER_GATEWAY;
            if over_tapes || over_volumes {
                let why = format!(
                    "standby {} is shared by {} ({}); together they would bring {tapes} tapes and {volumes} volumes to its {} tapes and {} volumes, over a gateway's limit of {MAX_TAPES_PER_GATEWAY} tapes or {MAX_VOLUMES_PER_GATEWAY} volumes",
                    standby.rsplit('/').next().unwrap_or(standby),
                    ids.len(),
                    ids.join(", "),
                    s.tapes,
                    s.volumes
                );
                for i in users {
                    gateways[*i].ready = false;
                    gateways[*i].reasons.push(why.clone());
                }
            }
        }
        gateways.sort_by(|a, b| a.ready.cmp(&b.ready).then(a.gateway_arn.cmp(&b.gateway_arn)));
        let ready = gateways.iter().filter(|g| g.ready).count();
        let report = ReadinessReport {
            checked_at: rfc3339(self.now),
            ready,
            not_ready: gateways.len() - ready,
            gateways,
            errors,
            duration_ms: millis(started.elapsed()),
        };
        self.publish_readiness(&report).await;
        report
    }

    /// The watched gateways, with their tags and kind.
    async fn watched(&self) -> Result<Vec<(GatewayArn, Tags, GatewayKind)>, AwsError> {
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        let listed = all(&self.sgw, until, Box::new(move |from| sg.list_gateways(from))).await?;
        let named = self.m.config.gateway_arns.as_ref();
        let candidates: Vec<_> = listed.into_iter().filter(|s| named.is_none_or(|n| n.contains(&s.arn))).collect();
        let tagged: Vec<_> = stream::iter(candidates)
            .map(|s| async move {
                let tags = self.sgw.call(Retry::Idempotent, until, || sg.list_tags((&s.arn).into())).await;
                (s, tags)
            })
            .buffer_unordered(self.m.config.max_concurrency)
            .collect()
            .await;
        let mut out = Vec::new();
        for (s, tags) in tagged {
            let tags = tags?;
            if named.is_some() || tag::is_true(&tags, tag::ENABLED) {
                out.push((s.arn, tags, s.kind));
            }
        }
        Ok(out)
    }

    fn standby_of(&self, tags: &Tags, kind: GatewayKind) -> Result<GatewayArn, String> {
        let c = self.m.config;
        match kind {
            GatewayKind::Tape => resolve(None, tags, c.standby.as_ref(), "STANDBY_GATEWAY_ARN"),
            _ => resolve(None, tags, c.volume_standby.as_ref(), "STANDBY_VOLUME_GATEWAY_ARN"),
        }
    }

    async fn read_standby(&self, arn: &GatewayArn) -> Standby {
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        let described = self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(arn)).await;
        let (kind, mut problem) = match &described {
            Ok(d) => (Some(d.kind), None),
            Err(e) if e.kind == ErrorKind::NotConnected => {
                (None, Some(format!("standby {} is not connected", arn.id())))
            }
            Err(e) => (None, Some(denied(e).unwrap_or_else(|| format!("standby {} could not be read: {e}", arn.id())))),
        };
        let mut s = Standby { kind, problem: None, tapes: 0, volumes: 0 };
        match kind {
            Some(GatewayKind::Tape) => match all(&self.sgw, until, Box::new(move |from| sg.gateway_tapes(arn, from)))
                .await
            {
                Ok(t) => s.tapes = t.len(),
                Err(e) => {
                    problem = Some(denied(&e).unwrap_or_else(|| format!("the standby's tapes could not be read: {e}")))
                }
            },
            Some(GatewayKind::CachedVolume) => {
                let (cache, upload, volumes) = tokio::join!(
                    self.sgw.call(Retry::Idempotent, until, || sg.describe_cache(arn)),
                    self.sgw.call(Retry::Idempotent, until, || sg.describe_upload_buffer(arn)),
                    all(&self.sgw, until, Box::new(move |from| sg.list_volumes(arn, from))),
                );
                if !cache.as_ref().is_ok_and(|d| !d.disk_ids.is_empty())
                    || !upload.as_ref().is_ok_and(|d| !d.disk_ids.is_empty())
                {
                    problem = Some(format!("standby {} has no cache or no upload buffer configured", arn.id()));
                }
                if described.as_ref().is_ok_and(|d| d.network_interfaces.is_empty()) {
                    problem = Some(format!("standby {} has no network interface", arn.id()));
                }
                s.volumes = volumes.map(|v| v.len()).unwrap_or(0);
            }
            _ => {}
        }
        s.problem = problem;
        s
    }

    async fn check_gateway(
        &self,
        arn: &GatewayArn,
        tags: &Tags,
        kind: GatewayKind,
        standbys: &HashMap<GatewayArn, Standby>,
    ) -> GatewayReadiness {
        let mut g = GatewayReadiness {
            gateway_arn: arn.to_string(),
            gateway_id: arn.id().to_owned(),
            name: None,
            kind: Some(kind),
            ready: true,
            reasons: vec![],
            standby: None,
            tapes: None,
            volumes: None,
            estimated_recovery_secs: None,
            estimate_from: "model",
            needs: Need::default(),
        };
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        match self.sgw.call(Retry::Idempotent, until, || sg.describe_gateway(arn)).await {
            Ok(d) => g.name = Some(d.name),
            // Offline: still recoverable from its recovery points, so a note, not a verdict.
            Err(e) if e.kind == ErrorKind::NotConnected => {
                g.reasons.push("the gateway is offline now: it may be failing".into())
            }
            // Unreadable (denied, gone): a recovery could not read it either.
            Err(e) => {
                g.ready = false;
                g.reasons.push(denied(&e).unwrap_or_else(|| format!("the gateway could not be read: {e}")));
            }
        }
        // The opt-in must be stated, one way or the other.
        let auto = tags.get(tag::AUTO_DISABLE).map(|v| v.trim().to_ascii_lowercase());
        if kind == GatewayKind::Tape
            && self.m.config.disable_policy == DisablePolicy::Tagged
            && !matches!(auto.as_deref(), Some("true" | "false"))
        {
            g.ready = false;
            g.reasons.push(format!(
                "the disable opt-in is not stated: tag it {}=true (disable automatically) or =false (wait for an operator's approval)",
                tag::AUTO_DISABLE
            ));
        }
        match self.standby_of(tags, kind) {
            Ok(s) => {
                g.standby = Some(s.to_string());
                match standbys.get(&s) {
                    Some(st) if st.problem.is_some() => {
                        g.ready = false;
                        g.reasons.extend(st.problem.clone());
                    }
                    Some(st) => {
                        let wanted =
                            if kind == GatewayKind::Tape { GatewayKind::Tape } else { GatewayKind::CachedVolume };
                        if st.kind != Some(wanted) {
                            g.ready = false;
                            g.reasons.push(format!(
                                "standby {} is a {} gateway; a {} gateway needs a {} standby",
                                s.id(),
                                st.kind.map_or("?", |k| k.as_api()),
                                kind.as_api(),
                                wanted.as_api()
                            ));
                        }
                    }
                    None => {}
                }
            }
            Err(why) if kind != GatewayKind::Other => {
                g.ready = false;
                g.reasons.push(why);
            }
            Err(_) => {}
        }
        match kind {
            GatewayKind::Tape => self.check_tapes(&mut g, arn, standbys).await,
            GatewayKind::CachedVolume => self.check_volumes(&mut g, arn, standbys).await,
            GatewayKind::StoredVolume => {
                g.ready = false;
                g.reasons.push("stored volume gateways have no recovery points: a recovery needs a person (restore the volumes' snapshots)".into());
            }
            GatewayKind::Other => {
                g.ready = false;
                g.reasons.push("file gateways cannot be recovered by this tool".into());
            }
        }
        if g.ready && g.reasons.is_empty() {
            g.reasons
                .push("ready: the standby has room, the opt-in is stated, and the recovery's reads succeed".into());
        }
        g
    }

    async fn check_tapes(&self, g: &mut GatewayReadiness, arn: &GatewayArn, standbys: &HashMap<GatewayArn, Standby>) {
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        let (tapes, points, previous, history) = tokio::join!(
            all(&self.sgw, until, Box::new(move |from| sg.gateway_tapes(arn, from))),
            all(&self.sgw, until, Box::new(move |from| sg.tape_recovery_points(arn, from))),
            self.previous_inventory(arn),
            self.history_rate(arn),
        );
        let tapes = match tapes {
            Ok(t) => t,
            Err(e) => {
                g.ready = false;
                g.reasons
                    .push(denied(&e).unwrap_or_else(|| format!("its tapes could not be read (DescribeTapes): {e}")));
                return;
            }
        };
        let mut figures = TapeFigures { total: tapes.len(), ..TapeFigures::default() };
        let mut newest_point: HashMap<TapeArn, i64> = HashMap::new();
        let points_read = points.is_ok();
        match points {
            Ok(p) => {
                for rp in p {
                    let t = rp.time.unwrap_or(0);
                    let e = newest_point.entry(rp.tape).or_insert(t);
                    *e = (*e).max(t);
                }
                if newest_point.is_empty() && !tapes.is_empty() {
                    // Nothing shows that a failure now would leave anything to retrieve.
                    g.ready = false;
                    g.reasons.push(format!(
                        "no recovery point is listed for any of its {} tapes: a failure now could lose them all (if AWS lists recovery points only once a gateway is disabled, a recovery would disable first, under the opt-in, and find out then)",
                        tapes.len()
                    ));
                } else {
                    let with = tapes.iter().filter(|t| newest_point.contains_key(&t.tape)).count();
                    figures.with_recovery_point = Some(with);
                    figures.without_recovery_point = Some(tapes.len() - with);
                    let ages: Vec<i64> = newest_point.values().map(|t| self.now - t).collect();
                    figures.newest_recovery_point_age_secs = ages.iter().min().copied();
                    figures.oldest_recovery_point_age_secs = ages.iter().max().copied();
                    if tapes.len() > with {
                        g.ready = false;
                        g.reasons.push(format!(
                            "{} of its {} tapes have no recovery point: a failure now would lose them",
                            tapes.len() - with,
                            tapes.len()
                        ));
                    }
                }
            }
            Err(e) => {
                g.ready = false;
                g.reasons.push(denied(&e).unwrap_or_else(|| format!("its recovery points could not be read: {e}")));
            }
        }
        figures.at_risk = tapes.iter().filter(|t| t.status.at_risk()).map(|t| t.tape.barcode().to_owned()).collect();
        if !figures.at_risk.is_empty() {
            g.reasons.push(format!(
                "{} tapes are at risk (not yet in AWS): {}",
                figures.at_risk.len(),
                figures.at_risk.iter().take(10).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        g.needs.tapes = tapes.len();
        if let Some(s) = g.standby.as_ref().and_then(|s| GatewayArn::parse("s", s).ok()).and_then(|s| standbys.get(&s))
        {
            if s.tapes + tapes.len() > MAX_TAPES_PER_GATEWAY {
                g.ready = false;
                g.reasons.push(format!(
                    "the standby holds {} tapes and has room for {}, but this gateway would bring {}",
                    s.tapes,
                    MAX_TAPES_PER_GATEWAY.saturating_sub(s.tapes),
                    tapes.len()
                ));
            }
        }
        let (secs, from) = match history {
            Some(rate) => (MODEL_OVERHEAD_SECS / 2.0 + tapes.len() as f64 / rate, "measured"),
            None => (MODEL_OVERHEAD_SECS + tapes.len() as f64 / MODEL_TAPES_PER_SECOND, "model"),
        };
        g.estimated_recovery_secs = Some(secs.round());
        g.estimate_from = from;
        // The inventory: barcodes, sizes, and when each was last seen written.
        let previous: HashMap<String, InventoryTape> =
            previous.map(|i| i.tapes.into_iter().map(|t| (t.barcode.clone(), t)).collect()).unwrap_or_default();
        let now_ms = self.now * 1000;
        let inventory = Inventory {
            at: now_ms,
            tapes: tapes
                .iter()
                .map(|t| {
                    let before = previous.get(t.tape.barcode());
                    let written = before.is_some_and(|b| b.used_bytes != t.used_bytes);
                    InventoryTape {
                        barcode: t.tape.barcode().to_owned(),
                        status: t.status.as_api().to_owned(),
                        size_bytes: t.size_bytes,
                        used_bytes: t.used_bytes,
                        // When the points could not be read, what was known stays known.
                        recovery_point: newest_point
                            .get(&t.tape)
                            .copied()
                            .or_else(|| if points_read { None } else { before.and_then(|b| b.recovery_point) }),
                        last_write_seen: if written { Some(now_ms) } else { before.and_then(|b| b.last_write_seen) },
                    }
                })
                .collect(),
            volumes: vec![],
        };
        self.record_inventory(g, arn, &inventory).await;
        g.tapes = Some(figures);
    }

    async fn check_volumes(&self, g: &mut GatewayReadiness, arn: &GatewayArn, standbys: &HashMap<GatewayArn, Standby>) {
        let (sg, until) = (self.m.gateway, self.budget.stop_at());
        let (volumes, points) = tokio::join!(
            all(&self.sgw, until, Box::new(move |from| sg.list_volumes(arn, from))),
            self.sgw.call(Retry::Idempotent, until, || sg.volume_recovery_points(arn)),
        );
        let volumes = match volumes {
            Ok(v) => v,
            Err(e) => {
                g.ready = false;
                g.reasons.push(denied(&e).unwrap_or_else(|| format!("its volumes could not be read: {e}")));
                return;
            }
        };
        let points_ok = points.is_ok();
        let points = match points {
            Ok(p) => p,
            Err(e) => {
                g.ready = false;
                g.reasons
                    .push(denied(&e).unwrap_or_else(|| format!("its volume recovery points could not be read: {e}")));
                vec![]
            }
        };
        let arns: Vec<_> = volumes.iter().map(|v| v.volume.clone()).collect();
        let described = if arns.is_empty() {
            Ok(vec![])
        } else {
            self.sgw.call(Retry::Idempotent, until, || sg.describe_cached_volumes(&arns)).await
        };
        let described_ok = described.is_ok();
        let described = described.unwrap_or_else(|e| {
            // Offline, the recovery reads the sizes and names from the inventory instead.
            if e.kind != ErrorKind::NotConnected {
                g.ready = false;
            }
            g.reasons.push(denied(&e).unwrap_or_else(|| format!("its volumes could not be described: {e}")));
            vec![]
        });
        let tags: Vec<_> = stream::iter(&volumes)
            .map(|v| self.sgw.call(Retry::Idempotent, until, move || sg.list_tags((&v.volume).into())))
            .buffered(MAX_VOLUMES_PER_GATEWAY)
            .collect()
            .await;
        // What AWS would not say now (a gateway going offline refuses some volume calls)
        // is kept from the last inventory: the recovery clones from it when AWS refuses.
        let previous = self.previous_inventory(arn).await.map(|i| i.volumes).unwrap_or_default();
        let mut inventory_volumes = Vec::new();
        for (v, tags) in volumes.iter().zip(tags) {
            let d = described.iter().find(|d| d.volume == v.volume);
            let before = previous.iter().find(|p| p.volume_arn == v.volume.as_str());
            let point = points.iter().find(|p| p.volume == v.volume).map(|p| p.time.clone());
            inventory_volumes.push(InventoryVolume {
                volume_arn: v.volume.to_string(),
                size_bytes: d.and_then(|d| d.size_bytes).or(v.size_bytes).unwrap_or(0),
                target_name: match d {
                    Some(d) => d.target_name.clone(),
                    None => before.and_then(|b| b.target_name.clone()),
                },
                kms: match (d, before) {
                    (Some(d), _) => d.kms.clone(),
                    (None, Some(b)) if !described_ok => b.kms.clone(),
                    (None, _) => Default::default(),
                },
                tags: match (tags, before) {
                    (Ok(t), _) => t.into_iter().collect(),
                    (Err(_), Some(b)) => b.tags.clone(),
                    (Err(_), None) => vec![],
                },
                recovery_point: if points_ok { point } else { before.and_then(|b| b.recovery_point.clone()) },
            });
        }
        let with = inventory_volumes.iter().filter(|v| v.recovery_point.is_some()).count();
        if with < volumes.len() {
            g.ready = false;
            g.reasons.push(format!(
                "{} of its {} volumes have no recovery point yet: a failure now would lose them",
                volumes.len() - with,
                volumes.len()
            ));
        }
        g.needs.volumes = volumes.len();
        if let Some(s) = g.standby.as_ref().and_then(|s| GatewayArn::parse("s", s).ok()).and_then(|s| standbys.get(&s))
        {
            if s.volumes + volumes.len() > MAX_VOLUMES_PER_GATEWAY {
                g.ready = false;
                g.reasons.push(format!(
                    "the standby holds {} volumes and has room for {}, but this gateway would bring {}",
                    s.volumes,
                    MAX_VOLUMES_PER_GATEWAY.saturating_sub(s.volumes),
                    volumes.len()
                ));
            }
        }
        g.estimated_recovery_secs = Some((MODEL_OVERHEAD_SECS + volumes.len() as f64 * MODEL_SECS_PER_VOLUME).round());
        g.volumes = Some(VolumeFigures { total: volumes.len(), with_recovery_point: with });
        let inventory = Inventory { at: self.now * 1000, tapes: vec![], volumes: inventory_volumes };
        self.record_inventory(g, arn, &inventory).await;
    }

    async fn previous_inventory(&self, arn: &GatewayArn) -> Option<Inventory> {
        let key = Key::new(gateway_pk(arn), "inventory");
        let l = self.m.ledger;
        self.aux
            .call(Retry::Idempotent, self.budget.stop_at(), || ledger::load::<Inventory>(l, &key))
            .await
            .ok()
            .flatten()
            .map(|s| s.value)
    }

    /// Tapes per second of this gateway's recent recoveries, from the ledger's run history.
    async fn history_rate(&self, arn: &GatewayArn) -> Option<f64> {
        let pk = gateway_pk(arn);
        let l = self.m.ledger;
        let runs = self
            .aux
            .call(Retry::Idempotent, self.budget.stop_at(), || ledger::load_all::<RunRecord>(l, &pk, "run#"))
            .await
            .ok()?;
        let mut rates: Vec<f64> = runs.iter().rev().take(10).filter_map(|r| r.value.tapes_per_second()).collect();
        if rates.is_empty() {
            return None;
        }
        rates.sort_by(f64::total_cmp);
        Some(rates[rates.len() / 2])
    }

    async fn record_inventory(&self, g: &mut GatewayReadiness, arn: &GatewayArn, inventory: &Inventory) {
        let key = Key::new(gateway_pk(arn), "inventory");
        let l = self.m.ledger;
        let written = self
            .aux
            .call(Retry::Idempotent, self.budget.finish_by(), || {
                ledger::write(l, &key, inventory, 1, &crate::ports::Condition::Always, None)
            })
            .await;
        if let Err(e) = written {
            g.reasons.push(format!("its inventory could not be recorded in the ledger: {e}"));
        }
    }

    async fn publish_readiness(&self, r: &ReadinessReport) {
        let oldest = r
            .gateways
            .iter()
            .filter_map(|g| g.tapes.as_ref().and_then(|t| t.oldest_recovery_point_age_secs))
            .max()
            .unwrap_or(0);
        let slowest = r.gateways.iter().filter_map(|g| g.estimated_recovery_secs).fold(0.0, f64::max);
        crate::telemetry::emit_metrics(
            "gateway-monitor",
            &[
                ("GatewaysReady", r.ready as f64, "Count"),
                ("GatewaysNotReady", r.not_ready as f64, "Count"),
                ("OldestRecoveryPointAgeSeconds", oldest as f64, "Seconds"),
                ("EstimatedRecoveryTimeSeconds", slowest, "Seconds"),
            ],
        );
        let subject = if r.not_ready == 0 {
            format!("Readiness: all {} watched gateways can be recovered", r.ready)
        } else {
            format!("Readiness: {} of {} watched gateways NOT ready", r.not_ready, r.ready + r.not_ready)
        };
        let publication = Publication {
            topic: self.m.config.report_topic.clone(),
            subject: Some(subject.chars().take(99).collect()),
            body: readiness_body(r),
            attributes: vec![("event".into(), "Readiness".into())],
        };
        if let Err(e) =
            self.aux.call(Retry::Idempotent, self.budget.finish_by(), || self.m.notifier.publish(&publication)).await
        {
            tracing::error!(error = %e, "the readiness report could not be published; it is in the answer");
        }
    }
}

/// The readable report: the not-ready gateways first, each with why.
pub fn readiness_body(r: &ReadinessReport) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "Storage Gateway readiness, {}: {} ready, {} not ready.", r.checked_at, r.ready, r.not_ready);
    for (title, ready) in [("NOT READY", false), ("Ready", true)] {
        let group: Vec<&GatewayReadiness> = r.gateways.iter().filter(|g| g.ready == ready).collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(b);
        let _ = writeln!(b, "{title} ({}):", group.len());
        for g in group.iter().take(if ready { 100 } else { 500 }) {
            let _ = writeln!(
                b,
                "  {} ({}){}",
                g.name.as_deref().unwrap_or("?"),
                g.gateway_id,
                g.kind.map(|k| format!(", {}", k.as_api())).unwrap_or_default()
            );
            for why in &g.reasons {
                let _ = writeln!(b, "    - {why}");
            }
            if let Some(t) = &g.tapes {
                let _ = writeln!(
                    b,
                    "    tapes: {}, with a recovery point: {}, at risk: {}; recovery points {} to {} old",
                    t.total,
                    t.with_recovery_point.map_or("unknown".to_owned(), |n| n.to_string()),
                    t.at_risk.len(),
                    t.newest_recovery_point_age_secs.map_or("?".to_owned(), human),
                    t.oldest_recovery_point_age_secs.map_or("?".to_owned(), human),
                );
            }
            if let Some(v) = &g.volumes {
                let _ = writeln!(b, "    volumes: {}, with a recovery point: {}", v.total, v.with_recovery_point);
            }
            if let Some(secs) = g.estimated_recovery_secs {
                let _ = writeln!(b, "    estimated recovery time: {} ({})", human(secs as i64), g.estimate_from);
            }
        }
        if group.len() > if ready { 100 } else { 500 } {
            let _ = writeln!(b, "  ... and more in the function's answer");
        }
    }
    for e in &r.errors {
        let _ = writeln!(b, "\nError: {e}");
    }
    b
}
