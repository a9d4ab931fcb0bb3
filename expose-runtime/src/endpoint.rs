//! One exposed operation as an axum handler, and what every operation's request goes
//! through: the query-string bound, the request timeout (with the write's point of no
//! return, [`Sent`]) and the trace line.
//!
//! [`Endpoint`] implements axum's [`Handler`] itself instead of being a closure with
//! extractors: it takes the request and the app's state as they come and runs the
//! operation in one boxed future of its own. Kept for: boxed apart, neither future passes
//! glibc's 1 KiB per-thread cache (about 1 000 instructions per request at 32 connections,
//! `bench/PROFILE.md`, 2026-12-01).

use crate::config::RouterConfig;
use crate::db::DbState;
use crate::db::Sent;
use crate::handlers::{self, Req};
use crate::problem::Problem;
use crate::resource::Resource;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use expose_core::OperationKind;
use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

/// One operation of a resource, routed by [`crate::router()`]; cloned for every request (as
/// axum does with handlers).
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) res: Arc<Resource>,
    pub(crate) config: RouterConfig,
    pub(crate) kind: OperationKind,
    /// Whether some operation of the resource shows the app's state to hooks.
    pub(crate) boxes_state: bool,
    /// Served on the collection path: an update or remove of the rows its filters choose.
    pub(crate) on_collection: bool,
    /// The model's declared action of this index, run as an update (`kind` is `Update`),
    /// served at `/{path}/{id}/{name}`.
    pub(crate) action: Option<usize>,
}

/// The marker type of [`Endpoint`]'s [`Handler`] implementation.
pub(crate) struct Direct;

impl<S: DbState> Handler<Direct, S> for Endpoint {
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: S) -> Self::Future {
        Box::pin(run(self, req, state))
    }
}

/// Runs the endpoint's operation on one request.
async fn run<S: DbState>(e: Endpoint, req: Request, state: S) -> Response {
    run_with(e, req, state, None).await
}

/// What a custom handler adds to an operation ([`crate::Call`]): conditions ANDed with the
/// scope, outside the client's filters, and the key when it is not the path's last segment.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    pub(crate) filters: Vec<crate::filter::Filter>,
    pub(crate) key: Option<String>,
}

/// Runs the endpoint's operation on one request, with what a custom handler adds, under the
/// query-string bound, the timeout and the trace line.
pub(crate) async fn run_with<S: DbState>(
    e: Endpoint,
    req: Request,
    state: S,
    extra: Option<Box<Extra>>,
) -> Response {
    let query_len = req.uri().query().map_or(0, str::len);
    let sent = Sent::default();
    let mut op = operation(&e, req, state, &sent, extra.as_deref());
    serve(&e, query_len, &sent, op.as_mut()).await
}

/// The future of the endpoint's operation on one request, not bounded in time.
pub(crate) fn operation<'a, S: DbState>(
    ep: &'a Endpoint,
    req: Request,
    state: S,
    sent_ref: &'a Sent,
    extra: Option<&'a Extra>,
) -> Pin<Box<dyn Future<Output = Result<Response, Problem>> + Send + 'a>> {
    let (parts, body) = req.into_parts();
    let (res, limit) = (&*ep.res, ep.config.body_limit);
    let filters = extra.map_or(&[][..], |x| x.filters.as_slice());
    let key = extra.and_then(|x| x.key.as_deref());
    // The request (with its headers) is taken inside the operation's future, so that the
    // endpoint's future does not hold a second header map.
    if let Some(index) = ep.action {
        return Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            let key = match key {
                Some(k) => Cow::Borrowed(k),
                None => action_key(res, req.parts)?,
            };
            handlers::action(res, req, index, &key).await
        });
    }
    match ep.kind {
        OperationKind::List => Box::pin(async move {
            let mut parts = parts;
            handlers::list(res, ep.req(state, &mut parts, sent_ref, filters)).await
        }),
        OperationKind::Create => Box::pin(async move {
            let mut parts = parts;
            let keep = ep.config.idempotency_keys;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            handlers::create(res, req, limit, keep, body).await
        }),
        OperationKind::Retrieve => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            let key = key_of(res, key, req.parts)?;
            handlers::retrieve(res, req, &key).await
        }),
        OperationKind::Update if ep.on_collection => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            handlers::update_many(res, req, limit, ep.config.idempotency_keys, body).await
        }),
        OperationKind::Update => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            let key = key_of(res, key, req.parts)?;
            handlers::update(res, req, &key, limit, ep.config.idempotency_keys, body).await
        }),
        OperationKind::Remove if ep.on_collection => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            handlers::remove_many(res, req, ep.config.idempotency_keys).await
        }),
        OperationKind::Remove => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            let key = key_of(res, key, req.parts)?;
            handlers::remove(res, req, &key, ep.config.idempotency_keys).await
        }),
        OperationKind::Replace => Box::pin(async move {
            let mut parts = parts;
            let req = ep.req(state, &mut parts, sent_ref, filters);
            let key = key_of(res, key, req.parts)?;
            handlers::replace(res, req, &key, limit, ep.config.idempotency_keys, body).await
        }),
    }
}

