//! An OpenAPI 3.1 document generated from the same [`Model`]s that drive the handlers, so it
//! cannot drift from them.
//!
//! ```
//! use expose_runtime::{expose, Db, OpenApi};
//!
//! /// A person.
//! #[expose(as = "people", list, retrieve)]
//! pub struct Person {
//!     #[expose(id, generated)]
//!     pub id: i64,
//!     /// The full name.
//!     pub name: String,
//! }
//!
//! let api = OpenApi::new("people", "1.0.0").resource::<Person>();
//! let doc = api.document();
//! assert_eq!(doc["openapi"], "3.1.0");
//! assert!(doc["paths"]["/people"]["get"].is_object());
//! assert!(doc["paths"]["/people"]["post"].is_null()); // create is not exposed
//! let app: axum::Router<Db> = axum::Router::new()
//!     .merge(Person::router())
//!     .merge(api.router())            // GET /openapi.json
//!     .merge(api.index_router("/")); // GET /: resources, operations, the document's address
//! # let _ = app;
//! ```
//!
//! What the document states, per resource:
//!
//! - the read schema `{Name}` holds exactly the readable fields (the key always); the write
//!   schemas `{Name}Create` / `{Name}Update` / `{Name}Replace` exactly the writable ones, with
//!   `required` on create for the fields that are neither nullable nor defaulted, none on
//!   update, and every one on replace (which may also carry the key);
//! - list parameters: one per filterable field whose `pattern` is the exact set of
//!   `[not.]op.value` forms the field's type accepts, `select`, `order` (sortable fields),
//!   `limit`, `offset`, the logic trees `or`, `and`, `not.or`, `not.and`, and the `Prefer`,
//!   `Range` and `Accept` headers;
//! - create (`POST`): one object or an array of at most `max_rows`, `select`, `columns`
//!   (the writable fields), `on_conflict` where upserts are allowed, `Prefer` and `Accept`;
//!   the answer the REST way (one object, `Location`) or PostgREST's (rows, or no body);
//! - `PATCH` / `DELETE` on the collection (rows chosen by filters): the filters of the
//!   operation's filterable fields with the list's patterns, the trees (`{Name}UpdateTree`,
//!   `{Name}RemoveTree` where they differ from the list's `{Name}Tree`), `select`, `Prefer`
//!   (`max-affected`), `Accept`, `If-Match`; no `order`, `limit` or `offset`;
//! - replace (`PUT /path/{id}`): the whole row, replaced (200, 204) or inserted (201);
//! - every status each operation can answer, problems as `application/problem+json`;
//! - only the operations the model exposes, and its declared actions
//!   (`POST /path/{id}/publish`: `select`, no body, the written row).
//!
//! What a JSON Schema cannot say is said in the descriptions: an upper `Range` bound must not
//! be below the lower one, numbers must be finite, logic trees may nest `and(...)` / `or(...)`
//! groups (the pattern checks the top level's conditions and matches nested groups loosely), a write chosen by filters needs a filter and may
//! write at most so many rows, `on_conflict` needs `Prefer: resolution`, `columns` must name
//! the required fields, a `PUT` body's key must be the path's, the answer's form depends on
//! `Prefer` and `Accept`, and hooks may refuse a request with any problem.

use crate::field::{Field, FieldSet};
use crate::field_type::{ArrayItem, FieldType};
use crate::model::{Model, Operation};
use crate::problem::PROBLEM_JSON;
use crate::query::{CSV, OBJECT_JSON};
use crate::resource::Resource;
use crate::rules::{Choice, Num, Rule};
use crate::schema::Policy;
use crate::Exposed;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use expose_core::OperationKind;
use serde_json::{json, Map, Value as Json};
use std::sync::Arc;

/// The path the document is served at unless [`OpenApi::document_path`] says otherwise.
pub const DEFAULT_DOCUMENT_PATH: &str = "/openapi.json";

/// Builds the OpenAPI 3.1 document of one or more exposed models.
///
/// `OpenApi::new(title, version).resource::<Person>().resource::<Post>()` collects models;
/// [`document`](OpenApi::document) renders the document, [`router`](OpenApi::router) serves
/// it, [`index`](OpenApi::index) / [`index_router`](OpenApi::index_router) give a short
/// listing of the resources. With the `utoipa` feature, `OpenApi::merge_into` adds
/// everything to a `utoipa::openapi::OpenApi`.
#[derive(Debug, Clone)]
pub struct OpenApi {
    title: String,
    version: String,
    description: Option<String>,
    document_path: String,
    servers: Vec<String>,
    models: Vec<&'static Model>,
    /// The prefix each model's routes are nested under (`""` for none), by index in `models`.
    prefixes: Vec<String>,
    /// Custom routes that reuse an operation ([`OpenApi::route`]).
    routes: Vec<Route>,
    /// The HTTP bearer scheme's description, when the app declared one.
    bearer: Option<String>,
}

/// A custom route that reuses an operation of an exposed model (a route of
/// [`crate::Endpoints`]), for [`OpenApi::route`]: documented as the operation it runs, at
/// its own path, with its own description.
///
/// ```
/// use expose_runtime::{expose, openapi::Route, OpenApi, OperationKind};
/// #[expose(as = "posts", list)]
/// pub struct Post { pub id: i64, pub owner_id: i64 }
///
/// let doc = OpenApi::new("blog", "1")
///     .resource::<Post>()
///     .bearer_auth("The user's token.")
///     .route(
///         Route::of::<Post>(OperationKind::List, "/posts/mine")
///             .summary("List the caller's own posts")
///             .signed_in(),
///     )
///     .document();
/// assert!(doc["paths"]["/posts/mine"]["get"]["responses"]["401"].is_object());
/// ```
#[derive(Debug, Clone)]
pub struct Route {
    model: &'static Model,
    kind: OperationKind,
    path: String,
    summary: Option<String>,
    description: Option<String>,
    signed_in: bool,
    method: Option<&'static str>,
    no_body: bool,
}

impl Route {
    /// The route `path` (with `{id}` as its last segment for an item operation) running
    /// operation `kind` of `T`.
    pub fn of<T: Exposed>(kind: OperationKind, path: impl Into<String>) -> Route {
        Route {
            model: T::MODEL,
            kind,
            path: path.into(),
            summary: None,
            description: None,
            signed_in: false,
            method: None,
            no_body: false,
        }
    }

    /// The route's method, when it is not the operation's (`POST` for an action that runs
    /// an update: `POST /posts/{id}/publish`).
    pub fn method(mut self, method: &'static str) -> Route {
        self.method = Some(method);
        self
    }

    /// The route takes no request body (its handler writes the operation's body itself,
    /// as [`crate::Call::update_with`] does).
    pub fn no_body(mut self) -> Route {
        self.no_body = true;
        self
    }

    fn method_name(&self) -> String {
        self.method
            .unwrap_or(self.kind.method())
            .to_ascii_lowercase()
    }

    /// The operation's summary (default: the generated operation's).
    pub fn summary(mut self, text: impl Into<String>) -> Route {
        self.summary = Some(text.into());
        self
    }

    /// The operation's description, before the generated operation's notes.
    pub fn description(mut self, text: impl Into<String>) -> Route {
        self.description = Some(text.into());
        self
    }

    /// The route answers 401 to anonymous callers: with [`OpenApi::bearer_auth`], its
    /// security requires the token.
    pub fn signed_in(mut self) -> Route {
        self.signed_in = true;
        self
    }
}

impl OpenApi {
    /// A document with this `info.title` and `info.version` and no resources yet.
    pub fn new(title: impl Into<String>, version: impl Into<String>) -> OpenApi {
        OpenApi {
            title: title.into(),
            version: version.into(),
            description: None,
            document_path: DEFAULT_DOCUMENT_PATH.to_owned(),
            servers: Vec::new(),
            models: Vec::new(),
            prefixes: Vec::new(),
            routes: Vec::new(),
            bearer: None,
        }
    }

    /// Adds a custom route that reuses an operation ([`Route`]).
    pub fn route(mut self, route: Route) -> OpenApi {
        self.routes.push(route);
        self
    }

    /// Declares HTTP bearer authentication (`Authorization: Bearer <token>`) as the
    /// `bearer` security scheme: operations with a per-request policy (hooks, scope,
    /// `fields_for`, forced values) accept the token or none, and list the 401 and 403 a
    /// hook may answer; a [`Route::signed_in`] requires it; the others need none.
    pub fn bearer_auth(mut self, description: impl Into<String>) -> OpenApi {
        self.bearer = Some(description.into());
        self
    }

    /// Sets `info.description`.
    pub fn description(mut self, text: impl Into<String>) -> OpenApi {
        self.description = Some(text.into());
        self
    }

    /// Sets where [`router`](OpenApi::router) serves the document (default `/openapi.json`);
    /// the index names this address.
    pub fn document_path(mut self, path: impl Into<String>) -> OpenApi {
        self.document_path = path.into();
        self
    }

    /// Adds a `servers` entry: the URL the documented paths are relative to. For routers
    /// nested under a prefix (`Router::new().nest("/api/v1", api)`), give the prefix:
    /// `.server("/api/v1")` documents `/people` as served at `/api/v1/people`, and the
    /// [`index`](OpenApi::index) lists the full paths. An absolute URL
    /// (`https://api.example.com/v1`) works too; the first server that is a path prefixes
    /// the index. Without any, the document names `/`.
    pub fn server(mut self, url: impl Into<String>) -> OpenApi {
        self.servers
            .push(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// Adds an `#[expose]`d struct.
    pub fn resource<T: Exposed>(self) -> OpenApi {
        self.model(T::MODEL)
    }

    /// Adds a model by its description (what `#[expose]` emits as `Exposed::MODEL`).
    #[doc(hidden)]
    pub fn model(mut self, model: &'static Model) -> OpenApi {
        self.models.push(model);
        self.prefixes.push(String::new());
        self
    }

    /// Adds an `#[expose]`d struct whose router is nested under `prefix`
    /// (`Router::nest("/admin", AdminUser::router())`): its paths start with the prefix and
    /// its operation ids end with it (`list_users_admin`), so that a second struct on the same
    /// table and URL segment (an admin view) is documented beside the first.
    pub fn resource_under<T: Exposed>(mut self, prefix: impl Into<String>) -> OpenApi {
        self.models.push(T::MODEL);
        let prefix: String = prefix.into();
        self.prefixes.push(prefix.trim_end_matches('/').to_owned());
        self
    }

    /// The OpenAPI 3.1 document.
    ///
    /// # Panics
    /// When a model names a field it does not have, or a policy does not parse; models
    /// written by `#[expose]` are checked at compile time (see the router, which panics
    /// alike).
    pub fn document(&self) -> Json {
        let mut paths = Map::new();
        let mut schemas = Map::new();
        let mut tags = Vec::new();
        schemas.insert("Problem".into(), problem_schema());
        schemas.insert("Offender".into(), offender_schema());
        let documented: Vec<&str> = self.models.iter().map(|m| m.rust_name).collect();
        for (model, prefix) in self.models.iter().zip(&self.prefixes) {
            let res = Resource::compile(model);
            let doc = Doc {
                res: &res,
                documented: &documented,
            };
            if prefix.is_empty() {
                doc.add(&mut paths, &mut schemas);
            } else {
                let mut own = Map::new();
                doc.add(&mut own, &mut schemas);
                let suffix: String = prefix
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                let tag = format!("{}/{}", prefix.trim_start_matches('/'), model.path);
                for (path, mut item) in own {
                    suffix_operation_ids(&mut item, &suffix);
                    for o in item
                        .as_object_mut()
                        .into_iter()
                        .flat_map(|m| m.values_mut())
                    {
                        if o.get("tags").is_some() {
                            o["tags"] = json!([tag]);
                        }
                    }
                    paths.insert(format!("{prefix}{path}"), item);
                }
            }
            let name = match prefix.is_empty() {
                true => model.path.to_owned(),
                false => format!("{}/{}", prefix.trim_start_matches('/'), model.path),
            };
            let mut tag = json!({ "name": name });
            if !model.doc.is_empty() {
                tag["description"] = model.doc.into();
            }
            tags.push(tag);
        }
        for route in &self.routes {
            add_route(route, &mut paths);
        }
        let mut components = json!({ "schemas": schemas });
        if let Some(description) = &self.bearer {
            components["securitySchemes"] = json!({
                "bearer": { "type": "http", "scheme": "bearer", "description": description },
            });
            secure(&mut paths, &self.routes);
        }
        let mut info = json!({ "title": self.title, "version": self.version });
        if let Some(d) = &self.description {
            info["description"] = d.as_str().into();
        }
        let servers: Vec<Json> = match self.servers.is_empty() {
            true => vec![json!({ "url": "/" })],
            // An empty prefix (`.server("/")`) is the root.
            false => self
                .servers
                .iter()
                .map(|url| json!({ "url": if url.is_empty() { "/" } else { url } }))
                .collect(),
        };
        let mut doc = json!({
            "openapi": "3.1.0",
            "info": info,
            "servers": servers,
            "tags": tags,
            "paths": paths,
            "components": components,
        });
        if self.bearer.is_none() {
            // Said, not left out: no operation needs credentials (linters such as redocly's
            // `security-defined` ask every document to say it).
            doc["security"] = json!([]);
        }
        doc
    }

    /// A short listing: each resource, its operations (method and path), and the address of
    /// the document.
    pub fn index(&self) -> Json {
        let resources: Vec<Json> = self
            .models
            .iter()
            .zip(&self.prefixes)
            .map(|(m, nested)| {
                let server = self
                    .servers
                    .iter()
                    .find(|s| s.starts_with('/'))
                    .map_or("", String::as_str);
                let collection = format!("{server}{nested}/{}", m.path);
                let item = format!("{server}{nested}/{}/{{id}}", m.path);
                // Updates and removes are on both paths: the item's, and the collection's
                // (rows chosen by filters).
                let mut ops: Vec<Json> = OperationKind::ALL
                    .into_iter()
                    .filter(|k| m.operation(*k).is_some())
                    .flat_map(|k| {
                        let path = if k.on_item() { &item } else { &collection };
                        let many = k.on_collection_too().then_some(&collection);
                        std::iter::once(path).chain(many).map(move |path| {
                            json!({ "operation": k.name(), "method": k.method(), "path": path })
                        })
                    })
                    .collect();
                ops.extend(m.actions.iter().map(|a| {
                    json!({ "operation": a.name, "method": a.method, "path": format!("{item}/{}", a.name) })
                }));
                json!({
                    "name": m.path,
                    "description": m.doc,
                    "operations": ops,
                })
            })
            .collect();
        json!({
            "title": self.title,
            "version": self.version,
            "openapi": self.document_path,
            "resources": resources,
        })
    }

    /// Serves the document at its path (`GET /openapi.json` by default), rendered once.
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let body: Arc<[u8]> = serde_json::to_vec(&self.document())
            .unwrap_or_default()
            .into();
        Router::new().route(&self.document_path, get(move || json_bytes(body.clone())))
    }

    /// Serves the [`index`](OpenApi::index) at `path` (e.g. `/`).
    pub fn index_router<S>(&self, path: &str) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let body: Arc<[u8]> = serde_json::to_vec(&self.index()).unwrap_or_default().into();
        Router::new().route(path, get(move || json_bytes(body.clone())))
    }

