//! Human-written durations for flags and config: `30d`, `26h`, `1d12h`, `6mo`.
//!
//! Months and years are fixed lengths (30 and 365 days): a retention window must not change
//! size with the calendar. `Display` writes days and smaller only, so `1mo` reads back as
//! `30d` and nobody mistakes it for a calendar month.

use std::fmt;
use std::str::FromStr;

use chrono::Duration;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// 100 years: far beyond any sane retention window, and well inside chrono's range.
const MAX_SECS: u64 = 100 * 365 * DAY;

/// Units, largest first; a duration names each at most once, in this order.
/// `mo` precedes `m` only for readability: units are matched on the whole letter run.
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * DAY),
    ("mo", 30 * DAY),
    ("w", 7 * DAY),
    ("d", DAY),
    ("h", HOUR),
    ("m", MINUTE),
    ("s", 1),
];

const HINT: &str = "use a number and a unit (s, m, h, d, w, mo, y), e.g. 26h or 30d";

/// A duration written as `<number><unit>…`, e.g. `30d` or `1d12h`; at most 100 years.
///
/// ```
/// use backstage_backup_core::duration::HumanDuration;
///
/// let d: HumanDuration = "1d12h".parse().unwrap();
/// assert_eq!(d.0, chrono::Duration::hours(36));
/// assert_eq!(d.to_string(), "1d12h");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Checks the range a parsed duration has: not negative, at most 100 years. For callers
    /// that build one from a `chrono::Duration` rather than from text.
    pub fn new(duration: Duration) -> Result<Self> {
        if duration < Duration::zero() {
            return Err(Error::invalid(format!(
                "a duration of {} seconds is negative: a retention window counts back from now, so give it without the sign, e.g. 30d",
                duration.num_seconds()
            )));
        }
        if duration > Duration::seconds(MAX_SECS as i64) {
            return Err(too_long(&HumanDuration(duration).to_string()));
        }
        Ok(HumanDuration(duration))
    }
}

impl FromStr for HumanDuration {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        if text.is_empty() {
            return Err(Error::invalid(format!(
                "an empty string is not a duration: {HINT}"
            )));
        }
        if text.starts_with('-') {
            return Err(Error::invalid(format!(
                "'{text}' is negative: a retention window counts back from now, so give it without the sign, e.g. 30d"
            )));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(Error::invalid(format!(
                "'{text}' is not a duration: remove the spaces, e.g. 1d12h"
            )));
        }

        let mut rest = text;
        let mut total: u64 = 0;
        // Index into UNITS of the last unit seen: each later unit must be smaller.
        let mut previous: Option<usize> = None;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return Err(Error::invalid(format!(
                    "'{text}' is not a duration: {HINT}"
                )));
            }
            let (number, after) = rest.split_at(digits);
            let letters = after.len()
                - after
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .len();
            let (unit, after) = after.split_at(letters);
            if unit.is_empty() {
                return Err(Error::invalid(if after.is_empty() {
                    format!("'{text}' has no unit: {HINT}")
                } else {
                    format!("'{text}' is not a duration: {HINT}")
                }));
            }
            let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
                return Err(Error::invalid(format!(
                    "'{text}' is not a duration: unknown unit '{unit}'; {HINT}"
                )));
            };
            if previous.is_some_and(|p| index <= p) {
                return Err(Error::invalid(format!(
                    "'{text}' is not a duration: give each unit once, largest first, e.g. 1d12h"
                )));
            }
            previous = Some(index);
            // A number too big for u64 is certainly over the limit.
            let seconds = number
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(UNITS[index].1))
                .and_then(|s| s.checked_add(total))
                .filter(|s| *s <= MAX_SECS)
                .ok_or_else(|| too_long(text))?;
            total = seconds;
            rest = after;
        }
        Ok(HumanDuration(Duration::seconds(total as i64)))
    }
}

fn too_long(text: &str) -> Error {
    Error::invalid(format!(
        "'{text}' is too long: durations are limited to 100 years (100y); give a shorter one, e.g. 1y"
    ))
}

