//! `Idempotency-Key` (the IETF httpapi draft) on writes: the answer to a keyed request is
//! stored in the write's own transaction, so a retry (after an "outcome unknown" too) gets
//! the first answer again instead of writing again.

use super::*;
use crate::resource::Held;
use axum::http::HeaderName;
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `Idempotency-Key`, named once.
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// `Idempotent-Replayed`: this answer is a stored one.
const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The table of stored answers (`Db::create_idempotency_table`).
pub(crate) const TABLE: &str = "expose_idempotency";

/// A request with a key, on a router that keeps answers.
pub(crate) struct Keyed {
    scope: String,
    key: String,
    fingerprint: String,
    now: i64,
    /// Answers stored before this (seconds since the epoch) have expired.
    oldest: i64,
}

/// The keyed request of `headers`, when `keep` says the router keeps answers (else a
/// well-formed key is ignored); 400 for a malformed key, kept or not, as the OpenAPI
/// document's pattern says.
pub(crate) fn keyed(
    res: &Resource,
    headers: &HeaderMap,
    keep: Option<Duration>,
    parts: &Parts,
    body: &[u8],
) -> Result<Option<Keyed>, Problem> {
    let Some(raw) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let bad = |why: &str| {
        Problem::bad_request(format!("the Idempotency-Key header {why}")).with_offender(Offender {
            name: "Idempotency-Key".into(),
            location: "header",
            rule: None,
            detail: why.into(),
        })
    };
    let key = raw.to_str().map_err(|_| bad("must be visible ASCII"))?;
    if key.is_empty() || key.len() > 255 {
        return Err(bad("must have 1 to 255 characters"));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("must be visible ASCII, without spaces"));
    }
    let Some(keep) = keep else {
        return Ok(None);
    };
    let mut hash = Sha256::new();
    let uri = &parts.uri;
    for part in [
        parts.method.as_str().as_bytes(),
        b" ",
        uri.path().as_bytes(),
        b"?",
        uri.query().unwrap_or("").as_bytes(),
        b"\n",
        body,
    ] {
        hash.update(part);
    }
    let fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(Some(Keyed {
        scope: format!("{} {}", parts.method, res.model.path),
        key: key.to_owned(),
        fingerprint,
        now,
        oldest: now.saturating_sub(keep.as_secs() as i64),
    }))
}

/// What a write does with its `Idempotency-Key` before it runs.
pub(crate) enum Keying<'r> {
    /// Run the write: with its key (held until dropped) when it has one.
    Run(Option<(Keyed, Held<'r>)>),
    /// Answer as the first request with this key was answered.
    Replay(Response),
}

/// The one preamble of every write's key: read it from the request (which then drops its
/// headers, [`Req::release_headers`]), hold it while the request runs (409 while another
/// request with it runs), and find a stored answer to replay.
pub(crate) async fn keying<'r>(
    res: &'r Resource,
    req: &mut Req<'_>,
    keep: Option<Duration>,
    body: &[u8],
) -> Result<Keying<'r>, Problem> {
    let keyed = keyed(res, &req.headers, keep, req.parts, body)?;
    req.release_headers();
    let Some(k) = keyed else {
        return Ok(Keying::Run(None));
    };
    let held = k.hold(res)?;
    if let Some(answer) = on_backend!(&req.db, stored(res, &k))? {
        return Ok(Keying::Replay(answer.response(true)));
    }
    Ok(Keying::Run(Some((k, held))))
}

impl Keyed {
    /// Holds the key while its request runs; 409 while another request with it runs.
    pub(crate) fn hold<'r>(&self, res: &'r Resource) -> Result<Held<'r>, Problem> {
        res.in_flight.hold((self.scope.clone(), self.key.clone()))
    }
}

/// The answer stored for a key: what the response was.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) etag: Option<String>,
    pub(crate) body: Option<Vec<u8>>,
}

impl Answer {
    /// The response, as first sent (marked `Idempotent-Replayed: true` when replayed).
    pub(crate) fn response(self, replayed: bool) -> Response {
        let mut response = match self.body {
            Some(body) => json_response(self.status, body),
            None => self.status.into_response(),
        };
        let h = response.headers_mut();
        for (name, value) in [(header::LOCATION, self.location), (header::ETAG, self.etag)] {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(name, v);
            }
        }
        if replayed {
            h.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
        }
        response
    }
}

/// The answer stored for `k`, if one has not expired; 422 when it answered another request.
pub(crate) async fn stored<B: Driver>(
    pool: &Pool<B>,
    res: &Resource,
    k: &Keyed,
) -> Result<Option<Answer>, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    w.push("SELECT fingerprint, status, location, etag, body FROM ")
        .push(TABLE)
        .push(" WHERE scope = ")
        .bind(Value::Text(k.scope.clone()))
        .push(" AND idem_key = ")
        .bind(Value::Text(k.key.clone()))
        .push(" AND created_at >= ")
        .bind(Value::I64(k.oldest));
    let mut conn = pool.acquire().await.map_err(map)?;
    let Some(row) = B::fetch_optional(&mut conn, &w.sql, &w.args)
        .await
        .map_err(map)?
    else {
        return Ok(None);
    };
    if B::get_text(&row, 0).map_err(map)?.as_deref() != Some(k.fingerprint.as_str()) {
        return Err(Problem::unprocessable(
            "this Idempotency-Key was used for another request; a new request needs a new key",
            vec![Offender {
                name: "Idempotency-Key".into(),
                location: "header",
                rule: None,
                detail: "was used for another request".into(),
            }],
        ));
    }
    let status = u16::try_from(B::get_i64(&row, 1).map_err(map)?)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| Problem::internal(&"a stored answer has no valid status"))?;
    Ok(Some(Answer {
        status,
        location: B::get_text(&row, 2).map_err(map)?,
        etag: B::get_text(&row, 3).map_err(map)?,
        body: B::get_text(&row, 4).map_err(map)?.map(String::into_bytes),
    }))
}

/// Stores `answer` for `k` on the write's transaction (an expired answer to the same key
/// is replaced).
pub(crate) async fn store<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    k: &Keyed,
    answer: &Answer,
) -> Result<(), Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    w.push("DELETE FROM ")
        .push(TABLE)
        .push(" WHERE scope = ")
        .bind(Value::Text(k.scope.clone()))
        .push(" AND idem_key = ")
        .bind(Value::Text(k.key.clone()))
        .push(" AND created_at < ")
        .bind(Value::I64(k.oldest));
    B::execute(conn, &w.sql, &w.args).await.map_err(map)?;
    let text = |v: &Option<String>| match v {
        Some(s) => Value::Text(s.clone()),
        None => Value::Null(crate::field_type::FieldType::Text),
    };
    let body = answer
        .body
        .as_ref()
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let mut w = SqlWriter::new(B::DIALECT);
    w.push("INSERT INTO ")
        .push(TABLE)
        .push(" (scope, idem_key, fingerprint, status, location, etag, body, created_at) VALUES (")
        .bind(Value::Text(k.scope.clone()))
        .push(", ")
        .bind(Value::Text(k.key.clone()))
        .push(", ")
        .bind(Value::Text(k.fingerprint.clone()))
        .push(", ")
        .bind(Value::I64(i64::from(answer.status.as_u16())))
        .push(", ")
        .bind(text(&answer.location))
        .push(", ")
        .bind(text(&answer.etag))
        .push(", ")
        .bind(text(&body))
        .push(", ")
        .bind(Value::I64(k.now))
        .push(")");
    B::execute(conn, &w.sql, &w.args).await.map_err(map)?;
    Ok(())
}
