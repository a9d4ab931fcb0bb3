//! Routes of a compiled resource: `/{path}` and `/{path}/{id}`, a 405 problem with `Allow`
//! for every method that is not exposed.

use crate::db::Db;
use crate::handlers::{self, Req};
use crate::model::Model;
use crate::problem::Problem;
use crate::resource::Resource;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use std::any::Any;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of the routers `#[expose]` builds; `Default` gives safe limits.
///
/// ```
/// use expose_runtime::RouterConfig;
/// let config = RouterConfig {
///     body_limit: 64 * 1024,
///     ..RouterConfig::default()
/// };
/// # let _ = config;
/// ```
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Largest request body accepted, in bytes (413 beyond; default 1 MiB).
    pub body_limit: usize,
    /// Longest query string accepted, in bytes (414 beyond; default 8 KiB).
    pub max_query_length: usize,
    /// How long one request may take before it is answered 504 and its transaction rolled
    /// back (default 30 s). A write whose statement (or `COMMIT`) was already sent when the
    /// deadline passes is not abandoned, since the database would still apply it: the
    /// request waits for its outcome (bounded by the statement and busy timeouts of
    /// [`PoolConfig`](crate::PoolConfig)), so a 504 always means nothing was written.
    pub request_timeout: Duration,
}

impl Default for RouterConfig {
    fn default() -> RouterConfig {
        RouterConfig {
            body_limit: crate::body::DEFAULT_BODY_LIMIT,
            max_query_length: 8 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// The future of one operation, pinned where the handler created it: the layers around
/// it (timeout, commit point) hold a pointer, so the operation's state is never moved.
type Op<'a> = Pin<&'a mut (dyn Future<Output = Result<Response, Problem>> + Send)>;

/// Runs one operation: bounds its query string and its time, and traces the outcome with
/// the resource, operation, status and latency. `writes`: whether the operation can write
/// (its point of no return is then watched, see [`crate::commit_point`]).
async fn serve(
    path: &'static str,
    operation: &'static str,
    config: &RouterConfig,
    query_len: usize,
    writes: bool,
    mut op: Op<'_>,
) -> Response {
    let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
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
    } else if writes {
        let mut op = pin!(crate::commit_point::watch(op));
        match tokio::time::timeout(config.request_timeout, op.as_mut()).await {
            Ok(r) => respond(r),
            // The write was sent before the deadline: its outcome is the answer.
            Err(_) if crate::commit_point::take_passed(op.as_mut()) => respond(op.await),
            Err(_) => timed_out(config),
        }
    } else {
        match tokio::time::timeout(config.request_timeout, op.as_mut()).await {
            Ok(r) => respond(r),
            Err(_) => timed_out(config),
        }
    };
    if let Some(started) = started {
        tracing::info!(
            resource = path,
            operation,
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

fn query_len(req: &Request) -> usize {
    req.uri().query().map_or(0, str::len)
}

fn respond(r: Result<Response, Problem>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

fn method_not_allowed(allow: &HeaderValue) -> Response {
    let detail = match allow.to_str() {
        Ok("") | Err(_) => "no method is exposed on this path".to_owned(),
        Ok(methods) => format!("this path allows {methods}"),
    };
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
        .with_header(header::ALLOW, allow.clone())
        .into_response()
}

fn path_key(p: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    p.map(|Path(k)| k)
        .map_err(|e| Problem::bad_request(format!("the id in the path is not valid: {e}")))
}

/// Builds the router of a model; the `router()` function `#[expose]` emits calls this.
pub fn router<S>(model: &'static Model, config: RouterConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    let res = Arc::new(Resource::compile(model));
    let config = Arc::new(config);
    let path = model.path;
    let mut collection = MethodRouter::<S>::new();
    let mut item = MethodRouter::<S>::new();
    let boxes_state = [
        &model.list,
        &model.retrieve,
        &model.create,
        &model.update,
        &model.remove,
    ]
    .iter()
    .any(|op| op.as_ref().is_some_and(handlers::needs_ctx));
    // Reads write nothing unless their hooks do (then they commit a transaction).
    let read_writes =
        |op: &Option<crate::model::Operation>| op.as_ref().is_some_and(handlers::has_hooks);
    if res.list.is_some() {
        let (res, config) = (res.clone(), config.clone());
        let writes = read_writes(&model.list);
        collection = collection.get(move |State(s): State<S>, req: Request| async move {
            let n = query_len(&req);
            let (parts, _) = req.into_parts();
            let op = pin!(handlers::list(&res, make_req(s, &parts, boxes_state)));
            serve(path, "list", &config, n, writes, op).await
        });
    }
    if res.create.is_some() {
        let (res, config) = (res.clone(), config.clone());
        collection = collection.post(move |State(s): State<S>, req: Request| async move {
            let n = query_len(&req);
            let (parts, body) = req.into_parts();
            let limit = config.body_limit;
            let op = pin!(handlers::create(
                &res,
                make_req(s, &parts, boxes_state),
                limit,
                body
            ));
            serve(path, "create", &config, n, true, op).await
        });
    }
    if res.retrieve.is_some() {
        let (res, config) = (res.clone(), config.clone());
        let writes = read_writes(&model.retrieve);
        item =
            item.get(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let n = query_len(&req);
                    let (parts, _) = req.into_parts();
                    let op = pin!(async {
                        handlers::retrieve(&res, make_req(s, &parts, boxes_state), &path_key(key)?)
                            .await
                    });
                    serve(path, "retrieve", &config, n, writes, op).await
                },
            );
    }
    if res.update.is_some() {
        let (res, config) = (res.clone(), config.clone());
        item =
            item.patch(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let n = query_len(&req);
                    let (parts, body) = req.into_parts();
                    let limit = config.body_limit;
                    let op = pin!(async {
                        handlers::update(
                            &res,
                            make_req(s, &parts, boxes_state),
                            &path_key(key)?,
                            limit,
                            body,
                        )
                        .await
                    });
                    serve(path, "update", &config, n, true, op).await
                },
            );
    }
    if res.remove {
        let (res, config) = (res.clone(), config.clone());
        item =
            item.delete(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let n = query_len(&req);
                    let (parts, _) = req.into_parts();
                    let op = pin!(async {
                        handlers::remove(&res, make_req(s, &parts, boxes_state), &path_key(key)?)
                            .await
                    });
                    serve(path, "remove", &config, n, true, op).await
                },
            );
    }
    let collection_allow = allow(&[
        (res.list.is_some(), "GET, HEAD"),
        (res.create.is_some(), "POST"),
    ]);
    let item_allow = allow(&[
        (res.retrieve.is_some(), "GET, HEAD"),
        (res.update.is_some(), "PATCH"),
        (res.remove, "DELETE"),
    ]);
    collection = collection.fallback(move || async move { method_not_allowed(&collection_allow) });
    item = item.fallback(move || async move { method_not_allowed(&item_allow) });
    Router::new()
        .route(&format!("/{}", model.path), collection)
        .route(&format!("/{}/{{id}}", model.path), item)
}

/// The request as the handlers take it; the app's state is boxed only when some operation
/// has a hook context to show it in.
fn make_req<S>(state: S, parts: &Parts, boxes_state: bool) -> Req<'_>
where
    S: Send + Sync + 'static,
    Db: FromRef<S>,
{
    Req {
        parts,
        db: Db::from_ref(&state),
        state: boxes_state.then(|| Arc::new(state) as Arc<dyn Any + Send + Sync>),
    }
}

/// The `Allow` header value for the exposed methods.
fn allow(methods: &[(bool, &'static str)]) -> HeaderValue {
    let v: Vec<&str> = methods.iter().filter(|m| m.0).map(|m| m.1).collect();
    HeaderValue::from_str(&v.join(", ")).unwrap_or(HeaderValue::from_static(""))
}

/// Percent-encodes a key for use as one path segment.
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A fallback for the application's router: paths no route matches answer a 404
/// problem instead of an empty body.
///
/// ```
/// # use expose_runtime::not_found;
/// let app: axum::Router = axum::Router::new().fallback(not_found);
/// # let _ = app;
/// ```
pub async fn not_found(uri: axum::http::Uri) -> Response {
    Problem::not_found(format!("no resource at `{}`", uri.path())).into_response()
}
