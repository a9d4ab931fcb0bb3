//! JSON and CSV output written straight from database rows, column by column.
//!
//! Values are decoded in one place, the backend's `Driver::write_json`; a CSV field is
//! written from the JSON text of its value.

use crate::db::Driver;
use crate::field_type::FieldType;
use crate::filter::Column;
use crate::query::ListMedia;
use crate::schema::Schema;
use std::borrow::Cow;

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
    write_members::<B>(res, columns, row, first, out)?;
    out.push(b'}');
    Ok(())
}

/// The members [`write_row_from`] writes between its braces (`"a":1,"b":2`).
pub(crate) fn write_members<B: Driver>(
    res: &Schema,
    columns: &[Column],
    row: &B::Row,
    first: usize,
    out: &mut Vec<u8>,
) -> Result<(), sqlx::Error> {
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
    let mut buf = Vec::new();
    B::write_json(row, i, res.ty(field), &mut buf)?;
    value_of_json(res, field, &buf)
}

/// The JSON text of a value of field `field`, as this module writes it, read back as a
/// typed value (a decimal from its exact text).
pub(crate) fn value_of_json(
    res: &Schema,
    field: usize,
    json: &[u8],
) -> Result<crate::value::Value, sqlx::Error> {
    let f = res.field(field);
    if f.ty == FieldType::Decimal && json != b"null" {
        // The number's text, exactly (a `serde_json::Value` would hold an `f64`).
        let text = String::from_utf8_lossy(json);
        return crate::value::Value::parse(f.ty, &text)
            .map_err(|e| sqlx::Error::Decode(e.0.into()));
    }
    let json = serde_json::from_slice(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    crate::value::Value::from_json(f.ty, f.nullable, json)
        .map_err(|e| sqlx::Error::Decode(e.0.into()))
}

/// A list page written as its rows arrive, in the media type the client asked for: a JSON
/// array, the first row as an object (the caller refuses any other count), or CSV.
pub(crate) struct Page<'a> {
    res: &'a Schema,
    columns: &'a [Column],
    media: ListMedia,
    rows: u64,
    /// A value's JSON text, on its way to a CSV field.
    scratch: Vec<u8>,
}

impl<'a> Page<'a> {
    /// Starts the page: `[`, or the CSV header line.
    pub(crate) fn start(
        res: &'a Schema,
        columns: &'a [Column],
        media: ListMedia,
        out: &mut Vec<u8>,
    ) -> Page<'a> {
        match media {
            ListMedia::Array => out.push(b'['),
            ListMedia::Object => {}
            ListMedia::Csv => csv_header(res, columns, out),
        }
        Page {
            res,
            columns,
            media,
            rows: 0,
            scratch: Vec::new(),
        }
    }

    /// Writes the next row.
    pub(crate) fn row<B: Driver>(
        &mut self,
        row: &B::Row,
        out: &mut Vec<u8>,
    ) -> Result<(), sqlx::Error> {
        self.rows += 1;
        match self.media {
            ListMedia::Object if self.rows > 1 => Ok(()),
            ListMedia::Object => write_row::<B>(self.res, self.columns, row, out),
            ListMedia::Array => {
                if self.rows > 1 {
                    out.push(b',');
                }
                write_row::<B>(self.res, self.columns, row, out)
            }
            ListMedia::Csv => {
                for (i, c) in self.columns.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let ty = self.res.ty(c.field);
                    self.scratch.clear();
                    B::write_json(row, i, ty, &mut self.scratch)?;
                    csv_field(&self.scratch, ty, out)
                        .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
                }
                out.push(b'\n');
                Ok(())
            }
        }
    }

    /// Ends the page; the number of rows it was given.
    pub(crate) fn finish(self, out: &mut Vec<u8>) -> u64 {
        if self.media == ListMedia::Array {
            out.push(b']');
        }
        self.rows
    }
}

