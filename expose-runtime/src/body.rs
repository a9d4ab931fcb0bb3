//! Request bodies of create and update: content type, size, JSON syntax, and each member
//! checked against the writable fields and typed by its field.

use crate::field::FieldSet;
use crate::field_type::FieldType;
use crate::hooks::Input;
use crate::problem::{Offender, Problem};
use crate::schema::Schema;
use crate::value::Value;
use crate::value::ValueError;
use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// Most members that are not fields named in one problem; the rest are counted.
const MAX_UNKNOWN_LISTED: usize = 50;

/// Largest body accepted by default (bytes).
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// Reads the body of a write: JSON only, bounded in size.
pub(crate) async fn read(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false);
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "the body must be JSON, sent with Content-Type: application/json",
        ));
    }
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the body is larger than {limit} bytes"),
        )
    };
    // A declared length over the limit (the header, or the body's own size) is refused
    // before a byte is read, so a client cannot hold the request open with a body it never
    // sends.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit64 = limit as u64;
    if declared.is_some_and(|n| n > limit64) || HttpBody::size_hint(&body).lower() > limit64 {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

/// What a write body may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Writes {
    /// Fields the client may send.
    pub(crate) writable: FieldSet,
    /// Fields the server sets: a client value is refused.
    pub(crate) refused: FieldSet,
    /// Fields the server sets: a client value is dropped.
    pub(crate) overwritten: FieldSet,
    /// A create: every writable field that is neither nullable nor defaulted is required.
    pub(crate) create: bool,
    /// A bulk create's `columns`: members naming any other field, or no field, are skipped
    /// without complaint (PostgREST's rule), and only these fields can be required.
    pub(crate) only: Option<FieldSet>,
}

/// A create's body: one object, or an array of objects (a bulk insert).
#[derive(Debug)]
pub(crate) enum Rows {
    One(Vec<(usize, Value)>),
    Many(Vec<Vec<(usize, Value)>>),
}

/// Parses a create body: one object as [`decode`] does, or an array of at most `max_rows`
/// objects, each checked alike; every offender of every row is reported together, named
/// `[row].member`. More rows than `max_rows` is a 413 problem.
pub(crate) fn decode_rows(
    res: &Schema,
    writes: Writes,
    bytes: &[u8],
    max_rows: u64,
) -> Result<Rows, Problem> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return decode(res, writes, bytes).map(Rows::One);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_seq(RowsVisitor {
            res,
            writes,
            max_rows,
        })
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Ok(rows)) => Ok(Rows::Many(rows)),
        Ok(Err(problem)) => Err(problem),
        Err(e) if e.is_data() => Err(Problem::unprocessable(e.to_string(), Vec::new())),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

struct RowsVisitor<'r> {
    res: &'r Schema,
    writes: Writes,
    max_rows: u64,
}

/// One element of a bulk body, decoded as a single body is.
struct RowSeed<'r>(BodyVisitor<'r>);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Result<Vec<(usize, Value)>, Problem>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self.0)
    }
}

impl<'de> Visitor<'de> for RowsVisitor<'_> {
    type Value = Result<Vec<Vec<(usize, Value)>>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut rows = Vec::new();
        let mut errors: Vec<Offender> = Vec::new();
        let mut n = 0u64;
        loop {
            let seed = RowSeed(BodyVisitor {
                res: self.res,
                writes: self.writes,
            });
            let Some(row) = seq.next_element_seed(seed)? else {
                break;
            };
            if n == self.max_rows {
                return Ok(Err(Problem::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-many-rows",
                    format!(
                        "the body has more than {} rows; {} accepts at most {} in one request",
                        self.max_rows, self.res.model.path, self.max_rows
                    ),
                )));
            }
            match row {
                Ok(values) => rows.push(values),
                Err(problem) => {
                    if problem.errors().is_empty() {
                        errors.push(Offender {
                            name: format!("[{n}]"),
                            location: "body",
                            rule: None,
                            detail: problem.detail().to_owned(),
                        });
                    }
                    for e in problem.errors() {
                        errors.push(Offender {
                            name: format!("[{n}].{}", e.name),
                            location: "body",
                            rule: e.rule,
                            detail: e.detail.clone(),
                        });
                    }
                }
            }
            n += 1;
        }
        if errors.is_empty() {
            return Ok(Ok(rows));
        }
        let list: Vec<&str> = errors.iter().map(|e| e.name.as_str()).take(20).collect();
        Ok(Err(Problem::unprocessable(
            format!("rows of the body have invalid fields: {}", list.join(", ")),
            errors,
        )))
    }
}

