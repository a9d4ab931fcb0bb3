//! The five operations, generic over the backend; each returns a response or a problem.
//!
//! An operation without hooks runs its one statement on a pooled connection. With hooks, it
//! runs in a transaction: `pre` hooks, the statement(s), `post` hooks, commit; any failure
//! drops the transaction, which rolls everything back.

use crate::body;
use crate::db::Db;
use crate::db_error;
use crate::hooks::{HookCtx, Input, OperationKind};
use crate::model::Operation;
use crate::output;
use crate::problem::{Offender, Problem};
use crate::query::{self, Column, Filter, Return};
use crate::resource::{FieldSet, ReadPolicy, Resource};
use crate::sql::{self, Backend, SqlWriter};
use crate::value::Value;
use axum::body::Body;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::{Pool, Transaction};
use std::any::Any;
use std::sync::Arc;

/// Runs `$f::<Backend>(pool, args...)` for whichever backend the `Db` holds.
macro_rules! on_backend {
    ($db:expr, $f:ident ( $($arg:expr),* )) => {
        match $db {
            Db::Sqlite(p) => $f::<sqlx::Sqlite>(p, $($arg),*).await,
            Db::Postgres(p) => $f::<sqlx::Postgres>(p, $($arg),*).await,
            Db::MySql(p) => $f::<sqlx::MySql>(p, $($arg),*).await,
        }
    };
}

/// One request, as the router hands it over.
pub(crate) struct Req {
    pub(crate) parts: Parts,
    pub(crate) db: Db,
    /// The app's state, boxed only for operations with hooks.
    pub(crate) state: Option<Arc<dyn Any + Send + Sync>>,
}

const JSON: HeaderValue = HeaderValue::from_static("application/json");

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
}

fn not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this operation is not exposed",
    )
}

/// Whether an operation needs a hook context (hooks, scope, narrowing or forced values).
pub(crate) fn needs_ctx(op: &Operation) -> bool {
    !op.pre.is_empty()
        || !op.post.is_empty()
        || op.scope.is_some()
        || op.fields_for.is_some()
        || !op.force.is_empty()
}

fn has_hooks(op: &Operation) -> bool {
    !op.pre.is_empty() || !op.post.is_empty()
}

/// Per-request policy: the hook context, the scope filter and the narrowed field set.
struct Prepared {
    ctx: Option<HookCtx>,
    scope: Vec<Filter>,
    fields: Option<FieldSet>,
}

fn prepare(
    op: &'static Operation,
    kind: OperationKind,
    req: Req,
    key: Option<Value>,
) -> Result<(Prepared, Parts), Problem> {
    if !needs_ctx(op) {
        return Ok((
            Prepared {
                ctx: None,
                scope: Vec::new(),
                fields: None,
            },
            req.parts,
        ));
    }
    let parts = req.parts.clone();
    let ctx = HookCtx {
        op: kind,
        parts: req.parts,
        key,
        input: None,
        output: None,
        before: None,
        state: req.state.unwrap_or_else(|| Arc::new(())),
        db: req.db,
        tx: None,
    };
    let scope = match op.scope {
        Some(f) => f(&ctx)?.map(|c| c.into_filter()).into_iter().collect(),
        None => Vec::new(),
    };
    let fields = match op.fields_for {
        Some(f) => {
            let mut bits = u64::MAX;
            f(&ctx, &mut bits)?;
            Some(FieldSet(bits))
        }
        None => None,
    };
    Ok((
        Prepared {
            ctx: Some(ctx),
            scope,
            fields,
        },
        parts,
    ))
}

