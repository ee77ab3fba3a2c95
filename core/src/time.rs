//! Event time: [`Timestamp`] (milliseconds since the Unix epoch, UTC) and [`Duration`].
//!
//! jornada has no clock of its own. Time comes from touchpoints (`at`) and from
//! [`Engine::advance_to`](crate::Engine::advance_to).
//!
//! Timestamps are written as RFC 3339 (`2026-03-01T10:00:00Z`, `2026-03-01T11:00:00.250+01:00`)
//! or as integer epoch milliseconds. Durations are written as a sequence of number-unit pairs:
//! `500ms`, `30s`, `15m`, `1h`, `7d`, `2w`, `1h30m`.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in event time: milliseconds since 1970-01-01T00:00:00Z.
///
/// ```
/// use jornada::Timestamp;
/// let t = Timestamp::parse("2026-03-01T10:00:00.250+01:00").unwrap();
/// assert_eq!(t.to_string(), "2026-03-01T09:00:00.250Z");
/// assert_eq!(t, Timestamp::from_millis(1_772_355_600_250));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// Earliest accepted timestamp: 0000-01-01T00:00:00Z.
pub const MIN_MILLIS: i64 = -62_167_219_200_000;
/// Latest accepted timestamp: 9999-12-31T23:59:59.999Z.
pub const MAX_MILLIS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// From epoch milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Epoch milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 text, or a string of digits as epoch milliseconds.
    ///
    /// Returns `None` when the text is neither, or outside years 0000 to 9999.
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(ms) = parse_rfc3339_fast(text.as_bytes()) {
            return Some(Timestamp(ms));
        }
        let b = text.as_bytes();
        if !b.is_empty()
            && b.len() <= 16
            && b.iter()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (i == 0 && *c == b'-' && b.len() > 1))
        {
            return text
                .parse::<i64>()
                .ok()
                .filter(|ms| (MIN_MILLIS..=MAX_MILLIS).contains(ms))
                .map(Timestamp);
        }
        parse_rfc3339_slow(text).map(Timestamp)
    }

    /// Checks that epoch milliseconds are within years 0000 to 9999.
    pub fn from_millis_checked(ms: i64) -> Option<Self> {
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&ms)
            .then_some(Timestamp(ms))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with milliseconds only when they are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            y,
            m,
            d,
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                Timestamp::parse(v).ok_or_else(|| E::custom(format!("invalid timestamp `{v}`")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Timestamp::from_millis_checked(v)
                    .ok_or_else(|| E::custom(format!("timestamp {v} out of range")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(Timestamp::from_millis_checked)
                    .ok_or_else(|| E::custom(format!("timestamp {v} out of range")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Strict RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`), the hot path of JSON ingest.
/// Checked against the `time` crate's parser in the tests.
fn parse_rfc3339_fast(b: &[u8]) -> Option<i64> {
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let y = digits(&b[0..4])? as i64;
    let mo = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    let h = digits(&b[11..13])?;
    let mi = digits(&b[14..16])?;
    let s = digits(&b[17..19])?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59
    {
        return None;
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + (b[i] - b'0') as i64;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        for _ in n..3 {
            ms *= 10;
        }
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        c @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = digits(&b[i + 1..i + 3])? as i64;
            let om = digits(&b[i + 4..i + 6])? as i64;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + (h * 3600 + mi * 60 + s) as i64 - offset_secs;
    Timestamp::from_millis_checked(secs * 1000 + ms).map(|t| t.0)
}

fn parse_rfc3339_slow(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let ms = i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000)).ok()?;
    Timestamp::from_millis_checked(ms).map(|t| t.0)
}

/// A length of event time in milliseconds, written `500ms`, `30s`, `15m`, `1h`, `7d`, `2w` or
/// combined (`1h30m`).
///
/// ```
/// use jornada::Duration;
/// let d = Duration::parse("1h30m").unwrap();
/// assert_eq!(d.millis(), 5_400_000);
/// assert_eq!(d.to_string(), "1h30m");
/// assert_eq!(Duration::parse("7d").unwrap().to_string(), "1w");
/// assert!(Duration::parse("7 days").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

const UNITS: [(&str, i64); 6] = [
    ("w", 604_800_000),
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

impl Duration {
    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }

    /// Milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Parses `500ms`, `30s`, `15m`, `1h`, `7d`, `2w`, or a sequence of them (`1h30m`).
    /// A bare `0` is the zero duration. Returns `None` on anything else or on overflow.
    pub fn parse(text: &str) -> Option<Self> {
        let b = text.as_bytes();
        if b == b"0" {
            return Some(Duration(0));
        }
        if b.is_empty() {
            return None;
        }
        let mut total: i64 = 0;
        let mut i = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start || i - start > 15 {
                return None;
            }
            let n: i64 = text[start..i].parse().ok()?;
            let ustart = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &text[ustart..i];
            let factor = UNITS.iter().find(|(u, _)| *u == unit)?.1;
            total = total.checked_add(n.checked_mul(factor)?)?;
        }
        Some(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0");
        }
        let mut rest = self.0;
        if rest < 0 {
            f.write_str("-")?;
            rest = -rest;
        }
        for (unit, factor) in UNITS {
            if rest >= factor {
                write!(f, "{}{}", rest / factor, unit)?;
                rest %= factor;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z"), Some(Timestamp(0)));
        assert_eq!(
            Timestamp::parse("2026-03-01T10:00:00Z").unwrap().0,
            1_772_359_200_000
        );
        assert_eq!(
            Timestamp::parse("2024-02-29T23:59:59.999Z")
                .unwrap()
                .to_string(),
            "2024-02-29T23:59:59.999Z"
        );
        assert_eq!(Timestamp::parse("1969-12-31T23:59:59.5Z").unwrap().0, -500);
        assert_eq!(
            Timestamp::parse("1772359200000").unwrap().0,
            1_772_359_200_000
        );
        assert_eq!(
            Timestamp::parse("2026-03-01T10:00:00-02:30")
                .unwrap()
                .to_string(),
            "2026-03-01T12:30:00Z"
        );
        for bad in [
            "",
            "2026-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-03-01",
            "2026-03-01T25:00:00Z",
            "yesterday",
            "2026-03-01T10:00:00",
            "1e9",
            "99999999999999999",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("500ms").unwrap().0, 500);
        assert_eq!(Duration::parse("2w").unwrap().0, 1_209_600_000);
        assert_eq!(Duration::parse("1d12h").unwrap().to_string(), "1d12h");
        for bad in [
            "",
            "h",
            "1",
            "1y",
            "-1h",
            "1.5h",
            "1h 30m",
            "99999999999999999d",
        ] {
            assert_eq!(Duration::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        // Differential test: the fast parser and formatter agree with the `time` crate.
        #[test]
        fn fast_parser_matches_time_crate(ms in MIN_MILLIS..=MAX_MILLIS, off in -1439i64..=1439) {
            let odt = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap()
                .to_offset(time::UtcOffset::from_whole_seconds((off * 60) as i32).unwrap());
            let text = odt.format(&time::format_description::well_known::Rfc3339).unwrap();
            prop_assert_eq!(parse_rfc3339_fast(text.as_bytes()), parse_rfc3339_slow(&text));
            prop_assert_eq!(Timestamp::parse(&text), Some(Timestamp(ms)));
            let utc = Timestamp(ms).to_string();
            prop_assert_eq!(parse_rfc3339_slow(&utc), Some(ms));
        }

        #[test]
        fn duration_round_trips(ms in 0i64..1_000_000_000_000) {
            prop_assert_eq!(Duration::parse(&Duration(ms).to_string()), Some(Duration(ms)));
        }
    }
}
