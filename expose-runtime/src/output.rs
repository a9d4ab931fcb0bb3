//! JSON output written straight from database rows, column by column.

use crate::db::Driver;
use crate::filter::Column;
use crate::schema::Schema;

/// Writes one row as a JSON object with the given columns (in `SELECT` order).
pub(crate) fn write_row<B: Driver>(
    res: &Schema,
    columns: &[Column],
    row: &B::Row,
    out: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    write_row_from::<B>(res, columns, row, 0, out)
}

/// Like [`write_row`], for columns that start at position `first` of the row.
pub(crate) fn write_row_from<B: Driver>(
    res: &Schema,
    columns: &[Column],
    row: &B::Row,
    first: usize,
    out: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    out.push(b'{');
    for (j, c) in columns.iter().enumerate() {
        let i = first + j;
        if j > 0 {
            out.push(b',');
        }
        match c.alias.as_deref() {
            Some(alias) => {
                serde_json::to_writer(&mut *out, alias)
                    .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                out.push(b':');
            }
            None => out.extend_from_slice(&res.json_keys[c.field]),
        }
        B::write_json(row, i, res.ty(c.field), out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Like [`write_row`], for a row that selected every field in order (position = field).
pub(crate) fn write_fields<B: Driver>(
    res: &Schema,
    columns: &[Column],
    row: &B::Row,
    out: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
    out.push(b'{');
    for (j, c) in columns.iter().enumerate() {
        if j > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&res.json_keys[c.field]);
        B::write_json(row, c.field, res.ty(c.field), out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Column `i` of `row` as a typed value of field `field` (the key of a row about to be
/// written, a conflict column's value).
pub(crate) fn value_at<B: Driver>(
    res: &Schema,
    row: &B::Row,
    i: usize,
    field: usize,
) -> Result<crate::value::Value, sqlx::Error> {
    let f = res.field(field);
    let mut buf = Vec::new();
    B::write_json(row, i, f.ty, &mut buf)?;
    let json = serde_json::from_slice(&buf).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    crate::value::Value::from_json(f.ty, f.nullable, json)
        .map_err(|e| sqlx::Error::Decode(e.0.into()))
}

/// The key of a row as it appears in a URL path.
pub(crate) fn key_text<B: Driver>(
    res: &Schema,
    columns: &[Column],
    row: &B::Row,
) -> Option<String> {
    let i = columns.iter().position(|c| c.field == res.key)?;
    let mut buf = Vec::new();
    B::write_json(row, i, res.ty(res.key), &mut buf).ok()?;
    if buf.first().is_some_and(u8::is_ascii_digit) || buf.first() == Some(&b'-') {
        // A number: its JSON is its text.
        return String::from_utf8(buf).ok();
    }
    match serde_json::from_slice::<serde_json::Value>(&buf).ok()? {
        serde_json::Value::String(s) => Some(s),
        v => Some(v.to_string()),
    }
}

/// A strong `ETag` for a rendered representation: `"` + a 64-bit hash of the bytes in
/// hex + `"`, kept inline (no allocation). The hash is foldhash's quality variant with a
/// fixed seed: the same bytes give the same tag in every process of the same build.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ETag([u8; 18]);

impl ETag {
    /// The tag as the `ETag` header's value.
    pub(crate) fn header_value(&self) -> axum::http::HeaderValue {
        axum::http::HeaderValue::from_bytes(&self.0).expect("quoted hex is a valid header value")
    }
}

impl std::ops::Deref for ETag {
    type Target = str;
    fn deref(&self) -> &str {
        std::str::from_utf8(&self.0).expect("quoted hex is ASCII")
    }
}

pub(crate) fn etag(bytes: &[u8]) -> ETag {
    use std::hash::{BuildHasher, Hasher};
    const SEED: u64 = 0x6578_706f_7365; // "expose"
    let mut h = foldhash::quality::FixedState::with_seed(SEED).build_hasher();
    h.write(bytes);
    let n = h.finish();
    let mut tag = [b'"'; 18];
    for (i, d) in tag[1..17].iter_mut().enumerate() {
        *d = b"0123456789abcdef"[(n >> ((15 - i) * 4)) as usize & 15];
    }
    ETag(tag)
}

#[cfg(test)]
mod tests {
    #[test]
    fn etags_are_quoted_hex_and_follow_the_bytes() {
        let a = super::etag(b"{\"id\":1}");
        assert_eq!(a.len(), 18);
        assert!(a.starts_with('"') && a.ends_with('"'));
        assert!(a[1..17]
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(a, super::etag(b"{\"id\":1}"));
        assert_ne!(a, super::etag(b"{\"id\":2}"));
    }
}
