//! The Storage Gateway operations, applied to the world as AWS applies them.
//!
//! Every call is checked against the model first (`validate`), then each operation reads
//! the rest of its input (markers, tag rules, client tokens) before it looks at any state,
//! so a bad request is refused the same way whatever the world is like. Behaviour follows
//! the API reference; where it is silent, the choice is a switch of [`Behaviour`], listed in
//! `simulator/README.md` ("Behaviour where the reference is silent").

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::behaviour::Behaviour;
use crate::error::ApiError;
use crate::fleet::{CACHE_TYPES, GIB, MAX_TAPES_PER_GATEWAY, MAX_VOLUMES_PER_GATEWAY, UPLOAD_BUFFER_TYPES};
use crate::validate::{self, Input, MAX_TAGS};
use crate::world::{Gateway, IssuedToken, Pending, Snapshot, TapeRecoveryPoint, Volume, World};

/// Every operation the simulator answers.
pub const OPERATIONS: &[&str] = &[
    "ListGateways",
    "DescribeGatewayInformation",
    "DisableGateway",
    "DescribeTapeRecoveryPoints",
    "RetrieveTapeRecoveryPoint",
    "ListTapes",
    "DescribeTapes",
    "ListVolumes",
    "ListVolumeRecoveryPoints",
    "CreateSnapshotFromVolumeRecoveryPoint",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "ListTagsForResource",
    "CreateCachediSCSIVolume",
    "DescribeCachediSCSIVolumes",
    "DescribeCache",
    "DescribeUploadBuffer",
];

/// Operations that change the world; a dry run must call none of them.
pub const MUTATING: &[&str] = &[
    "DisableGateway",
    "RetrieveTapeRecoveryPoint",
    "CreateSnapshotFromVolumeRecoveryPoint",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "CreateCachediSCSIVolume",
];

/// Items per page, whatever `Limit` asks for.
pub const MAX_PAGE: usize = 100;

/// Members worth keeping in the call log.
pub const LOGGED_MEMBERS: &[&str] = &[
    "GatewayARN",
    "TapeARN",
    "VolumeARN",
    "ResourceARN",
    "Marker",
    "SourceVolumeARN",
    "SnapshotId",
    "TargetName",
    "NetworkInterfaceId",
    "ClientToken",
];

/// Largest cached volume: 32 TiB.
pub const MAX_VOLUME_BYTES: i64 = 32 * 1024 * GIB;
/// The iSCSI port every target listens on.
pub const ISCSI_PORT: u16 = 3260;
/// Spacing of the earlier recovery points `recovery_points_per_tape` adds.
pub const RECOVERY_POINT_SPACING_SECS: i64 = 3600;

/// What an operation needs besides the world and its input.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub behaviour: Behaviour,
    /// Epoch milliseconds; transitional statuses are computed from it.
    pub now_ms: u64,
}

impl Ctx {
    fn now_secs(&self) -> i64 {
        i64::try_from(self.now_ms / 1000).unwrap_or(i64::MAX)
    }
}

/// Answers one call: the model's checks, then the operation.
pub fn call(world: &mut World, ctx: &Ctx, op: &str, body: &Map<String, Value>) -> Result<Value, ApiError> {
    let shape = validate::input_shape(op).ok_or_else(|| ApiError::unknown_operation(op))?;
    validate::check(shape, body)?;
    dispatch(world, ctx, op, &Input(body)).map_err(|e| shaped(e, &ctx.behaviour))
}

fn dispatch(world: &mut World, ctx: &Ctx, op: &str, input: &Input) -> Result<Value, ApiError> {
    match op {
        "ListGateways" => list_gateways(world, ctx, input),
        "DescribeGatewayInformation" => describe_gateway_information(world, ctx, input),
        "DisableGateway" => disable_gateway(world, ctx, input),
        "DescribeTapeRecoveryPoints" => describe_tape_recovery_points(world, ctx, input),
        "RetrieveTapeRecoveryPoint" => retrieve_tape_recovery_point(world, ctx, input),
        "ListTapes" => list_tapes(world, ctx, input),
        "DescribeTapes" => describe_tapes(world, ctx, input),
        "ListVolumes" => list_volumes(world, ctx, input),
        "ListVolumeRecoveryPoints" => list_volume_recovery_points(world, ctx, input),
        "CreateSnapshotFromVolumeRecoveryPoint" => create_snapshot(world, ctx, input),
        "AddTagsToResource" => add_tags(world, ctx, input),
        "RemoveTagsFromResource" => remove_tags(world, ctx, input),
        "ListTagsForResource" => list_tags(world, ctx, input),
        "CreateCachediSCSIVolume" => create_cached_volume(world, ctx, input),
        "DescribeCachediSCSIVolumes" => describe_cached_volumes(world, ctx, input),
        "DescribeCache" => describe_cache(world, input),
        "DescribeUploadBuffer" => describe_upload_buffer(world, input),
        other => Err(ApiError::unknown_operation(other)),
    }
}

