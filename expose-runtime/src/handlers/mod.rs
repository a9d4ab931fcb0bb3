//! The operations (and declared actions), generic over the backend; each returns a response or a problem.
//!
//! An operation without hooks runs its one statement on a pooled connection. A write with
//! hooks runs in a transaction: `pre` hooks, the statement(s), `post` hooks, commit; any
//! failure drops the transaction, which rolls everything back. A read with hooks begins its
//! transaction only when a hook runs a statement (then the read and the `post` hooks continue
//! in it); hooks that run no SQL leave it on a pooled connection.

use crate::body;
use crate::conditional;
use crate::db::error as db_error;
use crate::db::Db;
use crate::db::{Driver, Sent, WriteTx};
use crate::field::FieldSet;
use crate::filter::{Column, Filter};
use crate::hooks::{HookCtx, Input, OperationKind, Record};
use crate::model::Operation;
use crate::output::{self, ETag};
use crate::problem::{Offender, Problem};
use crate::query::{self, Return};
use crate::resource::Resource;
use crate::schema::Policy;
use crate::scope::Scope;
use crate::sql::{self, KeyArgs, Shape, Sql, SqlWriter};
use crate::value::Value;
use axum::body::Body;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::Pool;
use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

/// Runs `$f::<Driver>(pool, args...)` for whichever backend the `Db` holds.
macro_rules! on_backend {
    ($db:expr, $f:ident ( $($arg:expr),* )) => {
        match $db {
            // Boxed where it is created: the three backends' state machines are large, and
            // the handler's own future stays small to move. The box is made in a `let` of
            // its own: in `Box::pin(f(..)).await` the unboxed future is a temporary that
            // lives to the end of the statement, past the await, so the caller's state
            // would keep room for it anyway.
            Db::Sqlite(p) => {
                let f = Box::pin($f::<sqlx::Sqlite>(p, $($arg),*));
                f.await
            }
            Db::Postgres(p) => {
                let f = Box::pin($f::<sqlx::Postgres>(p, $($arg),*));
                f.await
            }
            Db::MySql(p) => {
                let f = Box::pin($f::<sqlx::MySql>(p, $($arg),*));
                f.await
            }
        }
    };
}

mod action;
mod batch;
mod count;
mod create;
mod embed;
mod filtered;
mod idempotency;
mod list;
mod remove;
mod replace;
mod retrieve;
mod update;
mod write_embeds;

pub(crate) use action::action;
pub(crate) use create::create;
pub(crate) use filtered::{remove_many, update_many};
pub(crate) use list::list;
pub(crate) use remove::remove;
pub(crate) use replace::replace;
pub(crate) use retrieve::retrieve;
pub(crate) use update::update;

/// One request, as the router hands it over. The request's head is lent, not moved: it
/// is copied only into a hook context. Its headers are the request's own, taken out of the
/// head so that the operation can drop them once read ([`Req::release_headers`]).
pub(crate) struct Req<'a> {
    /// The head, without its headers.
    pub(crate) parts: &'a Parts,
    pub(crate) headers: HeaderMap,
    pub(crate) db: Db,
    /// The app's state, boxed only for operations with hooks, and its type's name.
    pub(crate) state: Option<(Arc<dyn Any + Send + Sync>, &'static str)>,
    /// Whether the request's write was sent: the only way to a write connection.
    pub(crate) sent: &'a Sent,
    /// A custom handler's conditions, ANDed with the scope ([`crate::Call::and`]).
    pub(crate) extra: &'a [Filter],
}

impl Req<'_> {
    /// Drops the request's headers once the operation has read them, before it waits for
    /// the database, as axum's extractors let the request go once taken apart. hyper hands
    /// each response's header map back as the next request's on the connection: dropped
    /// here, that block is free again when the response needs one, instead of one more
    /// block per request in flight, which at 32 connections outnumbers glibc's per-thread
    /// cache of its size (DHAT, `bench/PROFILE.md`).
    fn release_headers(&mut self) {
        self.headers = HeaderMap::new();
    }
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    // Built directly: `(status, headers, Vec<u8>)` would first set an octet-stream type.
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, JSON);
    response
}

