//! A model's operations one by one, for custom routes: each as an axum handler or
//! [`MethodRouter`] to mount at any path or wrap in middleware, a router without some of
//! them, and [`Call`], an operation run from a handler of the application's with conditions
//! of its own.
//!
//! `#[expose]` gives each model `Post::endpoints()`, an [`Endpoints<Post>`]. Every
//! operation reached through it runs exactly as on the generated route: the same policy
//! (fields, filter and sort whitelists, limits), `scope`, `fields_for`, `where`, forced
//! values and hooks, the same request timeout and trace line.
//!
//! ```
//! use axum::extract::{Request, State};
//! use axum::response::Response;
//! use axum::routing::{get, post};
//! use expose_runtime::{expose, Db, Endpoints, OperationKind, Problem};
//!
//! #[expose(as = "posts", list, retrieve, create, update)]
//! pub struct Post {
//!     pub id: i64,
//!     pub owner_id: i64,
//!     pub published: bool,
//! }
//!
//! /// `GET /posts/published`: the list, with the client's query, on published posts only.
//! async fn published(posts: Endpoints<Post>, db: Db, req: Request) -> Response {
//!     posts
//!         .call(req, db)
//!         .and(Post::FIELDS.published.eq(true))
//!         .list()
//!         .await
//! }
//!
//! async fn my_create() -> Problem {
//!     Problem::forbidden("posts are created by the editors' tool")
//! }
//!
//! // Compiled once, when the application is built; clones share it.
//! let posts = Post::endpoints();
//! let app: axum::Router<Db> = axum::Router::new()
//!     // Every route but create, which the application answers itself.
//!     .merge(posts.router_without(&[OperationKind::Create]))
//!     .route("/posts", post(my_create))
//!     // The list again, at another path.
//!     .route("/articles", posts.list())
//!     .route(
//!         "/posts/published",
//!         get(move |State(db): State<Db>, req: Request| published(posts.clone(), db, req)),
//!     );
//! # let _ = app;
//! ```

use crate::config::RouterConfig;
use crate::db::Db;
use crate::endpoint::{self, Endpoint, Extra};
use crate::problem::Problem;
use crate::resource::Resource;
use crate::router;
use crate::scope::Cond;
use crate::Exposed;
use axum::extract::{FromRef, Request};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;
use expose_core::OperationKind;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

