//! `PATCH /path/{id}`: a partial update, guarded by `If-Match`.

use super::idempotency::{self, Answer as Stored, Keyed, Keying};
use super::write_embeds::{self, Answer, WriteEmbeds};
use super::*;

pub(crate) async fn update(
    res: &Resource,
    mut req: Req<'_>,
    key: &str,
    body_limit: usize,
    keep: Option<std::time::Duration>,
    body: Body,
) -> Result<Response, Problem> {
    let policy = policy_of(res, OperationKind::Update)?;
    let op = policy.op;
    let mut by = ByKey::read(res, OperationKind::Update, policy, &req, key, "update").await?;
    let columns = &by.answer.columns;
    let prefer = query::prefer(&req.headers)?;
    let writable = narrow_writable(policy.fields, by.prepared.fields);
    let bytes = body::read(&req.headers, body, body_limit).await?;
    let held = match idempotency::keying(res, &mut req, keep, &bytes).await? {
        Keying::Replay(answer) => return Ok(answer),
        Keying::Run(held) => held,
    };
    let keyed = held.as_ref().map(|(k, _)| k);
    let ctx = by.prepared.ctx.take();
    let values = write_input(res, op, writable, ctx.as_deref(), &bytes, false)?;
    let minimal = matches!(prefer.ret, Some(Return::Minimal | Return::HeadersOnly));
    let write = by.write(keyed.map(|k| (k, minimal)), !minimal);
    let sent = req.sent;
    let (out, etag) = on_backend!(
        &req.db,
        update_in(sent, res, op, ctx, columns, values, write)
    )?
    .ok_or_else(|| not_found(res, key))?;
    let response = match minimal {
        true => StatusCode::NO_CONTENT.into_response(),
        false => json_response(StatusCode::OK, out),
    };
    let mut response = with_etag(response, &etag);
    applied(response.headers_mut(), &prefer);
    Ok(response)
}

/// What a write of one row by key (update, replace, action) reads of its request before
/// its body: the key, the policy's preparation (scope, check, hook context), the answer's
/// `select` (the only query parameter it takes) and `If-Match`.
pub(super) struct ByKey<'r> {
    pub(super) key: Value,
    pub(super) prepared: Prepared,
    pub(super) answer: Answer<'r>,
    pub(super) if_match: Option<conditional::Tags>,
}

impl<'r> ByKey<'r> {
    /// Reads them for a write of `kind` under `policy`; `name` is the operation's, in the
    /// refusal of another query parameter.
    pub(super) async fn read(
        res: &'r Resource,
        kind: OperationKind,
        policy: &Policy,
        req: &Req<'_>,
        key: &str,
        name: &str,
    ) -> Result<ByKey<'r>, Problem> {
        let key = parse_key(res, key)?;
        let prepared = prepare_policy(kind, policy, req, Some(key.clone()))?;
        let pairs = query::pairs(req.parts.uri.query());
        only_params(&pairs, &["select"], name)?;
        let answer = write_embeds::answer_select(res, req, &pairs).await?;
        let if_match = precondition(policy.op, &req.headers)?;
        Ok(ByKey {
            key,
            prepared,
            answer,
            if_match,
        })
    }

    /// The write of the row: with the request's `Idempotency-Key` (and whether its answer
    /// has no body), and the answer's embeds when it `shows` them.
    pub(super) fn write(&self, keyed: Option<(&'r Keyed, bool)>, shows: bool) -> Write<'_> {
        Write {
            key: self.key.clone(),
            scope: &self.prepared.scope,
            with_check: &self.prepared.check,
            if_match: self.if_match.as_ref(),
            keyed,
            embeds: self.answer.embeds_if(shows),
        }
    }
}

/// Which row a write targets and under what conditions.
pub(super) struct Write<'a> {
    pub(super) key: Value,
    pub(super) scope: &'a [Filter],
    pub(super) if_match: Option<&'a conditional::Tags>,
    /// What the row left by an update or replace must match (the scope's writable rows),
    /// checked in its transaction; empty for a remove.
    pub(super) with_check: &'a [Filter],
    /// The request's `Idempotency-Key`, and whether its answer has no body: the write then
    /// runs in a transaction that stores its answer.
    pub(super) keyed: Option<(&'a Keyed, bool)>,
    /// The answer's embedded resources, read in the write's transaction after it.
    pub(super) embeds: Option<&'a WriteEmbeds>,
}

impl Write<'_> {
    /// Reads (and locks) the current row when hooks or `If-Match` need it; `Ok(false)` when
    /// it does not exist within the scope.
    pub(super) async fn check<B: Driver>(
        &self,
        conn: &mut B::Connection,
        res: &Resource,
        ctx: Option<&mut HookCtx>,
    ) -> Result<bool, Problem> {
        if ctx.is_none() && self.if_match.is_none() {
            return Ok(true);
        }
        let Some((before, etag)) = current_row::<B>(conn, res, &self.key, self.scope).await? else {
            return Ok(false);
        };
        if self.if_match.is_some_and(|t| !t.matches_strong(&etag)) {
            return Err(stale());
        }
        if let Some(ctx) = ctx {
            ctx.before = Some(before);
        }
        Ok(true)
    }
}

