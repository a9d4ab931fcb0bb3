//! Timestamps and dates as JSON strings, written straight into the output buffer.
//!
//! The text is byte for byte chrono's own serde format, which a hand-written handler's
//! `Json` gives: RFC 3339 in UTC with `Z`, and fractional seconds of 0, 3, 6 or 9 digits,
//! the fewest that hold the value (chrono's `SecondsFormat::AutoSi`); a date is
//! `YYYY-MM-DD`. Years outside 0–9999 are left to chrono.
//!
//! Kept for: a list of 100 rows fell from 0.73 to 0.54 of the hand-written side's
//! instructions on PostgreSQL (2 400 → 210 per timestamp; `bench/PROFILE.md`, 2026-12-02).

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// Writes `t` as a JSON string, as `serde_json::to_writer(out, &t)` would.
pub(crate) fn write_datetime(out: &mut Vec<u8>, t: &DateTime<Utc>) -> serde_json::Result<()> {
    let naive = t.naive_utc();
    let Some(date) = date_digits(naive.date()) else {
        return serde_json::to_writer(out, t);
    };
    let time = naive.time();
    let (mut second, mut nano) = (time.second(), time.nanosecond());
    // A leap second is chrono's second 59 with 1 000 000 000 ns or more: written as 60.
    if nano >= 1_000_000_000 {
        second += 1;
        nano -= 1_000_000_000;
    }
    // "YYYY-MM-DDTHH:MM:SS" + up to ".nnnnnnnnn" + "Z", between quotes.
    let mut buf = [0u8; 32];
    buf[0] = b'"';
    buf[1..11].copy_from_slice(&date);
    buf[11] = b'T';
    two(&mut buf[12..14], time.hour());
    buf[14] = b':';
    two(&mut buf[15..17], time.minute());
    buf[17] = b':';
    two(&mut buf[18..20], second);
    let mut end = 20;
    let (fraction, digits) = if nano == 0 {
        (0, 0)
    } else if nano % 1_000_000 == 0 {
        (nano / 1_000_000, 3)
    } else if nano % 1_000 == 0 {
        (nano / 1_000, 6)
    } else {
        (nano, 9)
    };
    if digits > 0 {
        buf[end] = b'.';
        fill(&mut buf[end + 1..end + 1 + digits], fraction);
        end += 1 + digits;
    }
    buf[end] = b'Z';
    buf[end + 1] = b'"';
    out.extend_from_slice(&buf[..end + 2]);
    Ok(())
}

/// Writes `d` as a JSON string, as `serde_json::to_writer(out, &d)` would.
pub(crate) fn write_date(out: &mut Vec<u8>, d: NaiveDate) -> serde_json::Result<()> {
    let Some(date) = date_digits(d) else {
        return serde_json::to_writer(out, &d);
    };
    let mut buf = [0u8; 12];
    buf[0] = b'"';
    buf[1..11].copy_from_slice(&date);
    buf[11] = b'"';
    out.extend_from_slice(&buf);
    Ok(())
}

/// `YYYY-MM-DD`, for years 0 to 9999 (`None` otherwise).
fn date_digits(d: NaiveDate) -> Option<[u8; 10]> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let mut buf = [0u8; 10];
    fill(&mut buf[0..4], year);
    buf[4] = b'-';
    two(&mut buf[5..7], d.month());
    buf[7] = b'-';
    two(&mut buf[8..10], d.day());
    Some(buf)
}

/// Two decimal digits of `v` (below 100).
fn two(buf: &mut [u8], v: u32) {
    buf[0] = b'0' + (v / 10) as u8;
    buf[1] = b'0' + (v % 10) as u8;
}

