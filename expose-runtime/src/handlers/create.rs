//! `POST /path`: 201 with `Location` and the new row as retrieve shows it.

use super::batch::{self, create_many_in};
use super::idempotency::{self, Answer, Keyed, Keying};
use super::write_embeds::{self, WriteEmbeds};
use super::*;
use crate::body::Rows;
use crate::query::Resolution;

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
    only_params(&pairs, &["select", "columns", "on_conflict"], "create")?;
    let answer = write_embeds::answer_select(res, &req, &pairs).await?;
    let columns = &answer.columns;
    let mut prefer = query::prefer(&req.headers)?;
    let singular = query::wants_object(&req.headers);
    let writable = narrow_writable(policy.fields, prepared.fields);
    let only = columns_param(res, writable, &pairs)?;
    let upsert = conflict_param(res, op, &pairs, &prefer)?;
    // A merge is an update of the existing row: the update operation's policy applies.
    let merge = match upsert {
        Some((_, Resolution::Merge)) => {
            let (p, prepared) = prepare(res, OperationKind::Update, &req, None)?;
            Some((p, narrow_writable(p.fields, prepared.fields), prepared))
        }
        _ => None,
    };
    let bytes = body::read(&req.headers, body, body_limit).await?;
    let held = match idempotency::keying(res, &mut req, keep, &bytes).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    let ctx = prepared.ctx.as_deref();
    let mut writes = writes_for(res, op, writable, true);
    writes.only = only;
    let (mut rows, many) = match body::decode_rows(res, writes, &bytes, op.max_rows)? {
        // REST's single-row create: 201 with the object and `Location`.
        Rows::One(mut values)
            if upsert.is_none() && only.is_none() && prefer.ret != Some(Return::Representation) =>
        {
            force_values(res, op, ctx, &mut values)?;
            generate_key(res, &mut values);
            let checked = (prepared.ctx, prepared.check.as_slice());
            let answered = (columns.as_ref(), answer.embeds.as_ref());
            return create_one(res, req, checked, answered, values, prefer, keyed).await;
        }
        Rows::One(values) => (vec![values], false),
        Rows::Many(rows) => (rows, true),
    };
    for row in rows.iter_mut() {
        force_values(res, op, ctx, row)?;
        generate_key(res, row);
    }
    if many {
        batch::complete_rows(res, &mut rows, only, prefer.missing_default);
        if prefer.missing_default {
            prefer.apply("missing=default");
        }
    }
    let upsert = upsert.map(|(field, resolution)| {
        prefer.apply(match resolution {
            Resolution::Merge => "resolution=merge-duplicates",
            Resolution::Ignore => "resolution=ignore-duplicates",
        });
        (field, resolution)
    });
    let mut merge = merge;
    let update_ctx = merge.as_mut().and_then(|(_, _, p)| p.ctx.take());
    let upsert = upsert.map(|(field, resolution)| batch::Upsert {
        field,
        resolution,
        update: merge.as_ref().map(|(p, writable, prepared)| {
            let (scope, check) = (prepared.scope.as_slice(), prepared.check.as_slice());
            (*p, *writable, scope, check)
        }),
    });
    let batch = batch::Batch {
        reply: batch::Reply {
            rows: prefer.ret == Some(Return::Representation),
            singular,
        },
        cap: None,
        if_match: None,
        keyed,
        status: (StatusCode::CREATED, StatusCode::OK),
        with_check: &prepared.check,
        embeds: answer.embeds_if(prefer.ret == Some(Return::Representation)),
    };
    let sent = req.sent;
    let mut written = on_backend!(
        &req.db,
        create_many_in(
            sent,
            res,
            op,
            prepared.ctx,
            update_ctx,
            rows,
            columns,
            upsert,
            batch
        )
    )?;
    let status = match written.inserted || upsert.is_none() {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    Ok(batch::respond(
        &mut written,
        &prefer,
        OperationKind::Create,
        status,
    ))
}