    /// The document as a `utoipa::openapi::OpenApi`.
    ///
    /// utoipa's types have no place for two details, which are left out: `required` on
    /// response headers (a list's `Content-Range`, the `ETag` of a record, `Retry-After` are
    /// always sent) and the `examples` of the `Prefer` parameter. The links from a create to the record
    /// it made are left out too: utoipa 5 would write them in a form OpenAPI does not have.
    ///
    /// # Errors
    /// When utoipa's types cannot hold part of the document (which the tests check they can).
    #[cfg(feature = "utoipa")]
    pub fn to_utoipa(&self) -> Result<utoipa::openapi::OpenApi, serde_json::Error> {
        let mut doc = self.document();
        // utoipa 5 writes a link's `operationId` as `operation_id`, which is no OpenAPI:
        // leave the links out rather than hand over a document validators refuse.
        let ops = doc["paths"]
            .as_object_mut()
            .into_iter()
            .flat_map(|paths| paths.values_mut())
            .filter_map(Json::as_object_mut)
            .flat_map(|item| item.values_mut());
        for op in ops {
            let responses = op.get_mut("responses").and_then(Json::as_object_mut);
            for r in responses.into_iter().flat_map(|r| r.values_mut()) {
                if let Some(r) = r.as_object_mut() {
                    r.remove("links");
                }
            }
        }
        serde_json::from_value(doc)
    }

    /// Adds the paths, schemas and tags of this document to an existing utoipa document
    /// (utoipa's [`merge`](utoipa::openapi::OpenApi::merge): what `target` already has wins).
    ///
    /// # Errors
    /// As [`to_utoipa`](OpenApi::to_utoipa).
    #[cfg(feature = "utoipa")]
    pub fn merge_into(
        &self,
        target: &mut utoipa::openapi::OpenApi,
    ) -> Result<(), serde_json::Error> {
        target.merge(self.to_utoipa()?);
        Ok(())
    }
}

/// Appends `suffix` to every `operationId` in `doc` (the operations' and their links').
fn suffix_operation_ids(doc: &mut Json, suffix: &str) {
    match doc {
        Json::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Json::String(id) if k == "operationId" => id.push_str(suffix),
                    _ => suffix_operation_ids(v, suffix),
                }
            }
        }
        Json::Array(items) => items
            .iter_mut()
            .for_each(|v| suffix_operation_ids(v, suffix)),
        _ => {}
    }
}

/// Documents a custom route as the operation it reuses, at its own path.
///
/// # Panics
/// When the model does not expose the route's operation (as [`crate::Endpoints`] panics).
fn add_route(route: &Route, paths: &mut Map<String, Json>) {
    let model = route.model;
    let op = model.operation(route.kind).unwrap_or_else(|| {
        panic!(
            "{} does not expose `{}`",
            model.rust_name,
            route.kind.name()
        )
    });
    let res = Resource::compile(model);
    let doc = Doc {
        res: &res,
        documented: &[],
    };
    let mut o = doc.operation_doc(op);
    let words: Vec<&str> = route
        .path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    o["operationId"] = format!("{}_{}", route.kind.name(), words.join("_")).into();
    if let Some(s) = &route.summary {
        o["summary"] = s.as_str().into();
    }
    if let Some(d) = &route.description {
        let note = o["description"].as_str().unwrap_or_default();
        o["description"] = join(&[d, note]).into();
    }
    if route.signed_in {
        o["responses"]["401"] = problem("The caller is not signed in, or the token is unknown.");
    }
    if route.kind.on_item() && route.path.contains("{id}") {
        let mut params = vec![doc.key_parameter()];
        if let Some(p) = o["parameters"].as_array() {
            params.extend(p.iter().cloned());
        }
        o["parameters"] = Json::Array(params);
    }
    if route.no_body {
        if let Some(o) = o.as_object_mut() {
            o.remove("requestBody");
        }
        if let Some(r) = o["responses"].as_object_mut() {
            r.remove("415");
        }
    }
    let item = paths.entry(route.path.clone()).or_insert_with(|| json!({}));
    item[route.method_name()] = o;
}

/// The security of every operation once the app declared the bearer scheme: the token or
/// none where a per-request policy applies (the operations with a `default` problem, which
/// also get the 401 and 403 a hook may answer), the token alone on a signed-in custom route,
/// none elsewhere.
fn secure(paths: &mut Map<String, Json>, routes: &[Route]) {
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, o) in item.iter_mut() {
            let Some(responses) = o.get_mut("responses").and_then(Json::as_object_mut) else {
                continue;
            };
            let signed_in = routes
                .iter()
                .any(|r| r.signed_in && r.path == *path && r.method_name() == *method);
            let guarded = signed_in || responses.contains_key("default");
            if guarded {
                responses.entry("401").or_insert_with(|| {
                    problem("The token is unknown, or a hook requires a signed-in caller.")
                });
                responses
                    .entry("403")
                    .or_insert_with(|| problem("A hook refused the caller."));
            }
            o["security"] = match (signed_in, guarded) {
                (true, _) => json!([{ "bearer": [] }]),
                (false, true) => json!([{ "bearer": [] }, {}]),
                (false, false) => json!([{}]),
            };
        }
    }
}

async fn json_bytes(body: Arc<[u8]>) -> axum::response::Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_vec(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------
// the document of one resource

struct Doc<'a> {
    res: &'a Resource,
    /// The schema names of the document's models (their row schemas are components, which
    /// an embedded resource's schema refers to).
    documented: &'a [&'a str],
}

/// Which body a write schema describes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Body {
    Create,
    Update,
    Replace,
}

