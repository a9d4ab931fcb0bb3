//! One exposed operation as an axum handler, and what every operation's request goes
//! through: the query-string bound, the request timeout ([`crate::deadline`], with the
//! commit point of writes) and the trace line.
//!
//! [`Endpoint`] implements axum's [`Handler`] itself instead of being a closure with
//! extractors: it takes the request and the app's state as they come and runs in one boxed
//! future per request, made by operation so that its size is that operation's own (it is
//! allocated and moved for every request).

use crate::db::Db;
use crate::handlers::{self, Req};
use crate::problem::Problem;
use crate::resource::Resource;
use crate::router::RouterConfig;
use axum::extract::{FromRef, Request};
use axum::handler::Handler;
use axum::http::{request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use std::any::Any;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

// Each operation's future is boxed apart from the request's: together they would pass the
// size that glibc's allocator serves from its per-thread cache (1 KiB), and a larger block
// costs about 1 000 more instructions to allocate and free under concurrent load (measured
// with callgrind at 32 connections). Apart, each is served from the cache.

/// Which operation an [`Endpoint`] runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    List,
    Create,
    Retrieve,
    Update,
    Remove,
}

impl Kind {
    /// The operation's name in the trace line.
    fn name(self) -> &'static str {
        match self {
            Kind::List => "list",
            Kind::Create => "create",
            Kind::Retrieve => "retrieve",
            Kind::Update => "update",
            Kind::Remove => "remove",
        }
    }
}

/// One operation of a compiled resource, routed by [`crate::router()`]. Cloned for every
/// request (as axum does with handlers): references and copies only, no reference count.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) res: &'static Resource,
    pub(crate) config: RouterConfig,
    pub(crate) kind: Kind,
    /// Whether the operation can write, so that its point of no return is watched
    /// ([`crate::commit_point`]): every write, and reads whose hooks commit a transaction.
    pub(crate) writes: bool,
    /// Whether some operation of the resource shows the app's state to hooks.
    pub(crate) boxes_state: bool,
}

/// The marker type of [`Endpoint`]'s [`Handler`] implementation.
pub(crate) struct Direct;

impl<S> Handler<Direct, S> for Endpoint
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: S) -> Self::Future {
        let (parts, body) = req.into_parts();
        match self.kind {
            Kind::List => Box::pin(list(self, parts, state)),
            Kind::Create => Box::pin(create(self, parts, body, state)),
            Kind::Retrieve => Box::pin(retrieve(self, parts, state)),
            Kind::Update => Box::pin(update(self, parts, body, state)),
            Kind::Remove => Box::pin(remove(self, parts, state)),
        }
    }
}

async fn list<S>(e: Endpoint, mut parts: Parts, state: S) -> Response
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    let query_len = query_len(&parts);
    let mut op = Box::pin(handlers::list(e.res, e.req(state, &mut parts)));
    serve(&e, query_len, op.as_mut()).await
}

async fn create<S>(e: Endpoint, mut parts: Parts, body: axum::body::Body, state: S) -> Response
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    let limit = e.config.body_limit;
    let query_len = query_len(&parts);
    let mut op = Box::pin(handlers::create(
        e.res,
        e.req(state, &mut parts),
        limit,
        body,
    ));
    serve(&e, query_len, op.as_mut()).await
}

async fn retrieve<S>(e: Endpoint, mut parts: Parts, state: S) -> Response
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    let query_len = query_len(&parts);
    let mut op = Box::pin(async {
        let req = e.req(state, &mut parts);
        let key = path_key(e.res, req.parts)?;
        handlers::retrieve(e.res, req, &key).await
    });
    serve(&e, query_len, op.as_mut()).await
}

async fn update<S>(e: Endpoint, mut parts: Parts, body: axum::body::Body, state: S) -> Response
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    let query_len = query_len(&parts);
    let limit = e.config.body_limit;
    let mut op = Box::pin(async {
        let req = e.req(state, &mut parts);
        let key = path_key(e.res, req.parts)?;
        handlers::update(e.res, req, &key, limit, body).await
    });
    serve(&e, query_len, op.as_mut()).await
}