/// REST's single-row create: the row inserted, 201 with it (or without a body, for
/// `return=minimal`), `Location` and `ETag`.
async fn create_one(
    res: &Resource,
    req: Req<'_>,
    (ctx, with_check): (Option<Box<HookCtx>>, &[Filter]),
    (columns, embeds): (&[Column], Option<&WriteEmbeds>),
    values: Vec<(usize, Value)>,
    prefer: query::Prefer,
    keyed: Option<&Keyed>,
) -> Result<Response, Problem> {
    let op = res
        .policy(OperationKind::Create)
        .map(|p| p.op)
        .ok_or_else(|| Problem::internal(&"create is not exposed"))?;
    // The path the client sent: under `Router::nest` the request's own URI has lost the
    // prefix, which axum keeps in `OriginalUri`.
    let path = match req.parts.extensions.get::<axum::extract::OriginalUri>() {
        Some(original) => original.path(),
        None => req.parts.uri.path(),
    };
    let minimal = matches!(prefer.ret, Some(Return::Minimal | Return::HeadersOnly));
    let keeping = keyed.map(|keyed| Keeping {
        keyed,
        path,
        minimal,
    });
    let embeds = embeds.filter(|_| !minimal);
    let sent = req.sent;
    let (key, out, etag) = on_backend!(
        &req.db,
        create_in(
            sent,
            res,
            op,
            (ctx, with_check),
            (columns, embeds),
            values,
            keeping
        )
    )?;
    let location = location(path, &key);
    let mut response = match minimal {
        true => StatusCode::CREATED.into_response(),
        false => json_response(StatusCode::CREATED, out),
    };
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    if prefer.count.is_some() {
        let one = HeaderValue::from_static("*/1");
        response.headers_mut().insert(header::CONTENT_RANGE, one);
    }
    applied(response.headers_mut(), &prefer);
    Ok(with_etag(response, &etag))
}

/// The key made in Rust (`#[expose(id, generate = ...)]`) for a row that has none.
fn generate_key(res: &Resource, values: &mut Vec<(usize, Value)>) {
    if let Some(make) = res.key_field().generate {
        if !values.iter().any(|(i, _)| *i == res.key) {
            values.push((res.key, make()));
        }
    }
}

/// `columns="a","b"` (a bulk create's fields): each must be a field the client may write.
fn columns_param(
    res: &Resource,
    writable: FieldSet,
    pairs: &[(String, String)],
) -> Result<Option<FieldSet>, Problem> {
    let Some((_, raw)) = pairs.iter().find(|(k, _)| k == "columns") else {
        return Ok(None);
    };
    let mut set = FieldSet::default();
    for name in raw.split(',').map(unquote) {
        let i = res
            .by_name(name)
            .filter(|i| writable.contains(*i))
            .ok_or_else(|| {
                Problem::invalid_parameter(
                    "columns",
                    format!(
                        "`{name}` is not a field you can write; writable fields: {}",
                        res.names(writable)
                    ),
                )
            })?;
        set.insert(i);
    }
    Ok(Some(set))
}

/// An upsert's target: `on_conflict` (the key when absent) with `Prefer: resolution=...`.
/// The field must be the key or a `unique` one, and the model must allow upserts.
fn conflict_param(
    res: &Resource,
    op: &Operation,
    pairs: &[(String, String)],
    prefer: &query::Prefer,
) -> Result<Option<(usize, Resolution)>, Problem> {
    let on_conflict = pairs.iter().find(|(k, _)| k == "on_conflict");
    let Some(resolution) = prefer.resolution else {
        return match on_conflict {
            Some(_) => Err(Problem::invalid_parameter(
                "on_conflict",
                "`on_conflict` applies to an upsert: send it with `Prefer: \
                 resolution=merge-duplicates` or `resolution=ignore-duplicates`",
            )),
            None => Ok(None),
        };
    };
    if !op.upsert {
        return Err(Problem::bad_request(format!(
            "{} does not accept upserts (`Prefer: resolution=...`); send rows to insert only",
            res.model.path
        )));
    }
    let Some((_, raw)) = on_conflict else {
        return Ok(Some((res.key, resolution)));
    };
    let unique = |f: &&crate::field::Field| f.key || f.unique;
    let field = match raw.contains(',') {
        false => (res.by_name(unquote(raw))).filter(|i| unique(&res.field(*i))),
        true => None,
    };
    field.map(|f| Some((f, resolution))).ok_or_else(|| {
        let unique: Vec<&str> = (res.model.fields.iter())
            .filter(unique)
            .map(|f| f.name)
            .collect();
        Problem::invalid_parameter(
            "on_conflict",
            format!(
                "`{raw}` is not a unique key of {}; `on_conflict` names one of: {}",
                res.model.path,
                unique.join(", ")
            ),
        )
    })
}