/// Runs hooks with the transaction lent to the context; returns it.
async fn run_hooks<B: Backend>(
    hooks: &[crate::Hook],
    ctx: &mut HookCtx,
    tx: Transaction<'static, B>,
) -> Result<Transaction<'static, B>, Problem> {
    if hooks.is_empty() {
        return Ok(tx);
    }
    ctx.tx = Some(B::wrap_tx(tx));
    for hook in hooks {
        hook(ctx).await?;
    }
    ctx.tx
        .take()
        .and_then(B::unwrap_tx)
        .ok_or_else(|| Problem::internal(&"a hook took the transaction"))
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
    let key = res.key_field();
    Value::parse(key.ty, raw).map_err(|e| {
        Problem::bad_request(format!(
            "`{raw}` is not a valid {} of {}: {}",
            key.name, res.model.path, e.0
        ))
        .with_offender(Offender {
            name: key.name.to_owned(),
            location: "path",
            detail: e.0,
        })
    })
}

fn select_columns(
    res: &Resource,
    readable: FieldSet,
    pairs: &[(String, String)],
) -> Result<Vec<Column>, Problem> {
    let select = match pairs.iter().find(|(k, _)| k == "select") {
        Some((_, v)) => Some(
            query::grammar::parse_select(v)
                .map_err(|e| Problem::invalid_parameter(e.param, e.message))?,
        ),
        None => None,
    };
    query::plan_select(res, readable, select)
}

fn narrow(set: FieldSet, by: Option<FieldSet>, key: usize) -> FieldSet {
    match by {
        Some(b) => {
            let mut s = FieldSet(set.0 & b.0);
            if set.contains(key) {
                s.insert(key);
            }
            s
        }
        None => set,
    }
}

fn not_found(res: &Resource, key: &str) -> Problem {
    Problem::not_found(format!("{} `{key}` does not exist", res.model.path))
}

fn applied(h: &mut HeaderMap, prefer: &query::Prefer) {
    if !prefer.applied.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&prefer.applied.join(", ")) {
            h.insert("preference-applied", v);
        }
    }
}

/// Lets `post` hooks see and change a rendered body.
async fn post_hooks<B: Backend>(
    op: &Operation,
    ctx: Option<&mut HookCtx>,
    tx: Transaction<'static, B>,
    out: &mut Vec<u8>,
) -> Result<Transaction<'static, B>, Problem> {
    let Some(ctx) = ctx.filter(|_| !op.post.is_empty()) else {
        return Ok(tx);
    };
    ctx.output = Some(serde_json::from_slice(out).map_err(|e| Problem::internal(&e))?);
    let tx = run_hooks::<B>(op.post, ctx, tx).await?;
    *out = serde_json::to_vec(&ctx.output).map_err(|e| Problem::internal(&e))?;
    Ok(tx)
}

// ---------------------------------------------------------------------------------------
// list

pub(crate) async fn list(res: &Resource, req: Req) -> Result<Response, Problem> {
    let (policy, op) = res
        .list
        .as_ref()
        .zip(res.model.list.as_ref())
        .ok_or_else(not_allowed)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::List, req, None)?;
    let narrowed;
    let policy = match prepared.fields {
        Some(by) => {
            let readable = narrow(policy.readable, Some(by), res.key);
            narrowed = ReadPolicy {
                readable,
                filterable: FieldSet(policy.filterable.0 & readable.0),
                sortable: FieldSet(policy.sortable.0 & readable.0),
                default_order: policy.default_order.clone(),
                forced: policy.forced.clone(),
                op: policy.op,
            };
            &narrowed
        }
        None => policy,
    };
    let pairs = query::pairs(parts.uri.query());
    let range = query::range(&parts.headers)?;
    let mut plan = query::plan_list(res, policy, &pairs, range)?;
    plan.filters.extend(prepared.scope);
    let prefer = query::prefer(&parts.headers)?;
    let singular = query::wants_object(&parts.headers);
    on_backend!(&db, list_in(res, op, prepared.ctx, plan, prefer, singular))
}

