//! The five operations, generic over the backend; each returns a response or a problem.

use crate::body;
use crate::db::Db;
use crate::db_error;
use crate::problem::Problem;
use crate::query::{self, Column, Return};
use crate::resource::{FieldSet, ReadPolicy, Resource};
use crate::sql::{self, Backend, SqlWriter};
use crate::value::Value;
use axum::body::Body;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sqlx::Pool;

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

const JSON: HeaderValue = HeaderValue::from_static("application/json");

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, JSON)], body).into_response()
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
fn parse_key(res: &Resource, raw: &str) -> Result<Value, Problem> {
    let key = res.key_field();
    Value::parse(key.ty, raw).map_err(|e| {
        Problem::bad_request(format!(
            "`{raw}` is not a valid {} of {}: {}",
            key.name, res.model.path, e.0
        ))
        .with_offender(crate::problem::Offender {
            name: key.name.to_owned(),
            location: "path",
            detail: e.0,
        })
    })
}

/// The columns of a write's answer: `select=` within the output fields.
fn output_columns(res: &Resource, pairs: &[(String, String)]) -> Result<Vec<Column>, Problem> {
    select_columns(res, res.output, pairs)
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

fn not_found(res: &Resource, key: &str) -> Problem {
    Problem::not_found(format!("{} `{key}` does not exist", res.model.path))
}

// ---------------------------------------------------------------------------------------
// list

pub(crate) async fn list(res: &Resource, db: &Db, parts: &Parts) -> Result<Response, Problem> {
    let policy = res.list.as_ref().ok_or_else(|| not_allowed())?;
    let pairs = query::pairs(parts.uri.query());
    let range = query::range(&parts.headers)?;
    let plan = query::plan_list(res, policy, &pairs, range)?;
    let prefer = query::prefer(&parts.headers)?;
    let singular = query::wants_object(&parts.headers);
    on_backend!(db, list_in(res, plan, prefer, singular))
}

fn not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this operation is not exposed",
    )
}

async fn list_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    plan: query::ListPlan,
    prefer: query::Prefer,
    singular: bool,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let mut conn = pool.acquire().await.map_err(map)?;
    let fetch = if singular {
        plan.limit.min(2)
    } else {
        plan.limit
    };
    let mut w = SqlWriter::new(B::DIALECT);
    sql::list(&mut w, res, &plan, fetch);
    let rows = B::fetch_all(&mut conn, &w.sql, &w.args)
        .await
        .map_err(map)?;
    let total = if prefer.count {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::count(&mut w, res, &plan.filters);
        let row = B::fetch_all(&mut conn, &w.sql, &w.args)
            .await
            .map_err(map)?;
        let n = row
            .first()
            .map(|r| B::get_i64(r, 0))
            .transpose()
            .map_err(map)?;
        Some(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
    } else {
        None
    };
    drop(conn);
    let mut out = Vec::with_capacity(64 + rows.len() * 96);
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
        crate::output::write_row::<B>(res, &plan.columns, &rows[0], &mut out).map_err(map)?;
    } else {
        crate::output::write_rows::<B>(res, &plan.columns, &rows, &mut out).map_err(map)?;
    }
    let n = rows.len() as u64;
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

fn applied(h: &mut HeaderMap, prefer: &query::Prefer) {
    if !prefer.applied.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&prefer.applied.join(", ")) {
            h.insert("preference-applied", v);
        }
    }
}

// ---------------------------------------------------------------------------------------
// retrieve

pub(crate) async fn retrieve(
    res: &Resource,
    db: &Db,
    parts: &Parts,
    key: &str,
) -> Result<Response, Problem> {
    let policy = res.retrieve.as_ref().ok_or_else(not_allowed)?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "retrieve")?;
    let columns = select_columns(res, policy.readable, &pairs)?;
    let key_value = parse_key(res, key)?;
    on_backend!(db, retrieve_in(res, policy, columns, key_value, key))
}

async fn retrieve_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    policy: &ReadPolicy,
    columns: Vec<Column>,
    key_value: Value,
    key: &str,
) -> Result<Response, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, &columns, key_value, &policy.forced);
    let mut conn = pool.acquire().await.map_err(map)?;
    let rows = B::fetch_all(&mut conn, &w.sql, &w.args)
        .await
        .map_err(map)?;
    drop(conn);
    let row = rows.first().ok_or_else(|| not_found(res, key))?;
    let mut out = Vec::with_capacity(128);
    crate::output::write_row::<B>(res, &columns, row, &mut out).map_err(map)?;
    Ok(json_response(StatusCode::OK, out))
}