/// Parses a write body (a JSON object) in one pass, each member checked against the
/// writable fields and typed by its field as it is read; every offender is reported
/// together, a repeated member alone.
pub(crate) fn decode(
    res: &Schema,
    writes: Writes,
    bytes: &[u8],
) -> Result<Vec<(usize, Value)>, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_any(BodyVisitor { res, writes })
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Ok(values)) => Ok(values),
        Ok(Err(problem)) => Err(problem),
        Err(e) if e.is_data() => Err(Problem::unprocessable(e.to_string(), Vec::new())),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// A member name, borrowed from the body when it has no escapes (no allocation per member).
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(v.to_owned().into()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(v.into()))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

struct BodyVisitor<'r> {
    res: &'r Schema,
    writes: Writes,
}

impl<'de> Visitor<'de> for BodyVisitor<'_> {
    type Value = Result<Vec<(usize, Value)>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (res, w) = (self.res, self.writes);
        let mut values = Vec::with_capacity(res.model.fields.len());
        let mut errors: Vec<Offender> = Vec::new();
        let mut seen = FieldSet::default();
        // Members that are not fields: their names (to find repeats; a set past a few), and
        // how many were not listed in the problem.
        let mut others: Vec<String> = Vec::new();
        let mut others_set: Option<std::collections::HashSet<String>> = None;
        let mut unlisted = 0usize;
        let mut writable_names: Option<String> = None;
        let mut duplicate = None;
        // Offenders that broke a declared rule (the rest did not even type).
        let mut broken = 0usize;
        // Every member is read, even after a duplicate, so that the rest of the body is
        // still checked as JSON (the deserializer refuses a map left half-read).
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let field = res.by_name(&key).filter(|i| {
                w.writable.contains(*i) || w.refused.contains(*i) || w.overwritten.contains(*i)
            });
            if let Some(only) = w.only {
                if !field.is_some_and(|i| only.contains(i)) {
                    map.next_value::<Skip>()?;
                    continue;
                }
            }
            let repeated = match field {
                Some(i) => seen.contains(i),
                None => match others_set.as_mut() {
                    Some(set) => !set.insert(key.to_string()),
                    None => others.iter().any(|o| *o == *key),
                },
            };
            if repeated || duplicate.is_some() {
                map.next_value::<Skip>()?;
                if repeated {
                    duplicate.get_or_insert(key.into_owned());
                }
                continue;
            }
            let Some(i) = field else {
                map.next_value::<Skip>()?;
                if others.len() < SCAN {
                    others.push(key.to_string());
                } else {
                    others_set
                        .get_or_insert_with(|| others.iter().cloned().collect())
                        .insert(key.to_string());
                }
                if errors.len() < MAX_UNKNOWN_LISTED {
                    let names = writable_names.get_or_insert_with(|| res.names(w.writable));
                    errors.push(Offender {
                        name: key.into_owned(),
                        location: "body",
                        rule: None,
                        detail: format!("is not a field you can write; writable fields: {names}"),
                    });
                } else {
                    unlisted += 1;
                }
                continue;
            };
            seen.insert(i);
            if !w.writable.contains(i) {
                map.next_value::<Skip>()?;
                if w.refused.contains(i) {
                    errors.push(Offender {
                        name: key.into_owned(),
                        location: "body",
                        rule: None,
                        detail: "is set by the server and cannot be sent".into(),
                    });
                }
                continue;
            }
            let f = res.field(i);
            match map.next_value_seed(Typed {
                ty: f.ty,
                nullable: f.nullable,
            })? {
                Ok(v) => {
                    // A typed JSON field's document must read as its type.
                    if let (Some(shape), Value::Json(doc)) = (f.shape, &v) {
                        if let Err(why) = shape(doc) {
                            errors.push(Offender {
                                name: key.into_owned(),
                                location: "body",
                                rule: None,
                                detail: format!("does not have the field's type: {why}"),
                            });
                            continue;
                        }
                    }
                    if !f.rules.is_empty() {
                        broken += res.check_rules(i, &v, &key, &mut errors);
                    }
                    values.push((i, v))
                }
                Err(e) => errors.push(Offender {
                    name: key.into_owned(),
                    location: "body",
                    rule: None,
                    detail: e.0,
                }),
            }
        }
        if let Some(key) = duplicate {
            return Ok(Err(Problem::unprocessable(
                format!("the body names `{key}` more than once"),
                vec![Offender {
                    name: key,
                    location: "body",
                    rule: None,
                    detail: "appears more than once".into(),
                }],
            )));
        }
        if w.create {
            let required = FieldSet(w.writable.0 & w.only.map_or(u64::MAX, |o| o.0));
            for i in required.iter() {
                let f = res.field(i);
                if !seen.contains(i) && !f.nullable && !f.default && f.generate.is_none() {
                    errors.push(Offender {
                        name: f.name.to_owned(),
                        location: "body",
                        rule: None,
                        detail: "is required".into(),
                    });
                }
            }
        }
        // The model's own rules see a row whose every member typed (a value that broke a
        // field's rule included), so that their errors join those of the fields.
        if let (Some(validate), true) = (res.model.validate, errors.len() == broken) {
            let input = Input {
                model: (res.model.rust_name, res.model.fields),
                values,
            };
            if let Err(e) = validate(&input) {
                errors.extend(e.into_offenders());
            }
            values = input.values;
        }
        if errors.is_empty() {
            return Ok(Ok(values));
        }
        let list: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        let more = match unlisted {
            0 => String::new(),
            n => format!(" and {n} more members that are not fields"),
        };
        Ok(Err(Problem::unprocessable(
            format!("the body has invalid fields: {}{more}", list.join(", ")),
            errors,
        )))
    }
}