/// The error as the behaviour says AWS sends it.
fn shaped(e: ApiError, b: &Behaviour) -> ApiError {
    if b.not_connected_in_message_only && e.error_code == Some("GatewayNotConnected") { e.message_only() } else { e }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if s.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    bytes.and_then(|b| String::from_utf8(b).ok())
}

/// Where a page starts.
#[derive(Debug, PartialEq)]
enum Start {
    First,
    /// After this key (the opaque marker, hex-encoded).
    After(String),
    /// After this many items (`offset_markers`).
    Offset(usize),
}

/// A page request, read from `Marker` and `Limit` before any state is looked at.
#[derive(Debug)]
struct Paging {
    start: Start,
    size: usize,
}

/// A decimal offset marker: digits only, no sign, as in AWS's examples.
fn offset(marker: &str) -> Option<usize> {
    if marker.bytes().all(|c| c.is_ascii_digit()) { marker.parse().ok() } else { None }
}

fn bad_marker() -> ApiError {
    ApiError::invalid_parameters("The specified marker is not valid.", "Marker")
}

impl Paging {
    fn read(input: &Input, b: &Behaviour) -> Result<Self, ApiError> {
        let size = input.opt_i64("Limit").and_then(|l| usize::try_from(l).ok()).unwrap_or(MAX_PAGE).min(MAX_PAGE);
        let start = match input.opt_str("Marker") {
            None if b.offset_markers => Start::Offset(0),
            None => Start::First,
            Some(m) if b.offset_markers => Start::Offset(offset(m).ok_or_else(bad_marker)?),
            Some(m) => Start::After(unhex(m).ok_or_else(bad_marker)?),
        };
        Ok(Self { start, size })
    }

    /// One page of `items` (filtered, keyed and in key order) and the marker of the next.
    fn page<K: AsRef<str>, T>(&self, items: impl Iterator<Item = (K, T)>) -> (Vec<T>, Option<String>) {
        let after = match &self.start {
            Start::Offset(skip) => return self.page_at(*skip, items.map(|(_, t)| t)),
            Start::After(a) => Some(a.as_str()),
            Start::First => None,
        };
        let (mut out, mut last, mut more) = (Vec::new(), None, false);
        for (key, item) in items {
            if after.is_some_and(|a| key.as_ref() <= a) {
                continue;
            }
            if out.len() == self.size {
                more = true;
                break;
            }
            last = Some(key);
            out.push(item);
        }
        (out, if more { last.map(|k| hex(k.as_ref())) } else { None })
    }

    /// A page by position: the marker is the offset of the next item, so it shifts when
    /// items before it disappear.
    fn page_at<T>(&self, skip: usize, items: impl Iterator<Item = T>) -> (Vec<T>, Option<String>) {
        let mut rest = items.skip(skip);
        let out: Vec<T> = rest.by_ref().take(self.size).collect();
        let more = rest.next().is_some();
        let marker = more.then(|| (skip + out.len()).to_string());
        (out, marker)
    }
}

fn with_marker(mut v: Value, marker: Option<String>) -> Value {
    if let Some(m) = marker {
        v["Marker"] = json!(m);
    }
    v
}

fn gateway<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    world.gateways.get(arn).ok_or_else(|| ApiError::gateway_not_found(arn))
}

fn connected(g: &Gateway) -> Result<&Gateway, ApiError> {
    if g.reachable() { Ok(g) } else { Err(ApiError::gateway_not_connected(&g.arn)) }
}

/// The gateway, refused with `NotSupported` unless its type is one of `types`.
fn of_type<'a>(world: &'a World, arn: &str, types: &[&str], message: &str) -> Result<&'a Gateway, ApiError> {
    let g = gateway(world, arn)?;
    if types.contains(&g.gateway_type.as_str()) {
        Ok(g)
    } else {
        Err(ApiError::not_supported(message).detail("gatewayArn", arn))
    }
}

fn tape_gateway<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    of_type(world, arn, &["VTL"], "This operation is only supported in the tape gateway type.")
}

fn cached_gateway<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    of_type(world, arn, &["CACHED"], "This operation is only supported in the cached volume gateway type.")
}