// ---------------------------------------------------------------------------------------
// create

pub(crate) async fn create(
    res: &Resource,
    db: &Db,
    parts: &Parts,
    body: Body,
    body_limit: usize,
) -> Result<Response, Problem> {
    let policy = res.create.as_ref().ok_or_else(not_allowed)?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "create")?;
    let columns = output_columns(res, &pairs)?;
    let prefer = query::prefer(&parts.headers)?;
    let entries = body::read(&parts.headers, body, body_limit).await?;
    let values = body::decode(res, policy.writable, entries, true)?;
    let (key, out) = on_backend!(db, create_in(res, &columns, values))?;
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
    columns: &[Column],
    values: Vec<(usize, Value)>,
) -> Result<(String, Vec<u8>), Problem> {
    let map = |e| db_error::map(res, e);
    let given_key = values
        .iter()
        .find(|(i, _)| *i == res.key)
        .map(|(_, v)| v.clone());
    let mut tx = pool.begin().await.map_err(map)?;
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
    crate::output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
    let key = crate::output::key_text::<B>(res, columns, row)
        .ok_or_else(|| Problem::internal(&"the new row has no key"))?;
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
    db: &Db,
    parts: &Parts,
    key: &str,
    body: Body,
    body_limit: usize,
) -> Result<Response, Problem> {
    let policy = res.update.as_ref().ok_or_else(not_allowed)?;
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &["select"], "update")?;
    let columns = output_columns(res, &pairs)?;
    let prefer = query::prefer(&parts.headers)?;
    let key_value = parse_key(res, key)?;
    let entries = body::read(&parts.headers, body, body_limit).await?;
    let values = body::decode(res, policy.writable, entries, false)?;
    let out = on_backend!(db, update_in(res, &columns, key_value, values))?
        .ok_or_else(|| not_found(res, key))?;
    let mut response = match prefer.ret {
        Some(Return::Minimal | Return::HeadersOnly) => StatusCode::NO_CONTENT.into_response(),
        _ => json_response(StatusCode::OK, out),
    };
    applied(response.headers_mut(), &prefer);
    Ok(response)
}

async fn update_in<B: Backend>(
    pool: &Pool<B>,
    res: &Resource,
    columns: &[Column],
    key: Value,
    values: Vec<(usize, Value)>,
) -> Result<Option<Vec<u8>>, Problem> {
    let map = |e| db_error::map(res, e);
    let mut tx = pool.begin().await.map_err(map)?;
    let returning = B::DIALECT.returning && !values.is_empty();
    if !values.is_empty() {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::update(
            &mut w,
            res,
            key.clone(),
            values,
            &[],
            returning.then_some(columns),
        );
        if returning {
            let rows = B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?;
            return finish::<B>(res, columns, rows, tx).await;
        }
        B::execute(&mut tx, &w.sql, &w.args).await.map_err(map)?;
    }
    let mut w = SqlWriter::new(B::DIALECT);
    sql::by_key(&mut w, res, columns, key, &[]);
    let rows = B::fetch_all(&mut tx, &w.sql, &w.args).await.map_err(map)?;
    finish::<B>(res, columns, rows, tx).await
}

async fn finish<B: Backend>(
    res: &Resource,
    columns: &[Column],
    rows: Vec<B::Row>,
    tx: sqlx::Transaction<'static, B>,
) -> Result<Option<Vec<u8>>, Problem> {
    let map = |e| db_error::map(res, e);
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(128);
    crate::output::write_row::<B>(res, columns, row, &mut out).map_err(map)?;
    tx.commit().await.map_err(map)?;
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------
// remove

pub(crate) async fn remove(
    res: &Resource,
    db: &Db,
    parts: &Parts,
    key: &str,
) -> Result<Response, Problem> {
    if !res.remove {
        return Err(not_allowed());
    }
    let pairs = query::pairs(parts.uri.query());
    only_params(&pairs, &[], "remove")?;
    let key_value = parse_key(res, key)?;
    let gone = on_backend!(db, remove_in(res, key_value))?;
    if gone == 0 {
        return Err(not_found(res, key));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn remove_in<B: Backend>(pool: &Pool<B>, res: &Resource, key: Value) -> Result<u64, Problem> {
    let map = |e| db_error::map(res, e);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::delete(&mut w, res, key, &[]);
    let mut conn = pool.acquire().await.map_err(map)?;
    Ok(B::execute(&mut conn, &w.sql, &w.args)
        .await
        .map_err(map)?
        .rows)
}