#[allow(clippy::too_many_arguments)]
async fn update_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    ctx: Option<Box<HookCtx>>,
    columns: &[Column],
    values: Vec<(usize, Value)>,
    write: Write<'_>,
) -> Result<Option<(Vec<u8>, ETag)>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (selected, appended) = single_row_columns(res, columns);
    if !(ctx.is_some() && has_hooks(op))
        && write.if_match.is_none()
        && write.keyed.is_none()
        && write.with_check.is_empty()
        && write.embeds.is_none()
    {
        let mut conn = sent.autocommit(pool).await.map_err(map)?;
        let Some(row) = update_row::<B>(conn.applying(), res, &selected, &write, values).await?
        else {
            return Ok(None);
        };
        // Taken once the row is here (see `retrieve_in`).
        let mut out = res.row_buffer();
        let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
        return Ok(Some((out, etag)));
    }
    // Boxed, so that the transaction's futures do not make every update's state larger.
    let cols = (columns, &*selected, appended);
    let checked = Box::pin(update_checked::<B>(
        pool, sent, res, op, ctx, cols, values, write,
    ));
    checked.await
}

/// An update that reads the row first (for `If-Match` or hooks), or checks the row it
/// leaves against the scope: in a transaction, between
/// the `pre` and `post` hooks.
#[allow(clippy::too_many_arguments)]
pub(super) async fn update_checked<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    cols: (&[Column], &[Column], bool),
    values: Vec<(usize, Value)>,
    write: Write<'_>,
) -> Result<Option<(Vec<u8>, ETag)>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let tx = sent.begin(pool).await.map_err(map)?;
    let keyed = write.keyed;
    let Some((mut out, etag, mut tx)) =
        update_in_tx::<B>(tx, res, op, ctx.as_deref_mut(), cols, values, &write).await?
    else {
        return Ok(None);
    };
    if let Some(embeds) = write.embeds {
        write_embeds::embed_answer::<B>(tx.conn(), res, embeds, &mut out).await?;
    }
    if let Some((k, minimal)) = keyed {
        let answer = Stored {
            status: if minimal {
                StatusCode::NO_CONTENT
            } else {
                StatusCode::OK
            },
            location: None,
            etag: etag.header_value().to_str().ok().map(str::to_owned),
            body: (!minimal).then(|| out.clone()),
        };
        idempotency::store::<B>(tx.conn(), res, k, &answer).await?;
    }
    tx.commit().await.map_err(map)?;
    Ok(Some((out, etag)))
}

