//! `rust_decimal::Decimal` fields: the text a decimal is read from, how SQLite compares the
//! text it is stored as, and how it is written as an exact JSON number.
//!
//! A decimal is read from a JSON number or string, a query value or a path segment as
//! `[+-]digits[.digits][e[+-]digits]` (no `_`, no spaces), exactly: a value that a `Decimal`
//! cannot hold (more than 28 digits after the point, a magnitude above 2^96) is refused, not
//! rounded. JSON numbers are read from their text, never through `f64`.
//!
//! On SQLite a decimal is stored as `TEXT` (SQLite's `NUMERIC` and `REAL` would keep 15
//! significant digits), and compared and sorted through the `expose_decimal` collation,
//! which compares the texts as numbers; [`Db::connect`](crate::Db::connect) registers it on
//! every connection ([`sqlite_collation`] for a pool you build).

use rust_decimal::Decimal;
use std::cmp::Ordering;

/// The name of SQLite's collation for decimals stored as text.
pub(crate) const COLLATION: &str = "expose_decimal";

/// Reads a decimal written `[+-]digits[.digits][(e|E)[+-]digits]`, exactly; `None` when the
/// text is not one or the value does not fit a `Decimal` without rounding.
pub(crate) fn parse(s: &str) -> Option<Decimal> {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let unsigned = mantissa.strip_prefix(['+', '-']).unwrap_or(mantissa);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let negative = mantissa.starts_with('-');
    let int = if int.is_empty() { "0" } else { int };
    let text = match (negative, frac.is_empty()) {
        (false, true) => int.to_owned(),
        (false, false) => format!("{int}.{frac}"),
        (true, true) => format!("-{int}"),
        (true, false) => format!("-{int}.{frac}"),
    };
    let mut d = Decimal::from_str_exact(&text).ok()?;
    let Some(exp) = exp else {
        return Some(d);
    };
    let unsigned_exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    if unsigned_exp.is_empty() || !digits(unsigned_exp) {
        return None;
    }
    // More than 29 places either way never fits (unless the value is zero).
    let places: u32 = unsigned_exp.parse().ok().filter(|p| *p <= 29)?;
    if exp.starts_with('-') {
        d.set_scale(d.scale() + places).ok()?;
    } else {
        for _ in 0..places {
            if d.scale() > 0 {
                d.set_scale(d.scale() - 1).ok()?;
            } else {
                d = d.checked_mul(Decimal::TEN)?;
            }
        }
    }
    Some(d)
}

/// Writes `d` as a JSON number token, exactly (its text, e.g. `12.50`).
pub(crate) fn write_json(out: &mut Vec<u8>, d: &Decimal) {
    use std::io::Write as _;
    // Writing to a `Vec` cannot fail.
    let _ = write!(out, "{d}");
}

/// SQLite's `expose_decimal` collation: two texts compared as decimal numbers (`2` before
/// `10`, `1.0` equal to `1.00`); a text that is not a decimal sorts after every decimal, by
/// its bytes.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let read = |t: &str| parse(t.trim()).or_else(|| Decimal::from_scientific(t.trim()).ok());
    match (read(a), read(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Adds the `expose_decimal` collation to the options of a SQLite pool you build yourself
/// (and hand to [`Db`](crate::Db) with `Db::from`); [`Db::connect`](crate::Db::connect)
/// adds it already. Without it, a filter or sort on a `Decimal` field fails on SQLite with
/// `no such collation sequence: expose_decimal`.
///
/// ```
/// let opts: sqlx::sqlite::SqliteConnectOptions = "sqlite::memory:".parse().unwrap();
/// let opts = expose_runtime::sqlite_collation(opts);
/// # let _ = opts;
/// ```
pub fn sqlite_collation(
    opts: sqlx::sqlite::SqliteConnectOptions,
) -> sqlx::sqlite::SqliteConnectOptions {
    opts.collation(COLLATION, compare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_read_exactly_or_refused() {
        let text = |s: &str| parse(s).map(|d| d.to_string());
        assert_eq!(
            text("12345678901234567890.12").as_deref(),
            Some("12345678901234567890.12")
        );
        assert_eq!(text("12.50").as_deref(), Some("12.50"));
        assert_eq!(text("-0.5").as_deref(), Some("-0.5"));
        assert_eq!(text("+.5").as_deref(), Some("0.5"));
        assert_eq!(text("7.").as_deref(), Some("7"));
        assert_eq!(text("1.5e3").as_deref(), Some("1500"));
        assert_eq!(text("1.25E-2").as_deref(), Some("0.0125"));
        assert_eq!(text("15e-1").as_deref(), Some("1.5"));
        for bad in [
            "",
            ".",
            "-",
            "1_000",
            " 1",
            "1 ",
            "0x10",
            "1e",
            "1e+",
            "NaN",
            "inf",
            "1.2.3",
            "e5",
            // Beyond a Decimal, or only with rounding.
            "79228162514264337593543950336",
            "0.00000000000000000000000000001",
            "1e30",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_collation_compares_numbers() {
        assert_eq!(compare("2", "10"), Ordering::Less);
        assert_eq!(compare("1.0", "1.00"), Ordering::Equal);
        assert_eq!(compare("-3", "-20.5"), Ordering::Greater);
        assert_eq!(
            compare("12345678901234567890.12", "12345678901234567890.13"),
            Ordering::Less
        );
        assert_eq!(compare("1", "x"), Ordering::Less);
        assert_eq!(compare("1.5e1", "15"), Ordering::Equal);
    }

    #[test]
    fn decimals_are_written_as_exact_json_numbers() {
        let mut out = Vec::new();
        write_json(&mut out, &parse("12345678901234567890.12").unwrap());
        assert_eq!(out, b"12345678901234567890.12");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(v.is_number());
    }
}
