//! `POST /path`: 201 with `Location` and the new row as retrieve shows it.

use super::idempotency::{self, stored, Answer, Keyed};
use super::*;

/// What a keyed create stores with its row: the key, and how its answer is written.
struct Keeping<'a> {
    keyed: &'a Keyed,
    /// The collection's path, which `Location` extends with the new key.
    path: &'a str,
    minimal: bool,
}

pub(crate) async fn create(
    res: &Resource,
    mut req: Req<'_>,
    body_limit: usize,
    keep: Option<std::time::Duration>,
    body: Body,
) -> Result<Response, Problem> {
    let (policy, prepared) = prepare(res, OperationKind::Create, &req, None)?;
    let op = policy.op;
    let pairs = query::pairs(req.parts.uri.query());
    only_params(&pairs, &["select"], "create")?;
    let columns = select_columns(res, res.output, &pairs)?;
    let prefer = query::prefer(&req.headers)?;
    let writable = narrow_writable(policy.fields, prepared.fields);
    let bytes = body::read(&req.headers, body, body_limit).await?;
    let keyed = idempotency::keyed(res, &req.headers, keep, req.parts, &bytes)?;
    req.release_headers();
    let _held = keyed.as_ref().map(|k| k.hold(res)).transpose()?;
    if let Some(k) = &keyed {
        if let Some(answer) = on_backend!(&req.db, stored(res, k))? {
            return Ok(answer.response(true));
        }
    }
    let values = write_input(res, op, writable, prepared.ctx.as_deref(), &bytes, true)?;
    // The path the client sent: under `Router::nest` the request's own URI has lost the
    // prefix, which axum keeps in `OriginalUri`.
    let path = match req.parts.extensions.get::<axum::extract::OriginalUri>() {
        Some(original) => original.path(),
        None => req.parts.uri.path(),
    };
    let minimal = matches!(prefer.ret, Some(Return::Minimal | Return::HeadersOnly));
    let keeping = keyed.as_ref().map(|keyed| Keeping {
        keyed,
        path,
        minimal,
    });
    let sent = req.sent;
    let (key, out, etag) = on_backend!(
        &req.db,
        create_in(sent, res, op, prepared.ctx, &columns, values, keeping)
    )?;
    let location = location(path, &key);
    let mut response = match minimal {
        true => StatusCode::CREATED.into_response(),
        false => json_response(StatusCode::CREATED, out),
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    applied(response.headers_mut(), &prefer);
    Ok(with_etag(response, &etag))
}

/// `Location` of a new row: the collection's path and the key.
fn location(path: &str, key: &str) -> String {
    format!("{}/{}", path.trim_end_matches('/'), encode_segment(key))
}

#[allow(clippy::too_many_arguments)]
async fn create_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    values: Vec<(usize, Value)>,
    keeping: Option<Keeping<'_>>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    let hooked = ctx.as_deref_mut().filter(|_| has_hooks(op));
    if hooked.is_some() || keeping.is_some() {
        // Boxed (in a `let`, see `on_backend!`), so that the transaction's futures do not
        // make every create's state larger.
        let cols = (columns, &*selected, appended);
        let in_tx = Box::pin(create_in_tx::<B>(
            pool, sent, res, op, hooked, cols, values, keeping,
        ));
        return in_tx.await;
    }
    {
        let mut conn = sent.autocommit(pool).await.map_err(map)?;
        let row = insert_row::<B>(conn.applying(), res, &selected, values).await?;
        // Taken once the row is here: a buffer held across the awaits would be one more
        // block per request in flight (see `retrieve_in`).
        let mut out = res.row_buffer();
        let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
        let key = new_key::<B>(res, &selected, &row)?;
        Ok((key, out, etag))
    }
}

/// A create in a transaction: between the `pre` and `post` hooks, and with the answer to its
/// `Idempotency-Key` stored before it commits.
#[allow(clippy::too_many_arguments)]
async fn create_in_tx<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<&mut HookCtx>,
    (columns, selected, appended): (&[Column], &[Column], bool),
    mut values: Vec<(usize, Value)>,
    keeping: Option<Keeping<'_>>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let mut out = res.row_buffer();
    let mut tx = sent.begin(pool).await.map_err(map)?;
    if let Some(ctx) = ctx.as_deref_mut() {
        ctx.input = Some(Input {
            model: (res.model.rust_name, res.model.fields),
            values,
        });
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
        values = ctx.input.take().map(|i| i.values).unwrap_or_default();
    }
    let row = insert_row::<B>(tx.conn(), res, selected, values).await?;
    let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
    let key = new_key::<B>(res, selected, &row)?;
    if let Some(ctx) = ctx.as_deref_mut() {
        ctx.key = parse_key(res, &key).ok();
    }
    let tx = post_hooks::<B>(op, ctx, tx, &mut out).await?;
    let mut tx = tx;
    if let Some(k) = &keeping {
        let answer = Answer {
            status: StatusCode::CREATED,
            location: Some(location(k.path, &key)),
            etag: etag.header_value().to_str().ok().map(str::to_owned),
            body: (!k.minimal).then(|| out.clone()),
        };
        idempotency::store::<B>(tx.conn(), res, k.keyed, &answer).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok((key, out, etag))
}

fn new_key<B: Driver>(
    res: &Resource,
    selected: &[Column],
    row: &B::Row,
) -> Result<String, Problem> {
    output::key_text::<B>(res, selected, row)
        .ok_or_else(|| Problem::internal(&"the new row has no key"))
}

/// Inserts the row and reads it back (with `RETURNING`, or by its key where the dialect has
/// none).
async fn insert_row<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    selected: &[Column],
    values: Vec<(usize, Value)>,
) -> Result<B::Row, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let given_key = values
        .iter()
        .find(|(i, _)| *i == res.key)
        .map(|(_, v)| v.clone());
    let returning = B::DIALECT.returning;
    let (sql, args) = insert_statement::<B>(res, selected, values);
    let row = if returning {
        B::fetch_optional(conn, &sql, &args).await.map_err(map)?
    } else {
        let done = B::execute(conn, &sql, &args).await.map_err(map)?;
        let key = match given_key {
            Some(k) => k,
            None => {
                let id = done.last_insert_id.ok_or_else(|| {
                    Problem::internal(&"the database reported no id for the new row")
                })?;
                integer_key(res, id)?
            }
        };
        let (sql, args) = by_key_statement::<B>(res, selected, key, &[]);
        B::fetch_optional(conn, &sql, &args).await.map_err(map)?
    };
    row.ok_or_else(|| Problem::internal(&"the new row could not be read back"))
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

/// The `INSERT` for these values: its text depends only on which columns are written (and
/// the answer's columns), so the common shapes are built once and reused.
fn insert_statement<'r, B: Driver>(
    res: &'r Resource,
    selected: &[Column],
    mut values: Vec<(usize, Value)>,
) -> (Sql<'r>, Vec<Value>) {
    let returning = B::DIALECT.returning.then_some(selected);
    let build = |values: Vec<(usize, Value)>| {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::insert(&mut w, res, values, returning);
        w
    };
    if returning.is_some_and(|cols| !res.is_etag_columns(cols)) {
        let w = build(values);
        return (w.sql.into(), w.args);
    }
    let fields = sql::written(&mut values);
    let args = values.into_iter().map(|(_, v)| v).collect();
    res.statements
        .statement(B::DIALECT, Shape::Insert(fields), args, |args| {
            build(FieldSet(fields).iter().zip(args).collect())
        })
}

/// Percent-encodes a key for use as one path segment.
fn encode_segment(s: &str) -> String {
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