impl Doc<'_> {
    fn model(&self) -> &'static Model {
        self.res.model
    }

    fn schema_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.model().rust_name)
    }

    fn schema_ref(&self, suffix: &str) -> Json {
        json!({ "$ref": format!("#/components/schemas/{}", self.schema_name(suffix)) })
    }

    fn op_id(&self, kind: OperationKind) -> String {
        format!("{}_{}", kind.name(), self.op_id_path())
    }

    /// The model's path as it ends an `operationId`.
    fn op_id_path(&self) -> String {
        self.model()
            .path
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }

    fn add(&self, paths: &mut Map<String, Json>, schemas: &mut Map<String, Json>) {
        let m = self.model();
        let res = self.res;
        // The read schema: what list and retrieve answer, or (with neither) what writes
        // answer, which is then the key alone.
        let mut row = self.read_schema(res.output);
        self.embedded_properties(&mut row);
        schemas.insert(self.schema_name(""), row);
        if let Some(p) = res.policy(OperationKind::Create) {
            schemas.insert(
                self.schema_name("Create"),
                self.write_schema(p.fields, p.op, Body::Create),
            );
        }
        if let Some(p) = res.policy(OperationKind::Update) {
            schemas.insert(
                self.schema_name("Update"),
                self.write_schema(p.fields, p.op, Body::Update),
            );
        }
        if let Some(p) = res.policy(OperationKind::Replace) {
            schemas.insert(
                self.schema_name("Replace"),
                self.write_schema(p.fields, p.op, Body::Replace),
            );
        }
        if let Some(p) = res.policy(OperationKind::List) {
            let op = p.op;
            schemas.insert(
                self.schema_name("Tree"),
                json!({
                    "type": "string",
                    "description": "A logic tree: `(cond,...)`, with nested groups `and(...)`, `or(...)`, `not.and(...)`, `not.or(...)`.",
                    "pattern": tree_pattern(res, p.filterable, op),
                }),
            );
        }
        // The trees of writes chosen by filters, where they differ from the list's.
        for kind in [OperationKind::Update, OperationKind::Remove] {
            let Some(p) = res.policy(kind) else { continue };
            let suffix = self.tree_suffix(kind);
            if suffix != "Tree" {
                schemas.insert(
                    self.schema_name(&suffix),
                    json!({
                        "type": "string",
                        "description": format!(
                            "A logic tree: `(cond,...)` with nested groups, over the fields {} \
                             on the collection may filter on.",
                            match kind {
                                OperationKind::Remove => "a remove (`DELETE`)",
                                _ => "an update (`PATCH`)",
                            }
                        ),
                        "pattern": tree_pattern(res, p.filterable, p.op),
                    }),
                );
            }
        }
        let (mut collection, mut item) = (Map::new(), Map::new());
        for op in m.operations {
            let kind = op.kind;
            let doc = self.operation_doc(op);
            let method = kind.method().to_ascii_lowercase();
            if kind.on_collection_too() {
                collection.insert(method.clone(), self.write_many(op));
            }
            let path = if kind.on_item() {
                &mut item
            } else {
                &mut collection
            };
            path.insert(method, doc);
        }
        if !collection.is_empty() {
            paths.insert(format!("/{}", m.path), Json::Object(collection));
        }
        if !item.is_empty() {
            item.insert("parameters".into(), json!([self.key_parameter()]));
            paths.insert(format!("/{}/{{id}}", m.path), Json::Object(item));
        }
        for action in m.actions {
            let mut item = Map::new();
            item.insert(action.method.to_ascii_lowercase(), self.action(action));
            item.insert("parameters".into(), json!([self.key_parameter()]));
            paths.insert(
                format!("/{}/{{id}}/{}", m.path, action.name),
                Json::Object(item),
            );
        }
    }

    /// A declared action: no body, `select` on the answer, the written row.
    fn action(&self, action: &'static crate::model::Action) -> Json {
        let (res, op) = (self.res, &action.op);
        let params = vec![answer_select_param(res), if_match_param(op)];
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The record as the action left it.",
                "headers": { "ETag": etag_header() },
                "content": { "application/json": { "schema": self.schema_ref("") } },
            }),
        );
        precondition_responses(&mut responses, op);
        responses.insert(
            "400".into(),
            problem("The id is not valid, `select` is not, or an unknown query parameter."),
        );
        responses.insert(
            "404".into(),
            problem("No such record within the action's scope; nothing was written."),
        );
        responses.insert(
            "409".into(),
            problem("The change conflicts with another record (a unique or foreign key)."),
        );
        responses.insert(
            "422".into(),
            problem("A value the action set breaks a rule of the model or the table."),
        );
        self.common(&mut responses, op);
        let summary = match action.doc {
            "" => format!("`{}` one of {}", action.name, self.model().path),
            doc => doc.to_owned(),
        };
        let mut o = self.operation(OperationKind::Update, &summary, op, params, None, responses);
        o["operationId"] = format!("{}_{}", action.name, self.op_id_path()).into();
        o
    }

    /// The document of one operation (on its own path: the item's for an item operation).
    fn operation_doc(&self, op: &'static Operation) -> Json {
        match op.kind {
            OperationKind::List => self.list(op),
            OperationKind::Retrieve => self.retrieve(op),
            OperationKind::Create => self.create(op),
            OperationKind::Update => self.update(op),
            OperationKind::Remove => self.remove(op),
            OperationKind::Replace => self.replace(op),
        }
    }

    /// The suffix of the schema of a logic tree of `kind` chosen by filters: the list's
    /// (`Tree`) when it has the same pattern, else `UpdateTree` / `RemoveTree`.
    fn tree_suffix(&self, kind: OperationKind) -> String {
        let res = self.res;
        let pattern =
            |k: OperationKind| res.policy(k).map(|p| tree_pattern(res, p.filterable, p.op));
        let own = pattern(kind);
        if own.is_some() && own == pattern(OperationKind::List) {
            return "Tree".to_owned();
        }
        match kind {
            OperationKind::Remove => "RemoveTree".to_owned(),
            _ => "UpdateTree".to_owned(),
        }
    }

    fn read_schema(&self, readable: FieldSet) -> Json {
        let mut props = Map::new();
        for i in readable.iter() {
            let f = self.res.field(i);
            props.insert(f.name.into(), field_schema(f, f.nullable));
        }
        let mut s = json!({
            "type": "object",
            "properties": props,
            "description": join(&[
                self.model().doc,
                "Every property is present unless `select` names fewer (and renames those \
                 written `alias:field`).",
            ]),
        });
        s["x-expose-key"] = self.res.key_field().name.into();
        s
    }

    /// The embedded resources a row may carry (in the answers of list and retrieve, and so
    /// of writes, which embed under one of theirs), each an optional property under its
    /// default name, the related model's path: to-one, the related model's row schema or
    /// null; to-many, an array of it. The row schema stays open (no `additionalProperties`):
    /// aliases (`author:users(name)`, `who:name`) and a spread embed's fields
    /// (`...users(name)`) give other names.
    fn embedded_properties(&self, schema: &mut Json) {
        let res = self.res;
        // By path: the model, and whether it is embedded to-one, to-many.
        let mut found: Vec<(&'static Model, bool, bool)> = Vec::new();
        for kind in [OperationKind::List, OperationKind::Retrieve] {
            let Some(p) = res.policy(kind) else { continue };
            for (m, many) in crate::query::embeddable_models(res, p.op) {
                let at = match found.iter().position(|f| f.0.path == m.path) {
                    Some(at) => at,
                    None => {
                        found.push((m, false, false));
                        found.len() - 1
                    }
                };
                match many {
                    true => found[at].2 = true,
                    false => found[at].1 = true,
                }
            }
        }
        if found.is_empty() {
            return;
        }
        let Some(props) = schema["properties"].as_object_mut() else {
            return;
        };
        for (m, one, many) in found {
            if props.contains_key(m.path) {
                // A field of that name: the server refuses the embed under it unaliased.
                continue;
            }
            let row = match self.documented.contains(&m.rust_name) {
                true => json!({ "$ref": format!("#/components/schemas/{}", m.rust_name) }),
                false => {
                    json!({ "type": "object", "description": format!("A row of {}.", m.path) })
                }
            };
            let mut shapes = Vec::new();
            if one {
                shapes.push(row.clone());
                shapes.push(json!({ "type": "null" }));
            }
            if many {
                shapes.push(json!({ "type": "array", "items": row }));
            }
            let what = match (one, many) {
                (true, false) => "the row it references, or null when there is none the caller may read",
                (false, true) => "the rows that reference it which the caller may read (an array)",
                _ => "the row it references (or null), or the rows that reference it (an array), by the relation named",
            };
            let mut property = match shapes.len() {
                1 => shapes.remove(0),
                _ => json!({ "anyOf": shapes }),
            };
            property["description"] = json!(format!(
                "Embedded {} with `select=...,{}(...)`: {what}; present only when `select` \
                 embeds it, with the fields it selects.",
                m.path, m.path
            ));
            props.insert(m.path.into(), property);
        }
        schema["description"] = json!(join(&[
            self.model().doc,
            "Every field is present unless `select` names fewer (and renames those written \
             `alias:field`); an embedded resource is present only when `select` embeds it, \
             under its alias when it has one (a spread one, `...relation(fields)`, adds its \
             fields instead).",
        ]));
    }

    fn write_schema(&self, writable: FieldSet, op: &Operation, body: Body) -> Json {
        let mut props = Map::new();
        let mut required = Vec::new();
        let key = self.res.key_field();
        let forced = |f: &Field| op.force.iter().find(|x| x.field == f.ident);
        for i in writable.iter() {
            let f = self.res.field(i);
            match forced(f) {
                // A client value is refused (422): not part of the body.
                Some(x) if !x.overwrite => continue,
                // A client value is accepted and replaced by the server's.
                Some(_) => {
                    let mut s = field_schema(f, f.nullable);
                    s["description"] =
                        join(&[f.doc, "Set by the server: a value sent here is ignored."]).into();
                    props.insert(f.name.into(), s);
                }
                None => {
                    let needed = match body {
                        Body::Create => !f.nullable && !f.default && f.generate.is_none(),
                        Body::Update => false,
                        // A PUT names every field it may write; the key is the path's.
                        Body::Replace => !f.key,
                    };
                    if needed {
                        required.push(f.name);
                    }
                    let mut s = field_schema(f, f.nullable);
                    rules_schema(&mut s, f);
                    props.insert(f.name.into(), s);
                }
            }
        }
        if body == Body::Replace {
            let mut s = field_schema(key, key.nullable);
            s["description"] = join(&[
                key.doc,
                "Optional: when sent, it must be the `{id}` of the path (400 otherwise).",
            ])
            .into();
            props.insert(key.name.into(), s);
        }
        let mut s = json!({
            "type": "object",
            "properties": props,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            s["required"] = json!(required);
        }
        let what = match body {
            Body::Create => {
                "The body of a create: the writable fields; those that are neither nullable nor \
                 defaulted by the database are required."
            }
            Body::Update => {
                "The body of an update: any of the writable fields; those sent are changed."
            }
            Body::Replace => {
                "The body of a replace (`PUT`): every writable field, nullable or not, since the \
                 whole row is replaced (or inserted with the path's key)."
            }
        };
        s["description"] = join(&[what, dynamic_note(op)]).into();
        s
    }

    fn key_parameter(&self) -> Json {
        let key = self.res.key_field();
        json!({
            "name": "id",
            "in": "path",
            "required": true,
            "description": join(&[&format!("The `{}` of the {} record.", key.name, self.model().path), key.doc]),
            "schema": path_schema(key.ty),
        })
    }

    /// One parameter per filterable field of `policy`, with the pattern of its conditions.
    fn filter_params(&self, policy: &Policy) -> Vec<Json> {
        let res = self.res;
        let op = policy.op;
        let reserved = [
            "select", "order", "limit", "offset", "or", "and", "not.or", "not.and",
        ];
        let mut params = Vec::new();
        for i in policy.filterable.iter() {
            let f = res.field(i);
            if reserved.contains(&f.name) {
                continue;
            }
            params.push(json!({
                "name": f.name,
                "in": "query",
                "required": false,
                "description": join(&[
                    &format!(
                        "Filter on `{}`: `[not.]op.value`, operators {}. `in.(a,b)` takes a list \
                         of at most {} items; values containing `,` `(` `)` or starting with `\"` \
                         are double-quoted, with `\\\"` and `\\\\` as escapes. {}",
                        f.name,
                        ops_text(f.ty),
                        op.max_in_items,
                        value_note(f.ty),
                    ),
                    f.doc,
                ]),
                "schema": {
                    "type": "string",
                    "pattern": format!("^{}$", filter_value(f.ty, op.max_in_items)),
                },
            }));
        }
        params
    }

    /// The logic trees `or`, `and`, `not.or`, `not.and`, with the bounds of `op` and the
    /// schema named `tree`.
    fn tree_params(&self, op: &Operation, tree: &str) -> Vec<Json> {
        ["or", "and", "not.or", "not.and"]
            .into_iter()
            .map(|key| {
                json!({
                    "name": key,
                    "in": "query",
                    "required": false,
                    "description": format!(
                        "A logic tree over the filterable fields: `{key}=(cond,...)` with \
                         conditions `field.[not.]op.value` (as the field parameters take them). \
                         Groups `and(...)`, `or(...)`, `not.and(...)`, `not.or(...)` may nest up \
                         to {} levels; the pattern checks the top level's conditions, and \
                         matches nested groups whatever they hold. At most {} conditions per \
                         request in all, and {} items per `in` list.",
                        op.max_depth, op.max_conditions, op.max_in_items
                    ),
                    "schema": self.schema_ref(tree),
                })
            })
            .collect()
    }

    fn list(&self, op: &'static Operation) -> Json {
        let Some(policy) = self.res.policy(OperationKind::List) else {
            return Json::Null;
        };
        let res = self.res;
        let mut params = self.filter_params(policy);
        params.push(read_select_param(res, policy));
        if !op.fixed_order {
            let names = res.names(policy.sortable);
            params.push(json!({
                "name": "order",
                "in": "query",
                "required": false,
                "description": format!(
                    "Sort order: comma-separated `field[.asc|.desc][.nullsfirst|.nullslast]`; \
                     sortable fields: {names}. Ties are broken by `{}`.",
                    res.key_field().name
                ),
                "schema": { "type": "string", "pattern": order_pattern(res, policy.sortable) },
            }));
        }
        if !op.fixed_limit {
            params.push(json!({
                "name": "limit",
                "in": "query",
                "required": false,
                "description": format!(
                    "Page size, default {} when not sent; at most {} (the server serves a \
                     larger value as {}).",
                    op.default_limit, op.max_limit, op.max_limit
                ),
                "schema": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": op.max_limit,
                },
            }));
        }
        params.push(json!({
            "name": "offset",
            "in": "query",
            "required": false,
            "description": "Rows to skip, default 0 when not sent; at most 2^64−1.",
            "schema": { "type": "integer", "minimum": 0, "maximum": u64::MAX },
        }));
        params.extend(self.tree_params(op, "Tree"));
        params.push(prefer_param(true));
        params.push(json!({
            "name": "Range",
            "in": "header",
            "required": false,
            "description": "Rows `first-last` (or `first-` for the rest), zero-based and \
                inclusive, optionally prefixed with `items=`: `0-24`. `last` must not be below \
                `first`. `offset` and `limit` take precedence.",
            "schema": {
                "type": "string",
                "pattern": range_pattern(),
            },
        }));
        params.push(accept_param(true));
        let mut responses = Map::new();
        let range_header = json!({
            "description": "The rows served, `first-last/total` (`*` for an empty page; the \
                total is `*` unless `Prefer: count=...` asks for one, and with `planned` or \
                `estimated` it may be the planner's estimate, as `Preference-Applied` says).",
            "required": true,
            "schema": { "type": "string", "pattern": "^(?:\\*|[0-9]+-[0-9]+)/(?:\\*|[0-9]+)$" },
        });
        let page = json!({
            "application/json": { "schema": { "type": "array", "items": self.schema_ref("") } },
            CSV: {
                "schema": {
                    "type": "string",
                    "description": "With `Accept: text/csv`: a header line of the selected \
                        names (aliases included), then one line per row, each ending in LF; \
                        fields quoted as RFC 4180 asks (`\"` doubled), a null empty, an empty \
                        text `\"\"`.",
                },
            },
        });
        // The one-object answer (`Accept: application/vnd.pgrst.object+json`) is described,
        // not listed as a media type: generators (openapi-python-client) read every media
        // type of a 200 as one shape, and would parse the page as an object or the reverse.
        responses.insert(
            "200".into(),
            json!({
                "description": format!(
                    "The page of rows, an array. With `Accept: {OBJECT_JSON}` the answer is \
                     instead the one matching row, an object of the retrieve's schema (`{}`), \
                     in that media type: a generated client reads one row by key with the \
                     retrieve, or sends that header through its raw-response call.",
                    self.schema_name("")
                ),
                "headers": {
                    "Content-Range": range_header,
                    "Preference-Applied": preference_applied(),
                },
                "content": page.clone(),
            }),
        );
        responses.insert(
            "206".into(),
            json!({
                "description": "With a count (`Prefer: count=...`), a page holding fewer \
                    rows than the total, counted or estimated.",
                "headers": {
                    "Content-Range": range_header,
                    "Preference-Applied": preference_applied(),
                },
                "content": page,
            }),
        );
        responses.insert(
            "400".into(),
            problem(
                "A query parameter or header is not valid: unknown field, operator or value, \
                 a field that cannot be filtered, sorted or selected, a fixed order or limit, \
                 too many conditions.",
            ),
        );
        responses.insert(
            "406".into(),
            problem(&format!(
                "`Accept` names neither a JSON media type nor `{CSV}`, or asks for \
                 `{OBJECT_JSON}` and not exactly one row matches."
            )),
        );
        let mut r416 = problem(
            "With a count (`Prefer: count=...`), the offset is past the last row, by a \
             counted total: with `planned` or `estimated`, an empty page at a positive offset is \
             counted, and no 416 is answered from an estimate.",
        );
        r416["headers"] = json!({
            "Content-Range": {
                "description": "`*/total`.",
                "required": true,
                "schema": { "type": "string", "pattern": "^\\*/[0-9]+$" },
            },
        });
        responses.insert("416".into(), r416);
        self.common(&mut responses, op);
        self.operation(
            OperationKind::List,
            &format!("List {}", self.model().path),
            op,
            params,
            None,
            responses,
        )
    }

    fn retrieve(&self, op: &'static Operation) -> Json {
        let Some(policy) = self.res.policy(OperationKind::Retrieve) else {
            return Json::Null;
        };
        let params = vec![
            read_select_param(self.res, policy),
            json!({
                "name": "If-None-Match",
                "in": "header",
                "required": false,
                "description": "Entity-tags (or `*`): when one matches the record's `ETag` \
                    (weak comparison), the answer is 304 without a body.",
                "schema": { "type": "string" },
            }),
            accept_param(false),
        ];
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The record.",
                "headers": { "ETag": etag_header() },
                "content": { "application/json": { "schema": self.schema_ref("") } },
            }),
        );
        responses.insert(
            "304".into(),
            json!({
                "description": "`If-None-Match` matched the record's current `ETag`.",
                "headers": { "ETag": etag_header() },
            }),
        );
        responses.insert(
            "400".into(),
            problem("The id is not valid, `select` is not, or an unknown query parameter."),
        );
        responses.insert("404".into(), problem("No such record."));
        responses.insert("406".into(), problem("`Accept` names no JSON media type."));
        self.common(&mut responses, op);
        self.operation(
            OperationKind::Retrieve,
            &format!("Retrieve one of {}", self.model().path),
            op,
            params,
            None,
            responses,
        )
    }

    fn write_responses(&self, responses: &mut Map<String, Json>) {
        responses.insert(
            "409".into(),
            problem("The change conflicts with another record (a unique or foreign key)."),
        );
        responses.insert(
            "413".into(),
            problem("The body is larger than the limit (1 MiB by default)."),
        );
        responses.insert(
            "415".into(),
            problem("The body is not sent as `application/json` (or another `+json` type)."),
        );
        responses.insert(
            "422".into(),
            problem(
                "The body is not a JSON object, names a field twice or one that cannot be \
                 written, has a value of the wrong type or null where none is allowed, misses \
                 a required field, or breaks a rule of the table.",
            ),
        );
    }

    /// The fields an upsert may match existing rows on (`on_conflict`): the key and the
    /// `unique` fields that every row carries (written by the create, or set by the server).
    fn conflict_targets(&self, policy: &Policy) -> FieldSet {
        let res = self.res;
        let mut set = FieldSet::default();
        for (i, f) in res.model.fields.iter().enumerate() {
            let forced = policy.op.force.iter().any(|x| x.field == f.ident);
            if (f.key || f.unique) && (policy.fields.contains(i) || forced) {
                set.insert(i);
            }
        }
        set
    }

    fn create(&self, op: &'static Operation) -> Json {
        let res = self.res;
        let Some(policy) = res.policy(OperationKind::Create) else {
            return Json::Null;
        };
        let path = self.model().path;
        let key = res.key_field().name;
        let update = res.policy(OperationKind::Update);
        let upsert = op.upsert && update.is_some();
        let targets = self.conflict_targets(policy);
        let mut params = vec![answer_select_param(res), columns_param(res, policy.fields)];
        if upsert && targets.0 != 0 {
            let default = if targets.contains(res.key) {
                format!("the key `{key}`")
            } else {
                format!(
                    "the key `{key}`, which rows of {path} do not carry (so that each is refused, \
                     422)"
                )
            };
            params.push(json!({
                "name": "on_conflict",
                "in": "query",
                "required": false,
                "description": format!(
                    "The field an upsert (`Prefer: resolution=merge-duplicates` or \
                     `resolution=ignore-duplicates`, without which `on_conflict` is refused with \
                     400) matches existing rows on, optionally double-quoted: one of {}. Every \
                     row must carry it (422 otherwise). Without `on_conflict`, {default}.",
                    res.names(targets)
                ),
                "schema": { "type": "string", "pattern": names_pattern(res, targets, false) },
            }));
        }
        params.push(create_prefer_param(op, upsert));
        params.push(write_accept_param());
        params.push(idempotency_param());
        let body = json!({
            "required": true,
            "content": { "application/json": { "schema": {
                "oneOf": [
                    self.schema_ref("Create"),
                    {
                        "type": "array",
                        "description": format!(
                            "Many rows in one request, at most {}: all are written or none.",
                            op.max_rows
                        ),
                        "items": self.schema_ref("Create"),
                        "maxItems": op.max_rows,
                    },
                ],
            } } },
        });
        let mut responses = Map::new();
        let mut links = Map::new();
        for kind in OperationKind::ALL.into_iter().filter(|k| k.on_item()) {
            if res.policy(kind).is_some() {
                links.insert(
                    format!("{}Created", kind.name()),
                    json!({
                        "operationId": self.op_id(kind),
                        "parameters": { "id": format!("$response.body#/{}", pointer(key)) },
                    }),
                );
            }
        }
        let rows = self.rows_content();
        let mut created = json!({
            "description": format!(
                "Created. One object sent without `columns`, an upsert or `Prefer: \
                 return=representation` is answered the REST way: the new record (no body with \
                 `Prefer: return=minimal` or `return=headers-only`), with `Location` and `ETag`. \
                 Any other create is answered PostgREST's way: with `Prefer: \
                 return=representation`, the rows written, as an array (one object with \
                 `Accept: {OBJECT_JSON}`); otherwise no body."
            ),
            "headers": {
                "Location": {
                    "description": "The address of the new record (one object answered the \
                        REST way).",
                    "required": false,
                    "schema": { "type": "string" },
                },
                "ETag": {
                    "description": "The new record's entity-tag, for `If-Match` and \
                        `If-None-Match` (one object answered the REST way).",
                    "required": false,
                    "schema": { "type": "string" },
                },
                "Content-Range": written_range(),
                "Preference-Applied": preference_applied(),
            },
            "content": rows.clone(),
        });
        if !links.is_empty() {
            created["links"] = Json::Object(links);
        }
        responses.insert("201".into(), created);
        if upsert {
            responses.insert(
                "200".into(),
                json!({
                    "description": "An upsert that inserted no row (each was merged into an \
                        existing one, or skipped): with `Prefer: return=representation`, the \
                        rows merged, as for 201; otherwise no body.",
                    "headers": {
                        "Content-Range": written_range(),
                        "Preference-Applied": preference_applied(),
                    },
                    "content": rows,
                }),
            );
        }
        let (params_text, upsert_text) = if upsert {
            (
                "`select`, `columns` or `on_conflict`",
                "`on_conflict` without `Prefer: resolution=...`",
            )
        } else {
            (
                "`select` or `columns`",
                "`on_conflict` or `Prefer: resolution=...` (this resource takes no upserts)",
            )
        };
        responses.insert(
            "400".into(),
            problem(&format!(
                "{params_text} is not valid, an unknown query parameter, {upsert_text}, the body \
                 is not valid JSON, or `Prefer` is refused (`handling=strict`, or a \
                 `max-affected` that is not a number)."
            )),
        );
        let update_op = update.map(|p| p.op);
        if upsert && update.is_some_and(|u| u.op.scope.is_some() || !u.forced.is_empty()) {
            responses.insert(
                "403".into(),
                problem(
                    "An upsert would merge into an existing row that the update may not change \
                     (outside its `where` or the request's scope); nothing was written.",
                ),
            );
        }
        responses.insert(
            "406".into(),
            problem(&format!(
                "`Accept: {OBJECT_JSON}` and not exactly one row would be written; nothing was \
                 written."
            )),
        );
        self.write_responses(&mut responses);
        responses.insert(
            "413".into(),
            problem(&format!(
                "The body is larger than the limit (1 MiB by default), or holds more than {} \
                 rows.",
                op.max_rows
            )),
        );
        responses.insert(
            "422".into(),
            problem(&format!(
                "The body is not a JSON object or an array of objects, names a field twice or \
                 one that cannot be written, has a value of the wrong type or null where none is \
                 allowed, misses a required field, or breaks a rule of the table{}. The \
                 offenders of an array are named `[row].field`.",
                if upsert {
                    "; a row of an upsert lacks its `on_conflict` field"
                } else {
                    ""
                }
            )),
        );
        self.common(&mut responses, op);
        if let Some(u) = update_op.filter(|u| upsert && has_dynamic(u)) {
            // A merge runs the update's hooks and rules.
            self.common(&mut responses, u);
        }
        self.operation(
            OperationKind::Create,
            &format!("Create one or more of {path}"),
            op,
            params,
            Some(body),
            responses,
        )
    }

    /// The body of rows written and asked for: an array, or one object with the singular
    /// `Accept`.
    fn rows_content(&self) -> Json {
        json!({
            "application/json": { "schema": { "oneOf": [
                { "type": "array", "items": self.schema_ref("") },
                self.schema_ref(""),
            ] } },
        })
    }

    /// `PATCH /path?<filters>` and `DELETE /path?<filters>`: an update or remove of every
    /// row the filters choose.
    fn write_many(&self, op: &'static Operation) -> Json {
        let res = self.res;
        let kind = op.kind;
        let Some(policy) = res.policy(kind) else {
            return Json::Null;
        };
        let path = self.model().path;
        let update = kind == OperationKind::Update;
        let mut params = self.filter_params(policy);
        params.push(answer_select_param(res));
        params.extend(self.tree_params(op, &self.tree_suffix(kind)));
        params.push(many_prefer_param(op));
        params.push(write_accept_param());
        params.push(json!({
            "name": "If-Match",
            "in": "header",
            "required": op.require_if_match,
            "description": format!(
                "Entity-tags (or `*`): each row the filters choose must currently have one of \
                 them (strong comparison), else 412 and nothing is written.{}",
                if op.require_if_match { " Required: without it the answer is 428." } else { "" }
            ),
            "schema": { "type": "string" },
        }));
        params.push(idempotency_param());
        let body = update.then(|| {
            json!({
                "required": true,
                "content": { "application/json": { "schema": self.schema_ref("Update") } },
            })
        });
        let (done, as_they) = match update {
            true => ("changed", "as changed"),
            false => ("removed", "as they were before"),
        };
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": format!(
                    "With `Prefer: return=representation`: the rows {as_they}, as an array \
                     (one object with `Accept: {OBJECT_JSON}`; an empty array when no row \
                     matches)."
                ),
                "headers": {
                    "Content-Range": written_range(),
                    "Preference-Applied": preference_applied(),
                },
                "content": self.rows_content(),
            }),
        );
        responses.insert(
            "204".into(),
            json!({
                "description": format!(
                    "The rows were {done} (none, when no row matches); without `Prefer: \
                     return=representation` there is no body."
                ),
                "headers": {
                    "Content-Range": written_range(),
                    "Preference-Applied": preference_applied(),
                },
            }),
        );
        let unfiltered = match op.unfiltered {
            true => String::new(),
            false => "no filter at all (this resource does not write every row at once), ".into(),
        };
        responses.insert(
            "400".into(),
            problem(&format!(
                "A query parameter or header is not valid: {unfiltered}an unknown field, a field \
                 that cannot be filtered on here (filterable: {}), operator or value, too many \
                 conditions, `order`, `limit` or `offset` (a write takes every row its filters \
                 match), `select`; the filters match more than {} rows, or more than `Prefer: \
                 max-affected` (nothing was written); {}`Prefer` is refused (`handling=strict`, \
                 or a `max-affected` that is not a number).",
                res.names(policy.filterable),
                op.max_affected,
                if update {
                    "the body is not valid JSON; "
                } else {
                    ""
                },
            )),
        );
        responses.insert(
            "406".into(),
            problem(&format!(
                "`Accept: {OBJECT_JSON}` and the filters do not match exactly one row; nothing \
                 was written."
            )),
        );
        if update {
            self.write_responses(&mut responses);
        } else {
            responses.insert(
                "409".into(),
                problem("Other records still refer to one of these."),
            );
        }
        responses.insert(
            "412".into(),
            problem(
                "`If-Match` matches no current `ETag` of some row the filters choose: it changed \
                 since it was read. Nothing was written.",
            ),
        );
        if op.require_if_match {
            responses.insert("428".into(), problem("`If-Match` is missing."));
        }
        self.common(&mut responses, op);
        let (verb, id) = match update {
            true => ("Update", format!("updateMany_{}", self.op_id_path())),
            false => ("Remove", format!("removeMany_{}", self.op_id_path())),
        };
        let about = format!(
            "Every row that the filters (ANDed together{}) choose is {done}, at most {} in one \
             request, all in one transaction: a request that would write more is refused and \
             writes nothing. {}",
            if policy.forced.is_empty() {
                ""
            } else {
                ", and with the resource's own conditions"
            },
            op.max_affected,
            if op.unfiltered {
                "Without a filter, every row is written."
            } else {
                "A filter is required."
            },
        );
        let mut doc = self.operation(
            kind,
            &format!("{verb} {path} chosen by filters"),
            op,
            params,
            body,
            responses,
        );
        doc["operationId"] = id.into();
        doc["description"] = join(&[&about, dynamic_note(op)]).into();
        doc
    }

    fn replace(&self, op: &'static Operation) -> Json {
        let res = self.res;
        let key = res.key_field().name;
        let params = vec![
            answer_select_param(res),
            prefer_param(false),
            if_match_param(op),
            idempotency_param(),
        ];
        let body = json!({
            "required": true,
            "content": { "application/json": { "schema": self.schema_ref("Replace") } },
        });
        let headers = json!({
            "ETag": etag_header(),
            "Preference-Applied": preference_applied(),
        });
        let record = json!({ "application/json": { "schema": self.schema_ref("") } });
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The record as replaced.",
                "headers": headers,
                "content": record,
            }),
        );
        responses.insert(
            "201".into(),
            json!({
                "description": "No record had this key: it was inserted with it. The body is \
                    the new record unless `Prefer: return=minimal` or `return=headers-only` \
                    asked for none.",
                "headers": headers,
                "content": record,
            }),
        );
        responses.insert(
            "204".into(),
            json!({
                "description": "Replaced, with `Prefer: return=minimal` or `return=headers-only`.",
                "headers": headers,
            }),
        );
        responses.insert(
            "400".into(),
            problem(&format!(
                "The id is not valid, `select` is not, an unknown query parameter, the body is \
                 not valid JSON or its `{key}` is not the path's, or `Prefer` is refused \
                 (`handling=strict`)."
            )),
        );
        self.write_responses(&mut responses);
        responses.insert(
            "409".into(),
            problem(
                "The change conflicts with another record (a unique or foreign key), or a record \
                 with this key exists that this request may not change.",
            ),
        );
        responses.insert(
            "422".into(),
            problem(
                "The body is not a JSON object, names a field twice or one that cannot be \
                 written, has a value of the wrong type or null where none is allowed, misses \
                 a writable field (a PUT names them all), or breaks a rule of the table.",
            ),
        );
        responses.insert(
            "412".into(),
            problem(
                "`If-Match` matches no current `ETag` of the record (it changed since it was \
                 read), or there is no record to replace.",
            ),
        );
        if op.require_if_match {
            responses.insert("428".into(), problem("`If-Match` is missing."));
        }
        self.common(&mut responses, op);
        let mut doc = self.operation(
            OperationKind::Replace,
            &format!("Replace one of {}", self.model().path),
            op,
            params,
            Some(body),
            responses,
        );
        let about = "The record with this key takes the body's values (every writable field), \
            or is inserted with this key when there is none.";
        doc["description"] = join(&[about, dynamic_note(op)]).into();
        doc
    }

    fn update(&self, op: &'static Operation) -> Json {
        let res = self.res;
        let params = vec![
            answer_select_param(res),
            prefer_param(false),
            if_match_param(op),
            idempotency_param(),
        ];
        let body = json!({
            "required": true,
            "content": { "application/json": { "schema": self.schema_ref("Update") } },
        });
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "The record as changed.",
                "headers": {
                    "ETag": etag_header(),
                    "Preference-Applied": preference_applied(),
                },
                "content": { "application/json": { "schema": self.schema_ref("") } },
            }),
        );
        responses.insert(
            "204".into(),
            json!({
                "description": "Changed, with `Prefer: return=minimal` or `return=headers-only`.",
                "headers": {
                    "ETag": etag_header(),
                    "Preference-Applied": preference_applied(),
                },
            }),
        );
        precondition_responses(&mut responses, op);
        responses.insert(
            "400".into(),
            problem("The id is not valid, `select` is not, an unknown query parameter, the body is not valid JSON, or `Prefer` is refused (`handling=strict`)."),
        );
        responses.insert("404".into(), problem("No such record."));
        self.write_responses(&mut responses);
        self.common(&mut responses, op);
        self.operation(
            OperationKind::Update,
            &format!("Update one of {}", self.model().path),
            op,
            params,
            Some(body),
            responses,
        )
    }

    fn remove(&self, op: &'static Operation) -> Json {
        let mut responses = Map::new();
        responses.insert("204".into(), json!({ "description": "Removed." }));
        responses.insert(
            "400".into(),
            problem("The id is not valid, or a query parameter was sent."),
        );
        responses.insert("404".into(), problem("No such record."));
        responses.insert(
            "409".into(),
            problem("Other records still refer to this one."),
        );
        precondition_responses(&mut responses, op);
        self.common(&mut responses, op);
        self.operation(
            OperationKind::Remove,
            &format!("Remove one of {}", self.model().path),
            op,
            vec![if_match_param(op), idempotency_param()],
            None,
            responses,
        )
    }

    /// Responses every operation can give.
    fn common(&self, responses: &mut Map<String, Json>, op: &Operation) {
        let mut r503 = problem("The database is busy or unreachable; try again shortly.");
        r503["headers"] = json!({
            "Retry-After": {
                "description": "Seconds to wait.",
                "required": true,
                "schema": { "type": "string", "pattern": "^[0-9]+$" },
            },
        });
        responses.insert("503".into(), r503);
        responses.insert(
            "414".into(),
            problem(
                "The query string is longer than the router's limit \
                 (`RouterConfig::max_query_length`, 8 KiB by default).",
            ),
        );
        if has_dynamic(op) {
            responses.insert(
                "default".into(),
                problem("A hook or a per-request rule of the application refused the request."),
            );
        }
    }

    fn operation(
        &self,
        kind: OperationKind,
        summary: &str,
        op: &Operation,
        params: Vec<Json>,
        body: Option<Json>,
        mut responses: Map<String, Json>,
    ) -> Json {
        let writes_rows = matches!(
            kind,
            OperationKind::Create | OperationKind::Update | OperationKind::Replace
        );
        if writes_rows && op.scope.is_some() && !responses.contains_key("403") {
            responses.insert(
                "403".into(),
                problem(
                    "A row this write would leave (created, changed or merged) is outside what \
                     the request's scope lets the caller write; nothing was written.",
                ),
            );
        }
        let mut o = json!({
            "operationId": self.op_id(kind),
            "summary": summary,
            "tags": [self.model().path],
            "responses": responses,
        });
        let note = dynamic_note(op);
        if !note.is_empty() {
            o["description"] = note.into();
        }
        if !params.is_empty() {
            o["parameters"] = Json::Array(params);
        }
        if let Some(b) = body {
            o["requestBody"] = b;
        }
        o
    }
}

