//! The Storage Gateway operations, applied to the world as AWS applies them.
//!
//! Behaviour follows the API reference; where it is silent, the choice made is written in
//! `simulator/README.md` ("Behaviour where the reference is silent").

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::fleet::MAX_TAPES_PER_GATEWAY;
use crate::validate::Input;
use crate::world::{Gateway, Snapshot, World};

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
];

/// Operations that change the world; a dry run must call none of them.
pub const MUTATING: &[&str] = &[
    "DisableGateway",
    "RetrieveTapeRecoveryPoint",
    "CreateSnapshotFromVolumeRecoveryPoint",
    "AddTagsToResource",
    "RemoveTagsFromResource",
];

/// Items per page, whatever `Limit` asks for.
pub const MAX_PAGE: usize = 100;

/// Members worth keeping in the call log.
pub const LOGGED_MEMBERS: &[&str] = &["GatewayARN", "TapeARN", "VolumeARN", "ResourceARN", "Marker"];

pub fn call(world: &mut World, op: &str, body: &Map<String, Value>) -> Result<Value, ApiError> {
    let input = Input(body);
    match op {
        "ListGateways" => list_gateways(world, &input),
        "DescribeGatewayInformation" => describe_gateway_information(world, &input),
        "DisableGateway" => disable_gateway(world, &input),
        "DescribeTapeRecoveryPoints" => describe_tape_recovery_points(world, &input),
        "RetrieveTapeRecoveryPoint" => retrieve_tape_recovery_point(world, &input),
        "ListTapes" => list_tapes(world, &input),
        "DescribeTapes" => describe_tapes(world, &input),
        "ListVolumes" => list_volumes(world, &input),
        "ListVolumeRecoveryPoints" => list_volume_recovery_points(world, &input),
        "CreateSnapshotFromVolumeRecoveryPoint" => create_snapshot(world, &input),
        "AddTagsToResource" => add_tags(world, &input),
        "RemoveTagsFromResource" => remove_tags(world, &input),
        "ListTagsForResource" => list_tags(world, &input),
        other => Err(ApiError::unknown_operation(other)),
    }
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

/// One page of `items` (already filtered, keyed and ordered): the marker is the opaque
/// position after the last key returned, so pages stay right while the world changes.
fn page<'a, T>(
    items: impl Iterator<Item = (&'a String, T)>,
    input: &Input,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let after = match input.marker()? {
        Some(m) => {
            Some(unhex(m).ok_or_else(|| ApiError::invalid_parameters("The specified marker is not valid.", "Marker"))?)
        }
        None => None,
    };
    let size = input.limit()?.unwrap_or(MAX_PAGE).min(MAX_PAGE);
    let mut out = Vec::new();
    let mut last = None;
    let mut more = false;
    for (key, item) in items {
        if after.as_ref().is_some_and(|a| key <= a) {
            continue;
        }
        if out.len() == size {
            more = true;
            break;
        }
        last = Some(key);
        out.push(item);
    }
    Ok((out, if more { last.map(|k| hex(k)) } else { None }))
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

fn reachable<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    let g = gateway(world, arn)?;
    if g.reachable() { Ok(g) } else { Err(ApiError::gateway_not_connected(arn)) }
}

fn tape_gateway<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    let g = gateway(world, arn)?;
    if g.gateway_type == "VTL" {
        Ok(g)
    } else {
        Err(ApiError::not_supported("This operation is only supported in the tape gateway type.")
            .detail("gatewayArn", arn))
    }
}