/// With `volume_calls_need_connection`, a volume call on an offline gateway is refused.
fn volume_call_allowed(g: &Gateway, b: &Behaviour) -> Result<(), ApiError> {
    if b.volume_calls_need_connection { connected(g).map(|_| ()) } else { Ok(()) }
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

fn list_gateways(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let paging = Paging::read(input, &ctx.behaviour)?;
    let (items, marker) = paging.page(world.gateways.iter().map(|(k, g)| {
        (
            k,
            json!({
                "GatewayId": g.id, "GatewayARN": g.arn, "GatewayName": g.name,
                "GatewayType": g.gateway_type,
                "GatewayOperationalState": g.operational_state(),
                "HostEnvironment": "VMWARE", "SoftwareVersion": "2.13.0",
            }),
        )
    }));
    Ok(with_marker(json!({"Gateways": items}), marker))
}

fn describe_gateway_information(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let g = gateway(world, arn)?;
    if !(g.disabled && ctx.behaviour.disabled_gateway_answers) {
        connected(g)?;
    }
    let interfaces: Vec<Value> = g.network_interfaces.iter().map(|ip| json!({"Ipv4Address": ip})).collect();
    Ok(json!({
        "GatewayARN": g.arn, "GatewayId": g.id, "GatewayName": g.name,
        "GatewayTimezone": "GMT", "GatewayState": "RUNNING", "GatewayType": g.gateway_type,
        "GatewayNetworkInterfaces": interfaces,
        "EndpointType": "STANDARD", "HostEnvironment": "VMWARE", "SoftwareVersion": "2.13.0",
        "Tags": tags_json(world.tags_of(&g.arn)),
    }))
}

fn disable_gateway(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let g = tape_gateway(world, arn)?;
    if g.disabled {
        return Err(ApiError::invalid("InvalidGateway", "The gateway is already disabled.").detail("gatewayArn", arn));
    }
    if ctx.behaviour.disable_needs_disconnected && g.connected {
        return Err(ApiError::invalid(
            "InvalidGateway",
            "The gateway is connected. DisableGateway is only for a gateway that is not reachable or not functioning.",
        )
        .detail("gatewayArn", arn));
    }
    if let Some(g) = world.gateways.get_mut(arn) {
        g.disabled = true;
    }
    Ok(json!({"GatewayARN": arn}))
}

/// Whether `DescribeTapeRecoveryPoints` shows this recovery point.
fn listed(rp: &TapeRecoveryPoint, b: &Behaviour) -> bool {
    !(b.recovery_points_vanish && rp.retrieved_to.is_some())
}

fn describe_tape_recovery_points(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let b = &ctx.behaviour;
    let paging = Paging::read(input, b)?;
    let g = tape_gateway(world, arn)?;
    let hidden = b.recovery_points_after_disable && !g.disabled;
    let per_tape = i64::from(b.recovery_points_per_tape.max(1));
    let points =
        world.tape_recovery_points.iter().filter(|(_, rp)| !hidden && rp.gateway_arn == arn && listed(rp, b)).flat_map(
            |(k, rp)| {
                (0..per_tape).map(move |i| {
                    // A tape's recovery points, latest first; a barcode never holds '/', so
                    // these keys keep tapes in ARN order.
                    let info = json!({
                        "TapeARN": rp.tape_arn,
                        "TapeRecoveryPointTime": rp.time - i * RECOVERY_POINT_SPACING_SECS,
                        "TapeSizeInBytes": rp.size_bytes, "TapeStatus": rp.status,
                    });
                    (format!("{k}/{i:04}"), info)
                })
            },
        );
    let (items, marker) = paging.page(points);
    Ok(with_marker(json!({"GatewayARN": arn, "TapeRecoveryPointInfos": items}), marker))
}

fn retrieve_tape_recovery_point(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let tape_arn = input.str("TapeARN")?;
    let target_arn = input.str("GatewayARN")?;
    connected(tape_gateway(world, target_arn)?)?;
    let no_point = || {
        ApiError::invalid("TapeCartridgeNotFound", "The specified tape has no recovery point.")
            .detail("tapeArn", tape_arn)
    };
    let rp = world.tape_recovery_points.get(tape_arn).ok_or_else(no_point)?;
    if !listed(rp, &ctx.behaviour) {
        return Err(no_point());
    }
    if let Some(to) = &rp.retrieved_to {
        return Err(ApiError::invalid(
            "InvalidParameters",
            "The tape recovery point has already been retrieved; a tape can be retrieved to only one gateway.",
        )
        .detail("tapeArn", tape_arn)
        .detail("gatewayArn", to.as_str()));
    }
    let source_enabled = world.gateways.get(&rp.gateway_arn).is_some_and(|g| !g.disabled);
    if source_enabled {
        return Err(ApiError::invalid(
            "InvalidGateway",
            "The gateway the tape belongs to must be disabled before its tape recovery points can be retrieved.",
        )
        .detail("gatewayArn", rp.gateway_arn.as_str()));
    }
    if world.tapes_on(target_arn) >= MAX_TAPES_PER_GATEWAY {
        return Err(ApiError::invalid(
            "MaximumTapeCartridgeCountExceeded",
            format!("The gateway already holds the maximum of {MAX_TAPES_PER_GATEWAY} tapes."),
        )
        .detail("gatewayArn", target_arn));
    }
    if let Some(rp) = world.tape_recovery_points.get_mut(tape_arn) {
        rp.retrieved_to = Some(target_arn.to_owned());
    }
    if let Some(tape) = world.tapes.get_mut(tape_arn) {
        tape.gateway_arn = Some(target_arn.to_owned());
        tape.status = "RECOVERED".to_owned();
        tape.retrieved_at_ms = Some(ctx.now_ms);
    }
    Ok(json!({"TapeARN": tape_arn}))
}

fn tape_filter(input: &Input) -> Option<BTreeSet<String>> {
    input.strs("TapeARNs").map(|v| v.into_iter().map(str::to_owned).collect())
}

fn list_tapes(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let only = tape_filter(input);
    let paging = Paging::read(input, &ctx.behaviour)?;
    let (items, marker) =
        paging.page(world.tapes.iter().filter(|(k, _)| only.as_ref().is_none_or(|o| o.contains(*k))).map(|(k, t)| {
            let mut v = json!({
                "TapeARN": t.arn, "TapeBarcode": t.barcode, "TapeSizeInBytes": t.size_bytes,
                "TapeStatus": t.status_at(ctx.now_ms, ctx.behaviour.recovered_after_ms),
            });
            if let Some(g) = &t.gateway_arn {
                v["GatewayARN"] = json!(g);
            }
            (k, v)
        }));
    Ok(with_marker(json!({"TapeInfos": items}), marker))
}

fn describe_tapes(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let only = tape_filter(input);
    let paging = Paging::read(input, &ctx.behaviour)?;
    connected(tape_gateway(world, arn)?)?;
    let (items, marker) = paging.page(
        world
            .tapes
            .iter()
            .filter(|(k, t)| t.gateway_arn.as_deref() == Some(arn) && only.as_ref().is_none_or(|o| o.contains(*k)))
            .map(|(k, t)| {
                (
                    k,
                    json!({
                        "TapeARN": t.arn, "TapeBarcode": t.barcode, "TapeCreatedDate": t.created,
                        "TapeSizeInBytes": t.size_bytes, "TapeUsedInBytes": 0,
                        "TapeStatus": t.status_at(ctx.now_ms, ctx.behaviour.recovered_after_ms),
                    }),
                )
            }),
    );
    Ok(with_marker(json!({"Tapes": items}), marker))
}

fn list_volumes(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.opt_str("GatewayARN");
    let paging = Paging::read(input, &ctx.behaviour)?;
    if let Some(arn) = arn {
        of_type(
            world,
            arn,
            &["CACHED", "STORED"],
            "This operation is only supported in the cached volume and stored volume gateway types.",
        )?;
    }
    let (items, marker) =
        paging.page(world.volumes.iter().filter(|(_, v)| arn.is_none_or(|a| v.gateway_arn == a)).map(|(k, v)| {
            (
                k,
                json!({
                    "VolumeARN": v.arn, "VolumeId": v.id, "GatewayARN": v.gateway_arn,
                    "GatewayId": v.gateway_id, "VolumeType": v.volume_type,
                    "VolumeSizeInBytes": v.size_bytes, "VolumeAttachmentStatus": "ATTACHED",
                }),
            )
        }));
    let mut out = with_marker(json!({"VolumeInfos": items}), marker);
    if let Some(a) = arn {
        out["GatewayARN"] = json!(a);
    }
    Ok(out)
}

fn list_volume_recovery_points(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    volume_call_allowed(cached_gateway(world, arn)?, &ctx.behaviour)?;
    let infos: Vec<Value> = world
        .volumes
        .values()
        .filter(|v| v.gateway_arn == arn)
        .filter_map(|v| {
            v.recovery_point_time.as_ref().map(|t| {
                json!({
                    "VolumeARN": v.arn, "VolumeSizeInBytes": v.size_bytes,
                    "VolumeUsageInBytes": v.usage_bytes, "VolumeRecoveryPointTime": t,
                })
            })
        })
        .collect();
    Ok(json!({"GatewayARN": arn, "VolumeRecoveryPointInfos": infos}))
}

fn volume_not_found(arn: &str) -> ApiError {
    ApiError::invalid("VolumeNotFound", "The specified volume was not found.").detail("volumeArn", arn)
}

fn create_snapshot(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let volume_arn = input.str("VolumeARN")?;
    let description = input.str("SnapshotDescription")?;
    let tags = input.tags("Tags")?;
    let volume = world.volumes.get(volume_arn).ok_or_else(|| volume_not_found(volume_arn))?;
    volume_call_allowed(cached_gateway(world, &volume.gateway_arn)?, &ctx.behaviour)?;
    let rp_time = volume.recovery_point_time.clone().ok_or_else(|| {
        ApiError::invalid("VolumeNotReady", "The volume has no recovery point yet.").detail("volumeArn", volume_arn)
    })?;
    let id = format!("snap-{:017x}", 0x1000_0000_0000_0000u64 + world.snapshots.len() as u64);
    let (size_bytes, usage_bytes) = (volume.size_bytes, volume.usage_bytes);
    world.snapshots.push(Snapshot {
        id: id.clone(),
        volume_arn: volume_arn.to_owned(),
        description: description.to_owned(),
        recovery_point_time: rp_time.clone(),
        tags,
        size_bytes,
        usage_bytes,
    });
    Ok(json!({"SnapshotId": id, "VolumeARN": volume_arn, "VolumeRecoveryPointTime": rp_time}))
}

/// Tags work on gateways, tapes and volumes; answers the gateway the resource is (or is
/// on), for gateways and volumes.
fn tag_target<'a>(world: &'a World, arn: &str) -> Result<Option<&'a Gateway>, ApiError> {
    if let Some(g) = world.gateways.get(arn) {
        Ok(Some(g))
    } else if arn.contains(":gateway/") && arn.contains("/volume/") {
        let v = world.volumes.get(arn).ok_or_else(|| volume_not_found(arn))?;
        Ok(world.gateways.get(&v.gateway_arn))
    } else if arn.contains(":gateway/") {
        Err(ApiError::gateway_not_found(arn))
    } else if arn.contains(":tape/") {
        world.tapes.get(arn).map(|_| None).ok_or_else(|| {
            ApiError::invalid("TapeCartridgeNotFound", "The specified tape was not found.").detail("tapeArn", arn)
        })
    } else {
        Err(ApiError::invalid_parameters("The specified resource ARN is not valid.", "ResourceARN"))
    }
}