/// Whether an operation needs a hook context (hooks, scope, narrowing or forced values).
pub(crate) fn needs_ctx(op: &Operation) -> bool {
    !op.pre.is_empty()
        || !op.post.is_empty()
        || op.scope.is_some()
        || op.fields_for.is_some()
        || !op.force.is_empty()
}

pub(crate) fn has_hooks(op: &Operation) -> bool {
    !op.pre.is_empty() || !op.post.is_empty()
}

/// Per-request policy: the hook context, the scope filter and the narrowed field set.
struct Prepared {
    /// Boxed: a context is large (the request's head, the input, the transaction) and most
    /// requests have none, so their futures stay small.
    ctx: Option<Box<HookCtx>>,
    /// The rows the operation may reach: its scope's readable rows (and, for a write, its
    /// writable ones) and its `where`.
    scope: Vec<Filter>,
    /// What every row a create, update or replace leaves must match (the scope's writable
    /// rows, PostgreSQL's `WITH CHECK`); checked in the write's transaction.
    check: Vec<Filter>,
    fields: Option<FieldSet>,
}

/// A scope's conditions for one operation: the rows it may reach, and the check of the rows
/// it leaves.
fn scope_filters(kind: OperationKind, scope: &Scope<()>) -> (Vec<Filter>, Vec<Filter>) {
    let reads = scope.read_filter().cloned();
    let writes = scope.write_filter().cloned();
    let both = || {
        let mut v: Vec<Filter> = reads.clone().into_iter().collect();
        if scope.writes_apart() {
            v.extend(writes.clone());
        }
        v
    };
    match kind {
        OperationKind::List | OperationKind::Retrieve => (reads.into_iter().collect(), Vec::new()),
        OperationKind::Create => (Vec::new(), writes.into_iter().collect()),
        OperationKind::Remove => (both(), Vec::new()),
        OperationKind::Update | OperationKind::Replace => (both(), writes.into_iter().collect()),
    }
}

/// 403 when the row a write leaves (`key`) is outside the caller's writable rows; run in the
/// write's transaction, which the error rolls back.
pub(super) async fn check_written<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    key: &Value,
    check: &[Filter],
) -> Result<(), Problem> {
    if check.is_empty() {
        return Ok(());
    }
    let key_column = [Column {
        field: res.key,
        alias: None,
    }];
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, &key_column, key.clone(), check);
    let found = B::fetch_optional(conn, &w.sql, &w.args)
        .await
        .map_err(|e| db_error::map(res, e))?;
    match found {
        Some(_) => Ok(()),
        None => Err(Problem::forbidden(format!(
            "the row this write would leave in {} is outside what you may write; nothing was written",
            res.model.path
        ))),
    }
}

/// What every operation does first: its policy, and the per-request policy from its hook
/// context. The router routes only the operations the model exposes.
fn prepare<'r>(
    res: &'r Resource,
    kind: OperationKind,
    req: &Req<'_>,
    key: Option<Value>,
) -> Result<(&'r Policy, Prepared), Problem> {
    let policy = policy_of(res, kind)?;
    Ok((policy, prepare_policy(kind, policy, req, key)?))
}

/// The policy of an operation the router routes to (exposed, else a bug: 500).
fn policy_of(res: &Resource, kind: OperationKind) -> Result<&Policy, Problem> {
    res.policy(kind)
        .ok_or_else(|| Problem::internal(&format!("{} is not exposed", kind.name())))
}