async fn remove<S>(e: Endpoint, mut parts: Parts, state: S) -> Response
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    let query_len = query_len(&parts);
    let mut op = Box::pin(async {
        let req = e.req(state, &mut parts);
        let key = path_key(e.res, req.parts)?;
        handlers::remove(e.res, req, &key).await
    });
    serve(&e, query_len, op.as_mut()).await
}

impl Endpoint {
    /// The request as the handlers take it; the app's state is boxed only when some
    /// operation has a hook context to show it in.
    fn req<'a, S>(&self, state: S, parts: &'a mut Parts) -> Req<'a>
    where
        S: Send + Sync + 'static,
        Db: FromRef<S>,
    {
        // Apart from the head, so that the operation can drop them once read
        // (`Req::release_headers`). Taken here, inside the operation's future, so that the
        // endpoint's future does not hold a second map (`bench/PROFILE.md`).
        let headers = std::mem::take(&mut parts.headers);
        let parts = &*parts;
        if self.boxes_state {
            return Req {
                parts,
                headers,
                db: Db::from_ref(&state),
                state: Some(Arc::new(state)),
            };
        }
        // The common state is the `Db` itself: the request's copy is taken rather than
        // cloned again (a clone is a reference count that every worker thread bumps).
        let mut state = Some(state);
        let db = match (&mut state as &mut dyn Any).downcast_mut::<Option<Db>>() {
            Some(db) => db.take().expect("just set"),
            None => Db::from_ref(state.as_ref().expect("just set")),
        };
        Req {
            parts,
            headers,
            db,
            state: None,
        }
    }
}

/// The length of the query string, which [`serve`] bounds.
fn query_len(parts: &Parts) -> usize {
    parts.uri.query().map_or(0, str::len)
}

/// The `{id}` segment of an item's path: the path's last segment (the router's item route
/// ends with it), percent-decoded as axum decodes its path parameters, and borrowed from
/// the request unless it had escapes. Read from the path rather than with axum's `Path`,
/// which wants exactly one parameter: the router also serves nested under a prefix with
/// parameters of its own (`/tenants/{tenant}`).
fn path_key<'p>(res: &Resource, parts: &'p Parts) -> Result<Cow<'p, str>, Problem> {
    let path = parts.uri.path();
    // Keys are short: a byte loop, not `rsplit`'s searcher.
    let raw = &path[path.bytes().rposition(|b| b == b'/').map_or(0, |i| i + 1)..];
    if !raw.bytes().any(|b| b == b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| handlers::bad_key(res, raw, "not UTF-8 once percent-decoded".into()))
}

/// The future of one operation, pinned where it is created: the layers around it (timeout,
/// commit point) hold a pointer, so the operation's state is never moved.
type Op<'a> = Pin<&'a mut (dyn Future<Output = Result<Response, Problem>> + Send)>;

/// Runs one operation: bounds its query string and its time, and traces the outcome with
/// the resource, operation, status and latency.
async fn serve(e: &Endpoint, query_len: usize, mut op: Op<'_>) -> Response {
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
    } else if e.writes {
        let mut op = crate::commit_point::watch(op);
        match crate::deadline::within(config.request_timeout, &mut op).await {
            Ok(r) => respond(r),
            // The write was sent before the deadline: its outcome is the answer.
            Err(_) if crate::commit_point::has_passed(&op) => respond(op.await),
            Err(_) => timed_out(config),
        }
    } else {
        match crate::deadline::within(config.request_timeout, op.as_mut()).await {
            Ok(r) => respond(r),
            Err(_) => timed_out(config),
        }
    };
    if let Some(started) = started {
        tracing::info!(
            resource = e.res.model.path,
            operation = e.kind.name(),
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