/// A value read and dropped. Unlike serde's `IgnoredAny`, it is read like a kept value, so
/// the parser's nesting limit applies to it too (a body nested past it is not JSON we
/// accept: 400).
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// Past this many members that are not fields, repeats are found with a set.
const SCAN: usize = 16;

/// A member's value typed by its field as it is read: a value that does not fit is an
/// offender (the `Err` inside), not a parse error, so the rest of the body is still read.
struct Typed {
    ty: FieldType,
    nullable: bool,
}

impl<'de> DeserializeSeed<'de> for Typed {
    type Value = Result<Value, ValueError>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if matches!(self.ty, FieldType::Json | FieldType::Array(_)) {
            let json = serde_json::Value::deserialize(d)?;
            return Ok(Value::from_json(self.ty, self.nullable, json));
        }
        if self.ty == FieldType::Decimal {
            // The member's text, so that a number is read exactly rather than as an `f64`.
            let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
            let text = raw.get();
            return Ok(match text.as_bytes().first() {
                Some(b'-' | b'0'..=b'9') => Value::parse(self.ty, text),
                _ => match serde_json::from_str(text) {
                    Ok(json) => Value::from_json(self.ty, self.nullable, json),
                    Err(e) => Err(ValueError(e.to_string())),
                },
            });
        }
        d.deserialize_any(self)
    }
}

impl Typed {
    fn scalar(&self, json: serde_json::Value) -> Result<Value, ValueError> {
        Value::from_json(self.ty, self.nullable, json)
    }
}