/// A tag write's target; with `tag_writes_need_connection`, its gateway must be reachable.
fn tag_write_target(world: &World, arn: &str, b: &Behaviour) -> Result<(), ApiError> {
    match tag_target(world, arn)? {
        Some(g) if b.tag_writes_need_connection => connected(g).map(|_| ()),
        _ => Ok(()),
    }
}

fn add_tags(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("ResourceARN")?;
    let new = input.tags("Tags")?;
    tag_write_target(world, arn, &ctx.behaviour)?;
    let mut merged: Vec<(String, String)> = world.tags_of(arn).to_vec();
    for (k, v) in new {
        match merged.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => merged.push((k, v)),
        }
    }
    if merged.len() > MAX_TAGS {
        return Err(ApiError::invalid_parameters(format!("A resource can have at most {MAX_TAGS} tags."), "Tags"));
    }
    world.tags.insert(arn.to_owned(), merged);
    Ok(json!({"ResourceARN": arn}))
}

fn remove_tags(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("ResourceARN")?;
    let keys = input.strs("TagKeys").unwrap_or_default();
    tag_write_target(world, arn, &ctx.behaviour)?;
    if let Some(tags) = world.tags.get_mut(arn) {
        tags.retain(|(k, _)| !keys.contains(&k.as_str()));
    }
    Ok(json!({"ResourceARN": arn}))
}