impl Endpoint {
    /// The operation's name for the trace line: the action's, or the operation's.
    pub(crate) fn name(&self) -> &'static str {
        match self.action {
            Some(i) => self.res.model.actions[i].name,
            None => self.kind.name(),
        }
    }

    /// The request as the handlers take it; the app's state is boxed only when some
    /// operation has a hook context to show it in.
    fn req<'a, S: DbState>(
        &self,
        state: S,
        parts: &'a mut Parts,
        sent: &'a Sent,
        extra: &'a [crate::filter::Filter],
    ) -> Req<'a> {
        // Apart from the head, so that the operation can drop them once read
        // (`Req::release_headers`).
        let headers = std::mem::take(&mut parts.headers);
        let db = state.db();
        let state = self.boxes_state.then(|| {
            let state = Arc::new(state) as Arc<dyn Any + Send + Sync>;
            (state, std::any::type_name::<S>())
        });
        Req {
            parts,
            headers,
            db,
            state,
            sent,
            extra,
        }
    }
}

/// The key a custom handler gave, else the path's last segment.
fn key_of<'p>(
    res: &Resource,
    given: Option<&'p str>,
    parts: &'p Parts,
) -> Result<Cow<'p, str>, Problem> {
    match given {
        Some(k) => Ok(Cow::Borrowed(k)),
        None => path_key(res, parts),
    }
}

/// The `{id}` segment of an action's path (`/posts/{id}/publish`): the segment before the
/// last.
fn action_key<'p>(res: &Resource, parts: &'p Parts) -> Result<Cow<'p, str>, Problem> {
    let path = parts.uri.path();
    let head = path.rsplit_once('/').map_or("", |(head, _)| head);
    segment_key(res, last_segment(head))
}

/// What follows the last `/` of `path`.
fn last_segment(path: &str) -> &str {
    // Keys are short: a byte loop, not `rsplit`'s searcher.
    &path[path.bytes().rposition(|b| b == b'/').map_or(0, |i| i + 1)..]
}

/// The `{id}` segment of an item's path: the path's last segment (the router's item route
/// ends with it), percent-decoded as axum decodes its path parameters, and borrowed from
/// the request unless it had escapes. Read from the path rather than with axum's `Path`,
/// which wants exactly one parameter: the router also serves nested under a prefix with
/// parameters of its own (`/tenants/{tenant}`).
fn path_key<'p>(res: &Resource, parts: &'p Parts) -> Result<Cow<'p, str>, Problem> {
    segment_key(res, last_segment(parts.uri.path()))
}

/// A raw path segment as a key, percent-decoded.
fn segment_key<'p>(res: &Resource, raw: &'p str) -> Result<Cow<'p, str>, Problem> {
    if !raw.bytes().any(|b| b == b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| handlers::bad_key(res, raw, "not UTF-8 once percent-decoded".into()))
}