/// [`prepare`] with the policy given: an action's, which runs as an update.
fn prepare_policy(
    kind: OperationKind,
    policy: &Policy,
    req: &Req<'_>,
    key: Option<Value>,
) -> Result<Prepared, Problem> {
    let op = policy.op;
    // A write's `where` bounds the rows it may change as its scope does.
    let forced = || match kind.writes() {
        true => policy.forced.clone(),
        false => Vec::new(),
    };
    if !needs_ctx(op) {
        let mut scope = forced();
        scope.extend(req.extra.iter().cloned());
        return Ok(Prepared {
            ctx: None,
            scope,
            check: Vec::new(),
            fields: None,
        });
    }
    let ctx = hook_ctx(kind, req, key, None);
    let (mut scope, check) = match op.scope {
        Some(f) => scope_filters(kind, &f(&ctx)?),
        None => Default::default(),
    };
    scope.extend(forced());
    scope.extend(req.extra.iter().cloned());
    let fields = match op.fields_for {
        Some(f) => {
            let mut bits = u64::MAX;
            f(&ctx, &mut bits)?;
            Some(FieldSet(bits))
        }
        None => None,
    };
    Ok(Prepared {
        ctx: Some(Box::new(ctx)),
        scope,
        check,
        fields,
    })
}

/// The hook context of an operation on this request.
fn hook_ctx(
    kind: OperationKind,
    req: &Req<'_>,
    key: Option<Value>,
    embedded_in: Option<&'static str>,
) -> HookCtx {
    HookCtx {
        op: kind,
        parts: {
            let mut parts = req.parts.clone();
            parts.headers = req.headers.clone();
            parts
        },
        key,
        input: None,
        output: None,
        before: None,
        row: None,
        state: req.state.clone().unwrap_or_else(|| (Arc::new(()), "()")),
        db: req.db.clone(),
        tx: None,
        lazy_tx: false,
        embedded_in,
    }
}

/// Runs hooks with the write's transaction lent to their context; returns it.
async fn run_hooks<'s, B: Driver>(
    hooks: &[crate::model::Hook],
    ctx: &mut HookCtx,
    tx: WriteTx<'s, B>,
) -> Result<WriteTx<'s, B>, Problem> {
    if hooks.is_empty() {
        return Ok(tx);
    }
    let (tx, lent) = tx.lend();
    ctx.tx = Some(B::wrap_tx(tx));
    for hook in hooks {
        if let Err(e) = hook(ctx).await {
            // Rolled back before the write's turn is released.
            ctx.tx = None;
            return Err(e);
        }
    }
    let tx = ctx.tx.take().and_then(B::unwrap_tx);
    tx.map(|tx| lent.back(tx))
        .ok_or_else(|| Problem::internal(&"a hook took the transaction"))
}

/// The input after the `pre` hooks: taken out of the context, or copied when `post` hooks
/// will see it too.
fn input_for_post(op: &Operation, ctx: &mut HookCtx) -> Vec<(usize, Value)> {
    match op.post.is_empty() {
        true => ctx.input.take().map(|i| i.values).unwrap_or_default(),
        false => ctx
            .input
            .as_ref()
            .map(|i| i.values.clone())
            .unwrap_or_default(),
    }
}

/// Runs a read's hooks (list, retrieve) without a transaction: the first statement a hook
/// runs begins one ([`HookCtx::in_transaction`]), which the read continues in.
async fn run_read_hooks(hooks: &[crate::model::Hook], ctx: &mut HookCtx) -> Result<(), Problem> {
    ctx.lazy_tx = true;
    for hook in hooks {
        if let Err(e) = hook(ctx).await {
            // Rolled back.
            ctx.tx = None;
            return Err(e);
        }
    }
    Ok(())
}

/// A read's `post` hooks, with the rendered body (see [`post_hooks`]).
async fn read_post_hooks(
    op: &Operation,
    ctx: &mut HookCtx,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    if op.post.is_empty() {
        return Ok(());
    }
    ctx.output = Some(serde_json::from_slice(out).map_err(|e| Problem::internal(&e))?);
    run_read_hooks(op.post, ctx).await?;
    *out = serde_json::to_vec(&ctx.output).map_err(|e| Problem::internal(&e))?;
    Ok(())
}

