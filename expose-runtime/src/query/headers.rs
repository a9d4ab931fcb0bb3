//! The request headers that shape a response: `Prefer` (RFC 7240), `Range` and `Accept`.

use super::grammar;
use crate::problem::Problem;
use axum::http::{header, HeaderMap, HeaderName};
use std::borrow::Cow;

/// `Prefer` (RFC 7240), named once (a name given as text is checked and hashed anew at
/// every lookup).
pub(crate) const PREFER: HeaderName = HeaderName::from_static("prefer");

/// `Preference-Applied` (RFC 7240).
pub(crate) const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static("preference-applied");

/// The media type of PostgREST's singular responses.
pub(crate) const OBJECT_JSON: &str = "application/vnd.pgrst.object+json";

/// The media type of a list page as CSV (postgrest-js `.csv()`).
pub(crate) const CSV: &str = "text/csv";

/// What to answer a write with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Return {
    Representation,
    Minimal,
    HeadersOnly,
}

/// Which total a list or write reports in `Content-Range` (`Prefer: count=...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count {
    Exact,
    Planned,
    Estimated,
}

/// What an upsert does with a row whose `on_conflict` columns match an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// `resolution=merge-duplicates`: the existing row takes the values sent.
    Merge,
    /// `resolution=ignore-duplicates`: the existing row is left as it is.
    Ignore,
}

/// The preferences of a request that this API honours.
#[derive(Debug, Default)]
pub(crate) struct Prefer {
    pub(crate) count: Option<Count>,
    pub(crate) ret: Option<Return>,
    /// `missing=default`: a column missing from a row of a bulk insert takes its default.
    pub(crate) missing_default: bool,
    pub(crate) resolution: Option<Resolution>,
    /// `max-affected=n`, honoured under `handling=strict` only (as PostgREST does).
    pub(crate) max_affected: Option<u64>,
    /// What goes into `Preference-Applied`.
    pub(crate) applied: Vec<Cow<'static, str>>,
}

/// Reads every `Prefer` header (preferences are comma-separated, in one header or several);
/// with `handling=strict`, an unknown preference is refused.
pub(crate) fn prefer(headers: &HeaderMap) -> Result<Prefer, Problem> {
    let mut p = Prefer::default();
    let mut strict = false;
    let mut unknown = Vec::new();
    let mut max_affected = None;
    for value in headers.get_all(PREFER) {
        let Ok(value) = value.to_str() else {
            return Err(Problem::bad_request("the Prefer header is not valid text"));
        };
        for pref in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            // Counts, returns and handling are echoed here (as the arm's own text: no copy
            // per request); the others by the operation that honours them.
            match pref {
                "count=exact" | "count=planned" | "count=estimated" => {
                    p.count = Some(match pref {
                        "count=exact" => Count::Exact,
                        "count=planned" => Count::Planned,
                        _ => Count::Estimated,
                    });
                    // What a write counts (the rows it wrote) is exact; a list says what it
                    // applied with `applied_count`.
                    p.apply("count=exact");
                }
                "return=representation" => {
                    p.ret = Some(Return::Representation);
                    p.apply("return=representation");
                }
                "return=minimal" => {
                    p.ret = Some(Return::Minimal);
                    p.apply("return=minimal");
                }
                "return=headers-only" => {
                    p.ret = Some(Return::HeadersOnly);
                    p.apply("return=headers-only");
                }
                "missing=default" => p.missing_default = true,
                "resolution=merge-duplicates" => p.resolution = Some(Resolution::Merge),
                "resolution=ignore-duplicates" => p.resolution = Some(Resolution::Ignore),
                "handling=strict" => {
                    strict = true;
                    p.apply("handling=strict");
                }
                "handling=lenient" => p.apply("handling=lenient"),
                other => {
                    match other.strip_prefix("max-affected=") {
                        Some(n) => {
                            max_affected = Some(n.parse::<u64>().map_err(|_| {
                                Problem::bad_request(format!(
                                    "`Prefer: {other}`: max-affected takes a whole number"
                                ))
                            })?)
                        }
                        None => unknown.push(other.to_owned()),
                    }
                    if max_affected.is_none() {
                        continue;
                    }
                }
            }
        }
    }
    if strict && !unknown.is_empty() {
        return Err(Problem::bad_request(format!(
            "unknown preference {} under handling=strict; this API knows \
             count=exact|planned|estimated, return=representation|minimal|headers-only, \
             missing=default, resolution=merge-duplicates|ignore-duplicates, max-affected=n \
             and handling=strict|lenient",
            unknown.join(", ")
        )));
    }
    if strict {
        p.max_affected = max_affected;
    }
    Ok(p)
}