/// A field name of `columns` or `on_conflict`: trimmed, and without its double quotes when
/// it is quoted (`"name"`); other quotes are kept, so that the name is refused.
fn unquote(name: &str) -> &str {
    let name = name.trim();
    name.strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(name)
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
    (mut ctx, with_check): (Option<Box<HookCtx>>, &[Filter]),
    (columns, embeds): (&[Column], Option<&WriteEmbeds>),
    values: Vec<(usize, Value)>,
    keeping: Option<Keeping<'_>>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    let hooked = ctx.as_deref_mut().filter(|_| has_hooks(op));
    if hooked.is_some() || keeping.is_some() || !with_check.is_empty() || embeds.is_some() {
        // Boxed (in a `let`, see `on_backend!`), so that the transaction's futures do not
        // make every create's state larger.
        let cols = (columns, &*selected, appended);
        let in_tx = Box::pin(create_tx::<B>(
            pool,
            sent,
            res,
            op,
            (hooked, with_check),
            (cols, embeds),
            values,
            keeping,
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

/// The answer's columns, those selected (with the `ETag`'s), and whether the latter were
/// appended.
type AnswerColumns<'a> = (&'a [Column], &'a [Column], bool);

/// A create in a transaction: between the `pre` and `post` hooks, and with the answer to its
/// `Idempotency-Key` stored before it commits.
#[allow(clippy::too_many_arguments)]
async fn create_tx<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    (ctx, with_check): (Option<&mut HookCtx>, &[Filter]),
    (cols, embeds): (AnswerColumns<'_>, Option<&WriteEmbeds>),
    values: Vec<(usize, Value)>,
    keeping: Option<Keeping<'_>>,
) -> Result<(String, Vec<u8>, ETag), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let tx = sent.begin(pool).await.map_err(map)?;
    let (key, mut out, etag, mut tx) =
        create_in_tx::<B>(tx, res, op, ctx, cols, values, with_check).await?;
    if let Some(embeds) = embeds {
        write_embeds::embed_answer::<B>(tx.conn(), res, embeds, &mut out).await?;
    }
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

/// One row's create inside a transaction: the `pre` hooks (which see the input), the
/// insert, the answer rendered, the `post` hooks (which see the input, the key, the whole
/// row written and the answer).
pub(super) async fn create_in_tx<'s, B: Driver>(
    mut tx: WriteTx<'s, B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<&mut HookCtx>,
    (columns, selected, appended): (&[Column], &[Column], bool),
    mut values: Vec<(usize, Value)>,
    with_check: &[Filter],
) -> Result<(String, Vec<u8>, ETag, WriteTx<'s, B>), Problem> {
    let mut out = res.row_buffer();
    if let Some(ctx) = ctx.as_deref_mut() {
        ctx.input = Some(Input {
            model: (res.model.rust_name, res.model.fields),
            values,
        });
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
        values = input_for_post(op, ctx);
    }
    let row = insert_row::<B>(tx.conn(), res, selected, values).await?;
    let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
    let key = new_key::<B>(res, selected, &row)?;
    if !with_check.is_empty() {
        check_written::<B>(tx.conn(), res, &parse_key(res, &key)?, with_check).await?;
    }
    if let Some(ctx) = ctx.as_deref_mut() {
        ctx.key = parse_key(res, &key).ok();
        if let (false, Some(key)) = (op.post.is_empty(), &ctx.key) {
            ctx.row = Some(written_row::<B>(tx.conn(), res, key).await?);
        }
    }
    let tx = post_hooks::<B>(op, ctx, tx, &mut out).await?;
    Ok((key, out, etag, tx))
}

fn new_key<B: Driver>(
    res: &Resource,
    selected: &[Column],
    row: &B::Row,
) -> Result<String, Problem> {
    output::key_text::<B>(res, selected, row).ok_or_else(|| {
        Problem::internal(&format!(
            "the database returned no key for the new row of {}: the key column `{}` has \
                 no default and create got none (`expose_runtime::verify` at start finds this; \
                 mark the key `generate = ...` or give the column a default)",
            res.model.path,
            res.key_field().column
        ))
    })
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
    let written = FieldSet(values.iter().fold(0, |m, (i, _)| m | 1 << i));
    let (sql, args) = insert_statement::<B>(res, selected, values);
    let row = if returning {
        match B::fetch_optional(conn, &sql, &args).await {
            Ok(row) => row,
            Err(e) => return Err(db_error::map_writing_on::<B>(conn, res, written, e).await),
        }
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

pub(super) fn integer_key(res: &Resource, id: i64) -> Result<Value, Problem> {
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