/// The transaction a read's hook began, if any, taken out of the context.
fn read_tx<B: Driver>(ctx: &mut HookCtx) -> Option<sqlx::Transaction<'static, B>> {
    ctx.tx.take().and_then(B::unwrap_tx)
}

/// Commits the transaction a read's hook began, if any.
async fn finish_read<B: Driver>(sent: &Sent, ctx: &mut HookCtx) -> Result<(), sqlx::Error> {
    match read_tx::<B>(ctx) {
        Some(tx) => sent.adopt_read(tx).commit().await,
        None => Ok(()),
    }
}

/// Refuses query parameters other than `allowed`.
fn only_params(pairs: &[(String, String)], allowed: &[&str], op: &str) -> Result<(), Problem> {
    match pairs.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some((k, _)) => Err(Problem::invalid_parameter(
            k.clone(),
            if allowed.is_empty() {
                format!("unknown query parameter `{k}`; {op} takes no query parameters")
            } else {
                format!(
                    "unknown query parameter `{k}`; {op} accepts only {}",
                    allowed.join(", ")
                )
            },
        )),
    }
}

/// Parses the `{id}` path segment as the key's type.
pub(crate) fn parse_key(res: &Resource, raw: &str) -> Result<Value, Problem> {
    Value::parse(res.key_field().ty, raw).map_err(|e| bad_key(res, raw, e.0))
}

/// The 400 of a path whose `{id}` segment `raw` is not a key of `res`, and why.
pub(crate) fn bad_key(res: &Resource, raw: &str, detail: String) -> Problem {
    let key = res.key_field();
    Problem::bad_request(format!(
        "`{raw}` is not a valid {} of {}: {detail}",
        key.name, res.model.path
    ))
    .with_offender(Offender {
        name: key.name.to_owned(),
        location: "path",
        rule: None,
        detail,
    })
}

/// The columns a single-row answer shows: `select`, planned against `readable`, or the
/// default columns (borrowed from the resource when they are its output columns).
fn select_columns<'r>(
    res: &'r Resource,
    readable: FieldSet,
    pairs: &[(String, String)],
) -> Result<Cow<'r, [Column]>, Problem> {
    let selects = pairs.iter().filter(|(k, _)| k == "select").count();
    if selects == 0 && readable == res.output {
        return Ok(Cow::Borrowed(&res.output_columns));
    }
    if selects > 1 {
        return Err(Problem::invalid_parameter(
            "select",
            "`select` may be given once; list every field in it",
        ));
    }
    let select = match pairs.iter().find(|(k, _)| k == "select") {
        Some((_, v)) => Some(
            query::grammar::parse_select(v)
                .map_err(|e| Problem::invalid_parameter(e.param, e.message))?,
        ),
        None => None,
    };
    query::plan_select(res, readable, select).map(Cow::Owned)
}

/// The fields a write may set for this request: the policy's, narrowed by `fields_for`.
fn narrow_writable(set: FieldSet, by: Option<FieldSet>) -> FieldSet {
    by.map_or(set, |b| FieldSet(set.0 & b.0))
}

/// The fields a read returns for this request: narrowed by `fields_for`, the key kept.
fn narrow_readable(res: &Resource, set: FieldSet, by: Option<FieldSet>) -> FieldSet {
    let mut s = narrow_writable(set, by);
    if set.contains(res.key) {
        s.insert(res.key);
    }
    s
}

fn not_found(res: &Resource, key: &str) -> Problem {
    Problem::not_found(format!("{} `{key}` does not exist", res.model.path))
}

fn applied(h: &mut HeaderMap, prefer: &query::Prefer) {
    if let Some(v) = prefer.applied_header() {
        h.insert(query::PREFERENCE_APPLIED, v);
    }
}