/// Runs the list statement (and the count, when asked) on one connection.
async fn list_rows<B: Backend>(
    conn: &mut B::Connection,
    res: &Resource,
    plan: &query::ListPlan,
    fetch: u64,
    count: bool,
) -> Result<(Vec<B::Row>, Option<u64>), sqlx::Error> {
    let mut w = SqlWriter::new(B::DIALECT);
    sql::list(&mut w, res, plan, fetch);
    let rows = B::fetch_all(conn, &w.sql, &w.args).await?;
    let total = if count {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::count(&mut w, res, &plan.filters);
        let row = B::fetch_all(conn, &w.sql, &w.args).await?;
        let n = row.first().map(|r| B::get_i64(r, 0)).transpose()?;
        Some(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    } else {
        None
    };
    Ok((rows, total))
}

async fn list_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    plan: query::ListPlan,
    prefer: query::Prefer,
    singular: bool,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let fetch = if singular {
        plan.limit.min(2)
    } else {
        plan.limit
    };
    let mut out = Vec::new();
    let (n, total) = match ctx.as_mut().filter(|_| has_hooks(op)) {
        None => {
            let mut conn = pool.acquire().await.map_err(map)?;
            let (rows, total) = list_rows::<B>(&mut conn, res, &plan, fetch, prefer.count)
                .await
                .map_err(map)?;
            drop(conn);
            render_list::<B>(res, &plan, &rows, singular, &mut out)?;
            (rows.len() as u64, total)
        }
        Some(ctx) => {
            let tx = pool.begin().await.map_err(map)?;
            let mut tx = run_hooks::<B>(op.pre, ctx, tx).await?;
            let (rows, total) = list_rows::<B>(&mut tx, res, &plan, fetch, prefer.count)
                .await
                .map_err(map)?;
            render_list::<B>(res, &plan, &rows, singular, &mut out)?;
            let tx = post_hooks::<B>(op, Some(ctx), tx, &mut out).await?;
            tx.commit().await.map_err(map)?;
            (rows.len() as u64, total)
        }
    };
    let range = if n == 0 {
        "*".to_owned()
    } else {
        format!("{}-{}", plan.offset, plan.offset + n - 1)
    };
    let total_text = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    let status = match total {
        Some(t) if plan.offset > t => {
            return Err(Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!("offset {} is past the {t} matching rows", plan.offset),
            )
            .with_header(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("*/{t}")).unwrap_or(JSON),
            ))
        }
        Some(t) if n < t && !singular => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let mut response = json_response(status, out);
    let h = response.headers_mut();
    if singular {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(query::OBJECT_JSON),
        );
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{range}/{total_text}")) {
        h.insert(header::CONTENT_RANGE, v);
    }
    applied(h, &prefer);
    Ok(response)
}

fn render_list<B: Backend>(
    res: &Resource,
    plan: &query::ListPlan,
    rows: &[B::Row],
    singular: bool,
    out: &mut Vec<u8>,
) -> Result<(), Problem> {
    let map = |e| db_error::map(res, e);
    out.reserve(64 + rows.len() * 96);
    if singular {
        if rows.len() != 1 {
            return Err(Problem::new(
                StatusCode::NOT_ACCEPTABLE,
                "not-singular",
                format!(
                    "the request asked for exactly one {} object, and {} rows match",
                    res.model.path,
                    if rows.is_empty() { "no" } else { "several" }
                ),
            ));
        }
        output::write_row::<B>(res, &plan.columns, &rows[0], out).map_err(map)
    } else {
        output::write_rows::<B>(res, &plan.columns, rows, out).map_err(map)
    }
}

// ---------------------------------------------------------------------------------------
// retrieve

pub(crate) async fn retrieve(res: &Resource, req: Req, key: &str) -> Result<Response, Problem> {
    let (policy, op) = res
        .retrieve
        .as_ref()
        .zip(res.model.retrieve.as_ref())
        .ok_or_else(not_allowed)?;
    let key_value = parse_key(res, key)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::Retrieve, req, Some(key_value.clone()))?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "retrieve")?;
    let readable = narrow(policy.readable, prepared.fields, res.key);
    let columns = select_columns(res, readable, &pairs)?;
    let mut filters = policy.forced.clone();
    filters.extend(prepared.scope);
    let out = on_backend!(
        &db,
        retrieve_in(res, op, prepared.ctx, &columns, key_value, &filters)
    )?
    .ok_or_else(|| not_found(res, key))?;
    Ok(json_response(StatusCode::OK, out))
}

