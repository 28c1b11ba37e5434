//! Times as this project writes them: RFC 3339 in UTC, and epoch milliseconds.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `2026-11-25T10:00:00Z` for epoch seconds (the epoch itself for values out of range).
pub fn rfc3339(epoch_secs: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(epoch_secs).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    t.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// `2026-11-25T10:00:00Z` for epoch milliseconds (to the second).
pub fn rfc3339_ms(epoch_ms: i64) -> String {
    rfc3339(epoch_ms.div_euclid(1000))
}

/// Epoch seconds of an RFC 3339 time, if it is one.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(OffsetDateTime::unix_timestamp)
}

/// A duration in whole milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A duration in whole milliseconds as a signed number, for arithmetic on epoch times.
pub fn millis_i64(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `45 s`, `15 min`, `2 h 5 min`, `3 d 4 h`, for people.
pub fn human(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} d {} h", secs / 86_400, secs % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(rfc3339(1_795_600_800), "2026-11-25T10:00:00Z");
        assert_eq!(rfc3339_ms(1_795_600_800_999), "2026-11-25T10:00:00Z");
        assert_eq!(parse_rfc3339("2026-11-25T10:00:00Z"), Some(1_795_600_800));
        assert_eq!(parse_rfc3339("2026-11-25T11:00:00+01:00"), Some(1_795_600_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(45), "45 s");
        assert_eq!(human(900), "15 min");
        assert_eq!(human(7500), "2 h 5 min");
        assert_eq!(human(6 * 3600), "6 h 0 min");
        assert_eq!(human(3 * 86_400 + 4 * 3600), "3 d 4 h");
        assert_eq!(human(-5), "0 s");
    }
}