/// Lets `post` hooks see and change a rendered body.
async fn post_hooks<'s, B: Driver>(
    op: &Operation,
    ctx: Option<&mut HookCtx>,
    tx: WriteTx<'s, B>,
    out: &mut Vec<u8>,
) -> Result<WriteTx<'s, B>, Problem> {
    let Some(ctx) = ctx.filter(|_| !op.post.is_empty()) else {
        return Ok(tx);
    };
    // The fields embeds join on are the server's, not the hooks'.
    let links = write_embeds::take_links(out);
    ctx.output = Some(serde_json::from_slice(out).map_err(|e| Problem::internal(&e))?);
    let tx = run_hooks::<B>(op.post, ctx, tx).await?;
    *out = serde_json::to_vec(&ctx.output).map_err(|e| Problem::internal(&e))?;
    write_embeds::put_links(out, links);
    Ok(tx)
}

/// What a write body may hold: the writable fields, less those the server sets.
fn writes_for(res: &Resource, op: &Operation, writable: FieldSet, create: bool) -> body::Writes {
    let mut writes = body::Writes {
        writable,
        refused: FieldSet::default(),
        overwritten: FieldSet::default(),
        create,
        only: None,
    };
    for f in op.force {
        if let Some(i) = res.by_ident(f.field) {
            writes.writable.0 &= !(1 << i);
            if f.overwrite {
                writes.overwritten.insert(i);
            } else {
                writes.refused.insert(i);
            }
        }
    }
    writes
}

/// Adds the operation's forced values to one row's values.
fn force_values(
    res: &Resource,
    op: &Operation,
    ctx: Option<&HookCtx>,
    values: &mut Vec<(usize, Value)>,
) -> Result<(), Problem> {
    let Some(ctx) = ctx else {
        return Ok(());
    };
    for f in op.force {
        let Some(i) = res.by_ident(f.field) else {
            continue;
        };
        let field = res.field(i);
        let v = (f.value)(ctx)?;
        let v = crate::value::coerce(v, field.ty, field.nullable).ok_or_else(|| {
            Problem::internal(&format!(
                "forced value of `{}` has another type",
                field.name
            ))
        })?;
        values.push((i, v));
    }
    Ok(())
}

/// Types every member of a write body against the writable fields, then adds the forced
/// values.
fn write_input(
    res: &Resource,
    op: &Operation,
    writable: FieldSet,
    ctx: Option<&HookCtx>,
    bytes: &[u8],
    create: bool,
) -> Result<Vec<(usize, Value)>, Problem> {
    let mut values = body::decode(res, writes_for(res, op, writable, create), bytes)?;
    force_values(res, op, ctx, &mut values)?;
    Ok(values)
}

/// What a single-row statement selects: the response columns, then, when they differ, the
/// columns its `ETag` is computed from (so the tag does not depend on `select`).
pub(super) fn single_row_columns<'r>(
    res: &'r Resource,
    columns: &[Column],
) -> (Cow<'r, [Column]>, bool) {
    if res.is_etag_columns(columns) {
        (Cow::Borrowed(&res.etag_columns), false)
    } else {
        let mut all = columns.to_vec();
        all.extend(res.etag_columns.iter().cloned());
        (Cow::Owned(all), true)
    }
}

/// `SELECT cols FROM t WHERE key = ? AND filters`, from the cache for the default columns
/// without filters.
pub(super) fn by_key_statement<'r, B: Driver>(
    res: &'r Resource,
    selected: &[Column],
    key: Value,
    filters: &[Filter],
) -> (Sql<'r>, KeyArgs) {
    let cached = filters.is_empty() && res.is_etag_columns(selected);
    key_statement::<B>(res, cached.then_some(Shape::ByKey), key, |w, key| {
        sql::by_key(w, res, selected, key, filters);
    })
}