/// The operations of model `M`, one by one; `M::endpoints()` makes one. It owns `M`'s
/// compiled resource (policies, statement cache), which its clones, the handlers it gives
/// and the routers it builds share: make it once when the application is built, and clone
/// it (cheaply) into the handlers that call it.
pub struct Endpoints<M> {
    res: Arc<Resource>,
    config: RouterConfig,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Endpoints<M> {
    fn clone(&self) -> Self {
        Endpoints {
            res: self.res.clone(),
            config: self.config.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Endpoints<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("model", &self.res.model.rust_name)
            .finish_non_exhaustive()
    }
}

impl<M: Exposed> Default for Endpoints<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M: Exposed> Endpoints<M> {
    /// The operations of `M` with the default [`RouterConfig`]: compiles `M`'s policies
    /// (as `M::router()` does), so make it once, when the application is built, and clone
    /// it into the handlers that use it.
    pub fn new() -> Self {
        Self::with_config(RouterConfig::default())
    }

    /// The operations of `M` with other settings (body limit, timeout, ...).
    pub fn with_config(config: RouterConfig) -> Self {
        Endpoints {
            res: Arc::new(Resource::compile(M::MODEL)),
            config,
            _model: PhantomData,
        }
    }

    fn endpoint(&self, kind: OperationKind, on_collection: bool) -> Endpoint {
        assert!(
            self.res.model.operation(kind).is_some(),
            "{} does not expose `{}`: add it to its #[expose(...)]",
            self.res.model.rust_name,
            kind.name()
        );
        Endpoint {
            res: self.res.clone(),
            config: self.config.clone(),
            kind,
            boxes_state: self
                .res
                .model
                .operations
                .iter()
                .any(crate::handlers::needs_ctx),
            on_collection,
            action: None,
        }
    }

    /// Operation `kind` as an axum [`Handler`], to route with any method
    /// (`axum::routing::get(posts.handler(OperationKind::List))`). An item operation
    /// (retrieve, update, remove, replace) reads the key from the path's last segment.
    ///
    /// # Panics
    /// When `M` does not expose `kind`, as the router is built.
    pub fn handler(&self, kind: OperationKind) -> OperationHandler {
        OperationHandler(self.endpoint(kind, false))
    }

    /// Operation `kind` on its method alone; any other method is a 405 problem with the
    /// `Allow` header of the methods routed (so more may be chained: `.post(...)`).
    fn method_router<S>(&self, kind: OperationKind, on_collection: bool) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        let method = Method::from_bytes(kind.method().as_bytes()).expect("a method name");
        let filter = MethodFilter::try_from(method).expect("a routable method");
        let handler = OperationHandler(self.endpoint(kind, on_collection));
        MethodRouter::new()
            .on(filter, handler)
            .fallback(router::method_not_allowed)
    }

    /// `GET` (and `HEAD`): the list, at whatever path it is routed.
    ///
    /// # Panics
    /// When `M` does not expose `list`.
    pub fn list<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::List, false)
    }

    /// `GET` (and `HEAD`): one row, the key being the path's last segment.
    ///
    /// # Panics
    /// When `M` does not expose `retrieve`.
    pub fn retrieve<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Retrieve, false)
    }

    /// `POST`: create.
    ///
    /// # Panics
    /// When `M` does not expose `create`.
    pub fn create<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Create, false)
    }

    /// `PATCH`: update of one row, the key being the path's last segment.
    ///
    /// # Panics
    /// When `M` does not expose `update`.
    pub fn update<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Update, false)
    }

    /// `PATCH` on a collection path: update of the rows the query's filters choose.
    ///
    /// # Panics
    /// When `M` does not expose `update`.
    pub fn update_many<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Update, true)
    }

    /// `DELETE`: remove of one row, the key being the path's last segment.
    ///
    /// # Panics
    /// When `M` does not expose `remove`.
    pub fn remove<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Remove, false)
    }

    /// `DELETE` on a collection path: remove of the rows the query's filters choose.
    ///
    /// # Panics
    /// When `M` does not expose `remove`.
    pub fn remove_many<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Remove, true)
    }

    /// `PUT`: replace (or insert) the row whose key is the path's last segment.
    ///
    /// # Panics
    /// When `M` does not expose `replace`.
    pub fn replace<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        self.method_router(OperationKind::Replace, false)
    }

    /// The declared action `name` (`#[expose(action(publish, ...))]`) on its method, at
    /// whatever path it is routed whose segment before the last is the key
    /// (`/posts/{id}/publish`); any other method is a 405 problem with `Allow`.
    ///
    /// # Panics
    /// When `M` declares no action `name`, as the router is built.
    pub fn action<S>(&self, name: &str) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        let index = self
            .res
            .model
            .actions
            .iter()
            .position(|a| a.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "{} declares no action `{name}`: add action({name}, ...) to its #[expose(...)]",
                    self.res.model.rust_name
                )
            });
        router::action_router(&self.res, &self.config, index)
    }

    /// Every route of `M`, as `M::router()` gives them.
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        router::model_router(self.res.clone(), self.config.clone(), &[])
    }

    /// The routes of `M` but the operations in `without` (an update or remove left out
    /// on both of its paths), so that a handler of the application's takes exactly their
    /// place: `.route("/posts", post(my_create))` after it. A method nobody routes is a 405
    /// problem whose `Allow` header axum fills from the methods routed on the path.
    pub fn router_without<S>(&self, without: &[OperationKind]) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        router::model_router(self.res.clone(), self.config.clone(), without)
    }

    /// An operation of `M` run on `req`, a request a handler of the application's received,
    /// with the app's `state` (which hooks see as [`crate::HookCtx::state`]); the client's
    /// query string and headers apply as on the generated route.
    pub fn call<S>(&self, req: Request, state: S) -> Call<M, S>
    where
        S: Clone + Send + Sync + 'static,
        Db: FromRef<S>,
    {
        Call {
            endpoints: self.clone(),
            req,
            state,
            extra: Extra::default(),
        }
    }
}

/// One operation of a model as an axum [`Handler`] ([`Endpoints::handler`]).
#[derive(Clone)]
pub struct OperationHandler(Endpoint);

impl std::fmt::Debug for OperationHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OperationHandler({} {})",
            self.0.res.model.rust_name,
            self.0.kind.name()
        )
    }
}

impl<S> Handler<(), S> for OperationHandler
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: S) -> Self::Future {
        Box::pin(endpoint::run_with(self.0, req, state, None))
    }
}

/// An operation of model `M` run from a handler of the application's
/// ([`Endpoints::call`]): on the client's request, with the caller's scope and every policy
/// of the generated route, and with conditions of the handler's own ([`Call::and`]).
///
/// Its answer is the HTTP answer the generated route would give (status, headers, body), or
/// typed rows ([`Call::list_rows`], [`Call::retrieve_row`]) for code that computes with them.
pub struct Call<M, S> {
    endpoints: Endpoints<M>,
    req: Request,
    state: S,
    extra: Extra,
}

impl<M, S> std::fmt::Debug for Call<M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("model", &self.endpoints.res.model.rust_name)
            .field("uri", self.req.uri())
            .field("conditions", &self.extra.filters)
            .finish_non_exhaustive()
    }
}