fn has_dynamic(op: &Operation) -> bool {
    !op.pre.is_empty()
        || !op.post.is_empty()
        || op.scope.is_some()
        || op.fields_for.is_some()
        || !op.force.is_empty()
}

fn dynamic_note(op: &Operation) -> &'static str {
    match (
        !op.pre.is_empty() || !op.post.is_empty(),
        op.scope.is_some() || op.fields_for.is_some(),
    ) {
        (true, _) => {
            "Application hooks run with this operation: they may refuse it with any problem \
             and change what it answers; rows and fields may also be limited per request."
        }
        (false, true) => {
            "The rows and fields this operation reaches may be limited per request by the \
             application."
        }
        (false, false) => "",
    }
}

/// Non-empty texts joined by a blank line.
fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A JSON pointer segment.
fn pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn etag_header() -> Json {
    json!({
        "description": "The record's entity-tag, for `If-Match` and `If-None-Match`.",
        "required": true,
        "schema": { "type": "string" },
    })
}

fn accept_param(list: bool) -> Json {
    let description = if list {
        format!(
            "Must admit JSON (`application/json`, `{OBJECT_JSON}`, `application/*+json`, \
             `application/*` or `*/*`) or `{CSV}` when sent, else 406. `{OBJECT_JSON}` asks \
             for the one matching row as an object instead of an array (406 unless exactly \
             one row matches); `{CSV}` for the page as CSV, when it is the preferred type \
             (highest `q`, the first listed among equals)."
        )
    } else {
        format!(
            "Must admit JSON (`application/json`, `{OBJECT_JSON}`, `application/*+json`, \
             `application/*` or `*/*`) when sent, else 406."
        )
    };
    json!({
        "name": "Accept",
        "in": "header",
        "required": false,
        "description": description,
        "schema": { "type": "string" },
    })
}