async fn retrieve_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    columns: &[Column],
    key: Value,
    filters: &[Filter],
) -> Result<Option<Vec<u8>>, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, columns, key, filters);
    let mut out = Vec::with_capacity(128);
    match ctx.as_mut().filter(|_| has_hooks(op)) {
        None => {
            let mut conn = pool.acquire().await.map_err(map)?;
            let rows = B::fetch_all(&mut conn, &w.sql, &w.args)
                .await
                .map_err(map)?;
            drop(conn);
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
        }
        Some(ctx) => {
            let tx = pool.begin().await.map_err(map)?;
            let mut tx = run_hooks::<B>(op.pre, ctx, tx).await?;
            let rows = B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
            let tx = post_hooks::<B>(op, Some(ctx), tx, &mut out).await?;
            tx.commit().await.map_err(map)?;
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------
// create and update: the body

/// Reads the body, applies forced values, and types every member.
async fn write_input(
    res: &Resource,
    op: &Operation,
    writable: FieldSet,
    ctx: Option<&HookCtx>,
    parts: &Parts,
    body: Body,
    body_limit: usize,
    create: bool,
) -> Result<Vec<(usize, Value)>, Problem> {
    let mut entries = body::read(&parts.headers, body, body_limit).await?;
    let mut refused = Vec::new();
    for f in op.force {
        let Some(i) = res.by_ident(f.field) else {
            continue;
        };
        let name = res.field(i).name;
        if let Some(pos) = entries.iter().position(|(k, _)| k == name) {
            if f.overwrite {
                entries.remove(pos);
            } else {
                refused.push(Offender {
                    name: name.to_owned(),
                    location: "body",
                    detail: "is set by the server and cannot be sent".into(),
                });
                entries.remove(pos);
            }
        }
    }
    let mut writable = writable;
    for f in op.force {
        if let Some(i) = res.by_ident(f.field) {
            writable.0 &= !(1 << i);
        }
    }
    let mut values = body::decode(res, writable, entries, create, &mut refused)?;
    if let Some(ctx) = ctx {
        for f in op.force {
            let Some(i) = res.by_ident(f.field) else {
                continue;
            };
            let field = res.field(i);
            let v = (f.value)(ctx)?;
            let v = crate::hooks::coerce(v, field.ty, field.nullable).ok_or_else(|| {
                Problem::internal(&format!(
                    "forced value of `{}` has another type",
                    field.name
                ))
            })?;
            values.push((i, v));
        }
    }
    Ok(values)
}

// ---------------------------------------------------------------------------------------
// create

pub(crate) async fn create(
    res: &Resource,
    req: Req,
    body_limit: usize,
    body: Body,
) -> Result<Response, Problem> {
    let (policy, op) = res
        .create
        .as_ref()
        .zip(res.model.create.as_ref())
        .ok_or_else(not_allowed)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::Create, req, None)?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "create")?;
    let columns = select_columns(res, res.output, &pairs)?;
    let prefer = query::prefer(&parts.headers)?;
    let writable = narrow(policy.writable, prepared.fields, usize::MAX);
    let values = write_input(
        res,
        op,
        writable,
        prepared.ctx.as_ref(),
        &parts,
        body,
        body_limit,
        true,
    )
    .await?;
    let (key, out) = on_backend!(&db, create_in(res, op, prepared.ctx, &columns, values))?;
    let location = format!(
        "{}/{}",
        parts.uri.path().trim_end_matches('/'),
        crate::router::encode_segment(&key)
    );
    let mut response = match prefer.ret {
        Some(Return::Minimal | Return::HeadersOnly) => StatusCode::CREATED.into_response(),
        _ => json_response(StatusCode::CREATED, out),
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    applied(response.headers_mut(), &prefer);
    Ok(response)
}

async fn create_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    columns: &[Column],
    mut values: Vec<(usize, Value)>,
) -> Result<(String, Vec<u8>), Problem> {
    let map = |e| db_error::map(res, e);
    let mut tx = pool.begin().await.map_err(map)?;
    if let Some(ctx) = ctx.as_mut().filter(|_| !op.pre.is_empty()) {
        ctx.input = Some(Input {
            model: res.model,
            values,
        });
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
        values = ctx.input.take().map(|i| i.values).unwrap_or_default();
    }
    let given_key = values
        .iter()
        .find(|(i, _)| *i == res.key)
        .map(|(_, v)| v.clone());
    let mut w = SqlWriter::new(B::DIALECT);
    let returning = B::DIALECT.returning;
    sql::insert(&mut w, res, values, returning.then_some(columns));
    let rows = if returning {
        B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?
    } else {
        let done = B::execute(&mut tx, &w.sql, &w.args).await.map_err(map)?;
        let key = match given_key {
            Some(k) => k,
            None => {
                let id = done.last_insert_id.ok_or_else(|| {
                    Problem::internal(&"the database reported no id for the new row")
                })?;
                integer_key(res, id)?
            }
        };
        let mut w = SqlWriter::new(B::DIALECT);
        sql::by_key(&mut w, res, columns, key, &[]);
        B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?
    };
    let row = rows
        .first()
        .ok_or_else(|| Problem::internal(&"the new row could not be read back"))?;
    let mut out = Vec::with_capacity(128);
    output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
    let key = output::key_text::<B>(res, columns, row)
        .ok_or_else(|| Problem::internal(&"the new row has no key"))?;
    if let Some(ctx) = ctx.as_mut() {
        ctx.key = parse_key(res, &key).ok();
    }
    let tx = post_hooks::<B>(op, ctx.as_mut(), tx, &mut out).await?;
    tx.commit().await.map_err(map)?;
    Ok((key, out))
}