impl<M: Exposed, S> Call<M, S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    /// Adds a server-side condition, ANDed with the operation's scope and `where` outside
    /// the client's filters: the client's `or=`, `not.` or any other filter can only narrow
    /// it. It applies to every operation but create: a list shows only rows that meet it,
    /// and a row outside it is a 404 to retrieve, update and remove, as out of scope.
    pub fn and(mut self, cond: Cond<M>) -> Self {
        self.extra.filters.push(cond.into_filter());
        self
    }

    /// Replaces the request's query string (`"select=id,title&order=id"`, or `""` for
    /// none): for code that runs an operation on a query of its own.
    pub fn query(mut self, query: &str) -> Self {
        let path = self.req.uri().path();
        let uri = match query {
            "" => path.to_owned(),
            q => format!("{path}?{q}"),
        };
        if let Ok(uri) = uri.parse::<Uri>() {
            *self.req.uri_mut() = uri;
        }
        self
    }

    fn run(mut self, kind: OperationKind, key: Option<String>) -> impl Future<Output = Response> {
        self.extra.key = key;
        let e = self.endpoints.endpoint_or_problem(kind);
        async move {
            match e {
                Ok(e) => {
                    endpoint::run_with(e, self.req, self.state, Some(Box::new(self.extra))).await
                }
                Err(p) => axum::response::IntoResponse::into_response(p),
            }
        }
    }

    /// Runs the operation for typed rows: as JSON (whatever the client's `Accept`), not
    /// conditional, and not bounded by the request timeout (the caller's route is).
    async fn run_json(
        mut self,
        kind: OperationKind,
        key: Option<String>,
    ) -> Result<Vec<u8>, Problem> {
        self.extra.key = key;
        let e = self.endpoints.endpoint_or_problem(kind)?;
        let headers = self.req.headers_mut();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        headers.remove(header::IF_NONE_MATCH);
        let sent = crate::db::Sent::default();
        let op = endpoint::operation(&e, self.req, self.state, &sent, Some(&self.extra));
        let response = op.await?;
        if response.status() != StatusCode::OK && response.status() != StatusCode::PARTIAL_CONTENT {
            return Err(Problem::internal(&format!(
                "{} answered {} where rows were expected",
                kind.name(),
                response.status()
            )));
        }
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .map_err(|e| Problem::internal(&e))?;
        Ok(body.to_vec())
    }

    /// The list, as the generated route answers it.
    pub async fn list(self) -> Response {
        self.run(OperationKind::List, None).await
    }

    /// The list's rows, typed. Every field `M` needs must be in the answer (`select`,
    /// `fields` and `fields_for` may leave some out): otherwise a 500 problem names it.
    pub async fn list_rows(self) -> Result<Vec<M::Row>, Problem>
    where
        M::Row: serde::de::DeserializeOwned,
    {
        let body = self.run_json(OperationKind::List, None).await?;
        serde_json::from_slice(&body).map_err(|e| Problem::internal(&e))
    }

    /// The row with key `key`, as the generated route answers it (404 outside the scope
    /// and the conditions).
    pub async fn retrieve(self, key: impl std::fmt::Display) -> Response {
        self.run(OperationKind::Retrieve, Some(key.to_string()))
            .await
    }

    /// The row with key `key`, typed; a 404 problem outside the scope and the conditions.
    pub async fn retrieve_row(self, key: impl std::fmt::Display) -> Result<M::Row, Problem>
    where
        M::Row: serde::de::DeserializeOwned,
    {
        let body = self
            .run_json(OperationKind::Retrieve, Some(key.to_string()))
            .await?;
        serde_json::from_slice(&body).map_err(|e| Problem::internal(&e))
    }

    /// Updates the row with key `key` from the request's body, as the generated route
    /// does (404 outside the scope and the conditions, nothing written).
    pub async fn update(self, key: impl std::fmt::Display) -> Response {
        self.run(OperationKind::Update, Some(key.to_string())).await
    }

    /// Updates the row with key `key` with `body` (a JSON object of writable fields) in
    /// place of the request's body: a custom route that sets fields itself, under the
    /// update's scope, `fields_for`, forced values and hooks (404 outside the scope and the
    /// conditions, nothing written). The answer is the written row, narrowed by the client's
    /// `select=` as any update's. A route of the model's own (`POST /posts/{id}/publish`) is
    /// better declared as an action (`#[expose(action(publish, ...))]`): its function sees
    /// the loaded row, and the document lists it.
    pub async fn update_with(
        mut self,
        key: impl std::fmt::Display,
        body: &serde_json::Value,
    ) -> Response {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let headers = self.req.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::TRANSFER_ENCODING);
        *self.req.body_mut() = axum::body::Body::from(bytes);
        self.run(OperationKind::Update, Some(key.to_string())).await
    }

    /// Removes the row with key `key`, as the generated route does (404 outside the scope
    /// and the conditions, nothing removed).
    pub async fn remove(self, key: impl std::fmt::Display) -> Response {
        self.run(OperationKind::Remove, Some(key.to_string())).await
    }
}

impl<M: Exposed> Endpoints<M> {
    /// The endpoint of `kind`, or a 500 problem when `M` does not expose it (a request is
    /// never answered with a panic).
    fn endpoint_or_problem(&self, kind: OperationKind) -> Result<Endpoint, Problem> {
        if self.res.model.operation(kind).is_none() {
            return Err(Problem::internal(&format!(
                "{} does not expose `{}`",
                self.res.model.rust_name,
                kind.name()
            )));
        }
        let mut e = self.endpoint(kind, false);
        // A call's state is always shown to hooks.
        e.boxes_state = true;
        Ok(e)
    }
}