fn if_match_param(op: &Operation) -> Json {
    json!({
        "name": "If-Match",
        "in": "header",
        "required": op.require_if_match,
        "description": format!(
            "Entity-tags (or `*`): the write happens only while one matches the record's \
             current `ETag` (strong comparison), else 412.{}",
            if op.require_if_match { " Required: without it the answer is 428." } else { "" }
        ),
        "schema": { "type": "string" },
    })
}

/// 412, and 428 where `If-Match` is required.
fn precondition_responses(responses: &mut Map<String, Json>, op: &Operation) {
    responses.insert(
        "412".into(),
        problem(
            "`If-Match` matches no current `ETag` of the record: it changed since it was read.",
        ),
    );
    if op.require_if_match {
        responses.insert("428".into(), problem("`If-Match` is missing."));
    }
}

fn preference_applied() -> Json {
    json!({
        "description": "The preferences of `Prefer` that were honoured.",
        "required": false,
        "schema": { "type": "string" },
    })
}

fn prefer_param(list: bool) -> Json {
    let (known, more) = if list {
        (
            "`count=exact`, `count=planned` or `count=estimated` (the total in \
             `Content-Range`)",
            " `exact` counts the matching rows; `planned` takes the planner's estimate \
             (PostgreSQL, MySQL/MariaDB: in the time of planning whatever the table's size; \
             SQLite keeps no estimates and counts); `estimated` counts while at most the \
             largest page (the `limit` maximum) matches, else takes the estimate, never \
             below the rows counted. A page shorter than asked ends the rows, so with \
             `planned` or `estimated` its total is known without an estimate. \
             `Preference-Applied` says `count=exact` for a counted total and \
             `count=planned` for an estimate.",
        )
    } else {
        (
            "`return=representation` (default), `return=minimal` or `return=headers-only` (no \
             body)",
            "",
        )
    };
    json!({
        "name": "Prefer",
        "in": "header",
        "required": false,
        "description": format!(
            "RFC 7240 preferences, comma-separated: {known}, `handling=lenient` (default: \
             unknown preferences are ignored) or `handling=strict` (they are refused with 400). \
             Honoured ones are listed in `Preference-Applied`.{more}"
        ),
        "schema": { "type": "string", "pattern": "^[\\t -~]*$" },
        "examples": {
            "count": { "value": if list { "count=exact" } else { "return=minimal" } },
        },
    })
}

/// `Content-Range: */n` of a write, with a count.
fn written_range() -> Json {
    json!({
        "description": "With `Prefer: count=...`: `*/n`, the number of rows written (always \
            counted).",
        "required": false,
        "schema": { "type": "string", "pattern": "^\\*/[0-9]+$" },
    })
}

/// `Accept` on a write of rows: the singular media type.
fn write_accept_param() -> Json {
    json!({
        "name": "Accept",
        "in": "header",
        "required": false,
        "description": format!(
            "`{OBJECT_JSON}` asks for the row written as one object instead of an array: \
             unless exactly one row is written, the answer is 406 and nothing is written. \
             Writes answer `application/json` whatever else is sent."
        ),
        "schema": { "type": "string" },
    })
}

/// `Prefer` of a create.
fn create_prefer_param(op: &Operation, upsert: bool) -> Json {
    let resolution = if upsert {
        "`resolution=merge-duplicates` or `resolution=ignore-duplicates`: an upsert, where a \
         row whose `on_conflict` field matches an existing row's is merged into it (under the \
         update's rules) or skipped"
    } else {
        "`resolution=...` is refused with 400 (this resource takes no upserts)"
    };
    json!({
        "name": "Prefer",
        "in": "header",
        "required": false,
        "description": format!(
            "RFC 7240 preferences, comma-separated: `return=representation` (the rows written, \
             as an array; one object with `Accept: {OBJECT_JSON}`), `return=minimal` or \
             `return=headers-only` (no body; without a `return`, one object sent alone is \
             answered with the new record, an array with no body); `count=exact` (`planned` \
             and `estimated` count exactly too): the number of rows written in \
             `Content-Range`; \
             `missing=default` (in an array, a field that some rows name and others omit takes \
             its default in those, not null); {resolution}; `handling=lenient` (default: \
             unknown preferences are ignored) or `handling=strict` (they are refused with 400). \
             Honoured ones are listed in `Preference-Applied`. At most {} rows per request.",
            op.max_rows
        ),
        "schema": { "type": "string", "pattern": "^[\\t -~]*$" },
        "examples": {
            "minimal": { "value": "return=minimal" },
            "representation": { "value": "return=representation, count=exact" },
        },
    })
}

/// `Prefer` of an update or remove chosen by filters.
fn many_prefer_param(op: &Operation) -> Json {
    json!({
        "name": "Prefer",
        "in": "header",
        "required": false,
        "description": format!(
            "RFC 7240 preferences, comma-separated: `return=representation` (the rows written, \
             as an array; one object with `Accept: {OBJECT_JSON}`), `return=minimal` or \
             `return=headers-only` (no body, the default); `count=exact` (`planned` and \
             `estimated` count exactly too): the number of rows written in `Content-Range`; \
             `max-affected=n` with \
             `handling=strict`: more than n rows chosen is refused with 400 and nothing is \
             written (the resource's own cap is {}); `handling=lenient` (default: unknown \
             preferences are ignored) or `handling=strict` (they are refused with 400). \
             Honoured ones are listed in `Preference-Applied`.",
            op.max_affected
        ),
        "schema": { "type": "string", "pattern": "^[\\t -~]*$" },
        "examples": {
            "representation": { "value": "return=representation, count=exact" },
            "capped": { "value": "handling=strict, max-affected=1" },
        },
    })
}

/// `columns` of a create: the writable fields to take from each row.
fn columns_param(res: &Resource, writable: FieldSet) -> Json {
    json!({
        "name": "columns",
        "in": "query",
        "required": false,
        "description": format!(
            "The fields to write, comma-separated, each optionally double-quoted (as \
             postgrest-js sends `\"name\",\"age\"` with an array): members of the body naming \
             other fields are ignored, and a field named here that a row omits is null in it \
             (or its default, with `Prefer: missing=default` or when it cannot be null). Every \
             field the body requires must be named (else the row breaks a rule of the table: \
             422). With `columns` the create is answered PostgREST's way (see 201). Writable \
             fields: {}.",
            res.names(writable)
        ),
        "schema": { "type": "string", "pattern": names_pattern(res, writable, true) },
    })
}

fn idempotency_param() -> Json {
    json!({
        "name": "Idempotency-Key",
        "in": "header",
        "required": false,
        "description": "A key of 1 to 255 visible ASCII characters (another is refused \
            with 400). On a router that keeps answers (`RouterConfig::idempotency_keys`; \
            otherwise a key is ignored) a retry with the same key gets the first answer \
            again, marked `Idempotent-Replayed: true`, and writes nothing; the same key with \
            another request is 422, and while the first request runs, 409.",
        "schema": { "type": "string", "pattern": "^[!-~]{1,255}$" },
    })
}

/// `select` of a list or retrieve: [`select_param`], and the resources it may embed.
fn read_select_param(res: &Resource, policy: &Policy) -> Json {
    embeds_select_param(res, policy.fields, policy, true)
}

/// `select` of a write's answer: its fields, and the resources it may embed (those of the
/// read [`Resource::answer_policy`] names).
fn answer_select_param(res: &Resource) -> Json {
    match res.answer_policy() {
        Some(p) => embeds_select_param(res, res.output, p, false),
        None => select_param(res, res.output),
    }
}

/// `select` over the fields `readable`, with the resources `policy` may embed (in a read,
/// with parameters of their own).
fn embeds_select_param(res: &Resource, readable: FieldSet, policy: &Policy, read: bool) -> Json {
    let mut param = select_param(res, readable);
    let embeddable = crate::query::embeddable(res, policy.op);
    if embeddable.is_empty() {
        return param;
    }
    let names: Vec<String> = embeddable
        .iter()
        .map(|(name, many)| {
            let shape = if *many {
                "an array"
            } else {
                "an object or null"
            };
            format!("`{name}(...)` ({shape})")
        })
        .collect();
    let rows = match read {
        true => {
            "their rows filtered, ordered and limited with `relation.field=op.value`, \
                 `relation.order`, `relation.limit`, `relation.offset`"
        }
        false => {
            "read after the write, in its transaction; filters, order, limits and \
                  `!inner` on them are for reads"
        }
    };
    param["description"] = json!(format!(
        "The fields to answer with: `*` or comma-separated `field` / `alias:field`, no two \
         giving the same name (400); fields: {}. Embedded resources (PostgREST's \
         `[alias:]relation(fields)`, each read under its own policies, nested at most {} \
         deep, at most {} rows per parent; {rows}): {}.",
        res.names(readable),
        policy.op.embed_depth,
        policy.op.embed_rows,
        names.join(", ")
    ));
    // The fields' pattern, or a value with an embed: a regular expression cannot count
    // parentheses, so the server checks what is inside one (as it does the logic trees').
    param["schema"] = json!({
        "type": "string",
        "pattern": format!("{}|^[^()]*\\(.*\\)[^()]*$", select_pattern(res, readable)),
    });
    param
}

