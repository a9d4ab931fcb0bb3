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
use std::sync::Arc;

/// Settings of the routers `#[expose]` builds.
#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// Largest request body accepted, in bytes (413 beyond; default 1 MiB).
    pub body_limit: usize,
}

impl Default for RouterConfig {
    fn default() -> RouterConfig {
        RouterConfig {
            body_limit: crate::body::DEFAULT_BODY_LIMIT,
        }
    }
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
    let limit = config.body_limit;

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
        let res = res.clone();
        collection = collection.get(move |State(s): State<S>, req: Request| async move {
            let (parts, _) = req.into_parts();
            respond(handlers::list(&res, make_req(s, parts)).await)
        });
    }
    if res.create.is_some() {
        let res = res.clone();
        collection = collection.post(move |State(s): State<S>, req: Request| async move {
            let (parts, body) = req.into_parts();
            respond(handlers::create(&res, make_req(s, parts), limit, body).await)
        });
    }
    if res.retrieve.is_some() {
        let res = res.clone();
        item =
            item.get(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let (parts, _) = req.into_parts();
                    respond(
                        async {
                            handlers::retrieve(&res, make_req(s, parts), &path_key(key)?).await
                        }
                        .await,
                    )
                },
            );
    }
    if res.update.is_some() {
        let res = res.clone();
        item =
            item.patch(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let (parts, body) = req.into_parts();
                    respond(
                        async {
                            handlers::update(&res, make_req(s, parts), &path_key(key)?, limit, body)
                                .await
                        }
                        .await,
                    )
                },
            );
    }
    if res.remove {
        let res = res.clone();
        item =
            item.delete(
                move |State(s): State<S>,
                      key: Result<Path<String>, PathRejection>,
                      req: Request| async move {
                    let (parts, _) = req.into_parts();
                    respond(
                        async { handlers::remove(&res, make_req(s, parts), &path_key(key)?).await }
                            .await,
                    )
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
