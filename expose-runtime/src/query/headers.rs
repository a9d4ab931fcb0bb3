//! The request headers that shape a response: `Prefer` (RFC 7240), `Range` and `Accept`.

use super::grammar;
use crate::problem::Problem;
use axum::http::{header, HeaderMap};

/// The media type of PostgREST's singular responses.
pub(crate) const OBJECT_JSON: &str = "application/vnd.pgrst.object+json";

/// What to answer a write with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Return {
    Representation,
    Minimal,
    HeadersOnly,
}

/// The preferences of a request that this API honours.
#[derive(Debug, Default)]
pub(crate) struct Prefer {
    pub(crate) count: bool,
    pub(crate) ret: Option<Return>,
    /// What goes into `Preference-Applied`.
    pub(crate) applied: Vec<&'static str>,
}

/// Reads every `Prefer` header; with `handling=strict`, an unknown preference is refused.
pub(crate) fn prefer(headers: &HeaderMap) -> Result<Prefer, Problem> {
    let mut p = Prefer::default();
    let mut strict = false;
    let mut unknown = Vec::new();
    for value in headers.get_all("prefer") {
        let Ok(value) = value.to_str() else {
            return Err(Problem::bad_request("the Prefer header is not valid text"));
        };
        for pref in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let applied = match pref {
                "count=exact" | "count=planned" | "count=estimated" => {
                    p.count = true;
                    "count=exact"
                }
                "return=representation" => {
                    p.ret = Some(Return::Representation);
                    "return=representation"
                }
                "return=minimal" => {
                    p.ret = Some(Return::Minimal);
                    "return=minimal"
                }
                "return=headers-only" => {
                    p.ret = Some(Return::HeadersOnly);
                    "return=headers-only"
                }
                "handling=strict" => {
                    strict = true;
                    "handling=strict"
                }
                "handling=lenient" => "handling=lenient",
                other => {
                    unknown.push(other.to_owned());
                    continue;
                }
            };
            if !p.applied.contains(&applied) {
                p.applied.push(applied);
            }
        }
    }
    if strict && !unknown.is_empty() {
        return Err(Problem::bad_request(format!(
            "unknown preference {} under handling=strict; this API knows count=exact, \
             return=representation|minimal|headers-only and handling=strict|lenient",
            unknown.join(", ")
        )));
    }
    Ok(p)
}

/// Reads `Range: 0-24` (with `Range-Unit: items` or none).
pub(crate) fn range(headers: &HeaderMap) -> Result<Option<(u64, Option<u64>)>, Problem> {
    let Some(v) = headers.get(header::RANGE) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| Problem::bad_request("the Range header is not valid text"))?;
    let v = v.strip_prefix("items=").unwrap_or(v);
    grammar::parse_range_header(v)
        .map(Some)
        .map_err(|e| Problem::bad_request(e.message))
}

/// Whether the client asked for one object instead of an array.
pub(crate) fn wants_object(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|m| m.trim().starts_with(OBJECT_JSON)))
}

/// Whether the client accepts a JSON answer (no `Accept` counts as yes).
pub(crate) fn accepts_json(headers: &HeaderMap) -> bool {
    let mut any = false;
    for v in headers.get_all(header::ACCEPT) {
        any = true;
        let Ok(v) = v.to_str() else { continue };
        for m in v.split(',') {
            let m = m
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if matches!(
                m.as_str(),
                "*/*" | "application/*" | "application/json" | OBJECT_JSON
            ) || (m.starts_with("application/") && m.ends_with("+json"))
            {
                return true;
            }
        }
    }
    !any
}

/// 406 when the client accepts no JSON.
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    if accepts_json(headers) {
        Ok(())
    } else {
        Err(Problem::new(
            axum::http::StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "this API answers with application/json (or application/vnd.pgrst.object+json)",
        ))
    }
}
