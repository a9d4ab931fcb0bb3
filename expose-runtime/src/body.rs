//! Request bodies of create and update: content type, size, JSON syntax, and each member
//! checked against the writable fields and typed by its field.

use crate::problem::{Offender, Problem};
use crate::resource::{FieldSet, Resource};
use crate::value::Value;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::{Deserializer, MapAccess, Visitor};
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
) -> Result<Vec<(String, serde_json::Value)>, Problem> {
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
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("the body is larger than {limit} bytes"),
        )
    })?;
    parse_object(&bytes)
}

/// Parses a JSON object, refusing duplicate members.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Vec<(String, serde_json::Value)>, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = de
        .deserialize_any(ObjectVisitor)
        .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(Ok(entries)) => Ok(entries),
        Ok(Err(problem)) => Err(problem),
        Err(e) if e.is_data() => Err(Problem::unprocessable(e.to_string(), Vec::new())),
        Err(e) => Err(Problem::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Result<Vec<(String, serde_json::Value)>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
        // Small bodies (the usual case) are checked by a scan; past a few members a set
        // keeps a body of many members linear.
        const SCAN: usize = 16;
        let mut seen: Option<std::collections::HashSet<String>> = None;
        let mut duplicate = None;
        // Every member is read, even after a duplicate, so that the rest of the body is
        // still checked as JSON (the deserializer refuses a map left half-read).
        while let Some(key) = map.next_key::<String>()? {
            let value: serde_json::Value = map.next_value()?;
            let repeated = match seen.as_mut() {
                Some(set) => !set.insert(key.clone()),
                None => entries.iter().any(|(k, _)| *k == key),
            };
            if repeated {
                duplicate.get_or_insert(key);
                continue;
            }
            entries.push((key, value));
            if seen.is_none() && entries.len() >= SCAN {
                seen = Some(entries.iter().map(|(k, _)| k.clone()).collect());
            }
        }
        if let Some(key) = duplicate {
            return Ok(Err(Problem::unprocessable(
                format!("the body names `{key}` more than once"),
                vec![Offender {
                    name: key,
                    location: "body",
                    detail: "appears more than once".into(),
                }],
            )));
        }
        Ok(Ok(entries))
    }
}

/// Checks and types the members of a write body. With `create`, every writable field that
/// is neither nullable nor defaulted must be present. `errors` may
/// already hold offenders found earlier; they are reported together.
pub(crate) fn decode(
    res: &Resource,
    writable: FieldSet,
    entries: Vec<(String, serde_json::Value)>,
    create: bool,
    errors: &mut Vec<Offender>,
) -> Result<Vec<(usize, Value)>, Problem> {
    let mut values = Vec::with_capacity(entries.len());
    let mut seen = FieldSet::default();
    let mut writable_names: Option<String> = None;
    // Members that are not fields are named up to a bound, so that a body of many members
    // does not become a much larger problem response.
    let mut unlisted = 0usize;
    for (name, json) in entries {
        let Some(i) = res.by_name(&name).filter(|i| writable.contains(*i)) else {
            if errors.len() < MAX_UNKNOWN_LISTED {
                let writable_names = writable_names.get_or_insert_with(|| res.names(writable));
                errors.push(Offender {
                    name,
                    location: "body",
                    detail: format!(
                        "is not a field you can write; writable fields: {writable_names}"
                    ),
                });
            } else {
                unlisted += 1;
            }
            continue;
        };
        let f = res.field(i);
        match Value::from_json(f.ty, f.nullable, json) {
            Ok(v) => {
                seen.insert(i);
                values.push((i, v));
            }
            Err(e) => errors.push(Offender {
                name,
                location: "body",
                detail: e.0,
            }),
        }
    }
    if create {
        for i in writable.iter() {
            let f = res.field(i);
            if !seen.contains(i)
                && !f.nullable
                && !f.default
                && !errors.iter().any(|e| e.name == f.name)
            {
                errors.push(Offender {
                    name: f.name.to_owned(),
                    location: "body",
                    detail: "is required".into(),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        let list: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        let more = match unlisted {
            0 => String::new(),
            n => format!(" and {n} more members that are not fields"),
        };
        Err(Problem::unprocessable(
            format!("the body has invalid fields: {}{more}", list.join(", ")),
            std::mem::take(errors),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_422_wherever_they_are() {
        for body in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"a":2,"b":3}"#,
            r#"{"b":0,"a":1,"a":2,"a":3,"c":[1,{"d":2}]}"#,
        ] {
            let p = parse_object(body.as_bytes()).unwrap_err();
            assert_eq!(p.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(p.errors()[0].name, "a");
        }
        // Past the scan, the set finds duplicates too, of early and late members alike.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        for dup in ["k3", "k39"] {
            let body = format!("{{{},\"{dup}\":0}}", many.join(","));
            let p = parse_object(body.as_bytes()).unwrap_err();
            assert_eq!(p.errors()[0].name, dup);
        }
        assert_eq!(
            parse_object(format!("{{{}}}", many.join(",")).as_bytes())
                .unwrap()
                .len(),
            40
        );
        // Invalid JSON after a duplicate is still invalid JSON.
        let p = parse_object(br#"{"a":1,"a":2,"b":}"#).unwrap_err();
        assert_eq!(p.status(), StatusCode::BAD_REQUEST);
    }
}