fn select_param(res: &Resource, readable: FieldSet) -> Json {
    json!({
        "name": "select",
        "in": "query",
        "required": false,
        "description": format!(
            "The fields to answer with: `*` or comma-separated `field` / `alias:field`, no two \
             giving the same name (400); fields: {}.",
            res.names(readable)
        ),
        "schema": { "type": "string", "pattern": select_pattern(res, readable) },
    })
}

// ---------------------------------------------------------------------------------------
// schemas

fn problem(description: &str) -> Json {
    json!({
        "description": description,
        "content": { PROBLEM_JSON: { "schema": { "$ref": "#/components/schemas/Problem" } } },
    })
}

fn problem_schema() -> Json {
    json!({
        "type": "object",
        "description": "An RFC 9457 problem: why the request was refused.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "description": "`urn:expose:problem:<kind>`, e.g. `urn:expose:problem:not-found`.",
            },
            "title": { "type": "string", "description": "The status's reason phrase." },
            "status": { "type": "integer", "minimum": 100, "maximum": 599 },
            "detail": { "type": "string", "description": "What was wrong, for a person." },
            "errors": {
                "type": "array",
                "description": "The offending fields, parameters or headers.",
                "items": { "$ref": "#/components/schemas/Offender" },
            },
            "instance": {
                "type": "string",
                "description": "On 500: `urn:uuid:<error id>` as logged by the server.",
            },
        },
    })
}

fn offender_schema() -> Json {
    json!({
        "type": "object",
        "required": ["name", "in", "detail"],
        "properties": {
            "name": { "type": "string" },
            "in": { "type": "string", "enum": ["body", "query", "path", "header"] },
            "detail": { "type": "string" },
            "rule": {
                "type": "string",
                "description": "The declared validation rule the value broke (`length`, `range`, `email`, ..., or a model's own), when one did.",
            },
        },
    })
}

/// The JSON Schema of a field's values in bodies and output.
fn field_schema(f: &Field, nullable: bool) -> Json {
    let mut s = type_schema(f.ty, nullable);
    if !f.doc.is_empty() {
        s["description"] = f.doc.into();
    }
    s
}

/// Adds a written field's declared rules (`rules.rs`) to its schema: the same constraints
/// the server checks, in JSON Schema's words.
fn rules_schema(s: &mut Json, f: &Field) {
    let num = |n: &Num| match n {
        Num::Int(i) => json!(i),
        Num::Float(x) => json!(x),
    };
    // A bound tighter than the type's own replaces it.
    let tighter = |s: &mut Json, key: &str, new: Json, keep: fn(f64, f64) -> bool| {
        let old = s.get(key).and_then(Json::as_f64);
        let new_f = new.as_f64().unwrap_or(0.0);
        if old.is_none_or(|o| keep(new_f, o)) {
            s[key] = new;
        }
    };
    for rule in f.rules {
        match rule {
            Rule::Length { min, max } => {
                if let Some(m) = min {
                    tighter(s, "minLength", json!(m), |n, o| n > o);
                }
                if let Some(m) = max {
                    tighter(s, "maxLength", json!(m), |n, o| n < o);
                }
            }
            Rule::NonEmpty => tighter(s, "minLength", json!(1), |n, o| n > o),
            Rule::Range { min, max } => {
                if let Some(m) = min {
                    tighter(s, "minimum", num(m), |n, o| n >= o);
                }
                if let Some(m) = max {
                    tighter(s, "maximum", num(m), |n, o| n <= o);
                }
            }
            Rule::Email => s["format"] = "email".into(),
            Rule::Url => s["format"] = "uri".into(),
            // A string schema already has the pattern that refuses NUL: the rule's joins it.
            Rule::Pattern(p) => {
                let all = s
                    .as_object_mut()
                    .map(|o| o.entry("allOf").or_insert_with(|| json!([])));
                if let Some(Json::Array(all)) = all {
                    all.push(json!({ "pattern": p }));
                }
            }
            Rule::OneOf(choices) => {
                let mut values: Vec<Json> = choices
                    .iter()
                    .map(|c| match c {
                        Choice::Text(t) => json!(t),
                        Choice::Int(i) => json!(i),
                    })
                    .collect();
                if f.nullable {
                    values.push(Json::Null);
                }
                s["enum"] = values.into();
            }
        }
    }
}

fn type_schema(ty: FieldType, nullable: bool) -> Json {
    let t = |name: &str| {
        if nullable {
            json!([name, "null"])
        } else {
            json!(name)
        }
    };
    match ty {
        FieldType::I16 => json!({ "type": t("integer"), "minimum": i16::MIN, "maximum": i16::MAX }),
        FieldType::I32 => json!({
            "type": t("integer"), "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX,
        }),
        FieldType::I64 => json!({
            "type": t("integer"), "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX,
        }),
        FieldType::F32 => json!({
            "type": t("number"), "format": "float",
            "minimum": -F32_LIMIT, "maximum": F32_LIMIT,
        }),
        FieldType::F64 => json!({ "type": t("number"), "format": "double" }),
        FieldType::Bool => json!({ "type": t("boolean") }),
        FieldType::Text => json!({ "type": t("string"), "pattern": "^[^\\u0000]*$" }),
        FieldType::DateTime => json!({ "type": t("string"), "format": "date-time" }),
        FieldType::Date => json!({ "type": t("string"), "format": "date" }),
        FieldType::Uuid => json!({ "type": t("string"), "format": "uuid" }),
        // Any JSON value, every type named (utoipa reads no `{}`).
        FieldType::Json if nullable => {
            json!({ "type": ["array", "boolean", "null", "number", "object", "string"] })
        }
        FieldType::Json => json!({ "type": ["array", "boolean", "number", "object", "string"] }),
        // Answered as a JSON number (exactly, as PostgREST does); taken as a number or as a
        // string of a number. Bounds: just inside a `Decimal`'s range, written short.
        FieldType::Decimal => {
            let types = if nullable {
                json!(["null", "number", "string"])
            } else {
                json!(["number", "string"])
            };
            json!({
                "type": types,
                "pattern": format!("^{}$", atom(ty)),
                "minimum": -DECIMAL_LIMIT,
                "maximum": DECIMAL_LIMIT,
            })
        }
        FieldType::Enum(names) => {
            let mut values: Vec<Json> = names.iter().map(|n| json!(n)).collect();
            if nullable {
                values.push(Json::Null);
            }
            json!({ "type": t("string"), "enum": values })
        }
        FieldType::Array(item) => {
            json!({ "type": t("array"), "items": type_schema(item.field_type(), false) })
        }
    }
}

/// Just inside a `Decimal`'s magnitude (2^96 - 1, about 7.92e28), written short.
const DECIMAL_LIMIT: f64 = 7.9e28;

/// Just below `f32::MAX`, written short so that it survives JSON parsers without exact
/// float round-trips; larger magnitudes do not fit an `f32` field.
const F32_LIMIT: f64 = 3.402_823_4e38;

/// The schema of the `{id}` path segment.
fn path_schema(ty: FieldType) -> Json {
    match ty {
        FieldType::I16 | FieldType::I32 | FieldType::I64 => type_schema(ty, false),
        FieldType::Text => json!({ "type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$" }),
        _ => json!({ "type": "string", "pattern": format!("^{}$", atom(ty)) }),
    }
}

// ---------------------------------------------------------------------------------------
// patterns: exactly the texts the query grammar (expose_core::grammar) and value parsing
// (value.rs) accept, written for ECMA-262, Python and Rust regex engines alike; operator
// names, `is` values and order modifiers come from the grammar's tables

use expose_core::grammar::{Direction, IsValue, Nulls, Op, OperandShape};

/// A field type's class in the grammar's operator table.
/// The operators of a type's class taking the given operand, in table order.
fn ops_of(ty: FieldType, shape: OperandShape) -> impl Iterator<Item = Op> {
    let class = ty.class();
    Op::ALL
        .into_iter()
        .filter(move |op| op.operand() == shape && op.applies_to(class))
}

/// The `is` values of a type's class, in table order.
fn is_values_of(ty: FieldType) -> impl Iterator<Item = IsValue> {
    let class = ty.class();
    IsValue::ALL
        .into_iter()
        .filter(move |v| v.applies_to(class))
}

/// Rust's `char::is_whitespace`, which the grammar trims.
const WS: &str =
    "[\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// What a field or alias name may not contain, besides whitespace.
const NAME_CHARS: &str = "[^(),\":\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// A double-quoted value: `\"` and `\\` escape, NUL never.
const QUOTED: &str = "\"(?:[^\"\\\\\\u0000]|\\\\[^\\u0000])*\"";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn alternatives(res: &Resource, set: FieldSet) -> String {
    let names: Vec<String> = set.iter().map(|i| escape(res.field(i).name)).collect();
    format!("(?:{})", names.join("|"))
}

fn select_pattern(res: &Resource, readable: FieldSet) -> String {
    let item = format!(
        "{WS}*(?:{NAME_CHARS}+{WS}*:{WS}*)?{}{WS}*",
        alternatives(res, readable)
    );
    format!("^{WS}*(?:\\*|{item}(?:,{item})*){WS}*$")
}

/// Field names as `columns` (`many`: comma-separated) and `on_conflict` take them: each
/// trimmed, bare or double-quoted.
fn names_pattern(res: &Resource, set: FieldSet, many: bool) -> String {
    let names = alternatives(res, set);
    let item = format!("{WS}*(?:{names}|\"{names}\"){WS}*");
    if many {
        format!("^{item}(?:,{item})*$")
    } else {
        format!("^{item}$")
    }
}

fn order_pattern(res: &Resource, sortable: FieldSet) -> String {
    let term = format!(
        "{WS}*{}(?:\\.(?:{}))?(?:\\.(?:{}))?{WS}*",
        alternatives(res, sortable),
        Direction::ALL.map(Direction::as_str).join("|"),
        Nulls::ALL.map(Nulls::as_str).join("|"),
    );
    format!("^{term}(?:,{term})*$")
}

/// Decimal digits (without sign) of a number from 0 to `max`, leading zeros allowed.
fn up_to(max: u128) -> String {
    let digits: Vec<u8> = max.to_string().bytes().map(|b| b - b'0').collect();
    let k = digits.len();
    let mut alts = Vec::new();
    match k {
        0 | 1 => {}
        2 => alts.push("[0-9]".to_owned()),
        _ => alts.push(format!("[0-9]{{1,{}}}", k - 1)),
    }
    for i in 0..k {
        if digits[i] == 0 {
            continue;
        }
        let prefix: String = digits[..i].iter().map(|d| d.to_string()).collect();
        let class = if digits[i] == 1 {
            "0".to_owned()
        } else {
            format!("[0-{}]", digits[i] - 1)
        };
        let rest = k - i - 1;
        let tail = match rest {
            0 => String::new(),
            1 => "[0-9]".to_owned(),
            n => format!("[0-9]{{{n}}}"),
        };
        alts.push(format!("{prefix}{class}{tail}"));
    }
    alts.push(max.to_string());
    format!("0*(?:{})", alts.join("|"))
}

/// A Rust integer `parse` accepts, within `min..=max`.
fn integer(max: u128) -> String {
    format!("(?:\\+?{}|-{})", up_to(max), up_to(max + 1))
}

const DATE: &str = "(?:[0-9]{4}-(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)";
const HEX: &str = "[0-9a-fA-F]";

/// The text of one value of a type, as `Value::parse` accepts it, for types whose values
/// contain none of `,` `(` `)` `"`.
fn atom(ty: FieldType) -> String {
    match ty {
        FieldType::I16 => integer(i16::MAX as u128),
        FieldType::I32 => integer(i32::MAX as u128),
        FieldType::I64 => integer(i64::MAX as u128),
        // Finite values only: an exponent that overflows is refused, which no pattern says.
        // Decimals: values beyond 28 places or a `Decimal`'s range are refused, which no
        // pattern says either.
        FieldType::F32 | FieldType::F64 | FieldType::Decimal => {
            "[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?".to_owned()
        }
        FieldType::Enum(names) => {
            let names: Vec<String> = names.iter().map(|n| escape(n)).collect();
            format!("(?:{})", names.join("|"))
        }
        FieldType::Bool => "(?:true|false)".to_owned(),
        FieldType::DateTime => format!(
            "{DATE}[Tt ](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?\
             (?:[Zz]|[+\\u2212-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
        ),
        FieldType::Date => DATE.to_owned(),
        FieldType::Uuid => {
            let h = format!("{HEX}{{8}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{4}}-{HEX}{{12}}");
            format!("(?:{HEX}{{32}}|{h}|\\{{{h}\\}}|urn:uuid:{h})")
        }
        // Only a key in a path takes these here: conditions on text depend on where they
        // stand (see `condition`), and JSON values are compared as documents (`json_doc`).
        FieldType::Text | FieldType::Json => "[^\\u0000]+".to_owned(),
        FieldType::Array(item) => array_literal(item),
    }
}

/// An array literal as `Value::parse` reads it, `{a,"b,c"}`: items optionally quoted,
/// with spaces around them. (An unquoted `NULL` item is refused, which no pattern says.)
fn array_literal(item: ArrayItem) -> String {
    let item = match item {
        ArrayItem::Text => {
            format!("(?:{QUOTED}|[^\\s,{{}}\"\\\\\\u0000](?:[^,{{}}\"\\\\\\u0000]*[^\\s,{{}}\"\\\\\\u0000])?)")
        }
        _ => {
            let a = atom(item.field_type());
            format!("(?:{a}|\"{a}\")")
        }
    };
    let item = format!("\\s*{item}\\s*");
    format!("\\{{(?:{item}(?:,{item})*)?\\}}")
}

