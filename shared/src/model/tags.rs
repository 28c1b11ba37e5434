use std::collections::BTreeMap;

/// Tags of a resource, by key.
pub type Tags = BTreeMap<String, String>;

/// The operator's configuration tags. The functions only read them: every piece of the
/// functions' own state lives in the ledger, never on a production gateway.
pub mod tag {
    /// `true` on a gateway the monitor watches (unless `GATEWAY_ARNS` lists them).
    pub const ENABLED: &str = "recovery:enabled";
    /// The standby gateway's ARN: a tape gateway for a tape gateway, a volume gateway of
    /// the same kind for a volume gateway.
    pub const STANDBY: &str = "recovery:standby-gateway";
    /// `true`: under `DISABLE_POLICY=tagged`, the gateway may be disabled without
    /// approval; `false` states that it may not (both count as a stated opt-in).
    pub const AUTO_DISABLE: &str = "recovery:auto-disable";

    /// Whether a tag's value means yes.
    pub fn is_true(tags: &super::Tags, key: &str) -> bool {
        tags.get(key).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}
