//! Routes of a compiled resource: `/{path}` and `/{path}/{id}`, a 405 problem with `Allow`
//! for every method that is not exposed.

use crate::db::Db;
use crate::endpoint::{Endpoint, Kind};
use crate::handlers;
use crate::model::Model;
use crate::problem::Problem;
use crate::resource::Resource;
use axum::extract::FromRef;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use std::time::Duration;

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

fn method_not_allowed(allow: &HeaderValue) -> Response {
    let detail = match allow.to_str() {
        Ok("") | Err(_) => "no method is exposed on this path".to_owned(),
        Ok(methods) => format!("this path allows {methods}"),
    };
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
        .with_header(header::ALLOW, allow.clone())
        .into_response()
}

/// Builds the router of a model; the `router()` function `#[expose]` emits calls this.
pub fn router<S>(model: &'static Model, config: RouterConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    let res = Resource::compiled(model);
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
    let endpoint = |kind, writes| Endpoint {
        res,
        config: config.clone(),
        kind,
        writes,
        boxes_state,
    };
    // Reads write nothing unless their hooks do (then they commit a transaction).
    let read_writes =
        |op: &Option<crate::model::Operation>| op.as_ref().is_some_and(handlers::has_hooks);
    if res.list.is_some() {
        collection = collection.get(endpoint(Kind::List, read_writes(&model.list)));
    }
    if res.create.is_some() {
        collection = collection.post(endpoint(Kind::Create, true));
    }
    if res.retrieve.is_some() {
        item = item.get(endpoint(Kind::Retrieve, read_writes(&model.retrieve)));
    }
    if res.update.is_some() {
        item = item.patch(endpoint(Kind::Update, true));
    }
    if res.remove {
        item = item.delete(endpoint(Kind::Remove, true));
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