fn list_tags(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("ResourceARN")?;
    let paging = Paging::read(input, &ctx.behaviour)?;
    tag_target(world, arn)?;
    let keyed: BTreeMap<String, (String, String)> =
        world.tags_of(arn).iter().enumerate().map(|(i, t)| (format!("{i:04}"), t.clone())).collect();
    let (items, marker) = paging.page(keyed.iter().map(|(k, (key, value))| (k, json!({"Key": key, "Value": value}))));
    Ok(with_marker(json!({"ResourceARN": arn, "Tags": items}), marker))
}

/// A `CreateCachediSCSIVolume` request, read and checked before any state is looked at.
struct NewVolume<'a> {
    gateway_arn: &'a str,
    size: i64,
    snapshot_id: Option<&'a str>,
    source_arn: Option<&'a str>,
    target_name: &'a str,
    interface: &'a str,
    token: &'a str,
    kms_key: Option<&'a str>,
    tags: Vec<(String, String)>,
    /// The whole input without null members: what a reused client token is compared with.
    request: Value,
}

impl<'a> NewVolume<'a> {
    fn read(input: &Input<'a>) -> Result<Self, ApiError> {
        let encrypted = input.flag("KMSEncrypted");
        let v = Self {
            gateway_arn: input.str("GatewayARN")?,
            size: input.i64("VolumeSizeInBytes")?,
            snapshot_id: input.opt_str("SnapshotId"),
            source_arn: input.opt_str("SourceVolumeARN"),
            target_name: input.str("TargetName")?,
            interface: input.str("NetworkInterfaceId")?,
            token: input.str("ClientToken")?,
            kms_key: input.opt_str("KMSKey"),
            tags: input.tags("Tags")?,
            request: Value::Object(
                input.0.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())).collect(),
            ),
        };
        let refuse = |message: &str, parameter: &str| Err(ApiError::invalid_parameters(message, parameter));
        if v.kms_key.is_some() && !encrypted {
            return refuse("KMSKey can only be set when KMSEncrypted is true.", "KMSKey");
        }
        if encrypted && v.kms_key.is_none() {
            return refuse("KMSKey is required when KMSEncrypted is true.", "KMSKey");
        }
        if v.snapshot_id.is_some() && v.source_arn.is_some() {
            return refuse("Specify SnapshotId or SourceVolumeARN, not both.", "SourceVolumeARN");
        }
        if v.size < GIB || v.size > MAX_VOLUME_BYTES || v.size % GIB != 0 {
            return refuse(
                "VolumeSizeInBytes must be a whole number of GiB from 1 GiB to 32 TiB.",
                "VolumeSizeInBytes",
            );
        }
        if v.interface.parse::<IpAddr>().is_err() {
            return refuse("NetworkInterfaceId must be a valid IP address.", "NetworkInterfaceId");
        }
        Ok(v)
    }

    /// The answer of an earlier call with the same client token and the same request.
    fn replayed(&self, world: &World) -> Result<Option<Value>, ApiError> {
        match world.client_tokens.get(self.token) {
            None => Ok(None),
            Some(t) if t.request == self.request => {
                Ok(Some(json!({"VolumeARN": t.volume_arn, "TargetARN": t.target_arn})))
            }
            Some(_) => {
                Err(ApiError::invalid_parameters("ClientToken was reused with different parameters.", "ClientToken"))
            }
        }
    }

    /// The target gateway can take the volume: a connected cached gateway with the interface,
    /// cache and upload buffer, room, and the target name free.
    fn check_gateway(&self, world: &World) -> Result<(), ApiError> {
        let g = connected(cached_gateway(world, self.gateway_arn)?)?;
        if !g.network_interfaces.iter().any(|ip| ip == self.interface) {
            return Err(ApiError::invalid_parameters(
                format!("The network interface {} is not one of the gateway's network interfaces.", self.interface),
                "NetworkInterfaceId",
            ));
        }
        let no_storage = |what: &str| {
            ApiError::invalid(
                "InvalidGateway",
                format!("{what} must be allocated to the gateway before you can create a cached volume."),
            )
            .detail("gatewayArn", self.gateway_arn)
        };
        if g.cache.ids.is_empty() {
            return Err(no_storage("Cache storage"));
        }
        if g.upload_buffer.ids.is_empty() {
            return Err(no_storage("An upload buffer"));
        }
        if world.volumes_on(self.gateway_arn) >= MAX_VOLUMES_PER_GATEWAY {
            return Err(ApiError::invalid(
                "MaximumVolumeCountExceeded",
                format!("The gateway already holds the maximum of {MAX_VOLUMES_PER_GATEWAY} volumes."),
            )
            .detail("gatewayArn", self.gateway_arn));
        }
        if world.volumes.values().any(|v| v.gateway_arn == self.gateway_arn && v.target_name == self.target_name) {
            return Err(ApiError::invalid(
                "TargetAlreadyExists",
                format!("The target name {} is already used by a volume on the gateway.", self.target_name),
            )
            .detail("targetName", self.target_name));
        }
        Ok(())
    }

    /// What the volume starts from: its used bytes, and whether it is a copy (it bootstraps).
    fn check_source(&self, world: &World) -> Result<(i64, bool), ApiError> {
        let too_small = |bytes: i64| {
            ApiError::invalid_parameters(
                format!("VolumeSizeInBytes must be at least the size of the volume copied ({bytes} bytes)."),
                "VolumeSizeInBytes",
            )
        };
        if let Some(src) = self.source_arn {
            let v = world.volumes.get(src).ok_or_else(|| volume_not_found(src))?;
            if v.volume_type != "CACHED iSCSI" || v.recovery_point_time.is_none() {
                return Err(ApiError::invalid("VolumeNotReady", "The source volume has no recovery point to copy.")
                    .detail("volumeArn", src));
            }
            return if self.size < v.size_bytes { Err(too_small(v.size_bytes)) } else { Ok((v.usage_bytes, true)) };
        }
        if let Some(id) = self.snapshot_id {
            let s = world.snapshots.iter().find(|s| s.id == id).ok_or_else(|| {
                ApiError::invalid("SnapshotNotFound", "The specified snapshot was not found.").detail("snapshotId", id)
            })?;
            return if self.size < s.size_bytes { Err(too_small(s.size_bytes)) } else { Ok((s.usage_bytes, true)) };
        }
        Ok((0, false))
    }

    fn create(self, world: &mut World, ctx: &Ctx, usage_bytes: i64, copy: bool) -> Value {
        let id = next_volume_id(world);
        let gateway_id = world.gateways.get(self.gateway_arn).map(|g| g.id.clone()).unwrap_or_default();
        let wait = ctx.behaviour.volume_available_after_ms;
        let volume = Volume {
            arn: format!("{}/volume/{id}", self.gateway_arn),
            id,
            gateway_arn: self.gateway_arn.to_owned(),
            gateway_id,
            volume_type: "CACHED iSCSI".to_owned(),
            size_bytes: self.size,
            usage_bytes,
            recovery_point_time: None,
            status: "AVAILABLE".to_owned(),
            pending: (wait > 0).then(|| Pending {
                status: if copy { "BOOTSTRAPPING" } else { "CREATING" }.to_owned(),
                since_ms: ctx.now_ms,
                until_ms: ctx.now_ms.saturating_add(wait),
            }),
            target_name: self.target_name.to_owned(),
            network_interface_id: self.interface.to_owned(),
            lun_number: 1,
            kms_key: self.kms_key.map(str::to_owned),
            source_snapshot_id: self.snapshot_id.map(str::to_owned),
            source_volume_arn: self.source_arn.map(str::to_owned),
            created: ctx.now_secs(),
        };
        let (volume_arn, target_arn) = (volume.arn.clone(), volume.target_arn());
        if !self.tags.is_empty() {
            world.tags.insert(volume_arn.clone(), self.tags);
        }
        world.volumes.insert(volume_arn.clone(), volume);
        world.client_tokens.insert(
            self.token.to_owned(),
            IssuedToken { request: self.request, volume_arn: volume_arn.clone(), target_arn: target_arn.clone() },
        );
        json!({"VolumeARN": volume_arn, "TargetARN": target_arn})
    }
}