/// Canonical compact form in days, hours, minutes and seconds (`1d12h`, `30d`, `0s`); it
/// parses back to the same value. Fractions of a second are dropped: the parser makes none.
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.num_seconds();
        if seconds < 0 {
            f.write_str("-")?;
        }
        let mut rest = seconds.unsigned_abs();
        if rest == 0 {
            return f.write_str("0s");
        }
        for (name, size) in UNITS.iter().skip_while(|(name, _)| *name != "d") {
            if rest >= *size {
                write!(f, "{}{name}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|err: Error| serde::de::Error::custom(err.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn parse(text: &str) -> Result<HumanDuration> {
        text.parse()
    }

    #[test]
    fn parses_each_unit() {
        let cases = [
            ("45s", Duration::seconds(45)),
            ("90m", Duration::minutes(90)),
            ("26h", Duration::hours(26)),
            ("30d", Duration::days(30)),
            ("2w", Duration::days(14)),
            ("6mo", Duration::days(180)),
            ("1y", Duration::days(365)),
            ("0s", Duration::zero()),
            ("0d", Duration::zero()),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap().0, expected, "{text}");
        }
    }

    #[test]
    fn parses_combinations_largest_first() {
        let cases = [
            ("1d12h", Duration::hours(36)),
            ("1y6mo", Duration::days(365 + 180)),
            ("2w3d", Duration::days(17)),
            ("1h30m15s", Duration::seconds(3600 + 1800 + 15)),
            ("1mo1m", Duration::days(30) + Duration::minutes(1)),
            ("100y", Duration::days(36500)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).unwrap().0, expected, "{text}");
        }
    }

    #[test]
    fn refuses_bad_text_with_a_fix() {
        let cases = [
            ("", "an empty string is not a duration: use a number and a unit"),
            ("10x", "'10x' is not a duration: unknown unit 'x'; use a number and a unit (s, m, h, d, w, mo, y), e.g. 26h or 30d"),
            ("30", "'30' has no unit"),
            ("d", "'d' is not a duration"),
            ("1d12", "'1d12' has no unit"),
            ("-1d", "'-1d' is negative"),
            ("+1d", "'+1d' is not a duration"),
            ("1d 12h", "remove the spaces"),
            (" 30d", "remove the spaces"),
            ("12h1d", "give each unit once, largest first"),
            ("1d1d", "give each unit once, largest first"),
            ("1.5d", "'1.5d' is not a duration"),
            ("30D", "unknown unit 'D'"),
            ("1day", "unknown unit 'day'"),
            ("101y", "'101y' is too long: durations are limited to 100 years"),
            ("100y1s", "is too long"),
            ("36501d", "is too long"),
            ("99999999999999999999999s", "is too long"),
            ("18446744073709551615y", "is too long"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{text}");
            assert!(
                err.message().contains(expected),
                "{text}: {} does not contain {expected}",
                err.message()
            );
        }
    }

    #[test]
    fn displays_canonically_and_round_trips() {
        let cases = [
            ("1d12h", "1d12h"),
            ("36h", "1d12h"),
            ("30d", "30d"),
            ("1mo", "30d"),
            ("2w", "14d"),
            ("1y", "365d"),
            ("90m", "1h30m"),
            ("45s", "45s"),
            ("0d", "0s"),
            ("1d1s", "1d1s"),
            ("100y", "36500d"),
        ];
        for (text, canonical) in cases {
            let parsed = parse(text).unwrap();
            assert_eq!(parsed.to_string(), canonical, "{text}");
            assert_eq!(parse(canonical).unwrap(), parsed, "{text}");
        }
    }

    #[test]
    fn new_checks_the_range() {
        assert_eq!(
            HumanDuration::new(Duration::days(30)).unwrap(),
            parse("30d").unwrap()
        );
        let negative = HumanDuration::new(Duration::seconds(-5)).unwrap_err();
        assert!(negative.message().contains("negative"), "{negative}");
        let long = HumanDuration::new(Duration::days(36501)).unwrap_err();
        assert!(long.message().contains("'36501d' is too long"), "{long}");
    }

    #[test]
    fn serde_uses_the_string_form() {
        let d = parse("1d12h").unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"1d12h\"");
        let back: HumanDuration = serde_json::from_str("\"36h\"").unwrap();
        assert_eq!(back, d);
        let err = serde_json::from_str::<HumanDuration>("\"10x\"").unwrap_err();
        assert!(err.to_string().contains("unknown unit 'x'"), "{err}");
        assert!(serde_json::from_str::<HumanDuration>("36").is_err());
    }
}