impl<'de> Visitor<'de> for Typed {
    type Value = Result<Value, ValueError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(self.scalar(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(self.scalar(v.into()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        if self.ty == FieldType::Text {
            // Straight to the value: one copy of the text.
            return Ok(Value::parse(FieldType::Text, v));
        }
        Ok(self.scalar(v.into()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(self.scalar(v.into()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.scalar(serde_json::Value::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.scalar(serde_json::Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(self.scalar(serde_json::Value::Array(Vec::new())))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(self.scalar(serde_json::Value::Object(serde_json::Map::new())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Exposed;

    #[derive(serde::Serialize)]
    #[crate::expose(as = "notes", retrieve, create, update)]
    pub struct Note {
        #[expose(id, generated)]
        pub id: i64,
        pub title: String,
        pub stars: Option<i32>,
        pub data: Option<serde_json::Value>,
    }

    fn decode_note(body: &str, create: bool) -> Result<Vec<(usize, Value)>, Problem> {
        use crate::resource::Resource;
        static RES: std::sync::OnceLock<Resource> = std::sync::OnceLock::new();
        let res = RES.get_or_init(|| Resource::compile(<Note as Exposed>::MODEL));
        let writes = Writes {
            writable: res
                .policy(expose_core::OperationKind::Create)
                .unwrap()
                .fields,
            refused: FieldSet::default(),
            overwritten: FieldSet::default(),
            create,
            only: None,
        };
        decode(res, writes, body.as_bytes())
    }

    #[test]
    fn duplicates_are_422_wherever_they_are() {
        for (body, name) in [
            (r#"{"a":1,"a":2}"#, "a"),
            (r#"{"a":1,"a":2,"title":"t"}"#, "a"),
            (r#"{"b":0,"a":1,"a":2,"a":3,"c":[1,{"d":2}]}"#, "a"),
            (r#"{"title":"t","stars":1,"title":"u"}"#, "title"),
            (r#"{"id":1,"title":"t","id":2}"#, "id"),
        ] {
            let p = decode_note(body, false).unwrap_err();
            assert_eq!(p.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(p.errors().len(), 1, "{body}");
            assert_eq!(p.errors()[0].name, name, "{body}");
        }
        // Past the scan, the set finds duplicates too, of early and late members alike.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        for dup in ["k3", "k39"] {
            let body = format!("{{{},\"{dup}\":0}}", many.join(","));
            let p = decode_note(&body, false).unwrap_err();
            assert_eq!(p.errors().len(), 1);
            assert_eq!(p.errors()[0].name, dup);
        }
        // Without repeats, each member that is not a field is an offender.
        let p = decode_note(&format!("{{{}}}", many.join(",")), false).unwrap_err();
        assert_eq!(p.errors().len(), 40);
        // Invalid JSON after a duplicate is still invalid JSON.
        let p = decode_note(r#"{"a":1,"a":2,"b":}"#, false).unwrap_err();
        assert_eq!(p.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn members_are_typed_as_they_are_read_and_every_offender_is_named() {
        let v = decode_note(
            r#"{"stars":3,"title":"t","data":{"deep":[1,{"x":null}]}}"#,
            true,
        )
        .unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0], (2, Value::I32(3)));
        assert_eq!(v[1], (1, Value::Text("t".into())));
        assert!(matches!(&v[2], (3, Value::Json(j)) if j["deep"][1]["x"].is_null()));
        // Wrong types (a scalar, an array, an object), a member that is not a field, and a
        // missing required field are reported together, and the rest is still read.
        let p = decode_note(r#"{"stars":[1,2],"title":{"a":[]},"x":1,"id":5}"#, true).unwrap_err();
        let names: Vec<&str> = p.errors().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["stars", "title", "x", "id"]);
        assert!(p.errors()[0].detail.starts_with("expected"));
        let p = decode_note(r#"{"stars":2.5}"#, true).unwrap_err();
        let names: Vec<&str> = p.errors().iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["stars", "title"]);
        assert_eq!(p.errors()[1].detail, "is required");
        // Nested past the parser's limit, even where the value is dropped: not accepted JSON.
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for body in [
            format!(r#"{{"title":{deep}}}"#),
            format!(r#"{{"x":{deep}}}"#),
            format!(r#"{{"data":{deep}}}"#),
        ] {
            assert_eq!(
                decode_note(&body, false).unwrap_err().status(),
                StatusCode::BAD_REQUEST
            );
        }
        // Not an object at all.
        assert_eq!(
            decode_note("[1]", false).unwrap_err().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // `null` only where nullable.
        assert!(decode_note(r#"{"stars":null}"#, false).is_ok());
        assert_eq!(
            decode_note(r#"{"title":null}"#, false)
                .unwrap_err()
                .errors()[0]
                .detail,
            "must not be null"
        );
    }

    /// A body that declares `Content-Length: 10485760` and never sends a byte.
    struct Withheld;

    impl HttpBody for Withheld {
        type Data = axum::body::Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            std::task::Poll::Pending
        }

        fn size_hint(&self) -> hyper::body::SizeHint {
            hyper::body::SizeHint::with_exact(10 << 20)
        }
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_is_refused_unread() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let read = read(&headers, Body::new(Withheld), DEFAULT_BODY_LIMIT);
        let refused = tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .expect("refused without waiting for the body")
            .unwrap_err();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
}