fn integer_key(res: &Resource, id: i64) -> Result<Value, Problem> {
    use crate::field_type::FieldType;
    Ok(match res.ty(res.key) {
        FieldType::I64 => Value::I64(id),
        FieldType::I32 => Value::I32(i32::try_from(id).map_err(|e| Problem::internal(&e))?),
        FieldType::I16 => Value::I16(i16::try_from(id).map_err(|e| Problem::internal(&e))?),
        _ => {
            return Err(Problem::internal(
                &"a generated key on this backend must be an integer",
            ))
        }
    })
}

// ---------------------------------------------------------------------------------------
// update

pub(crate) async fn update(
    res: &Resource,
    req: Req,
    key: &str,
    body_limit: usize,
    body: Body,
) -> Result<Response, Problem> {
    let (policy, op) = res
        .update
        .as_ref()
        .zip(res.model.update.as_ref())
        .ok_or_else(not_allowed)?;
    let key_value = parse_key(res, key)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::Update, req, Some(key_value.clone()))?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "update")?;
    let columns = select_columns(res, res.output, &pairs)?;
    let prefer = query::prefer(&parts.headers)?;
    let writable = narrow(policy.writable, prepared.fields, usize::MAX);
    let values = write_input(
        res,
        op,
        writable,
        prepared.ctx.as_ref(),
        &parts,
        body,
        body_limit,
        false,
    )
    .await?;
    let out = on_backend!(
        &db,
        update_in(
            res,
            op,
            prepared.ctx,
            &columns,
            key_value,
            values,
            &prepared.scope
        )
    )?
    .ok_or_else(|| not_found(res, key))?;
    let mut response = match prefer.ret {
        Some(Return::Minimal | Return::HeadersOnly) => StatusCode::NO_CONTENT.into_response(),
        _ => json_response(StatusCode::OK, out),
    };
    applied(response.headers_mut(), &prefer);
    Ok(response)
}