/// The next unused `vol-XXXXXXXX` id, from a counter so runs are repeatable.
fn next_volume_id(world: &mut World) -> String {
    loop {
        let id = format!("vol-{:08X}", world.next_volume);
        world.next_volume = world.next_volume.wrapping_add(1);
        if !world.volumes.values().any(|v| v.id == id) {
            return id;
        }
    }
}

/// Client tokens are checked before any state, so a retry gets its answer whatever the
/// world is like now (the target name and the volume count include its own volume).
fn create_cached_volume(world: &mut World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let new = NewVolume::read(input)?;
    if let Some(answer) = new.replayed(world)? {
        return Ok(answer);
    }
    new.check_gateway(world)?;
    let (usage, copy) = new.check_source(world)?;
    Ok(new.create(world, ctx, usage, copy))
}

fn cached_volume_json(v: &Volume, now_ms: u64) -> Value {
    let (status, progress) = v.status_at(now_ms);
    let mut out = json!({
        "VolumeARN": v.arn, "VolumeId": v.id, "VolumeType": v.volume_type, "VolumeStatus": status,
        "VolumeAttachmentStatus": "ATTACHED", "VolumeSizeInBytes": v.size_bytes,
        "VolumeiSCSIAttributes": {
            "TargetARN": v.target_arn(), "NetworkInterfaceId": v.network_interface_id,
            "NetworkInterfacePort": ISCSI_PORT, "LunNumber": v.lun_number, "ChapEnabled": false,
        },
        "CreatedDate": v.created, "VolumeUsedInBytes": v.usage_bytes, "TargetName": v.target_name,
    });
    if let Some(p) = progress {
        out["VolumeProgress"] = json!(p);
    }
    if let Some(s) = &v.source_snapshot_id {
        out["SourceSnapshotId"] = json!(s);
    }
    if let Some(k) = &v.kms_key {
        out["KMSKey"] = json!(k);
    }
    out
}

