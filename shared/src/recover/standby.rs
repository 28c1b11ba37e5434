//! Which standby, and whether it can take the failed gateway's data: pure checks on what
//! was read.

use crate::arn::GatewayArn;
use crate::model::{GatewayDescription, GatewayKind, Tags, tag};
use crate::ports::{AwsError, ErrorKind};

/// Most tapes a tape gateway holds; most volumes a volume gateway holds.
pub const MAX_TAPES_PER_GATEWAY: usize = 1500;
pub const MAX_VOLUMES_PER_GATEWAY: usize = 32;

/// The standby from the request, else the failed gateway's tag, else the environment.
pub fn resolve(
    from_request: Option<&GatewayArn>,
    tags: &Tags,
    from_env: Option<&GatewayArn>,
    env_var: &str,
) -> Result<GatewayArn, String> {
    if let Some(s) = from_request {
        return Ok(s.clone());
    }
    if let Some(v) = tags.get(tag::STANDBY) {
        return GatewayArn::parse(&format!("tag {}", tag::STANDBY), v.trim()).map_err(|e| e.to_string());
    }
    from_env.cloned().ok_or_else(|| {
        format!("no standby gateway: give standbyGatewayArn, tag the failed gateway {}, or set {env_var}", tag::STANDBY)
    })
}

/// Why a standby cannot be used, and whether that may change by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub why: String,
    pub retryable: bool,
}

impl Unusable {
    fn permanent(why: String) -> Self {
        Self { why, retryable: false }
    }
}

/// The standby's description as read: connected, of the right kind, not the failed one.
pub fn check(
    standby: &GatewayArn,
    failed: &GatewayArn,
    kind: GatewayKind,
    described: &Result<GatewayDescription, AwsError>,
) -> Result<(), Unusable> {
    if standby == failed {
        return Err(Unusable::permanent("the standby gateway is the failed gateway itself".into()));
    }
    let wanted = match kind {
        GatewayKind::Tape => "a tape gateway (VTL)",
        _ => "a cached volume gateway (CACHED)",
    };
    match described {
        Ok(info) if info.kind != kind => Err(Unusable::permanent(format!(
            "standby {} is a {} gateway, not {wanted}",
            standby.id(),
            info.kind.as_api()
        ))),
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::NotConnected => {
            Err(Unusable { why: format!("standby {} is not connected ({e})", standby.id()), retryable: true })
        }
        Err(e) if e.kind == ErrorKind::NotFound => {
            Err(Unusable::permanent(format!("standby {} does not exist ({e})", standby.id())))
        }
        Err(e) => Err(Unusable {
            why: format!("could not check standby {}: {e}", standby.id()),
            retryable: e.kind.retryable(),
        }),
    }
}

/// Whether a tape standby holding `on_standby` tapes has room for `more`.
pub fn tape_room(standby: &GatewayArn, on_standby: usize, more: usize) -> Result<(), Unusable> {
    if on_standby + more > MAX_TAPES_PER_GATEWAY {
        return Err(Unusable::permanent(format!(
            "standby {} holds {on_standby} tapes; {more} more would exceed the {MAX_TAPES_PER_GATEWAY}-tape limit of a tape gateway (room for {})",
            standby.id(),
            MAX_TAPES_PER_GATEWAY.saturating_sub(on_standby)
        )));
    }
    Ok(())
}

/// Whether a volume standby holding `on_standby` volumes has room for `more`.
pub fn volume_room(standby: &GatewayArn, on_standby: usize, more: usize) -> Result<(), Unusable> {
    if on_standby + more > MAX_VOLUMES_PER_GATEWAY {
        return Err(Unusable::permanent(format!(
            "standby {} holds {on_standby} volumes; {more} more would exceed the {MAX_VOLUMES_PER_GATEWAY}-volume limit of a volume gateway (room for {})",
            standby.id(),
            MAX_VOLUMES_PER_GATEWAY.saturating_sub(on_standby)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw(id: &str) -> GatewayArn {
        GatewayArn::parse("t", &format!("arn:aws:storagegateway:us-east-1:123456789012:gateway/{id}")).unwrap()
    }

    #[test]
    fn the_request_then_the_tag_then_the_environment() {
        let tags = Tags::from([(tag::STANDBY.to_owned(), gw("sgw-23B4567C").to_string())]);
        assert_eq!(resolve(Some(&gw("sgw-11111111")), &tags, None, "X").unwrap(), gw("sgw-11111111"));
        assert_eq!(resolve(None, &tags, Some(&gw("sgw-22222222")), "X").unwrap(), gw("sgw-23B4567C"));
        assert_eq!(resolve(None, &Tags::new(), Some(&gw("sgw-22222222")), "X").unwrap(), gw("sgw-22222222"));
        let e = resolve(None, &Tags::new(), None, "STANDBY_GATEWAY_ARN").unwrap_err();
        assert!(e.contains("STANDBY_GATEWAY_ARN"), "{e}");
        let bad = Tags::from([(tag::STANDBY.to_owned(), "sgw-23B4567C".to_owned())]);
        assert!(resolve(None, &bad, None, "X").unwrap_err().contains("tag recovery:standby-gateway"));
    }

    #[test]
    fn room_is_counted_against_the_limits() {
        let s = gw("sgw-23B4567C");
        assert!(tape_room(&s, 1499, 1).is_ok());
        let e = tape_room(&s, 1499, 2).unwrap_err();
        assert!(e.why.contains("1499 tapes") && e.why.contains("room for 1"), "{}", e.why);
        assert!(volume_room(&s, 30, 2).is_ok());
        assert!(volume_room(&s, 31, 2).is_err());
    }
}