/// The whole row (every field) by key within the scope, as JSON, for `before`.
async fn row_before<B: Backend>(
    conn: &mut B::Connection,
    res: &Resource,
    key: &Value,
    scope: &[Filter],
) -> Result<Option<serde_json::Value>, Problem> {
    let map = |e| db_error::map(res, e);
    let all: Vec<Column> = (0..res.model.fields.len())
        .map(|field| Column { field, alias: None })
        .collect();
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, &all, key.clone(), scope);
    let rows = B::fetch_all(conn, &w.sql, &w.args).await.map_err(map)?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut out = Vec::new();
    output::write_row::<B>(res, &all, row, &mut out).map_err(map)?;
    serde_json::from_slice(&out)
        .map(Some)
        .map_err(|e| Problem::internal(&e))
}

#[allow(clippy::too_many_arguments)]
async fn update_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    columns: &[Column],
    key: Value,
    mut values: Vec<(usize, Value)>,
    scope: &[Filter],
) -> Result<Option<Vec<u8>>, Problem> {
    let map = |e| db_error::map(res, e);
    let mut tx = pool.begin().await.map_err(map)?;
    if let Some(ctx) = ctx.as_mut().filter(|_| has_hooks(op)) {
        match row_before::<B>(&mut tx, res, &key, scope).await? {
            Some(before) => ctx.before = Some(before),
            None => return Ok(None),
        }
        ctx.input = Some(Input {
            model: res.model,
            values,
        });
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
        values = ctx.input.take().map(|i| i.values).unwrap_or_default();
    }
    let rows = if values.is_empty() {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::by_key(&mut w, res, columns, key, scope);
        B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?
    } else if B::DIALECT.returning {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::update(&mut w, res, key, values, scope, Some(columns));
        B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?
    } else {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::update(&mut w, res, key.clone(), values, scope, None);
        // MySQL reports matched rows (sqlx connects with CLIENT_FOUND_ROWS).
        if B::execute(&mut tx, &w.sql, &w.args)
            .await
            .map_err(map)?
            .rows
            == 0
        {
            return Ok(None);
        }
        let mut w = SqlWriter::new(B::DIALECT);
        sql::by_key(&mut w, res, columns, key, &[]);
        B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?
    };
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(128);
    output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
    let tx = post_hooks::<B>(op, ctx.as_mut(), tx, &mut out).await?;
    tx.commit().await.map_err(map)?;
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------
// remove

pub(crate) async fn remove(res: &Resource, req: Req, key: &str) -> Result<Response, Problem> {
    let op = res.model.remove.as_ref().ok_or_else(not_allowed)?;
    let key_value = parse_key(res, key)?;
    let db = req.db.clone();
    let (prepared, parts) = prepare(op, OperationKind::Remove, req, Some(key_value.clone()))?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &[], "remove")?;
    let gone = on_backend!(
        &db,
        remove_in(res, op, prepared.ctx, key_value, &prepared.scope)
    )?;
    if !gone {
        return Err(not_found(res, key));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<HookCtx>,
    key: Value,
    scope: &[Filter],
) -> Result<bool, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::delete(&mut w, res, key.clone(), scope);
    let Some(ctx) = ctx.as_mut().filter(|_| has_hooks(op)) else {
        let mut conn = pool.acquire().await.map_err(map)?;
        return Ok(B::execute(&mut conn, &w.sql, &w.args)
            .await
            .map_err(map)?
            .rows
            > 0);
    };
    let mut tx = pool.begin().await.map_err(map)?;
    match row_before::<B>(&mut tx, res, &key, scope).await? {
        Some(before) => ctx.before = Some(before),
        None => return Ok(false),
    }
    let mut tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    if B::execute(&mut tx, &w.sql, &w.args)
        .await
        .map_err(map)?
        .rows
        == 0
    {
        return Ok(false);
    }
    let tx = run_hooks::<B>(op.post, ctx, tx).await?;
    tx.commit().await.map_err(map)?;
    Ok(true)
}
