use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use futures::StreamExt;
use futures::stream;

use super::{error, lock};
use crate::arn::{GatewayArn, Taggable, TapeArn, VolumeArn};
use crate::model::{
    CachedVolume, CloneRequest, CreatedVolume, Disks, GatewayDescription, GatewayKind, GatewaySummary, KmsSettings,
    Page, Tags, Tape, TapeInfo, TapeRecoveryPoint, TapeStatus, VolumeInfo, VolumeKind, VolumeRecoveryPoint,
};
use crate::ports::{AwsError, PageStream, StorageGateway};

/// Most tapes a tape gateway holds.
const MAX_TAPES: usize = 1500;

#[derive(Debug, Clone)]
struct Gateway {
    name: String,
    kind: GatewayKind,
    connected: bool,
    disabled: bool,
    tags: Tags,
    interfaces: Vec<String>,
    disks: bool,
}

/// A volume of the in-memory world.
#[derive(Debug, Clone)]
pub struct MemoryVolume {
    pub gateway: GatewayArn,
    pub kind: VolumeKind,
    pub size_bytes: i64,
    pub recovery_point: Option<String>,
    pub target_name: String,
    pub status: String,
    pub tags: Tags,
    /// The client token it was created with, if it is a clone.
    pub client_token: Option<String>,
}

#[derive(Debug, Default)]
struct World {
    gateways: BTreeMap<GatewayArn, Gateway>,
    /// Recovery points: the tape's gateway, the point, whether it was retrieved.
    recovery_points: Vec<(GatewayArn, TapeRecoveryPoint, bool)>,
    /// Tapes and the gateway each is on.
    tapes: BTreeMap<TapeArn, (Option<GatewayArn>, TapeStatus)>,
    volumes: BTreeMap<VolumeArn, MemoryVolume>,
    snapshots: Vec<(VolumeArn, String)>,
    failures: HashMap<&'static str, VecDeque<AwsError>>,
    /// Failures that last until cleared.
    failing: HashMap<&'static str, AwsError>,
    calls: Vec<&'static str>,
}

/// Storage Gateway in memory: gateways, recovery points, tapes and volumes, with the
/// rules `RetrieveTapeRecoveryPoint` and `CreateCachediSCSIVolume` enforce, pages of 100
/// with markers, and errors a test queues per operation.
#[derive(Debug, Default)]
pub struct MemoryGateway {
    world: Mutex<World>,
}

fn page_of<T: Clone>(items: &[T], from: Option<&str>) -> Page<T> {
    let start = from.and_then(|m| m.parse::<usize>().ok()).unwrap_or(0).min(items.len());
    let end = (start + 100).min(items.len());
    Page { items: items[start..end].to_vec(), next: (end < items.len()).then(|| end.to_string()) }
}

fn not_connected(op: &'static str) -> AwsError {
    error(op, "GatewayNotConnected", 400)
}

impl MemoryGateway {
    pub fn add_gateway(&self, arn: &GatewayArn, kind: GatewayKind, connected: bool) {
        let n = lock(&self.world).gateways.len();
        lock(&self.world).gateways.insert(
            arn.clone(),
            Gateway {
                name: arn.id().to_owned(),
                kind,
                connected,
                disabled: false,
                tags: Tags::new(),
                interfaces: vec![format!("10.0.0.{}", 10 + n)],
                disks: true,
            },
        );
    }

    pub fn set_connected(&self, arn: &GatewayArn, connected: bool) {
        if let Some(g) = lock(&self.world).gateways.get_mut(arn) {
            g.connected = connected;
        }
    }

    pub fn set_tags(&self, arn: &GatewayArn, tags: &[(&str, &str)]) {
        if let Some(g) = lock(&self.world).gateways.get_mut(arn) {
            g.tags = tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        }
    }

