//! The admin example's router: the `people` and `blog` resources, one OpenAPI document for
//! all of them, the page at `/admin`, and the CORS layer for a page served elsewhere.
//! `main.rs` serves it; `tests/admin.rs` drives the same code.

// The blog's models, auth middleware, tables and seed (its `app()` is not used here).
#[allow(dead_code)]
#[path = "../blog/app.rs"]
pub mod blog;
// The people table and its seed rows come from the people example; this example serves its
// own copy of the model, which adds one `pre` hook (see `Person`).
#[allow(dead_code)]
#[path = "../people/app.rs"]
pub mod people;

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::get;
use expose_runtime::{expose, Db, HookCtx, Offender, Problem};
use std::path::PathBuf;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

// The people example's model (`examples/people/app.rs`: the same table, fields and
// operations; `tests/admin.rs` checks that the two documents agree) plus one `pre` hook, which
// refuses an e-mail address without `@`. The people example itself carries no hook, so that
// its writes stay single statements (`bench/` measures them against hand-written handlers).
/// A person. An e-mail address has a local part, an `@` and a domain with a dot.
#[expose(
    as = "people",
    all(fields = "-password"),
    list(
        filter = "id,name,email,age,is_admin,bio,created_at",
        sort = "id,name,age,bio,created_at",
        order = "id",
        limit = 100,
        max_limit = 1000
    ),
    retrieve,
    create(
        fields = "name,email,password,age,bio",
        upsert,
        max_rows = 1000,
        pre = [valid_email]
    ),
    update(
        fields = "name,email,password,age,bio",
        filter = "id,name,email,age",
        max_affected = 100,
        pre = [valid_email]
    ),
    remove(filter = "id,name,email,age", max_affected = 100),
    replace(fields = "name,email,password,age,bio", pre = [valid_email])
)]
pub struct Person {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(validate(non_empty))]
    pub name: String,
    #[expose(unique, validate(email))]
    pub email: String,
    pub password: String,
    #[expose(validate(range(min = 0, max = 150)))]
    pub age: i32,
    #[expose(default = "FALSE")]
    pub is_admin: bool,
    pub bio: Option<String>,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// `pre` hook of create, update and replace: an e-mail address, when one is written, has a
/// local part, an `@` and a domain. Refused with 422 naming `email`, which the admin page
/// shows at the field.
pub async fn valid_email(ctx: &mut HookCtx) -> Result<(), Problem> {
    if let Some(email) = ctx.input()?.get(Person::FIELDS.email) {
        let ok = email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if !ok {
            let detail = "must be an e-mail address, such as ada@example.com";
            return Err(Problem::unprocessable(
                "`email` is not an e-mail address",
                vec![Offender {
                    name: "email".into(),
                    location: "body",
                    rule: None,
                    detail: detail.into(),
                }],
            ));
        }
    }
    Ok(())
}

/// The page's files, built by `npm run build` in `examples/admin/web/`.
pub fn admin_dir() -> PathBuf {
    std::env::var_os("ADMIN_DIR").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/admin/web/dist"
            ))
        },
        PathBuf::from,
    )
}

/// The router of the example: the API (people, users, posts), one OpenAPI document for all
/// three, and the page at `/admin`.
pub fn app(db: Db) -> axum::Router {
    app_serving(db, &admin_dir())
}

/// [`app`] with the page's built files taken from `dir`.
pub fn app_serving(db: Db, dir: &std::path::Path) -> axum::Router {
    let api = expose_runtime::OpenApi::new("expose admin", env!("CARGO_PKG_VERSION"))
        .description("The people and blog examples' resources, behind the admin page at /admin.")
        .resource::<Person>()
        .resource::<blog::User>()
        .resource::<blog::Post>();
    // The blog's bearer tokens are read for its own resources only.
    let blog_routes = axum::Router::new()
        .merge(blog::User::router())
        .merge(blog::Post::router())
        .layer(axum::middleware::from_fn_with_state(
            db.clone(),
            blog::authenticate,
        ));
    let index = dir.join("index.html");
    let router = axum::Router::new()
        .merge(Person::router())
        .merge(blog_routes)
        .merge(api.router()) // GET /openapi.json
        .merge(api.index_router("/"))
        .route("/ready", get(expose_runtime::ready));
    let router = if index.is_file() {
        // /admin and /admin/ are index.html, /admin/assets/... the scripts; the page routes
        // in the URL's fragment (/admin/#/people), so no other path needs to be the page.
        router.nest_service("/admin", ServeDir::new(dir))
    } else {
        tracing::warn!(
            dir = %dir.display(),
            "the admin page is not built: cd examples/admin/web && npm ci && npm run build"
        );
        let hint = format!(
            "The admin page is not built ({} has no index.html): \
             cd examples/admin/web && npm ci && npm run build\n",
            dir.display()
        );
        let not_built = get(move || std::future::ready((StatusCode::NOT_FOUND, hint.clone())));
        router
            .route("/admin", not_built.clone())
            .route("/admin/", not_built)
    };
    router.fallback(expose_runtime::not_found).with_state(db)
}

/// A CORS layer for a page served from `origin` (another host or port): the methods and
/// request headers react-admin's PostgREST provider sends, and the response headers it reads
/// (`Content-Range` for the total, `ETag`, `Location`).
pub fn cors(origin: HeaderValue) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::RANGE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("prefer"),
            HeaderName::from_static("range-unit"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::ETAG,
            header::LOCATION,
            HeaderName::from_static("preference-applied"),
        ])
}