/// A JSON document a containment filter takes: an object of scalar members, an array of
/// scalars, or a scalar other than a string (inside a logic tree a quoted value is
/// unquoted, so a string would lose its quotes). Nested documents, strings with `\u`
/// escapes and exponents past two digits are accepted too, which the pattern leaves out.
fn json_doc() -> String {
    let ws = "[ \\t\\n\\r]*";
    let string = "\"(?:[^\"\\\\\\u0000-\\u001f]|\\\\[\"\\\\/bfnrt])*\"";
    let plain =
        "(?:-?(?:0|[1-9][0-9]{0,15})(?:\\.[0-9]{1,15})?(?:[eE][+-]?[0-9]{1,2})?|true|false|null)";
    let scalar = format!("(?:{string}|{plain})");
    let member = format!("{ws}{string}{ws}:{ws}{scalar}{ws}");
    let item = format!("{ws}{scalar}{ws}");
    format!(
        "(?:(?:\\{{(?:{member}(?:,{member})*|{ws})\\}}|\\[(?:{item}(?:,{item})*|{ws})\\]|{plain}){ws}|\"{ws}{plain}{ws}\")"
    )
}

/// The operators a type takes, for a description: e.g. `eq, neq, in, is (null, not_null,
/// true, false, unknown)`. After the pattern operators comes a note on the wildcard; after
/// `is`, its values, except on text (whose description is long enough).
fn ops_text(ty: FieldType) -> String {
    let last_pattern = Op::ALL.into_iter().rev().find(|op| op.is_pattern());
    let class = ty.class();
    let ops: Vec<String> = Op::ALL
        .into_iter()
        .filter(|op| op.applies_to(class))
        .map(|op| {
            if Some(op) == last_pattern {
                format!("{} (`*` is the wildcard)", op.as_str())
            } else if op.operand() == OperandShape::Is && ty != FieldType::Text {
                let values: Vec<&str> = is_values_of(ty).map(IsValue::as_str).collect();
                format!("{} ({})", op.as_str(), values.join(", "))
            } else {
                op.as_str().to_owned()
            }
        })
        .collect();
    ops.join(", ")
}

fn value_note(ty: FieldType) -> String {
    match ty {
        FieldType::Text => "Text must not contain NUL.".to_owned(),
        FieldType::Json => "JSON fields are tested for containment (`cs`, `cd`: a JSON \
                            document, e.g. `cs.{\"a\":1}`; not on SQLite) and with `is`."
            .to_owned(),
        FieldType::Array(_) => format!(
            "Values: an array literal such as `{{a,b}}` ({}; quote items holding `,`, `{{`, `}}`, \
             `\"` or spaces).",
            ty.describe()
        ),
        FieldType::F32 | FieldType::F64 => "Values: finite numbers.".to_owned(),
        FieldType::Decimal => {
            "Values: decimal numbers, exact, of at most 28 digits after the point.".to_owned()
        }
        FieldType::Enum(names) => format!("Values: one of {}.", crate::value::enum_names(names)),
        _ => format!("Values: {}.", ty.describe()),
    }
}

/// The operators a type takes with one value (all but `in` and `is`), as alternatives.
fn scalar_ops(ty: FieldType) -> String {
    let ops: Vec<&str> = ops_of(ty, OperandShape::Scalar).map(Op::as_str).collect();
    ops.join("|")
}

/// The `is` values a type takes, as alternatives.
fn is_values(ty: FieldType) -> String {
    let values: Vec<&str> = is_values_of(ty).map(IsValue::as_str).collect();
    values.join("|")
}

/// `[not.]op.value` of a field, in a field parameter (`tree` false) or inside a logic tree.
///
/// In a field parameter the `in` list is bounded by `max_in` exactly; inside a tree, where
/// the pattern would grow with every bound, lists and trees are unbounded in the pattern and
/// the bounds are stated in the description.
fn condition(ty: FieldType, max_in: usize, tree: bool) -> String {
    let (scalar, item) = match ty {
        FieldType::Text => {
            let unquoted_item = "[^,()\"\\u0000]*";
            let scalar = if tree {
                format!("(?:{unquoted_item}|{QUOTED})")
            } else {
                format!("(?:[^\"\\u0000][^\\u0000]*|{QUOTED}|)")
            };
            (scalar, format!("(?:{unquoted_item}|{QUOTED})"))
        }
        // Containment operands only: no `in` list.
        FieldType::Json => (json_doc(), String::new()),
        FieldType::Array(item) => (array_literal(item), String::new()),
        _ => {
            let a = atom(ty);
            let v = format!("(?:{a}|\"{a}\")");
            (v.clone(), v)
        }
    };
    let mut alts = Vec::new();
    let ops = scalar_ops(ty);
    if !ops.is_empty() {
        alts.push(format!("(?:{ops})\\.{scalar}"));
    }
    for op in ops_of(ty, OperandShape::List) {
        let more = max_in.saturating_sub(1);
        let list = if max_in == 0 {
            String::new()
        } else if tree {
            format!("{item}(?:,{item})*")
        } else {
            format!("{item}(?:,{item}){{0,{more}}}")
        };
        alts.push(format!("{}\\.\\((?:{list})?\\)", op.as_str()));
    }
    for op in ops_of(ty, OperandShape::Is) {
        alts.push(format!("{}\\.(?:{})", op.as_str(), is_values(ty)));
    }
    format!("(?:not\\.)?(?:{})", alts.join("|"))
}

fn filter_value(ty: FieldType, max_in: usize) -> String {
    condition(ty, max_in, false)
}

/// `(cond,...)` over the filterable fields: a logic tree, its top level exactly, its nested
/// groups (`and(...)`, `not.or(...)`) loosely, as a regular expression cannot count
/// parentheses: every tree the server accepts matches, so that a client or proxy validating
/// against the schema never refuses a valid request.
fn tree_pattern(res: &Resource, filterable: FieldSet, op: &Operation) -> String {
    let conds: Vec<String> = filterable
        .iter()
        .map(|i| {
            let f = res.field(i);
            format!(
                "{}\\.{}",
                escape(f.name),
                condition(f.ty, op.max_in_items, true)
            )
        })
        .collect();
    let group = "(?:not\\.)?(?:and|or)\\(.*\\)";
    let c = format!("{WS}*(?:{}|{group})", conds.join("|"));
    format!("^\\({c}(?:,{c})*\\)$")
}

/// The `Range` header: `[items=]first-[last]`, each bound a `u64`.
fn range_pattern() -> String {
    let n = up_to(u128::from(u64::MAX));
    format!("^(?:items=)?{n}-(?:{n})?$")
}

#[cfg(test)]
mod tests {
    //! The patterns against the parsers they describe: a text a pattern generates must be
    //! accepted, and a text the runtime accepts must match (apart from the documented gaps).

    use super::*;
    use crate::query::plan_list;
    use proptest::prelude::*;

