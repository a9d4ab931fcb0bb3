//! Routes of a compiled resource: `/{path}`, `/{path}/{id}` and its actions'
//! `/{path}/{id}/{action}`, a 405 problem with `Allow` for every method that is not exposed.

use crate::config::RouterConfig;
use crate::db::{Db, DbState};
use crate::endpoint::Endpoint;
use crate::handlers;
use crate::model::Model;
use crate::problem::Problem;
use crate::resource::Resource;
use crate::Exposed;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use expose_core::OperationKind;
use std::sync::Arc;

fn method_not_allowed_with(allow: &HeaderValue) -> Response {
    let detail = match allow.to_str() {
        Ok("") | Err(_) => "no method is exposed on this path".to_owned(),
        Ok(methods) => format!("this path allows {methods}"),
    };
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", detail)
        .with_header(header::ALLOW, allow.clone())
        .into_response()
}

/// A fallback for a custom route's `MethodRouter`: a 405 problem for a method it does not
/// route; axum adds the `Allow` header, from the methods routed on the path.
///
/// ```
/// use axum::routing::get;
/// use expose_runtime::method_not_allowed;
/// let mine = get(|| async { "mine" }).fallback(method_not_allowed);
/// let app: axum::Router = axum::Router::new().route("/posts/mine", mine);
/// # let _ = app;
/// ```
pub async fn method_not_allowed() -> Response {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this method is not allowed on this path; the Allow header lists those that are",
    )
    .into_response()
}

/// Builds the router of an exposed model; the `router()` function `#[expose]` emits calls
/// this.
pub fn router<T: Exposed, S: DbState>(config: RouterConfig) -> Router<S> {
    model_router(Arc::new(Resource::compile(T::MODEL)), config, &[])
}

/// Builds the router of a model's resource, without the operations in `without`. When some
/// are left out, a 405 leaves its `Allow` header to axum, which lists the methods routed on
/// the path, so that it names those of the handlers the application routes there itself.
pub(crate) fn model_router<S: DbState>(
    res: Arc<Resource>,
    config: RouterConfig,
    without: &[OperationKind],
) -> Router<S> {
    let model: &'static Model = res.model;
    // Hooks of embedded models read the state too.
    let boxes_state = model.operations.iter().any(handlers::needs_ctx)
        || res.related.iter().any(|r| handlers::needs_ctx(r.policy.op));
    let mut paths = [
        (MethodRouter::<S>::new(), Vec::new()),
        (MethodRouter::new(), Vec::new()),
    ];
    // Updates and removes are served on the collection path too, on the rows chosen by
    // the request's filters.
    let routes = model
        .operations
        .iter()
        .filter(|op| !without.contains(&op.kind));
    let routes = routes.flat_map(|op| {
        let both = op.kind.on_collection_too();
        [(op.kind, op.kind.on_item(), false), (op.kind, false, true)]
            .into_iter()
            .take(if both { 2 } else { 1 })
    });
    for (kind, on_item, on_collection) in routes {
        let (routes, allow) = &mut paths[usize::from(on_item)];
        let endpoint = Endpoint {
            res: res.clone(),
            config: config.clone(),
            kind,
            boxes_state,
            on_collection,
            action: None,
        };
        let method = Method::from_bytes(kind.method().as_bytes()).expect("a method name");
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        *routes = std::mem::take(routes).on(filter, endpoint);
        allow.push(kind.method());
        if method == Method::GET {
            allow.push("HEAD");
        }
    }
    let [collection, item] = paths.map(|(routes, allow)| {
        if !without.is_empty() {
            return routes.fallback(method_not_allowed);
        }
        let allow =
            HeaderValue::from_str(&allow.join(", ")).unwrap_or(HeaderValue::from_static(""));
        routes.fallback(move || async move { method_not_allowed_with(&allow) })
    });
    let router = Router::new()
        .route(&format!("/{}", model.path), collection)
        .route(&format!("/{}/{{id}}", model.path), item);
    (0..model.actions.len()).fold(router, |router, i| {
        let path = format!("/{}/{{id}}/{}", model.path, model.actions[i].name);
        router.route(&path, action_router(&res, &config, i))
    })
}

/// The route of action number `index`: its method, and a 405 problem with `Allow` for the
/// others.
pub(crate) fn action_router<S: DbState>(
    res: &Arc<Resource>,
    config: &RouterConfig,
    index: usize,
) -> MethodRouter<S> {
    let action = &res.model.actions[index];
    let endpoint = Endpoint {
        res: res.clone(),
        config: config.clone(),
        kind: OperationKind::Update,
        // An action's function sees the state in its context.
        boxes_state: true,
        on_collection: false,
        action: Some(index),
    };
    let method = Method::from_bytes(action.method.as_bytes()).expect("a method name");
    let filter = MethodFilter::try_from(method).expect("a routable method");
    let allow = HeaderValue::from_static(action.method);
    MethodRouter::new()
        .on(filter, endpoint)
        .fallback(move || async move { method_not_allowed_with(&allow) })
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

/// A readiness handler for a load balancer: `200 {"ready":true}` when the database answers,
/// else a 503 problem with `Retry-After`, within a second either way. It takes a connection
/// as requests do and pings it, so probes never open more connections than the pool allows.
///
/// ```
/// use axum::routing::get;
/// use expose_runtime::{ready, Db};
/// let app: axum::Router<Db> = axum::Router::new().route("/ready", get(ready));
/// # let _ = app;
/// ```
pub async fn ready(axum::extract::State(db): axum::extract::State<Db>) -> Response {
    async fn ping<B: sqlx::Database>(pool: &sqlx::Pool<B>) -> bool {
        use sqlx::Connection;
        match pool.acquire().await {
            Ok(mut conn) => conn.ping().await.is_ok(),
            Err(_) => false,
        }
    }
    let check = async {
        match &db {
            Db::Sqlite(p) => ping(p).await,
            Db::Postgres(p) => ping(p).await,
            Db::MySql(p) => ping(p).await,
        }
    };
    match tokio::time::timeout(std::time::Duration::from_secs(1), check).await {
        Ok(true) => axum::Json(serde_json::json!({ "ready": true })).into_response(),
        _ => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the database is not reachable",
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        .into_response(),
    }
}