    /// Puts `tape` on `gateway`, with a recovery point at `time` if given.
    pub fn add_tape(&self, gateway: &GatewayArn, tape: &TapeArn, time: Option<i64>) {
        let mut w = lock(&self.world);
        w.tapes.insert(tape.clone(), (Some(gateway.clone()), TapeStatus::Available));
        if let Some(t) = time {
            w.recovery_points.push((
                gateway.clone(),
                TapeRecoveryPoint { tape: tape.clone(), time: Some(t), size_bytes: Some(100 << 30) },
                false,
            ));
        }
    }

    pub fn add_volume(&self, arn: &VolumeArn, v: MemoryVolume) {
        lock(&self.world).volumes.insert(arn.clone(), v);
    }

    pub fn volumes(&self) -> Vec<(VolumeArn, MemoryVolume)> {
        lock(&self.world).volumes.iter().map(|(a, v)| (a.clone(), v.clone())).collect()
    }

    /// The next calls of `operation` fail with these errors, in order.
    pub fn fail_next(&self, operation: &'static str, errors: impl IntoIterator<Item = AwsError>) {
        lock(&self.world).failures.entry(operation).or_default().extend(errors);
    }

    /// Every call of `operation` fails with `error` until cleared (`None`).
    pub fn fail_all(&self, operation: &'static str, error: Option<AwsError>) {
        let mut w = lock(&self.world);
        match error {
            Some(e) => w.failing.insert(operation, e),
            None => w.failing.remove(operation),
        };
    }

    /// Tapes on a gateway, with their status.
    pub fn tapes_on(&self, gateway: &GatewayArn) -> Vec<(TapeArn, TapeStatus)> {
        let w = lock(&self.world);
        w.tapes
            .iter()
            .filter(|(_, (g, _))| g.as_ref() == Some(gateway))
            .map(|(t, (_, s))| (t.clone(), s.clone()))
            .collect()
    }

    pub fn is_disabled(&self, gateway: &GatewayArn) -> bool {
        lock(&self.world).gateways.get(gateway).is_some_and(|g| g.disabled)
    }

    /// Every call made so far, by operation name.
    pub fn calls(&self) -> Vec<&'static str> {
        lock(&self.world).calls.clone()
    }

    pub fn count(&self, operation: &str) -> usize {
        lock(&self.world).calls.iter().filter(|c| **c == operation).count()
    }

    /// Records the call; answers an injected failure if one is queued.
    fn enter(&self, op: &'static str) -> Result<std::sync::MutexGuard<'_, World>, AwsError> {
        let mut w = lock(&self.world);
        w.calls.push(op);
        if let Some(e) = w.failing.get(op) {
            return Err(e.clone());
        }
        match w.failures.get_mut(op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(w),
        }
    }

    fn gateway<'w>(w: &'w World, op: &'static str, arn: &GatewayArn) -> Result<&'w Gateway, AwsError> {
        w.gateways.get(arn).ok_or_else(|| error(op, "GatewayNotFound", 400))
    }

    fn reachable<'w>(w: &'w World, op: &'static str, arn: &GatewayArn) -> Result<&'w Gateway, AwsError> {
        let g = Self::gateway(w, op, arn)?;
        if g.connected && !g.disabled { Ok(g) } else { Err(not_connected(op)) }
    }

    fn stream<T: Clone + Send + 'static>(result: Result<Page<T>, AwsError>) -> PageStream<'static, T> {
        // One page per call, as a paginator yields it; the caller asks again from `next`.
        stream::iter([result]).boxed()
    }
}