/// The future of one operation, pinned where it is created: the timeout holds a pointer,
/// so the operation's state is never moved.
pub(crate) type Op<'a> = Pin<&'a mut (dyn Future<Output = Result<Response, Problem>> + Send)>;

/// Runs one operation: bounds its query string and its time, and traces the outcome with
/// the resource, operation, status and latency.
pub(crate) async fn serve(e: &Endpoint, query_len: usize, sent: &Sent, mut op: Op<'_>) -> Response {
    let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
    let config = &e.config;
    let response = if query_len > config.max_query_length {
        Problem::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            format!(
                "the query string is longer than {} bytes",
                config.max_query_length
            ),
        )
        .into_response()
    } else {
        match tokio::time::timeout(config.request_timeout, op.as_mut()).await {
            // The connection failed after the write was sent: applied or not, nobody knows.
            Ok(Err(p)) if p.is_unanswered() && sent.get() => {
                Problem::outcome_unknown("its answer was lost").into_response()
            }
            Ok(r) => respond(r),
            // Sent before the deadline: the database decides it, and the request is not held
            // for it. Dropping the operation closes a connection whose statement is in
            // flight (`Autocommit`); a transaction's goes back through sqlx's release check,
            // which waits out its `COMMIT` before the connection is reused.
            Err(_) if sent.get() => {
                sent.abandon();
                Problem::outcome_unknown(&format!(
                    "did not answer within {} ms",
                    config.request_timeout.as_millis()
                ))
                .into_response()
            }
            Err(_) => timed_out(config),
        }
    };
    if let Some(started) = started {
        tracing::info!(
            resource = e.res.model.path,
            operation = e.name(),
            status = response.status().as_u16(),
            latency_us = started.elapsed().as_micros() as u64,
            "expose request"
        );
    }
    response
}

fn timed_out(config: &RouterConfig) -> Response {
    Problem::new(
        StatusCode::GATEWAY_TIMEOUT,
        "timeout",
        format!(
            "the request took longer than {} ms and was abandoned; nothing was written",
            config.request_timeout.as_millis()
        ),
    )
    .into_response()
}

fn respond(r: Result<Response, Problem>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use crate::{expose, Db, RouterConfig};
    use axum::body::{Body, Bytes};
    use axum::http::{header, Request, StatusCode};
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;
    use tower::ServiceExt;

    #[expose(as = "notes", create)]
    struct Note {
        #[expose(id, generated)]
        id: i64,
        text: String,
    }

    /// A request body that never ends.
    struct Endless;

    impl futures_core::Stream for Endless {
        type Item = Result<Bytes, Infallible>;
        fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Pending
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_request_timeout_follows_tokios_clock() {
        // Lazy: the request never reaches the database.
        let db: Db = sqlx::SqlitePool::connect_lazy("sqlite::memory:")
            .unwrap()
            .into();
        let config = RouterConfig {
            request_timeout: Duration::from_secs(30),
            ..RouterConfig::default()
        };
        let app = Note::router_with(config).with_state(db);
        let req = Request::post("/notes")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(Endless))
            .unwrap();
        let (paused, real) = (tokio::time::Instant::now(), std::time::Instant::now());
        let response = app.oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        assert!(
            paused.elapsed() >= Duration::from_secs(30),
            "on tokio's clock"
        );
        assert!(
            real.elapsed() < Duration::from_secs(10),
            "not on the wall clock"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_declared_length_over_the_limit_is_refused_before_the_body_is_read() {
        let db: Db = sqlx::SqlitePool::connect_lazy("sqlite::memory:")
            .unwrap()
            .into();
        let app = Note::router().with_state(db);
        // The body never comes: only the header can answer this in time.
        let req = Request::post("/notes")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, "10485760")
            .body(Body::from_stream(Endless))
            .unwrap();
        let started = tokio::time::Instant::now();
        let response = app.oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "answered at once"
        );
    }
}
