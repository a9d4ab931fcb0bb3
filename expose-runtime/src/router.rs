//! Routes of a compiled resource: `/{path}` and `/{path}/{id}`, a 405 problem with `Allow`
//! for every method that is not exposed.

use crate::db::Db;
use crate::handlers::{self, Req};
use crate::model::Model;
use crate::problem::Problem;
use crate::resource::Resource;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRef, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use std::any::Any;
use std::future::Future;
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

/// Runs one operation: bounds its query string and its time, and traces the outcome with
/// the resource, operation, status and latency.
async fn serve<F>(
    path: &'static str,
    operation: &'static str,
    config: &RouterConfig,
    query_len: usize,
    op: F,
) -> Response
where
    F: Future<Output = Result<Response, Problem>>,
{
    let started = Instant::now();
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
        let sent = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let op = crate::commit_point::watch(sent.clone(), op);
        tokio::pin!(op);
        match tokio::time::timeout(config.request_timeout, op.as_mut()).await {
            Ok(r) => respond(r),
            // The write was sent before the deadline: its outcome is the answer.
            Err(_) if crate::commit_point::was_passed(&sent) => respond(op.await),
            Err(_) => Problem::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                format!(
                    "the request took longer than {} ms and was abandoned; nothing was written",
                    config.request_timeout.as_millis()
                ),
            )
            .into_response(),
        }
    };
    tracing::info!(
        resource = path,
        operation,
        status = response.status().as_u16(),
        latency_us = started.elapsed().as_micros() as u64,
        "expose request"
    );
    response
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
    let make_req = move |state: S, parts| Req {
        parts,
        db: Db::from_ref(&state),
        state: boxes_state.then(|| Arc::new(state) as Arc<dyn Any + Send + Sync>),
    };
    if res.list.is_some() {
        let (res, config) = (res.clone(), config.clone());
        collection = collection.get(move |State(s): State<S>, req: Request| async move {
            let n = query_len(&req);
            let (parts, _) = req.into_parts();
            serve(
                path,
                "list",
                &config,
                n,
                handlers::list(&res, make_req(s, parts)),
            )
            .await
        });
    }
    if res.create.is_some() {
        let (res, config) = (res.clone(), config.clone());
        collection = collection.post(move |State(s): State<S>, req: Request| async move {
            let n = query_len(&req);
            let (parts, body) = req.into_parts();
            let limit = config.body_limit;
            let op = handlers::create(&res, make_req(s, parts), limit, body);
            serve(path, "create", &config, n, op).await
        });
    }
    if res.retrieve.is_some() {
        let (res, config) = (res.clone(), config.clone());
        item =
            item.get(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let n = query_len(&req);
                    let (parts, _) = req.into_parts();
                    let op = async {
                        handlers::retrieve(&res, make_req(s, parts), &path_key(key)?).await
                    };
                    serve(path, "retrieve", &config, n, op).await
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
                    let op = async {
                        handlers::update(&res, make_req(s, parts), &path_key(key)?, limit, body)
                            .await
                    };
                    serve(path, "update", &config, n, op).await
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
                    let op =
                        async { handlers::remove(&res, make_req(s, parts), &path_key(key)?).await };
                    serve(path, "remove", &config, n, op).await
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