impl StorageGateway for MemoryGateway {
    fn list_gateways(&self, from: Option<String>) -> PageStream<'_, GatewaySummary> {
        let page = self.enter("ListGateways").map(|w| {
            let all: Vec<GatewaySummary> = w
                .gateways
                .iter()
                .map(|(arn, g)| GatewaySummary {
                    arn: arn.clone(),
                    name: g.name.clone(),
                    kind: g.kind,
                    disabled: g.disabled,
                })
                .collect();
            page_of(&all, from.as_deref())
        });
        chain(self, page, |s, next| s.list_gateways(Some(next)))
    }

    async fn describe_gateway(&self, gateway: &GatewayArn) -> Result<GatewayDescription, AwsError> {
        let w = self.enter("DescribeGatewayInformation")?;
        let g = Self::reachable(&w, "DescribeGatewayInformation", gateway)?;
        Ok(GatewayDescription {
            arn: gateway.clone(),
            name: g.name.clone(),
            kind: g.kind,
            state: "RUNNING".into(),
            network_interfaces: g.interfaces.clone(),
            tags: g.tags.clone(),
            tags_complete: g.tags.len() < 10,
        })
    }

    async fn list_tags(&self, resource: Taggable<'_>) -> Result<Tags, AwsError> {
        let w = self.enter("ListTagsForResource")?;
        match resource {
            Taggable::Gateway(g) => Ok(Self::gateway(&w, "ListTagsForResource", g)?.tags.clone()),
            Taggable::Volume(v) => w
                .volumes
                .get(v)
                .map(|v| v.tags.clone())
                .ok_or_else(|| error("ListTagsForResource", "VolumeNotFound", 400)),
        }
    }

    async fn disable_gateway(&self, gateway: &GatewayArn) -> Result<(), AwsError> {
        let mut w = self.enter("DisableGateway")?;
        let g = w.gateways.get_mut(gateway).ok_or_else(|| error("DisableGateway", "GatewayNotFound", 400))?;
        if g.disabled {
            return Err(error("DisableGateway", "InvalidGateway", 400));
        }
        g.disabled = true;
        Ok(())
    }

    fn tape_recovery_points(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, TapeRecoveryPoint> {
        let page = self.enter("DescribeTapeRecoveryPoints").and_then(|w| {
            Self::gateway(&w, "DescribeTapeRecoveryPoints", gateway)?;
            let all: Vec<TapeRecoveryPoint> =
                w.recovery_points.iter().filter(|(g, _, _)| g == gateway).map(|(_, rp, _)| rp.clone()).collect();
            Ok(page_of(&all, from.as_deref()))
        });
        let gateway = gateway.clone();
        chain(self, page, move |s, next| s.tape_recovery_points(&gateway, Some(next)))
    }

    async fn retrieve_tape(&self, tape: &TapeArn, to: &GatewayArn) -> Result<(), AwsError> {
        const OP: &str = "RetrieveTapeRecoveryPoint";
        let mut w = self.enter(OP)?;
        let target = Self::reachable(&w, OP, to)?;
        if target.kind != GatewayKind::Tape {
            return Err(error(OP, "NotSupported", 400));
        }
        let Some(i) = w.recovery_points.iter().position(|(_, rp, _)| &rp.tape == tape) else {
            return Err(error(OP, "TapeCartridgeNotFound", 400));
        };
        let (source, _, retrieved) = &w.recovery_points[i];
        if *retrieved {
            return Err(error(OP, "InvalidParameters", 400));
        }
        if !w.gateways.get(source).is_some_and(|g| g.disabled) {
            return Err(error(OP, "InvalidGateway", 400));
        }
        if w.tapes.values().filter(|(g, _)| g.as_ref() == Some(to)).count() >= MAX_TAPES {
            return Err(error(OP, "MaximumTapeCartridgeCountExceeded", 400));
        }
        for rp in w.recovery_points.iter_mut().filter(|(_, rp, _)| &rp.tape == tape) {
            rp.2 = true;
        }
        w.tapes.insert(tape.clone(), (Some(to.clone()), TapeStatus::Recovered));
        Ok(())
    }

    fn gateway_tapes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, Tape> {
        let page = self.enter("DescribeTapes").and_then(|w| {
            Self::reachable(&w, "DescribeTapes", gateway)?;
            let all: Vec<Tape> = w
                .tapes
                .iter()
                .filter(|(_, (g, _))| g.as_ref() == Some(gateway))
                .map(|(t, (_, s))| Tape { tape: t.clone(), status: s.clone(), size_bytes: None, used_bytes: None })
                .collect();
            Ok(page_of(&all, from.as_deref()))
        });
        let gateway = gateway.clone();
        chain(self, page, move |s, next| s.gateway_tapes(&gateway, Some(next)))
    }

    async fn find_tapes(&self, gateway: &GatewayArn, tapes: &[TapeArn]) -> Result<Vec<Tape>, AwsError> {
        let w = self.enter("DescribeTapes")?;
        Self::reachable(&w, "DescribeTapes", gateway)?;
        Ok(tapes
            .iter()
            .filter_map(|t| match w.tapes.get(t) {
                Some((Some(g), s)) if g == gateway => {
                    Some(Tape { tape: t.clone(), status: s.clone(), size_bytes: None, used_bytes: None })
                }
                _ => None,
            })
            .collect())
    }

    fn list_tapes(&self, from: Option<String>) -> PageStream<'_, TapeInfo> {
        let page = self.enter("ListTapes").map(|w| {
            let all: Vec<TapeInfo> = w
                .tapes
                .iter()
                .map(|(t, (g, s))| TapeInfo {
                    tape: t.clone(),
                    gateway: g.clone(),
                    status: s.clone(),
                    size_bytes: None,
                })
                .collect();
            page_of(&all, from.as_deref())
        });
        chain(self, page, |s, next| s.list_tapes(Some(next)))
    }

    fn list_volumes(&self, gateway: &GatewayArn, from: Option<String>) -> PageStream<'_, VolumeInfo> {
        let page = self.enter("ListVolumes").and_then(|w| {
            Self::gateway(&w, "ListVolumes", gateway)?;
            let all: Vec<VolumeInfo> = w
                .volumes
                .iter()
                .filter(|(_, v)| &v.gateway == gateway)
                .map(|(a, v)| VolumeInfo { volume: a.clone(), kind: v.kind, size_bytes: Some(v.size_bytes) })
                .collect();
            Ok(page_of(&all, from.as_deref()))
        });
        let gateway = gateway.clone();
        chain(self, page, move |s, next| s.list_volumes(&gateway, Some(next)))
    }

    async fn volume_recovery_points(&self, gateway: &GatewayArn) -> Result<Vec<VolumeRecoveryPoint>, AwsError> {
        let w = self.enter("ListVolumeRecoveryPoints")?;
        Self::gateway(&w, "ListVolumeRecoveryPoints", gateway)?;
        Ok(w.volumes
            .iter()
            .filter(|(_, v)| &v.gateway == gateway)
            .filter_map(|(a, v)| {
                Some(VolumeRecoveryPoint {
                    volume: a.clone(),
                    time: v.recovery_point.clone()?,
                    size_bytes: Some(v.size_bytes),
                })
            })
            .collect())
    }

    async fn describe_cached_volumes(&self, volumes: &[VolumeArn]) -> Result<Vec<CachedVolume>, AwsError> {
        let w = self.enter("DescribeCachediSCSIVolumes")?;
        volumes
            .iter()
            .map(|a| {
                let v = w.volumes.get(a).ok_or_else(|| error("DescribeCachediSCSIVolumes", "VolumeNotFound", 400))?;
                let nic = w.gateways.get(&v.gateway).and_then(|g| g.interfaces.first().cloned());
                Ok(CachedVolume {
                    volume: a.clone(),
                    status: v.status.clone(),
                    size_bytes: Some(v.size_bytes),
                    target_arn: Some(format!("{}/target/iqn.1997-05.com.amazon:{}", v.gateway, v.target_name)),
                    target_name: Some(v.target_name.clone()),
                    network_interface: nic,
                    port: Some(3260),
                    kms: KmsSettings::default(),
                })
            })
            .collect()
    }

    async fn clone_volume(&self, r: &CloneRequest) -> Result<CreatedVolume, AwsError> {
        const OP: &str = "CreateCachediSCSIVolume";
        let mut w = self.enter(OP)?;
        let target = Self::reachable(&w, OP, &r.gateway)?;
        if target.kind != GatewayKind::CachedVolume {
            return Err(error(OP, "NotSupported", 400));
        }
        if !target.interfaces.contains(&r.network_interface) {
            return Err(error(OP, "InvalidParameters", 400));
        }
        if !target.disks {
            return Err(error(OP, "NoDisksAvailable", 400));
        }
        let target_arn = |name: &str| Some(format!("{}/target/iqn.1997-05.com.amazon:{name}", r.gateway));
        if let Some((a, v)) = w.volumes.iter().find(|(_, v)| v.client_token.as_deref() == Some(r.client_token.as_str()))
        {
            return Ok(CreatedVolume { volume: a.clone(), target_arn: target_arn(&v.target_name) });
        }
        let on_target: Vec<&MemoryVolume> = w.volumes.values().filter(|v| v.gateway == r.gateway).collect();
        if on_target.len() >= 32 {
            return Err(error(OP, "MaximumVolumeCountExceeded", 400));
        }
        if on_target.iter().any(|v| v.target_name == r.target_name) {
            return Err(error(OP, "TargetAlreadyExists", 400));
        }
        let source = w.volumes.get(&r.source).ok_or_else(|| error(OP, "VolumeNotFound", 400))?;
        if source.recovery_point.is_none() {
            return Err(error(OP, "VolumeNotReady", 400));
        }
        if r.size_bytes < source.size_bytes {
            return Err(error(OP, "InvalidParameters", 400));
        }
        let id = format!("vol-{:08X}", 0x3000_0000 + w.volumes.len());
        let arn = VolumeArn::parse("VolumeARN", &format!("{}/volume/{id}", r.gateway))
            .map_err(|e| AwsError::malformed(OP, e.to_string()))?;
        w.volumes.insert(
            arn.clone(),
            MemoryVolume {
                gateway: r.gateway.clone(),
                kind: VolumeKind::Cached,
                size_bytes: r.size_bytes,
                recovery_point: None,
                target_name: r.target_name.clone(),
                status: "AVAILABLE".into(),
                tags: r.tags.iter().cloned().collect(),
                client_token: Some(r.client_token.clone()),
            },
        );
        Ok(CreatedVolume { volume: arn, target_arn: target_arn(&r.target_name) })
    }

    async fn describe_cache(&self, gateway: &GatewayArn) -> Result<Disks, AwsError> {
        let w = self.enter("DescribeCache")?;
        let g = Self::reachable(&w, "DescribeCache", gateway)?;
        Ok(if g.disks {
            Disks { disk_ids: vec!["cache-0".into()], allocated_bytes: 150 << 30 }
        } else {
            Disks::default()
        })
    }

    async fn describe_upload_buffer(&self, gateway: &GatewayArn) -> Result<Disks, AwsError> {
        let w = self.enter("DescribeUploadBuffer")?;
        let g = Self::reachable(&w, "DescribeUploadBuffer", gateway)?;
        Ok(if g.disks {
            Disks { disk_ids: vec!["upload-0".into()], allocated_bytes: 150 << 30 }
        } else {
            Disks::default()
        })
    }

    async fn snapshot_volume(
        &self,
        volume: &VolumeArn,
        _description: &str,
        _tags: &[(String, String)],
    ) -> Result<String, AwsError> {
        let mut w = self.enter("CreateSnapshotFromVolumeRecoveryPoint")?;
        if w.volumes.get(volume).is_none_or(|v| v.recovery_point.is_none()) {
            return Err(error("CreateSnapshotFromVolumeRecoveryPoint", "VolumeNotReady", 400));
        }
        let id = format!("snap-{:017x}", w.snapshots.len());
        w.snapshots.push((volume.clone(), id.clone()));
        Ok(id)
    }
}

/// A page, then (lazily) the pages after it, like a paginator.
fn chain<'a, T: Clone + Send + 'static>(
    s: &'a MemoryGateway,
    first: Result<Page<T>, AwsError>,
    rest: impl FnOnce(&'a MemoryGateway, String) -> PageStream<'a, T> + Send + 'a,
) -> PageStream<'a, T> {
    let next = first.as_ref().ok().and_then(|p| p.next.clone());
    let head = MemoryGateway::stream(first);
    match next {
        Some(marker) => head.chain(stream::once(async move { rest(s, marker) }).flatten()).boxed(),
        None => head,
    }
}