/// A statement whose one argument is the key, written by `write`: from the cache under
/// `shape` when there is one, else built for this request.
pub(super) fn key_statement<'r, B: Driver>(
    res: &'r Resource,
    shape: Option<Shape>,
    key: Value,
    write: impl FnOnce(&mut SqlWriter, Value),
) -> (Sql<'r>, KeyArgs) {
    let build = |args: KeyArgs| {
        let mut w = SqlWriter::new(B::DIALECT);
        let key = args
            .into_iter()
            .next()
            .expect("the key is the one argument");
        write(&mut w, key);
        w
    };
    match shape {
        Some(shape) => res
            .statements
            .statement(B::DIALECT, shape, smallvec::smallvec![key], build),
        None => {
            let w = build(smallvec::smallvec![key]);
            (w.sql.into(), KeyArgs::from_vec(w.args))
        }
    }
}

/// Renders one row's response body (the first `columns.len()` columns) and returns its tag.
pub(super) fn render_one<B: Driver>(
    res: &Resource,
    columns: &[Column],
    row: &B::Row,
    appended: bool,
    out: &mut Vec<u8>,
) -> Result<ETag, Problem> {
    let map = |e| db_error::map(res, e);
    output::write_row::<B>(res, columns, row, out).map_err(map)?;
    res.saw_row(out.len());
    if !appended {
        return Ok(output::etag(out));
    }
    let mut tagged = Vec::with_capacity(out.len());
    output::write_row_from::<B>(res, &res.etag_columns, row, columns.len(), &mut tagged)
        .map_err(map)?;
    Ok(output::etag(&tagged))
}

/// The current row by key within the scope, locked until the transaction ends: every field
/// (for `before`), and its `ETag`.
pub(super) async fn current_row<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    key: &Value,
    scope: &[Filter],
) -> Result<Option<(Record, ETag)>, Problem> {
    let map = |e| db_error::map(res, e);
    let all = every_column(res);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, &all, key.clone(), scope);
    sql::for_update(&mut w);
    let row = B::fetch_optional(conn, &w.sql, &w.args)
        .await
        .map_err(map)?;
    let Some(row) = row.as_ref() else {
        return Ok(None);
    };
    let mut tagged = Vec::new();
    output::write_fields::<B>(res, &res.etag_columns, row, &mut tagged).map_err(map)?;
    Ok(Some((record::<B>(res, row)?, output::etag(&tagged))))
}

/// The row a write left, every field, read back by key in the write's transaction for the
/// `post` hooks (what the client selected narrows only the response).
pub(super) async fn written_row<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    key: &Value,
) -> Result<Record, Problem> {
    let map = |e| db_error::map(res, e);
    let all = every_column(res);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, &all, key.clone(), &[]);
    let row = B::fetch_optional(conn, &w.sql, &w.args)
        .await
        .map_err(map)?
        .ok_or_else(|| Problem::internal(&"the written row could not be read back"))?;
    record::<B>(res, &row)
}

fn every_column(res: &Resource) -> Vec<Column> {
    (0..res.model.fields.len())
        .map(|field| Column { field, alias: None })
        .collect()
}

/// A row of every column (in field order) as typed values of the fields' types.
fn record<B: Driver>(res: &Resource, row: &B::Row) -> Result<Record, Problem> {
    let values = res
        .model
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| B::read_field(row, i, f.ty).map_err(|e| db_error::map(res, e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Record::new((res.model.rust_name, res.model.fields), values))
}

/// 428 when the operation requires `If-Match` and the request has none.
pub(super) fn precondition(
    op: &Operation,
    headers: &HeaderMap,
) -> Result<Option<conditional::Tags>, Problem> {
    let tags = conditional::if_match(headers);
    if tags.is_none() && op.require_if_match {
        return Err(Problem::new(
            StatusCode::PRECONDITION_REQUIRED,
            "precondition-required",
            "this write needs an If-Match header with the resource's current ETag",
        ));
    }
    Ok(tags)
}

/// 412: the row changed since the client read it.
pub(super) fn stale() -> Problem {
    Problem::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition-failed",
        "the resource has changed since its ETag was read; read it again and retry",
    )
}

pub(super) fn with_etag(mut response: Response, etag: &ETag) -> Response {
    response
        .headers_mut()
        .insert(header::ETAG, etag.header_value());
    response
}