/// The CSV header line: each column's name as the JSON output names it (its alias, else
/// the field's API name).
fn csv_header(res: &Schema, columns: &[Column], out: &mut Vec<u8>) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let name = c.alias.as_deref().unwrap_or(res.field(c.field).name);
        csv_text(name.as_bytes(), out);
    }
    out.push(b'\n');
}

/// Rewrites a JSON page (an array of objects, as `post` hooks left it) as CSV under the
/// page's columns: a member a hook removed is an empty field, one it added is not shown.
pub(crate) fn csv_from_json(
    res: &Schema,
    columns: &[Column],
    page: &[u8],
) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(page.len());
    let page: serde_json::Value = serde_json::from_slice(page)?;
    csv_header(res, columns, &mut out);
    let mut scratch = Vec::new();
    for row in page.as_array().map(Vec::as_slice).unwrap_or_default() {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let name = c.alias.as_deref().unwrap_or(res.field(c.field).name);
            scratch.clear();
            serde_json::to_writer(
                &mut scratch,
                row.get(name).unwrap_or(&serde_json::Value::Null),
            )?;
            csv_field(&scratch, res.ty(c.field), &mut out)?;
        }
        out.push(b'\n');
    }
    Ok(out)
}

/// One CSV field from the JSON text of its value: `null` is empty, a string is its text
/// (a `Json` field keeps its JSON text, strings included), anything else its JSON text.
fn csv_field(json: &[u8], ty: FieldType, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    if json == b"null" {
        return Ok(());
    }
    if json.first() != Some(&b'"') || ty == FieldType::Json {
        csv_text(json, out);
        return Ok(());
    }
    let text: Cow<'_, str> = match serde_json::from_slice::<&str>(json) {
        Ok(t) => t.into(),
        // Escapes: the text differs from its JSON.
        Err(_) => serde_json::from_slice::<String>(json)?.into(),
    };
    // Quoted when empty: an empty text is `""`, a null nothing (as PostgreSQL's CSV).
    if text.is_empty() {
        out.extend_from_slice(b"\"\"");
    } else {
        csv_text(text.as_bytes(), out);
    }
    Ok(())
}

/// A field's text, quoted as RFC 4180 asks when it holds `,` `"` CR or LF (`"` doubled).
fn csv_text(t: &[u8], out: &mut Vec<u8>) {
    if !t.iter().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.extend_from_slice(t);
        return;
    }
    out.reserve(t.len() + 2);
    out.push(b'"');
    for &b in t {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
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
        // A row without a key has no address: the caller answers 500.
        serde_json::Value::Null => None,
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
    use super::*;

    fn field(json: &str, ty: FieldType) -> String {
        let mut out = Vec::new();
        csv_field(json.as_bytes(), ty, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_asks() {
        assert_eq!(field("null", FieldType::Text), "");
        assert_eq!(field("\"\"", FieldType::Text), "\"\"");
        assert_eq!(field("\"plain text\"", FieldType::Text), "plain text");
        assert_eq!(field("\"a,b\"", FieldType::Text), "\"a,b\"");
        assert_eq!(field(r#""say \"hi\"""#, FieldType::Text), r#""say ""hi""""#);
        assert_eq!(
            field(r#""two\r\nlines""#, FieldType::Text),
            "\"two\r\nlines\""
        );
        assert_eq!(field(r#""caf\u00e9""#, FieldType::Text), "café");
        assert_eq!(field("-12", FieldType::I64), "-12");
        assert_eq!(field("1.5", FieldType::F64), "1.5");
        assert_eq!(field("true", FieldType::Bool), "true");
        assert_eq!(
            field("\"2024-01-02T03:04:05Z\"", FieldType::DateTime),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            field(r#"{"a":[1,2]}"#, FieldType::Json),
            r#""{""a"":[1,2]}""#
        );
        assert_eq!(field(r#""s""#, FieldType::Json), r#""""s""""#);
        assert_eq!(field("null", FieldType::Json), "");
    }

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