/// One row's update inside a transaction: the row read (and locked) for `If-Match` or hooks,
/// the `pre` hooks, the statement, the answer rendered, the `post` hooks. `None` (with the
/// transaction dropped) when no row matched.
pub(super) async fn update_in_tx<'s, B: Driver>(
    mut tx: WriteTx<'s, B>,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<&mut HookCtx>,
    (columns, selected, appended): (&[Column], &[Column], bool),
    mut values: Vec<(usize, Value)>,
    write: &Write<'_>,
) -> Result<Option<(Vec<u8>, ETag, WriteTx<'s, B>)>, Problem> {
    let mut out = res.row_buffer();
    let hooked = ctx.as_deref_mut().filter(|_| has_hooks(op));
    if !write.check::<B>(tx.conn(), res, hooked).await? {
        return Ok(None);
    }
    if let Some(ctx) = ctx.as_deref_mut().filter(|_| !op.pre.is_empty()) {
        ctx.input = Some(Input {
            model: (res.model.rust_name, res.model.fields),
            values,
        });
        tx = run_hooks::<B>(op.pre, ctx, tx).await?;
        values = input_for_post(op, ctx);
    } else if let Some(ctx) = ctx.as_deref_mut().filter(|_| !op.post.is_empty()) {
        ctx.input = Some(Input {
            model: (res.model.rust_name, res.model.fields),
            values: values.clone(),
        });
    }
    let Some(row) = update_row::<B>(tx.conn(), res, selected, write, values).await? else {
        return Ok(None);
    };
    check_written::<B>(tx.conn(), res, &write.key, write.with_check).await?;
    let etag = render_one::<B>(res, columns, &row, appended, &mut out)?;
    if let Some(ctx) = ctx.as_deref_mut().filter(|_| !op.post.is_empty()) {
        ctx.row = Some(written_row::<B>(tx.conn(), res, &write.key).await?);
    }
    let tx = post_hooks::<B>(op, ctx, tx, &mut out).await?;
    Ok(Some((out, etag, tx)))
}

/// Updates the row and reads it back; `None` when no row matched.
async fn update_row<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    selected: &[Column],
    write: &Write<'_>,
    values: Vec<(usize, Value)>,
) -> Result<Option<B::Row>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let (key, scope) = (write.key.clone(), write.scope);
    let row = if values.is_empty() {
        let (sql, args) = by_key_statement::<B>(res, selected, key, scope);
        B::fetch_optional(conn, &sql, &args).await.map_err(map)?
    } else if B::DIALECT.returning {
        let written = FieldSet(values.iter().fold(0, |m, (i, _)| m | 1 << i));
        let (sql, args) = update_statement::<B>(res, key, values, scope, Some(selected));
        match B::fetch_optional(conn, &sql, &args).await {
            Ok(row) => row,
            Err(e) => return Err(db_error::map_writing_on::<B>(conn, res, written, e).await),
        }
    } else {
        let (sql, args) = update_statement::<B>(res, key.clone(), values, scope, None);
        // MySQL reports matched rows (sqlx connects with CLIENT_FOUND_ROWS).
        if B::execute(conn, &sql, &args).await.map_err(map)?.rows == 0 {
            return Ok(None);
        }
        let (sql, args) = by_key_statement::<B>(res, selected, key, &[]);
        B::fetch_optional(conn, &sql, &args).await.map_err(map)?
    };
    Ok(row)
}

/// The `UPDATE` for these values: built once per set of columns written when it has no
/// filter besides the key and returns the default columns.
fn update_statement<'r, B: Driver>(
    res: &'r Resource,
    key: Value,
    mut values: Vec<(usize, Value)>,
    scope: &[Filter],
    returning: Option<&[Column]>,
) -> (Sql<'r>, Vec<Value>) {
    let build = |values: Vec<(usize, Value)>, key: Value| {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::update(&mut w, res, key, values, scope, returning);
        w
    };
    if !scope.is_empty() || returning.is_some_and(|c| !res.is_etag_columns(c)) {
        let w = build(values, key);
        return (w.sql.into(), w.args);
    }
    let fields = sql::written(&mut values);
    let mut args: Vec<Value> = values.into_iter().map(|(_, v)| v).collect();
    args.push(key);
    res.statements
        .statement(B::DIALECT, Shape::Update(fields), args, |mut args| {
            let key = args.pop().expect("the key is the last argument");
            build(FieldSet(fields).iter().zip(args).collect(), key)
        })
}
