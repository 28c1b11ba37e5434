//! Times as this project writes them: RFC 3339 in UTC, to the second.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2026-11-25T10:00:00Z` for epoch seconds (the epoch itself for values out of range).
pub fn rfc3339(epoch_secs: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(epoch_secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Epoch seconds of an RFC 3339 time, if it is one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(rfc3339(1_795_600_800), "2026-11-25T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-25T10:00:00Z"), Some(1_795_600_800));
        assert_eq!(parse_rfc3339("2026-11-25T11:00:00+01:00"), Some(1_795_600_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