/// The decimal digits of `v`, zero-padded to the buffer's length.
fn fill(buf: &mut [u8], mut v: u32) {
    for b in buf.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, TimeZone};
    use proptest::prelude::*;

    fn ours(t: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        write_datetime(&mut out, t).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn ours_date(d: NaiveDate) -> String {
        let mut out = Vec::new();
        write_date(&mut out, d).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nano: u32) -> DateTime<Utc> {
        let date = NaiveDate::from_ymd_opt(y, mo, d).unwrap();
        let naive = date.and_hms_nano_opt(h, mi, s, nano).unwrap();
        Utc.from_utc_datetime(&naive)
    }

    #[test]
    fn each_fraction_width_and_the_edges_are_chronos_text() {
        let cases = [
            (at(2024, 1, 31, 12, 0, 0, 0), "\"2024-01-31T12:00:00Z\""),
            (
                at(2024, 1, 31, 12, 0, 0, 5_000_000),
                "\"2024-01-31T12:00:00.005Z\"",
            ),
            (
                at(2024, 1, 31, 12, 0, 0, 5_000),
                "\"2024-01-31T12:00:00.000005Z\"",
            ),
            (
                at(2024, 1, 31, 12, 0, 0, 5),
                "\"2024-01-31T12:00:00.000000005Z\"",
            ),
            (
                at(2024, 1, 31, 12, 0, 0, 120_000_000),
                "\"2024-01-31T12:00:00.120Z\"",
            ),
            (
                at(1999, 12, 31, 23, 59, 59, 1_500_000_000),
                "\"1999-12-31T23:59:60.500Z\"",
            ),
            (
                at(1999, 12, 31, 23, 59, 59, 1_000_000_000),
                "\"1999-12-31T23:59:60Z\"",
            ),
            (at(0, 1, 1, 0, 0, 0, 0), "\"0000-01-01T00:00:00Z\""),
            (
                at(9999, 12, 31, 23, 59, 59, 999_999_999),
                "\"9999-12-31T23:59:59.999999999Z\"",
            ),
            (at(-1, 6, 1, 0, 0, 0, 0), "\"-0001-06-01T00:00:00Z\""),
            (at(10000, 1, 1, 0, 0, 0, 0), "\"+10000-01-01T00:00:00Z\""),
        ];
        for (t, text) in cases {
            assert_eq!(ours(&t), text);
            assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
        }
        for d in [
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            NaiveDate::from_ymd_opt(0, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(-44, 3, 15).unwrap(),
            NaiveDate::from_ymd_opt(12345, 1, 1).unwrap(),
        ] {
            assert_eq!(ours_date(d), serde_json::to_string(&d).unwrap());
        }
        assert_eq!(
            ours_date(NaiveDate::from_ymd_opt(7, 8, 9).unwrap()),
            "\"0007-08-09\""
        );
    }

    proptest! {
        #[test]
        fn any_timestamp_is_written_as_chrono_writes_it(
            secs in NaiveDateTime::MIN.and_utc().timestamp()..=NaiveDateTime::MAX.and_utc().timestamp(),
            nano in prop_oneof![
                Just(0u32),
                (0u32..1000).prop_map(|ms| ms * 1_000_000),
                (0u32..1_000_000).prop_map(|us| us * 1_000),
                0u32..1_000_000_000,
            ],
        ) {
            let t = DateTime::from_timestamp(secs, nano).unwrap();
            prop_assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
            prop_assert_eq!(ours_date(t.date_naive()), serde_json::to_string(&t.date_naive()).unwrap());
        }

        #[test]
        fn timestamps_of_years_0_to_9999_are_written_as_chrono_writes_them(
            secs in -62_167_219_200i64..253_402_300_800,
            nano in 0u32..2_000_000_000,
        ) {
            // Nanoseconds past 10^9 only on a leap second (second 59).
            let secs = if nano >= 1_000_000_000 { secs - secs.rem_euclid(60) + 59 } else { secs };
            let t = DateTime::from_timestamp(secs, nano).unwrap();
            prop_assert_eq!(ours(&t), serde_json::to_string(&t).unwrap());
        }
    }
}