    /// Every field type, nullable and not, and a name that needs escaping.
    #[derive(serde::Serialize)]
    #[crate::expose(
        as = "things",
        list(max_in = 4, max_conditions = 6),
        retrieve,
        create(upsert, max_rows = 3),
        update(filter = "id,small,text,sort_me", max_affected = 5),
        remove(filter = "id,day"),
        replace
    )]
    pub struct Thing {
        #[expose(id)]
        pub id: i64,
        pub small: i16,
        pub medium: Option<i32>,
        pub single: f32,
        pub double: f64,
        pub flag: Option<bool>,
        pub text: Option<String>,
        pub at: chrono::DateTime<chrono::Utc>,
        pub day: chrono::NaiveDate,
        #[expose(unique)]
        pub uid: uuid::Uuid,
        pub data: Option<serde_json::Value>,
        #[serde(rename = "sort-me")]
        pub sort_me: String,
        pub price: Option<rust_decimal::Decimal>,
        pub mood: Mood,
        pub tags: Vec<String>,
        pub counts: Option<Vec<f64>>,
    }

    /// An enum field's values, one needing escaping in a pattern.
    #[derive(serde::Serialize, crate::Enum)]
    pub enum Mood {
        Calm,
        #[serde(rename = "a.b+")]
        Odd,
    }

    const MODEL: &Model = <Thing as Exposed>::MODEL;

    fn res() -> &'static Resource {
        static RES: std::sync::OnceLock<Resource> = std::sync::OnceLock::new();
        RES.get_or_init(|| Resource::compile(MODEL))
    }

    fn accepts(key: &str, value: &str) -> Result<(), String> {
        let r = res();
        let policy = r.policy(OperationKind::List).expect("list");
        let pairs = vec![(key.to_owned(), value.to_owned())];
        let mut no_access =
            |_: &crate::schema::Related| -> Result<crate::query::Access, crate::Problem> {
                Err(crate::Problem::internal(&"Thing embeds nothing"))
            };
        plan_list(r, policy, &pairs, None, &mut no_access)
            .map(|_| ())
            .map_err(|p| p.detail().to_owned())
    }

    fn regex(pattern: &str) -> regex::Regex {
        regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
    }

    /// A strategy for the texts a `^...$` pattern matches.
    fn texts(pattern: &str) -> BoxedStrategy<String> {
        let inner = &pattern[1..pattern.len() - 1];
        proptest::string::string_regex(inner)
            .unwrap_or_else(|e| panic!("{inner}: {e}"))
            .boxed()
    }

    /// Every parameter of the list operation, with its pattern.
    fn params() -> Vec<(String, String)> {
        let r = res();
        let policy = r.policy(OperationKind::List).expect("list");
        let op = policy.op;
        let mut out: Vec<(String, String)> = policy
            .filterable
            .iter()
            .map(|i| {
                let f = r.field(i);
                (
                    f.name.to_owned(),
                    format!("^{}$", filter_value(f.ty, op.max_in_items)),
                )
            })
            .collect();
        out.push(("select".into(), select_pattern(r, policy.fields)));
        out.push(("order".into(), order_pattern(r, policy.sortable)));
        out.push(("or".into(), tree_pattern(r, policy.filterable, op)));
        out
    }

    /// Whether a write chosen by filters (`kind`) accepts `key=value`.
    fn accepts_write(kind: OperationKind, key: &str, value: &str) -> Result<(), String> {
        let r = res();
        let policy = r.policy(kind).expect("a write chosen by filters");
        let pairs = vec![(key.to_owned(), value.to_owned())];
        let plan = crate::query::plan_write(r, policy, r.output, &pairs)
            .map_err(|p| p.detail().to_owned())?;
        // An embed in `select` names a relation, which the handler resolves after planning
        // (`write_embeds::answer_embeds`): `Thing` has none, so every embed is refused.
        assert!(r.related.is_empty());
        match plan.embeds.first() {
            Some(e) => Err(format!("`{}` is not a relation of things", e.relation)),
            None => Ok(()),
        }
    }

    /// Every query parameter `PATCH` / `DELETE` on the collection document, with its pattern
    /// (the trees through their schema).
    fn write_params(kind: OperationKind) -> Vec<(String, String)> {
        let doc = OpenApi::new("things", "1").resource::<Thing>().document();
        let op = &doc["paths"]["/things"][kind.method().to_ascii_lowercase()];
        op["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                let schema = match p["schema"]["$ref"].as_str() {
                    Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
                    None => &p["schema"],
                };
                let pattern = schema["pattern"].as_str().expect("a pattern").to_owned();
                (p["name"].as_str().unwrap().to_owned(), pattern)
            })
            .collect()
    }

    /// The kinds of writes chosen by filters, with each documented parameter.
    fn all_write_params() -> Vec<(OperationKind, String, String)> {
        [OperationKind::Update, OperationKind::Remove]
            .into_iter()
            .flat_map(|k| write_params(k).into_iter().map(move |(n, p)| (k, n, p)))
            .collect()
    }

    #[test]
    fn writes_chosen_by_filters_document_their_own_filters() {
        let names = |k| -> Vec<String> { write_params(k).into_iter().map(|(n, _)| n).collect() };
        let trees = ["or", "and", "not.or", "not.and"];
        let mut want = vec!["id", "small", "text", "sort-me", "select"];
        want.extend(trees);
        assert_eq!(names(OperationKind::Update), want);
        let mut want = vec!["id", "day", "select"];
        want.extend(trees);
        assert_eq!(names(OperationKind::Remove), want);
        for (kind, key, value, ok) in [
            // The update's own bounds (the default `max_in`), not the list's.
            (OperationKind::Update, "small", "in.(1,2,3,4,5)", true),
            (OperationKind::Update, "small", "in.(1,2,x)", false),
            (OperationKind::Update, "or", "(id.eq.1,text.like.*a*)", true),
            (OperationKind::Update, "or", "(day.eq.2024-01-01)", false),
            (OperationKind::Update, "day", "eq.2024-01-01", false),
            (OperationKind::Remove, "day", "eq.2024-01-01", true),
            (OperationKind::Remove, "or", "(text.eq.a)", false),
        ] {
            let pattern = write_params(kind)
                .into_iter()
                .find(|(n, _)| n == key)
                .map(|(_, p)| p);
            let matched = pattern.is_some_and(|p| regex(&p).is_match(value));
            assert_eq!(matched, ok, "pattern of {key} on {value}");
            let accepted = accepts_write(kind, key, value);
            assert_eq!(accepted.is_ok(), ok, "{kind:?} {key}={value}: {accepted:?}");
        }
        for key in ["order", "limit", "offset"] {
            assert!(accepts_write(OperationKind::Update, key, "1").is_err());
        }
    }

    /// A `POST /things` with an empty array and these query parameters and preferences: the
    /// status (no table is needed: nothing is written).
    fn post_status(query: &[(&str, &str)], prefer: &str) -> u16 {
        use tower::ServiceExt;
        static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        let rt = RT.get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        });
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        rt.block_on(async {
            let db: crate::Db = sqlx::SqlitePool::connect_lazy("sqlite::memory:")
                .expect("sqlite")
                .into();
            // Generated texts may be long: the query string's bound is not what is tested.
            let config = crate::RouterConfig {
                max_query_length: usize::MAX,
                ..crate::RouterConfig::default()
            };
            let app = Thing::router_with(config).with_state(db);
            let mut req = axum::http::Request::post(format!("/things?{query}"))
                .header(header::CONTENT_TYPE, "application/json");
            if !prefer.is_empty() {
                req = req.header("prefer", prefer);
            }
            let req = req.body(axum::body::Body::from("[]")).expect("a request");
            app.oneshot(req)
                .await
                .expect("a response")
                .status()
                .as_u16()
        })
    }

    fn create_param(name: &str) -> String {
        let doc = OpenApi::new("things", "1").resource::<Thing>().document();
        doc["paths"]["/things"]["post"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["schema"]["pattern"].as_str())
            .unwrap_or_else(|| panic!("no {name}"))
            .to_owned()
    }

    #[test]
    fn columns_and_on_conflict_are_what_the_server_takes() {
        let columns = regex(&create_param("columns"));
        let on_conflict = regex(&create_param("on_conflict"));
        for (text, ok) in [
            ("small", true),
            ("\"small\",\"text\"", true),
            (" small ,\u{3000}\"sort-me\"\t", true),
            ("id,id", true),
            ("\"small", false),
            ("\"\"small\"\"", false),
            ("\" small\"", false),
            ("", false),
            ("small,,text", false),
            ("uid,nope", false),
        ] {
            assert_eq!(columns.is_match(text), ok, "pattern of columns={text:?}");
            let status = post_status(&[("columns", text)], "");
            assert_eq!(status == 201, ok, "columns={text:?}: {status}");
        }
        let merge = "resolution=merge-duplicates";
        for (text, ok) in [
            ("id", true),
            ("\"uid\"", true),
            (" uid ", true),
            ("small", false),
            ("id,uid", false),
            ("\"uid", false),
        ] {
            assert_eq!(
                on_conflict.is_match(text),
                ok,
                "pattern of on_conflict={text:?}"
            );
            let status = post_status(&[("on_conflict", text)], merge);
            // An upsert that inserts nothing: 200.
            assert_eq!(status == 200, ok, "on_conflict={text:?}: {status}");
        }
        // `on_conflict` only with a resolution.
        assert_eq!(post_status(&[("on_conflict", "uid")], ""), 400);
    }

    /// The bounds a logic tree's pattern leaves to its description.
    fn beyond_bounds(detail: &str) -> bool {
        detail.contains("too many filter conditions") || detail.contains("items")
    }

    /// `select` may not give two columns one name, which its pattern does not say.
    fn same_name(detail: &str) -> bool {
        detail.contains("names two columns")
    }

    /// Text that overflows a float is refused, which the patterns do not say; so is a
    /// decimal beyond a `Decimal`'s range or 28 places.
    fn float_overflow(detail: &str) -> bool {
        detail.contains("finite number") || detail.contains("at most 28 significant digits")
    }

    #[test]
    fn integers_bounds_are_exact() {
        for (max, inside, outside) in [
            (
                i16::MAX as u128,
                ["32767", "-32768", "+00032767", "-0"],
                ["32768", "-32769"],
            ),
            (
                i64::MAX as u128,
                ["9223372036854775807", "-9223372036854775808", "0", "+1"],
                ["9223372036854775808", "-9223372036854775809"],
            ),
        ] {
            let re = regex(&format!("^{}$", integer(max)));
            for s in inside {
                assert!(re.is_match(s), "{s}");
            }
            for s in outside
                .into_iter()
                .chain(["", "-", "+", "1.0", "+-1", " 1"])
            {
                assert!(!re.is_match(s), "{s}");
            }
        }
        let range = regex(&range_pattern());
        assert!(range.is_match("items=0-18446744073709551615"));
        assert!(range.is_match("10-"));
        assert!(!range.is_match("0-18446744073709551616"));
        assert!(!range.is_match("-5"));
    }

    #[test]
    fn examples_of_each_pattern() {
        let p: std::collections::HashMap<String, regex::Regex> =
            params().into_iter().map(|(k, v)| (k, regex(&v))).collect();
        for (key, value, ok) in [
            ("id", "eq.5", true),
            ("id", "not.in.(1,\"2\",-3)", true),
            ("id", "eq.9223372036854775808", false),
            ("small", "gt.32768", false),
            ("flag", "is.unknown", true),
            ("flag", "gt.true", false),
            ("medium", "is.true", false),
            ("text", "eq.a,b(c)\"", true),
            ("text", "eq.\"a\\\"b\"", true),
            ("text", "like.*x*", true),
            ("text", "in.(a,\"b,c\",,)", true),
            ("text", "in.(a,b,c,d,e)", false),
            ("at", "eq.2024-02-29T23:59:60.5+05:30", true),
            ("at", "eq.2023-02-29T00:00:00Z", false),
            ("day", "lte.2000-02-29", true),
            ("day", "eq.1900-02-29", false),
            ("uid", "eq.{67e55044-10b1-426f-9247-bb680e5fe0c8}", true),
            ("uid", "eq.67e5504410b1426f9247bb680e5fe0c8", true),
            ("data", "is.not_null", true),
            ("data", "eq.1", false),
            ("select", " x : id , text ", true),
            ("select", "*", true),
            ("select", "a b:id", false),
            ("order", "sort-me.desc.nullsfirst, id", true),
            ("order", "id.nullsfirst.desc", false),
            ("or", "( id.eq.1,text.eq.\"a,b\",flag.is.null)", true),
            ("or", "(text.eq.a,b)", false),
        ] {
            let re = &p[key];
            assert_eq!(re.is_match(value), ok, "pattern of {key} on {value}");
            assert_eq!(
                accepts(key, value).is_ok(),
                ok,
                "runtime on {key}={value}: {:?}",
                accepts(key, value)
            );
        }
    }

    fn fragments() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec![
            "eq.",
            "neq.",
            "gt.",
            "lte.",
            "like.",
            "ilike.",
            "in.(",
            "is.",
            "not.",
            "null",
            "not_null",
            "true",
            "false",
            "unknown",
            "(",
            ")",
            ",",
            "\"",
            "\\",
            ".",
            "*",
            " ",
            "\u{0}",
            "1",
            "-",
            "+",
            "0",
            "32768",
            "9223372036854775808",
            "1e5",
            "1e99",
            ".5",
            "2024-02-29",
            "2023-02-29",
            "T",
            "t",
            "12:00:00",
            "23:59:60",
            ".123",
            "Z",
            "+05:30",
            "67e55044-10b1-426f-9247-bb680e5fe0c8",
            "{",
            "}",
            "urn:uuid:",
            "abc",
            "id",
            "text",
            "flag",
            "sort-me",
            "x:",
            ":",
            "and(",
            "or(",
            "not.or(",
            "asc",
            "desc",
            "nullslast",
        ]);
        prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    /// A nested tree the server accepts matches its parameter's pattern.
    #[test]
    fn nested_trees_match() {
        let (_, pattern) = params()
            .into_iter()
            .find(|(k, _)| k == "or")
            .expect("an or parameter");
        let re = regex(&pattern);
        for tree in [
            "(id.eq.1,and(id.gt.1,id.lt.9))",
            "(not.or(id.eq.1,and(id.eq.2)),id.eq.3)",
        ] {
            assert!(accepts("or", tree).is_ok(), "{tree}");
            assert!(re.is_match(tree), "{tree}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// What a pattern generates, the runtime accepts.
        #[test]
        fn generated_texts_are_accepted(
            (key, value) in prop::sample::select(params()).prop_flat_map(|(k, p)| {
                texts(&p).prop_map(move |v| (k.clone(), v))
            })
        ) {
            if let Err(detail) = accepts(&key, &value) {
                // Nested groups are matched loosely: what they hold is free text.
                let nested = key == "or" && ["and(", "or("].iter().any(|g| value.contains(g));
                prop_assert!(
                    float_overflow(&detail)
                        || nested
                        || (key == "or" && beyond_bounds(&detail))
                        || (key == "select" && same_name(&detail)),
                    "{key}={value:?}: {detail}"
                );
            }
        }

        /// What the runtime accepts, the pattern matches, nested logic groups included.
        #[test]
        fn accepted_texts_match(
            (key, pattern) in prop::sample::select(params()),
            value in fragments(),
        ) {
            if accepts(&key, &value).is_ok() {
                prop_assert!(regex(&pattern).is_match(&value), "{key}={value:?}");
            }
        }

        /// The other way round, on the same texts.
        #[test]
        fn matching_texts_are_accepted(
            (key, pattern) in prop::sample::select(params()),
            value in fragments(),
        ) {
            if regex(&pattern).is_match(&value) {
                if let Err(detail) = accepts(&key, &value) {
                    // Nested groups are matched loosely: their conditions are not checked.
                    let nested = key == "or" && ["and(", "or("].iter().any(|g| value.contains(g));
                    prop_assert!(
                        float_overflow(&detail)
                            || nested
                            || (key == "or" && beyond_bounds(&detail))
                            || (key == "select" && same_name(&detail)),
                        "{key}={value:?}: {detail}"
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// The same, for the filters of writes chosen by filters.
        #[test]
        fn write_filters_match_what_the_runtime_accepts(
            (kind, key, value) in prop::sample::select(all_write_params())
                .prop_flat_map(|(k, n, p)| texts(&p).prop_map(move |v| (k, n.clone(), v)))
        ) {
            if let Err(detail) = accepts_write(kind, &key, &value) {
                let tree = key.contains("or") || key.contains("and");
                // Nested groups are matched loosely: what they hold is free text.
                let nested = tree && ["and(", "or("].iter().any(|g| value.contains(g));
                prop_assert!(
                    float_overflow(&detail)
                        || nested
                        || tree && beyond_bounds(&detail)
                        || (key == "select" && same_name(&detail)),
                    "{kind:?} {key}={value:?}: {detail}"
                );
            }
        }

        #[test]
        fn accepted_write_filters_match(
            (kind, key, pattern) in prop::sample::select(all_write_params()),
            value in fragments(),
        ) {
            let nested = ["and(", "or("].iter().any(|g| value.contains(g));
            let tree = ["or", "and", "not.or", "not.and"].contains(&key.as_str());
            if accepts_write(kind, &key, &value).is_ok() && !(tree && nested) {
                prop_assert!(regex(&pattern).is_match(&value), "{kind:?} {key}={value:?}");
            }
        }

        /// `columns`: what its pattern generates the server takes, and what the server takes
        /// of some fragments its pattern matches.
        #[test]
        fn columns_pattern_is_what_the_server_takes(
            generated in texts(&create_param("columns")),
            value in prop::collection::vec(
                prop::sample::select(vec![
                    "small", "text", "sort-me", "id", "nope", ",", "\"", " ", "\u{2003}", "\\",
                ]),
                0..6,
            ).prop_map(|v| v.concat()),
        ) {
            prop_assert_eq!(post_status(&[("columns", &generated)], ""), 201, "{:?}", generated);
            let matched = regex(&create_param("columns")).is_match(&value);
            let status = post_status(&[("columns", &value)], "");
            prop_assert_eq!(matched, status == 201, "{:?}: {}", value, status);
        }
    }

    /// JSON pointers where two values differ.
    #[cfg(feature = "utoipa")]
    fn differences(path: &str, a: &Json, b: &Json, out: &mut Vec<String>) {
        match (a, b) {
            (Json::Object(x), Json::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let p = format!("{path}/{}", pointer(k));
                    match (x.get(k), y.get(k)) {
                        (Some(v), Some(w)) => differences(&p, v, w, out),
                        _ if !out.contains(&p) => out.push(p),
                        _ => {}
                    }
                }
            }
            (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    differences(&format!("{path}/{i}"), v, w, out);
                }
            }
            (x, y) if x != y => out.push(format!("{path}: {x} vs {y}")),
            _ => {}
        }
    }

    /// The document survives utoipa's types whole, and merges into an existing document.
    #[cfg(feature = "utoipa")]
    #[test]
    fn utoipa_holds_and_merges_the_document() {
        let api = OpenApi::new("things", "1.0.0").resource::<Thing>();
        let doc = api.document();
        let converted = serde_json::to_value(api.to_utoipa().expect("utoipa reads it"))
            .expect("utoipa writes it");
        let mut lost = Vec::new();
        differences("", &doc, &converted, &mut lost);
        // utoipa's types have no place for these two; nothing else may change.
        lost.retain(|p| {
            !(p.ends_with("/examples") && p.contains("/parameters/")
                || p.ends_with("/required") && p.contains("/headers/")
                || p.ends_with("/links"))
        });
        assert!(lost.is_empty(), "utoipa changed the document at {lost:?}");

        let mut mine = utoipa::openapi::OpenApiBuilder::new()
            .info(utoipa::openapi::Info::new("my app", "2.0.0"))
            .paths(
                utoipa::openapi::path::PathsBuilder::new().path(
                    "/health",
                    utoipa::openapi::PathItem::new(
                        utoipa::openapi::HttpMethod::Get,
                        utoipa::openapi::path::OperationBuilder::new()
                            .response("200", utoipa::openapi::Response::new("up")),
                    ),
                ),
            )
            .build();
        api.merge_into(&mut mine).expect("merge");
        let merged = serde_json::to_value(&mine).expect("serialize");
        assert_eq!(merged["info"]["title"], "my app", "the target's info stays");
        for path in ["/health", "/things", "/things/{id}"] {
            assert!(merged["paths"].get(path).is_some(), "missing {path}");
        }
        for schema in ["Thing", "ThingTree", "Problem", "Offender"] {
            assert!(
                merged["components"]["schemas"].get(schema).is_some(),
                "missing {schema}"
            );
        }
        assert_eq!(merged["paths"]["/things"], converted["paths"]["/things"]);
    }
}