/// "The list of gateway volumes in the request must be from one gateway"; the answer is
/// "sorted by volume Amazon Resource Name (ARN)". A stored volume is `NotSupported`.
fn describe_cached_volumes(world: &World, ctx: &Ctx, input: &Input) -> Result<Value, ApiError> {
    let arns: BTreeSet<&str> = input.strs("VolumeARNs").unwrap_or_default().into_iter().collect();
    let gateways: BTreeSet<&str> = arns.iter().filter_map(|a| a.split_once("/volume/").map(|(g, _)| g)).collect();
    if gateways.len() > 1 {
        return Err(ApiError::invalid_parameters("The volumes must all be from one gateway.", "VolumeARNs"));
    }
    let mut out = Vec::new();
    for arn in arns {
        let v = world.volumes.get(arn).ok_or_else(|| volume_not_found(arn))?;
        if v.volume_type != "CACHED iSCSI" {
            return Err(ApiError::not_supported("This operation is only supported in the cached volume gateway type.")
                .detail("volumeArn", arn));
        }
        volume_call_allowed(gateway(world, &v.gateway_arn)?, &ctx.behaviour)?;
        out.push(cached_volume_json(v, ctx.now_ms));
    }
    Ok(json!({"CachediSCSIVolumes": out}))
}

fn describe_cache(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let message = "This operation is only supported in the cached volume, tape, and file gateway types.";
    let g = connected(of_type(world, arn, CACHE_TYPES, message)?)?;
    let used: i64 = world.volumes.values().filter(|v| v.gateway_arn == arn).map(|v| v.usage_bytes).sum();
    let percent = if g.cache.bytes > 0 { (used as f64 * 100.0 / g.cache.bytes as f64).min(100.0) } else { 0.0 };
    Ok(json!({
        "GatewayARN": arn, "DiskIds": g.cache.ids, "CacheAllocatedInBytes": g.cache.bytes,
        "CacheUsedPercentage": percent, "CacheDirtyPercentage": 0.0,
        "CacheHitPercentage": 0.0, "CacheMissPercentage": 0.0,
    }))
}

