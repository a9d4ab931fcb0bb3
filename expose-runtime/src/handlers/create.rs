//! `POST /path`: 201 with `Location` and the new row as retrieve shows it.

use super::*;

pub(crate) async fn create(
    res: &Resource,
    mut req: Req<'_>,
    body_limit: usize,
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
    req.release_headers();
    let values = write_input(res, op, writable, prepared.ctx.as_deref(), &bytes, true)?;
    let sent = req.sent;
    let (key, out, etag) = on_backend!(
        &req.db,
        create_in(sent, res, op, prepared.ctx, &columns, values)
    )?;
    // The path the client sent: under `Router::nest` the request's own URI has lost the
    // prefix, which axum keeps in `OriginalUri`.
    let path = match req.parts.extensions.get::<axum::extract::OriginalUri>() {
        Some(original) => original.path(),
        None => req.parts.uri.path(),
    };
    let location = format!("{}/{}", path.trim_end_matches('/'), encode_segment(&key));
    let mut response = match prefer.ret {
        Some(Return::Minimal | Return::HeadersOnly) => StatusCode::CREATED.into_response(),
        _ => json_response(StatusCode::CREATED, out),
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    applied(response.headers_mut(), &prefer);
    Ok(with_etag(response, &etag))
}

async fn create_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    values: Vec<(usize, Value)>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    let Some(ctx) = ctx.as_deref_mut().filter(|_| has_hooks(op)) else {
        let mut conn = sent.autocommit(pool).await.map_err(map)?;
        let row = insert_row::<B>(conn.applying(), res, &selected, values).await?;
        // Taken once the row is here: a buffer held across the awaits would be one more
        // block per request in flight (see `retrieve_in`).
        let mut out = res.row_buffer();
        let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
        let key = new_key::<B>(res, &selected, &row)?;
        return Ok((key, out, etag));
    };
    // Boxed (in a `let`, see `on_backend!`), so that the hooks' futures do not make every
    // create's state larger.
    let hooked = Box::pin(create_hooked::<B>(
        pool, sent, res, op, ctx, columns, &selected, appended, values,
    ));
    hooked.await
}

/// A create with hooks: in a transaction, between the `pre` and `post` hooks.
#[allow(clippy::too_many_arguments)]
async fn create_hooked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: &mut HookCtx,
    columns: &[Column],
    selected: &[Column],
    appended: bool,
    mut values: Vec<(usize, Value)>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let mut out = res.row_buffer();
    let mut tx = sent.begin(pool).await.map_err(map)?;
    ctx.input = Some(Input {
        model: (res.model.rust_name, res.model.fields),
        values,
    });
    tx = run_hooks::<B>(op.pre, ctx, tx).await?;
    values = ctx.input.take().map(|i| i.values).unwrap_or_default();
    let row = insert_row::<B>(tx.conn(), res, selected, values).await?;
    let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
    let key = new_key::<B>(res, selected, &row)?;
    ctx.key = parse_key(res, &key).ok();
    let tx = post_hooks::<B>(op, Some(ctx), tx, &mut out).await?;
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