fn tags_json(tags: &[(String, String)]) -> Value {
    Value::Array(tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

fn list_gateways(world: &World, input: &Input) -> Result<Value, ApiError> {
    let (items, marker) = page(
        world.gateways.iter().map(|(k, g)| {
            (
                k,
                json!({
                    "GatewayId": g.id, "GatewayARN": g.arn, "GatewayName": g.name,
                    "GatewayType": g.gateway_type,
                    "GatewayOperationalState": g.operational_state(),
                    "HostEnvironment": "VMWARE", "SoftwareVersion": "2.13.0",
                }),
            )
        }),
        input,
    )?;
    Ok(with_marker(json!({"Gateways": items}), marker))
}

fn describe_gateway_information(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("GatewayARN")?;
    let g = reachable(world, arn)?;
    Ok(json!({
        "GatewayARN": g.arn, "GatewayId": g.id, "GatewayName": g.name,
        "GatewayTimezone": "GMT", "GatewayState": "RUNNING", "GatewayType": g.gateway_type,
        "GatewayNetworkInterfaces": [{"Ipv4Address": "10.0.0.10"}],
        "EndpointType": "STANDARD", "HostEnvironment": "VMWARE", "SoftwareVersion": "2.13.0",
        "Tags": tags_json(world.tags_of(&g.arn)),
    }))
}

fn disable_gateway(world: &mut World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("GatewayARN")?;
    if tape_gateway(world, arn)?.disabled {
        return Err(ApiError::invalid("InvalidGateway", "The gateway is already disabled.").detail("gatewayArn", arn));
    }
    if let Some(g) = world.gateways.get_mut(arn) {
        g.disabled = true;
    }
    Ok(json!({"GatewayARN": arn}))
}

fn describe_tape_recovery_points(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("GatewayARN")?;
    tape_gateway(world, arn)?;
    let (items, marker) = page(
        world.tape_recovery_points.iter().filter(|(_, rp)| rp.gateway_arn == arn).map(|(k, rp)| {
            (
                k,
                json!({
                    "TapeARN": rp.tape_arn, "TapeRecoveryPointTime": rp.time,
                    "TapeSizeInBytes": rp.size_bytes, "TapeStatus": rp.status,
                }),
            )
        }),
        input,
    )?;
    Ok(with_marker(json!({"GatewayARN": arn, "TapeRecoveryPointInfos": items}), marker))
}

fn retrieve_tape_recovery_point(world: &mut World, input: &Input) -> Result<Value, ApiError> {
    let tape_arn = input.tape_arn("TapeARN")?;
    let target_arn = input.arn("GatewayARN")?;
    let target = tape_gateway(world, target_arn)?;
    if !target.reachable() {
        return Err(ApiError::gateway_not_connected(target_arn));
    }
    let rp = world.tape_recovery_points.get(tape_arn).ok_or_else(|| {
        ApiError::invalid("TapeCartridgeNotFound", "The specified tape has no recovery point.")
            .detail("tapeArn", tape_arn)
    })?;
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
    }
    Ok(json!({"TapeARN": tape_arn}))
}

fn tape_filter(input: &Input) -> Result<Option<Vec<String>>, ApiError> {
    Ok(input.tape_arns("TapeARNs")?.map(|v| v.into_iter().map(str::to_owned).collect()))
}

fn list_tapes(world: &World, input: &Input) -> Result<Value, ApiError> {
    let only = tape_filter(input)?;
    let (items, marker) = page(
        world.tapes.iter().filter(|(k, _)| only.as_ref().is_none_or(|o| o.contains(k))).map(|(k, t)| {
            let mut v = json!({
                "TapeARN": t.arn, "TapeBarcode": t.barcode,
                "TapeSizeInBytes": t.size_bytes, "TapeStatus": t.status,
            });
            if let Some(g) = &t.gateway_arn {
                v["GatewayARN"] = json!(g);
            }
            (k, v)
        }),
        input,
    )?;
    Ok(with_marker(json!({"TapeInfos": items}), marker))
}

fn describe_tapes(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("GatewayARN")?;
    tape_gateway(world, arn)?;
    reachable(world, arn)?;
    let only = tape_filter(input)?;
    let (items, marker) = page(
        world
            .tapes
            .iter()
            .filter(|(k, t)| t.gateway_arn.as_deref() == Some(arn) && only.as_ref().is_none_or(|o| o.contains(k)))
            .map(|(k, t)| {
                (
                    k,
                    json!({
                        "TapeARN": t.arn, "TapeBarcode": t.barcode, "TapeCreatedDate": t.created,
                        "TapeSizeInBytes": t.size_bytes, "TapeStatus": t.status, "TapeUsedInBytes": 0,
                    }),
                )
            }),
        input,
    )?;
    Ok(with_marker(json!({"Tapes": items}), marker))
}

fn list_volumes(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.opt_arn("GatewayARN")?;
    if let Some(arn) = arn {
        if !matches!(gateway(world, arn)?.gateway_type.as_str(), "CACHED" | "STORED") {
            return Err(ApiError::not_supported(
                "This operation is only supported in the cached volume and stored volume gateway types.",
            )
            .detail("gatewayArn", arn));
        }
    }
    let (items, marker) = page(
        world.volumes.iter().filter(|(_, v)| arn.is_none_or(|a| v.gateway_arn == a)).map(|(k, v)| {
            (
                k,
                json!({
                    "VolumeARN": v.arn, "VolumeId": v.id, "GatewayARN": v.gateway_arn,
                    "GatewayId": v.gateway_id, "VolumeType": v.volume_type,
                    "VolumeSizeInBytes": v.size_bytes, "VolumeAttachmentStatus": "ATTACHED",
                }),
            )
        }),
        input,
    )?;
    let mut out = with_marker(json!({"VolumeInfos": items}), marker);
    if let Some(a) = arn {
        out["GatewayARN"] = json!(a);
    }
    Ok(out)
}

fn cached_gateway<'a>(world: &'a World, arn: &str) -> Result<&'a Gateway, ApiError> {
    let g = gateway(world, arn)?;
    if g.gateway_type == "CACHED" {
        Ok(g)
    } else {
        Err(ApiError::not_supported("This operation is only supported in the cached volume gateway type.")
            .detail("gatewayArn", arn))
    }
}