impl Prefer {
    /// Records a preference as applied, for `Preference-Applied`.
    pub(crate) fn apply(&mut self, pref: impl Into<Cow<'static, str>>) {
        let pref = pref.into();
        if !self.applied.contains(&pref) {
            self.applied.push(pref);
        }
    }

    /// Says which count was applied (`count=exact` or `count=planned`), in the place of
    /// the `count=exact` recorded when the header was read.
    pub(crate) fn applied_count(&mut self, pref: &'static str) {
        match self.applied.iter_mut().find(|p| p.starts_with("count=")) {
            Some(p) => *p = Cow::Borrowed(pref),
            None => self.apply(pref),
        }
    }

    /// The `Preference-Applied` header's value, if any preference was applied.
    pub(crate) fn applied_header(&self) -> Option<axum::http::HeaderValue> {
        use axum::http::HeaderValue;
        match self.applied.as_slice() {
            [] => None,
            [Cow::Borrowed(one)] => Some(HeaderValue::from_static(one)),
            all => HeaderValue::from_maybe_shared(axum::body::Bytes::from(all.join(", "))).ok(),
        }
    }
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

/// Whether a media range (without its parameters, lower case) admits a JSON answer.
fn is_json(m: &str) -> bool {
    matches!(
        m,
        "*/*" | "application/*" | "application/json" | OBJECT_JSON
    ) || (m.starts_with("application/") && m.ends_with("+json"))
}

/// Each media range of every `Accept` header: its type (lower case, without parameters) and
/// its weight (`q`, 1 when absent or not a number).
fn accept_ranges(headers: &HeaderMap) -> impl Iterator<Item = (String, f32)> + '_ {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|m| {
            let mut parts = m.split(';');
            let ty = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (ty, q)
        })
}

/// Whether the client accepts a JSON answer (no `Accept` counts as yes).
pub(crate) fn accepts_json(headers: &HeaderMap) -> bool {
    let mut any = false;
    for (m, _) in accept_ranges(headers) {
        any = true;
        if is_json(&m) {
            return true;
        }
    }
    !any
}

/// How a list page is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMedia {
    /// A JSON array (`application/json`, the default).
    Array,
    /// The one matching row as a JSON object ([`OBJECT_JSON`]).
    Object,
    /// CSV ([`CSV`]): a header line, then a line per row.
    Csv,
}

/// The media type of a list's answer: CSV when `text/csv` is the client's preferred
/// acceptable type (highest `q`, the first listed among equals), else JSON as
/// [`require_json`] and [`wants_object`] decide; 406 when neither is acceptable.
pub(crate) fn list_media(headers: &HeaderMap) -> Result<ListMedia, Problem> {
    let mut best: Option<(bool, f32)> = None;
    for (m, q) in accept_ranges(headers) {
        let csv = m == CSV;
        if !(csv || is_json(&m)) || q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((csv, q));
        }
    }
    if matches!(best, Some((true, _))) {
        return Ok(ListMedia::Csv);
    }
    if !accepts_json(headers) {
        return Err(Problem::new(
            axum::http::StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            "a list answers with application/json, application/vnd.pgrst.object+json or \
             text/csv",
        ));
    }
    Ok(if wants_object(headers) {
        ListMedia::Object
    } else {
        ListMedia::Array
    })
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