fn describe_upload_buffer(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.str("GatewayARN")?;
    let message = "This operation is supported for the stored volume, cached volume, and tape gateway types.";
    let g = connected(of_type(world, arn, UPLOAD_BUFFER_TYPES, message)?)?;
    Ok(json!({
        "GatewayARN": arn, "DiskIds": g.upload_buffer.ids,
        "UploadBufferUsedInBytes": 0, "UploadBufferAllocatedInBytes": g.upload_buffer.bytes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(marker: Option<&str>, limit: i64, offsets: bool) -> Result<Paging, ApiError> {
        let mut body = Map::new();
        if let Some(m) = marker {
            body.insert("Marker".into(), json!(m));
        }
        body.insert("Limit".into(), json!(limit));
        Paging::read(&Input(&body), &Behaviour { offset_markers: offsets, ..Behaviour::default() })
    }

    fn keys(n: usize) -> Vec<(String, usize)> {
        (0..n).map(|i| (format!("k{i:03}"), i)).collect()
    }

    /// Reads a whole listing page by page, the items changing between pages as `change` says.
    fn read_all(
        offsets: bool,
        mut items: Vec<(String, usize)>,
        change: impl Fn(&mut Vec<(String, usize)>),
    ) -> Vec<usize> {
        let (mut seen, mut marker) = (Vec::new(), None::<String>);
        loop {
            let p = paging(marker.as_deref(), 10, offsets).unwrap();
            let (page, next) = p.page(items.iter().map(|(k, v)| (k, *v)));
            seen.extend(page);
            change(&mut items);
            match next {
                Some(m) => marker = Some(m),
                None => return seen,
            }
        }
    }

    #[test]
    fn opaque_markers_are_positions_that_survive_changes() {
        let all = read_all(false, keys(35), |_| {});
        assert_eq!(all, (0..35).collect::<Vec<_>>());
        // The first ten items disappear after every page: nothing after the marker is lost.
        let shifting = read_all(false, keys(35), |items| items.retain(|(_, v)| *v >= 10));
        assert_eq!(shifting, (0..35).collect::<Vec<_>>());
    }

    #[test]
    fn offset_markers_are_decimal_and_shift_when_items_disappear() {
        let p = paging(None, 10, true).unwrap();
        let (page, next) = p.page(keys(25).into_iter());
        assert_eq!((page.len(), next.as_deref()), (10, Some("10")));
        let p = paging(Some("20"), 10, true).unwrap();
        let (page, next) = p.page(keys(25).into_iter());
        assert_eq!((page, next), (vec![20, 21, 22, 23, 24], None));
        let p = paging(Some("15"), 10, true).unwrap();
        assert_eq!(p.page(keys(25).into_iter()).1, None, "an exact last page has no marker");
        // Items read so far vanish (as retrieved recovery points do): the offset skips past
        // items never seen.
        let shifting = read_all(true, keys(35), |items| items.retain(|(_, v)| *v >= 10));
        assert!(shifting.len() < 35, "{shifting:?}");
    }

    #[test]
    fn bad_markers_are_invalid_parameters_in_either_mode() {
        for (marker, offsets) in
            [("zz-not-hex", false), ("abc", false), ("ten", true), ("-1", true), ("6b303031", true)]
        {
            let e = paging(Some(marker), 10, offsets).unwrap_err();
            assert_eq!(e.error_code, Some("InvalidParameters"), "{marker}");
        }
        assert_eq!(paging(Some("6b303031"), 10, false).unwrap().start, Start::After("k001".into()));
        assert_eq!(paging(Some("7"), 10, true).unwrap().start, Start::Offset(7));
    }

    #[test]
    fn pages_hold_at_most_100_whatever_the_limit() {
        let p = paging(None, 1000, false).unwrap();
        assert_eq!(p.page(keys(250).into_iter()).0.len(), MAX_PAGE);
    }
}