fn list_volume_recovery_points(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("GatewayARN")?;
    cached_gateway(world, arn)?;
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

fn create_snapshot(world: &mut World, input: &Input) -> Result<Value, ApiError> {
    let volume_arn = input.volume_arn("VolumeARN")?;
    let description = input.bounded_str("SnapshotDescription", 1, 255)?;
    let tags = input.tags("Tags", false)?;
    let volume = world.volumes.get(volume_arn).ok_or_else(|| volume_not_found(volume_arn))?;
    cached_gateway(world, &volume.gateway_arn)?;
    let rp_time = volume.recovery_point_time.clone().ok_or_else(|| {
        ApiError::invalid("VolumeNotReady", "The volume has no recovery point yet.").detail("volumeArn", volume_arn)
    })?;
    let id = format!("snap-{:017x}", 0x1000_0000_0000_0000u64 + world.snapshots.len() as u64);
    world.snapshots.push(Snapshot {
        id: id.clone(),
        volume_arn: volume_arn.to_owned(),
        description: description.to_owned(),
        recovery_point_time: rp_time.clone(),
        tags,
    });
    Ok(json!({"SnapshotId": id, "VolumeARN": volume_arn, "VolumeRecoveryPointTime": rp_time}))
}

/// Tags work on gateways, tapes and volumes; they live in the control plane, so they can
/// be read and written while the gateway is offline or disabled.
fn tag_target(world: &World, arn: &str) -> Result<(), ApiError> {
    if world.gateways.contains_key(arn) {
        Ok(())
    } else if arn.contains(":gateway/") && arn.contains("/volume/") {
        world.volumes.get(arn).map(|_| ()).ok_or_else(|| volume_not_found(arn))
    } else if arn.contains(":gateway/") {
        Err(ApiError::gateway_not_found(arn))
    } else if arn.contains(":tape/") {
        world.tapes.get(arn).map(|_| ()).ok_or_else(|| {
            ApiError::invalid("TapeCartridgeNotFound", "The specified tape was not found.").detail("tapeArn", arn)
        })
    } else {
        Err(ApiError::invalid_parameters("The specified resource ARN is not valid.", "ResourceARN"))
    }
}

fn add_tags(world: &mut World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("ResourceARN")?;
    let new = input.tags("Tags", true)?;
    tag_target(world, arn)?;
    let mut merged: Vec<(String, String)> = world.tags_of(arn).to_vec();
    for (k, v) in new {
        match merged.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => merged.push((k, v)),
        }
    }
    if merged.len() > 50 {
        return Err(ApiError::invalid_parameters("A resource can have at most 50 tags.", "Tags"));
    }
    world.tags.insert(arn.to_owned(), merged);
    Ok(json!({"ResourceARN": arn}))
}

fn remove_tags(world: &mut World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("ResourceARN")?;
    let keys = input.tag_keys("TagKeys")?;
    tag_target(world, arn)?;
    if let Some(tags) = world.tags.get_mut(arn) {
        tags.retain(|(k, _)| !keys.contains(k));
    }
    Ok(json!({"ResourceARN": arn}))
}

fn list_tags(world: &World, input: &Input) -> Result<Value, ApiError> {
    let arn = input.arn("ResourceARN")?;
    tag_target(world, arn)?;
    let keyed: BTreeMap<String, (String, String)> =
        world.tags_of(arn).iter().enumerate().map(|(i, t)| (format!("{i:04}"), t.clone())).collect();
    let (items, marker) = page(keyed.iter().map(|(k, (key, value))| (k, json!({"Key": key, "Value": value}))), input)?;
    Ok(with_marker(json!({"ResourceARN": arn, "Tags": items}), marker))
}
