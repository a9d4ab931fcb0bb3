//! Writes of many rows, as PostgREST's clients send them: a bulk create (a JSON array), an
//! upsert (`Prefer: resolution=...` with `on_conflict`), and updates and removes chosen by
//! filters on the collection path. Each runs in one transaction: all rows or none.
//!
//! Without hooks or `If-Match`, one statement writes every row (`RETURNING` the answer's
//! columns where the dialect has it). With them, the rows are read and locked first, in key
//! order, and each goes through the single-row path (`pre` hooks, statement, `post` hooks)
//! in the same transaction; a failing hook rolls the whole request back.

use super::create::{create_in_tx, integer_key};
use super::idempotency::{self, Answer, Keyed};
use super::remove::{delete_statement, remove_in_tx};
use super::update::{update_in_tx, Write};
use super::write_embeds::{self, WriteEmbeds};
use super::*;
use crate::query::Resolution;

/// Most values bound in one statement of a bulk write (SQLite allows 32 766, PostgreSQL
/// and MySQL 65 535).
const MAX_BINDS: usize = 30_000;

/// How the client wants a write of many rows answered.
#[derive(Clone, Copy, Debug)]
pub(super) struct Reply {
    /// `return=representation`: the written rows, as an array (one object when singular).
    pub(super) rows: bool,
    /// `Accept: application/vnd.pgrst.object+json`: exactly one row, else 406 and nothing
    /// written.
    pub(super) singular: bool,
}

/// The most rows a write chosen by filters may change, and who set it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Cap {
    max: u64,
    /// Set by the request's `Prefer: max-affected` (PostgREST's PGRST124), else the model's.
    by_request: bool,
}

impl Cap {
    pub(super) fn of(op: &Operation, prefer: &query::Prefer) -> Cap {
        match prefer.max_affected {
            Some(n) if n < op.max_affected => Cap {
                max: n,
                by_request: true,
            },
            _ => Cap {
                max: op.max_affected,
                by_request: false,
            },
        }
    }
}

/// Rows rendered for the answer, in order.
#[derive(Default)]
struct Rendered {
    rows: Vec<Vec<u8>>,
}

impl Rendered {
    /// The answer's body: a JSON array, or the one object when singular.
    fn body(self, singular: bool) -> Vec<u8> {
        if singular {
            return self.rows.into_iter().next().unwrap_or_default();
        }
        let len = self.rows.iter().map(|r| r.len() + 1).sum::<usize>() + 2;
        let mut out = Vec::with_capacity(len);
        out.push(b'[');
        for (i, r) in self.rows.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&r);
        }
        out.push(b']');
        out
    }
}

/// What a write of many rows did.
pub(super) struct Written {
    pub(super) rows: u64,
    /// The answer's body, when the rows were asked for.
    pub(super) body: Option<Vec<u8>>,
    /// Whether some row was inserted (a create: 201 rather than 200).
    pub(super) inserted: bool,
}

/// 400 when a write would change more rows than its cap, 406 when the client asked for one
/// object and it would change another number of rows; checked before the commit, so that
/// nothing is written.
fn check_affected(
    res: &Resource,
    kind: OperationKind,
    n: u64,
    cap: Option<Cap>,
    singular: bool,
) -> Result<(), Problem> {
    if let Some(cap) = cap.filter(|c| n > c.max) {
        let what = match kind {
            OperationKind::Remove => "remove",
            _ => "change",
        };
        return Err(if cap.by_request {
            Problem::bad_request(format!(
                "this request would {what} {n} rows, more than its `Prefer: max-affected={}`; \
                 nothing was written",
                cap.max
            ))
        } else {
            Problem::bad_request(format!(
                "this request would {what} more than {} rows of {}, the most one request may; \
                 nothing was written: narrow its filters",
                cap.max, res.model.path
            ))
        });
    }
    if singular && n != 1 {
        return Err(Problem::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-acceptable",
            format!(
                "one object was asked for (Accept: application/vnd.pgrst.object+json) but \
                 the write would affect {n} rows; nothing was written"
            ),
        ));
    }
    Ok(())
}

/// Runs a statement and renders each row it returns (the first `columns.len()` columns).
async fn fetch_rendered<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    columns: &[Column],
    w: &SqlWriter,
    out: &mut Rendered,
) -> Result<u64, Problem> {
    let mut n = 0;
    let mut render = |row: &B::Row| {
        let mut buf = Vec::new();
        output::write_row::<B>(res, columns, row, &mut buf)?;
        out.rows.push(buf);
        n += 1;
        Ok(())
    };
    B::fetch_each(conn, &w.sql, &w.args, &mut render)
        .await
        .map_err(|e| db_error::map_writing(res, e))?;
    Ok(n)
}

/// Runs a statement and writes the rows it returns straight into the answer's body: a JSON
/// array, or the first row alone when `singular`; the number of rows.
async fn fetch_body<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    columns: &[Column],
    (sql, args): (&str, &[Value]),
    singular: bool,
    out: &mut Vec<u8>,
) -> Result<u64, sqlx::Error> {
    let mut n = 0;
    if !singular {
        out.push(b'[');
    }
    let mut render = |row: &B::Row| {
        n += 1;
        match (singular, n) {
            (true, 1) | (false, 1) => output::write_row::<B>(res, columns, row, out),
            (true, _) => Ok(()),
            (false, _) => {
                out.push(b',');
                output::write_row::<B>(res, columns, row, out)
            }
        }
    };
    B::fetch_each(conn, sql, args, &mut render).await?;
    if !singular {
        out.push(b']');
    }
    Ok(n)
}

/// Runs a statement that writes at most one row (one row inserted, or rows chosen by a
/// unique value) and renders the row it returns into `out`. sqlx's `fetch_optional` hands
/// the row over once the statement is done (SQLite's worker finishes it first), so the
/// request's task wakes once, where reading the stream to its end wakes it for the row,
/// then for the statement's result, while the worker commits in between.
async fn fetch_one_body<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    columns: &[Column],
    (sql, args): (&str, &[Value]),
    out: &mut Vec<u8>,
) -> Result<Option<B::Row>, sqlx::Error> {
    let row = B::fetch_optional(conn, sql, args).await?;
    if let Some(row) = &row {
        output::write_row::<B>(res, columns, row, out)?;
    }
    Ok(row)
}

/// The rows a write chosen by `filters` is about to change, read and locked in key order:
/// their keys and, with `columns`, their rendering. More rows than the cap is refused here,
/// before anything is written.
async fn rows_for_write<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    filters: &[Filter],
    columns: Option<&[Column]>,
    limit: u64,
) -> Result<(Vec<Value>, Rendered), Problem> {
    let mut all = vec![Column {
        field: res.key,
        alias: None,
    }];
    all.extend(columns.unwrap_or_default().iter().cloned());
    let mut w = SqlWriter::new(B::DIALECT);
    sql::select_for_write(&mut w, res, &all, filters, limit);
    let mut keys = Vec::new();
    let mut out = Rendered::default();
    let mut read = |row: &B::Row| {
        keys.push(output::value_at::<B>(res, row, 0, res.key)?);
        if let Some(columns) = columns {
            let mut buf = Vec::new();
            output::write_row_from::<B>(res, columns, row, 1, &mut buf)?;
            out.rows.push(buf);
        }
        Ok(())
    };
    B::fetch_each(conn, &w.sql, &w.args, &mut read)
        .await
        .map_err(|e| db_error::map_writing(res, e))?;
    Ok((keys, out))
}

/// The request's write settings, in one place for the many-row paths.
pub(super) struct Batch<'a> {
    pub(super) reply: Reply,
    pub(super) cap: Option<Cap>,
    pub(super) if_match: Option<&'a conditional::Tags>,
    /// The request's `Idempotency-Key`: the answer is stored in the write's transaction.
    pub(super) keyed: Option<&'a Keyed>,
    /// The status of the stored answer when rows were written (or not).
    pub(super) status: (StatusCode, StatusCode),
    /// What each row a create or update leaves must match (its scope's writable rows):
    /// when there is a check, rows are written one by one and each is checked before the
    /// transaction commits.
    pub(super) with_check: &'a [Filter],
    /// The answer's embedded resources: the write then runs in a transaction, and they are
    /// read in it after the rows are written.
    pub(super) embeds: Option<&'a WriteEmbeds>,
}

impl Batch<'_> {
    /// The most rows one statement of a write chosen by filters may change: the cap, or one
    /// row for the singular `Accept` (so that a second row is never written).
    fn most(&self) -> Option<u64> {
        let cap = self.cap.map(|c| c.max);
        match self.reply.singular {
            true => Some(cap.map_or(1, |c| c.min(1))),
            false => cap,
        }
    }

    /// The statement's bound: [`Batch::most`] rows, locked in key order first or not.
    fn bound(&self, ordered: bool) -> Option<sql::Bounded> {
        let max = self.most()?;
        Some(sql::Bounded { max, ordered })
    }

    async fn finish<B: Driver>(
        &self,
        mut tx: WriteTx<'_, B>,
        res: &Resource,
        mut written: Written,
    ) -> Result<Written, Problem> {
        if let (Some(embeds), Some(body)) = (self.embeds, written.body.as_mut()) {
            write_embeds::embed_answer::<B>(tx.conn(), res, embeds, body).await?;
        }
        if let Some(k) = self.keyed {
            let answer = Answer {
                status: if written.inserted || written.body.is_some() {
                    self.status.0
                } else {
                    self.status.1
                },
                location: None,
                etag: None,
                body: written.body.clone(),
            };
            idempotency::store::<B>(tx.conn(), res, k, &answer).await?;
        }
        tx.commit()
            .await
            .map_err(|e| db_error::map_writing(res, e))?;
        Ok(written)
    }
}

/// A write of many rows as one statement (`build` makes it, `ordered` or not), checked
/// against the cap and the singular `Accept` with nothing written when it fails them.
///
/// A plain filtered write locks its rows in the order its plan meets them (PostgreSQL's
/// bitmap scan: the table's physical order), so two overlapping ones may deadlock, and the
/// database undoes one of them whole. That one is sent again with its rows locked in key
/// order first ([`sql::Bounded::ordered`]), and so are the model's filtered writes for a
/// while after (`resource::Deadlocks`): ordered locks cost a second pass over the rows,
/// paid only where writes overlap. Ordered writes can still meet unordered ones that began
/// before them; the last attempt keeps the table's other writers out first
/// ([`sql::lock_writers`], PostgreSQL), which no deadlock can reach.
#[allow(clippy::too_many_arguments)]
async fn one_statement<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    kind: OperationKind,
    build: &(dyn Fn(bool) -> SqlWriter + Sync),
    filters: &[Filter],
    ret: Option<&[Column]>,
    batch: &Batch<'_>,
) -> Result<Written, Problem> {
    let mut ordered = res.deadlocks.recent();
    let mut attempt = 1;
    loop {
        let w = build(ordered);
        let last = attempt == DEADLOCK_ATTEMPTS;
        match sent_once::<B>(pool, sent, res, kind, (&w, filters, ret), batch, last).await? {
            Ok(written) => return Ok(written),
            Err(e) if !last => {
                res.deadlocks.met();
                tracing::debug!(
                    table = res.model.table,
                    attempt,
                    error = %e,
                    "a write chosen by filters was a deadlock's victim: sent again, its \
                     rows locked in key order first"
                );
                ordered = true;
                attempt += 1;
            }
            Err(e) => return Err(db_error::map_writing(res, e)),
        }
    }
}

/// How many times [`one_statement`] sends a write that keeps being a deadlock's victim
/// (the last time with the table's other writers kept out, where the dialect can).
const DEADLOCK_ATTEMPTS: u32 = 4;

/// [`one_statement`]'s write (its statement, filters and answer's columns) sent once:
/// `Ok(Err(deadlock))` when the database undid it to break a deadlock. Where the statement
/// itself writes nothing over its bound ([`sql::capped`]) it runs on its own (autocommit)
/// unless an `Idempotency-Key`'s answer is stored with it, its answer embeds or it keeps
/// the table's other writers out (`alone_on_table`, after deadlocks); elsewhere in a
/// transaction rolled back when the statement changed too many rows.
async fn sent_once<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    kind: OperationKind,
    (w, filters, ret): (&SqlWriter, &[Filter], Option<&[Column]>),
    batch: &Batch<'_>,
    alone_on_table: bool,
) -> Result<Result<Written, sqlx::Error>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let reply = batch.reply;
    let capped = sql::capped(w);
    let mut out = Vec::new();
    let written = |rows, out| Written {
        rows,
        body: reply.rows.then_some(out),
        inserted: false,
    };
    let table_lock = alone_on_table
        .then(|| {
            let mut w = SqlWriter::new(B::DIALECT);
            sql::lock_writers(&mut w, res).then_some(w)
        })
        .flatten();
    if capped && table_lock.is_none() && batch.keyed.is_none() && batch.embeds.is_none() {
        let mut autocommit = sent.autocommit(pool).await.map_err(map)?;
        let conn = autocommit.applying();
        let n = match send_write::<B>(conn, res, w, ret, reply.singular, &mut out).await {
            Err(e) if db_error::deadlocked(&e) => return Ok(Err(e)),
            n => n.map_err(map)?,
        };
        check_written::<B>(conn, res, kind, filters, capped, n, batch).await?;
        return Ok(Ok(written(n, out)));
    }
    let mut tx = sent.begin(pool).await.map_err(map)?;
    if let Some(lock) = table_lock {
        B::execute(tx.conn(), &lock.sql, &lock.args)
            .await
            .map_err(map)?;
    }
    let n = match send_write::<B>(tx.conn(), res, w, ret, reply.singular, &mut out).await {
        Err(e) if db_error::deadlocked(&e) => return Ok(Err(e)),
        n => n.map_err(map)?,
    };
    check_written::<B>(tx.conn(), res, kind, filters, capped, n, batch).await?;
    batch.finish(tx, res, written(n, out)).await.map(Ok)
}

/// Sends a write of many rows: the rows it returns written into `out` (see [`fetch_body`])
/// when it returns any; the number of rows it wrote.
async fn send_write<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    w: &SqlWriter,
    ret: Option<&[Column]>,
    singular: bool,
    out: &mut Vec<u8>,
) -> Result<u64, sqlx::Error> {
    match ret {
        Some(cols) => {
            let sql = (w.sql.as_str(), w.args.as_slice());
            fetch_body::<B>(conn, res, cols, sql, singular, out).await
        }
        None => Ok(B::execute(conn, &w.sql, &w.args).await?.rows),
    }
}

/// Checks what a write of many rows did against its cap and the singular `Accept` (an
/// error when the transaction, if any, must be rolled back). A bounded statement
/// ([`sql::capped`]) that wrote nothing matched no row or more than its bound: counted
/// then, to tell which.
async fn check_written<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    kind: OperationKind,
    filters: &[Filter],
    capped: bool,
    n: u64,
    batch: &Batch<'_>,
) -> Result<(), Problem> {
    let map = |e| db_error::map_writing(res, e);
    let singular = batch.reply.singular;
    if capped && n == 0 {
        let bound = batch.most().unwrap_or(u64::MAX);
        let mut count = SqlWriter::new(B::DIALECT);
        sql::count_at_most(&mut count, res, filters, bound.saturating_add(1));
        let row = B::fetch_optional(conn, &count.sql, &count.args)
            .await
            .map_err(map)?;
        let total = row.map(|r| B::get_i64(&r, 0)).transpose().map_err(map)?;
        let total = total.unwrap_or(0) as u64;
        if total > bound {
            check_affected(res, kind, total, batch.cap, singular)?;
        }
    }
    check_affected(res, kind, n, batch.cap, singular)
}

/// `PATCH /path?<filters>`: every row the filters (and the scope) choose takes the body's
/// values.
#[allow(clippy::too_many_arguments)]
pub(super) async fn update_many_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    values: Vec<(usize, Value)>,
    filters: &[Filter],
    columns: &[Column],
    batch: Batch<'_>,
) -> Result<Written, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let reply = batch.reply;
    let hooked = ctx.is_some() && has_hooks(op);
    let per_row = hooked || batch.if_match.is_some() || !batch.with_check.is_empty();
    let kind = OperationKind::Update;
    if !per_row && !values.is_empty() && (B::DIALECT.returning || !reply.rows) {
        let ret = reply.rows.then_some(columns);
        let build = |ordered| {
            let mut w = SqlWriter::new(B::DIALECT);
            let bound = batch.bound(ordered);
            sql::update_where(&mut w, res, values.clone(), filters, &[], bound, ret);
            w
        };
        return one_statement::<B>(pool, sent, res, kind, &build, filters, ret, &batch).await;
    }
    let mut tx = sent.begin(pool).await.map_err(map)?;
    let limit = batch.cap.map_or(u64::MAX, |c| c.max.saturating_add(1));
    let (keys, _) = rows_for_write::<B>(tx.conn(), res, filters, None, limit).await?;
    let n = keys.len() as u64;
    check_affected(res, kind, n, batch.cap, reply.singular)?;
    let mut out = Rendered::default();
    if !per_row {
        // Without RETURNING (MySQL), or with nothing to set: by key, then read back.
        if !values.is_empty() && !keys.is_empty() {
            let mut w = SqlWriter::new(B::DIALECT);
            let chosen = [sql::key_in(res, keys.clone())];
            sql::update_where(&mut w, res, values, &chosen, &[], None, None);
            B::execute(tx.conn(), &w.sql, &w.args).await.map_err(map)?;
        }
        if reply.rows && !keys.is_empty() {
            let chosen = [sql::key_in(res, keys)];
            let (_, rendered) =
                rows_for_write::<B>(tx.conn(), res, &chosen, Some(columns), n).await?;
            out = rendered;
        }
    } else {
        let (selected, appended) = single_row_columns(res, columns);
        for key in keys {
            if let Some(ctx) = ctx.as_deref_mut() {
                ctx.key = Some(key.clone());
            }
            let write = Write {
                key,
                scope: &[],
                with_check: batch.with_check,
                if_match: batch.if_match,
                keyed: None,
                embeds: None,
            };
            let cols = (columns, &*selected, appended);
            let one = update_in_tx::<B>(
                tx,
                res,
                op,
                ctx.as_deref_mut(),
                cols,
                values.clone(),
                &write,
            )
            .await?;
            let Some((row, _, back)) = one else {
                return Err(vanished());
            };
            tx = back;
            out.rows.push(row);
        }
    }
    let written = Written {
        rows: n,
        body: reply.rows.then(|| out.body(reply.singular)),
        inserted: false,
    };
    batch.finish(tx, res, written).await
}

/// `DELETE /path?<filters>`: every row the filters (and the scope) choose is removed.
#[allow(clippy::too_many_arguments)]
pub(super) async fn remove_many_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    filters: &[Filter],
    columns: &[Column],
    batch: Batch<'_>,
) -> Result<Written, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let reply = batch.reply;
    let hooked = ctx.is_some() && has_hooks(op);
    let per_row = hooked || batch.if_match.is_some();
    let kind = OperationKind::Remove;
    if !per_row && (B::DIALECT.returning || !reply.rows) {
        let ret = reply.rows.then_some(columns);
        let build = |ordered| {
            let mut w = SqlWriter::new(B::DIALECT);
            sql::delete_where(&mut w, res, filters, &[], batch.bound(ordered), ret);
            w
        };
        return one_statement::<B>(pool, sent, res, kind, &build, filters, ret, &batch).await;
    }
    let mut tx = sent.begin(pool).await.map_err(map)?;
    let limit = batch.cap.map_or(u64::MAX, |c| c.max.saturating_add(1));
    let shown = reply.rows.then_some(columns);
    let (keys, out) = rows_for_write::<B>(tx.conn(), res, filters, shown, limit).await?;
    let n = keys.len() as u64;
    check_affected(res, kind, n, batch.cap, reply.singular)?;
    if !per_row {
        if !keys.is_empty() {
            let mut w = SqlWriter::new(B::DIALECT);
            sql::delete_where(&mut w, res, &[sql::key_in(res, keys)], &[], None, None);
            B::execute(tx.conn(), &w.sql, &w.args).await.map_err(map)?;
        }
    } else {
        for key in keys {
            if let Some(ctx) = ctx.as_deref_mut() {
                ctx.key = Some(key.clone());
            }
            let write = Write {
                key: key.clone(),
                scope: &[],
                with_check: &[],
                if_match: batch.if_match,
                keyed: None,
                embeds: None,
            };
            let (sql, args) = delete_statement::<B>(res, key, &[]);
            let one =
                remove_in_tx::<B>(tx, res, op, ctx.as_deref_mut(), &write, (&sql, &args)).await?;
            tx = one.ok_or_else(vanished)?;
        }
    }
    let written = Written {
        rows: n,
        body: reply.rows.then(|| out.body(reply.singular)),
        inserted: false,
    };
    batch.finish(tx, res, written).await
}

/// A row read and locked for a write was gone when the write came to it.
fn vanished() -> Problem {
    Problem::internal(&"a row locked for the write disappeared before it was written")
}

/// The rows of a bulk create, each completed to the same fields where it can be: a field
/// some row names and another omits is `null` in the latter, or its default when the
/// field has one and the client sent `Prefer: missing=default` (a field that cannot be
/// null takes its default either way).
pub(super) fn complete_rows(
    res: &Resource,
    rows: &mut [Vec<(usize, Value)>],
    columns: Option<FieldSet>,
    missing_default: bool,
) {
    let named = columns.unwrap_or_else(|| {
        FieldSet(
            rows.iter()
                .flat_map(|r| r.iter().map(|(i, _)| 1u64 << i))
                .fold(0, |a, b| a | b),
        )
    });
    for row in rows.iter_mut() {
        let has = FieldSet(row.iter().fold(0, |a, (i, _)| a | 1 << i));
        for i in named.iter().filter(|i| !has.contains(*i)) {
            let f = res.field(i);
            let default = f.default && (missing_default || !f.nullable);
            if f.nullable && !default {
                row.push((i, Value::Null(f.ty)));
            }
        }
    }
}

/// Where a bulk create's rows go: a conflict column and what to do on a match (an upsert),
/// or neither.
#[derive(Clone, Copy)]
pub(super) struct Upsert<'a> {
    /// The `on_conflict` field: the key or a `unique` field.
    pub(super) field: usize,
    pub(super) resolution: Resolution,
    /// For a merge: the update operation's policy (its writable fields and hooks), its
    /// request context and its row conditions (scope and `where`), which a merged row
    /// must meet, and what the merged row must match (its scope's writable rows).
    pub(super) update: Option<(&'a Policy, FieldSet, &'a [Filter], &'a [Filter])>,
}

/// `POST /path` with an array body, or any create answered PostgREST's way: every row
/// inserted (or merged, or skipped, for an upsert) in one transaction.
#[allow(clippy::too_many_arguments)]
pub(super) async fn create_many_in<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    op: &Operation,
    mut ctx: Option<Box<HookCtx>>,
    update_ctx: Option<Box<HookCtx>>,
    mut rows: Vec<Vec<(usize, Value)>>,
    columns: &[Column],
    upsert: Option<Upsert<'_>>,
    batch: Batch<'_>,
) -> Result<Written, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let reply = batch.reply;
    if reply.singular {
        check_affected(res, OperationKind::Create, rows.len() as u64, None, true)?;
    }
    // Rows a scope checks go one by one, as hooked ones do.
    let hooked = (ctx.is_some() && has_hooks(op)) || !batch.with_check.is_empty();
    let at_once = !hooked && batch.keyed.is_none() && batch.embeds.is_none();
    if upsert.is_none() && at_once {
        let answerable =
            B::DIALECT.returning || !reply.rows || insert_returning::<B>(pool, res).await?;
        if let Some(shape) = one_statement_insert(&rows, answerable) {
            return insert_at_once::<B>(pool, sent, res, rows, shape, columns, reply).await;
        }
    }
    if let Some(u) = upsert.filter(|_| at_once) {
        if let Some(one) = one_upsert(res, &mut rows, u, update_ctx.as_deref(), B::DIALECT)? {
            return upsert_at_once::<B>(pool, sent, res, one, columns, reply).await;
        }
    }
    let mut tx = sent.begin(pool).await.map_err(map)?;
    // Which rows already exist (an upsert): their keys, by row.
    let mut existing: Vec<Option<Value>> = vec![None; rows.len()];
    if let Some(u) = upsert {
        existing = conflicts::<B>(tx.conn(), res, &rows, u).await?;
    }
    let mut slots: Vec<Option<Vec<u8>>> = vec![None; rows.len()];
    let mut inserted = 0u64;
    let mut merged = 0u64;
    // Merges first (the rows are locked), each through the update path.
    let mut new_rows = Vec::new();
    let mut update_ctx = update_ctx;
    for (n, (row, key)) in rows.into_iter().zip(existing).enumerate() {
        let Some(key) = key else {
            new_rows.push((n, row));
            continue;
        };
        let Some(u) = upsert else { continue };
        let Some((policy, writable, _, with_check)) =
            u.update.filter(|_| u.resolution == Resolution::Merge)
        else {
            continue;
        };
        let values = merge_values(res, policy, writable, u.field, &row, update_ctx.as_deref())?;
        if let Some(ctx) = update_ctx.as_deref_mut() {
            ctx.key = Some(key.clone());
        }
        let write = Write {
            key,
            scope: &[],
            with_check,
            if_match: None,
            keyed: None,
            embeds: None,
        };
        let (selected, appended) = single_row_columns(res, columns);
        let cols = (columns, &*selected, appended);
        let one = update_in_tx::<B>(
            tx,
            res,
            policy.op,
            update_ctx.as_deref_mut(),
            cols,
            values,
            &write,
        )
        .await?;
        let Some((row, _, back)) = one else {
            return Err(vanished());
        };
        tx = back;
        slots[n] = Some(row);
        merged += 1;
    }
    // Without RETURNING (MySQL), the rows asked for are read back by key: the keys the rows
    // carry, or the consecutive ids of a multi-row insert where the server assigns them so.
    let read_back = reply.rows && !B::DIALECT.returning;
    let mut ids = None;
    if read_back && !hooked {
        ids = consecutive_ids::<B>(tx.conn(), res).await?;
    }
    let (selected, appended) = single_row_columns(res, columns);
    let ret = (reply.rows && B::DIALECT.returning).then_some(columns);
    let mut rest = new_rows.into_iter().peekable();
    while let Some((n, mut values)) = rest.next() {
        let mask = sql::written(&mut values);
        let keyed = FieldSet(mask).contains(res.key);
        if hooked || (read_back && !keyed && ids.is_none()) {
            // Row by row: the hooks see each, or each new key is read back.
            let cols = (columns, &*selected, appended);
            let (_, row, _, back) = create_in_tx::<B>(
                tx,
                res,
                op,
                ctx.as_deref_mut(),
                cols,
                values,
                batch.with_check,
            )
            .await?;
            tx = back;
            slots[n] = Some(row);
            inserted += 1;
            continue;
        }
        // A run of rows that write the same fields: one statement.
        let fields: Vec<usize> = FieldSet(mask).iter().collect();
        let per_statement = (MAX_BINDS / fields.len().max(1)).max(1);
        let mut run = vec![(n, values)];
        while run.len() < per_statement && !fields.is_empty() {
            let same = rest
                .peek_mut()
                .is_some_and(|(_, next)| sql::written(next) == mask);
            if !same {
                break;
            }
            run.extend(rest.next());
        }
        let at: Vec<usize> = run.iter().map(|(n, _)| *n).collect();
        let mut keys: Vec<Value> = Vec::new();
        let values = run
            .into_iter()
            .map(|(_, v)| {
                v.into_iter()
                    .map(|(i, v)| {
                        if i == res.key {
                            keys.push(v.clone());
                        }
                        v
                    })
                    .collect()
            })
            .collect();
        let mut w = SqlWriter::new(B::DIALECT);
        sql::insert_rows(&mut w, res, &fields, values, ret);
        let mut out = Rendered::default();
        let done = match ret {
            Some(cols) => fetch_rendered::<B>(tx.conn(), res, cols, &w, &mut out).await?,
            None => {
                let done = B::execute(tx.conn(), &w.sql, &w.args).await.map_err(map)?;
                if read_back && !keyed {
                    let (first, step) = (done.last_insert_id.unwrap_or(0), ids.unwrap_or(1));
                    keys = (0..at.len() as i64)
                        .map(|k| integer_key(res, first + k * step))
                        .collect::<Result<_, _>>()?;
                }
                done.rows
            }
        };
        inserted += done;
        if read_back {
            out = read_by_keys::<B>(tx.conn(), res, columns, &keys).await?;
        }
        for (n, row) in at.into_iter().zip(out.rows) {
            slots[n] = Some(row);
        }
    }
    let out = Rendered {
        rows: slots.into_iter().flatten().collect(),
    };
    let n = inserted + merged;
    if reply.singular {
        check_affected(res, OperationKind::Create, n, None, true)?;
    }
    let written = Written {
        rows: n,
        body: reply.rows.then(|| out.body(reply.singular)),
        inserted: inserted > 0,
    };
    batch.finish(tx, res, written).await
}

/// What a merge writes into the existing row: the fields sent that the update may write
/// (not the conflict field, not those the update forces), then the update's forced values.
fn merge_values(
    res: &Resource,
    policy: &Policy,
    writable: FieldSet,
    conflict: usize,
    row: &[(usize, Value)],
    ctx: Option<&HookCtx>,
) -> Result<Vec<(usize, Value)>, Problem> {
    let mut values: Vec<(usize, Value)> = (merged_as_sent(res, policy, writable, conflict, row))
        .cloned()
        .collect();
    force_values(res, policy.op, ctx, &mut values)?;
    Ok(values)
}

/// The values of a row that a merge writes as they were sent: the fields the update may
/// write, less the conflict field and those the update forces.
fn merged_as_sent<'a>(
    res: &'a Resource,
    policy: &'a Policy,
    writable: FieldSet,
    conflict: usize,
    row: &'a [(usize, Value)],
) -> impl Iterator<Item = &'a (usize, Value)> + 'a {
    let forced = |i: usize| (policy.op.force.iter()).any(|f| f.field == res.field(i).ident);
    (row.iter()).filter(move |(i, _)| *i != conflict && writable.contains(*i) && !forced(*i))
}

/// A one-row upsert that needs no read first: what it inserts, its conflict field and
/// what a merge writes (`None`: a duplicate is ignored).
struct OneUpsert {
    values: Vec<(usize, Value)>,
    conflict: (usize, Value),
    set: Option<sql::Merge>,
}

/// The upsert of `rows` as one statement ([`upsert_at_once`]) when it can be: one row that
/// sends its conflict value; for a merge, an update with no hooks and no row conditions
/// (scope, `where`), which the statement could not check, and something to write; on
/// MySQL (whose `ON DUPLICATE KEY` matches any unique index), a merge of a row that does
/// not carry the generated key into a table with no other unique field, so that the
/// conflict field is the only one it can hit. The caller has checked that the create has
/// no hooks and no `Idempotency-Key`.
fn one_upsert(
    res: &Resource,
    rows: &mut Vec<Vec<(usize, Value)>>,
    u: Upsert<'_>,
    update_ctx: Option<&HookCtx>,
    dialect: &crate::db::Dialect,
) -> Result<Option<OneUpsert>, Problem> {
    let [row] = rows.as_slice() else {
        return Ok(None);
    };
    let conflict = match row.iter().find(|(i, _)| *i == u.field) {
        Some((_, v)) if !matches!(v, Value::Null(_)) => (u.field, v.clone()),
        _ => return Ok(None),
    };
    let set = match u.resolution {
        Resolution::Ignore if dialect.upsert == crate::db::Upsert::OnDuplicateKey => {
            return Ok(None)
        }
        Resolution::Ignore => None,
        Resolution::Merge => {
            let Some((policy, writable, scope, with_check)) = u.update else {
                return Ok(None);
            };
            if !scope.is_empty() || !with_check.is_empty() || has_hooks(policy.op) {
                return Ok(None);
            }
            // The fields the merge takes as the row has them (the statement names the
            // row's own value, bound once), then those the update forces.
            let sent = merged_as_sent(res, policy, writable, u.field, row)
                .fold(0u64, |m, (i, _)| m | 1 << i);
            let mut forced = Vec::new();
            force_values(res, policy.op, update_ctx, &mut forced)?;
            if sent == 0 && forced.is_empty() {
                return Ok(None);
            }
            Some(sql::Merge { sent, forced })
        }
    };
    if dialect.upsert == crate::db::Upsert::OnDuplicateKey {
        let key = res.key_field();
        let only = (0..res.model.fields.len()).all(|i| i == u.field || !res.field(i).unique);
        let keyless = row.iter().all(|(i, _)| *i != res.key);
        if u.field == res.key || !key.generated || !keyless || !only {
            return Ok(None);
        }
    }
    Ok(rows.pop().map(|values| OneUpsert {
        values,
        conflict,
        set,
    }))
}

/// The statement of a one-row upsert: its text depends only on which fields it inserts and
/// merges, its conflict field and what it returns, so the common shapes are built once.
fn upsert_statement<'r, B: Driver>(
    res: &'r Resource,
    mut values: Vec<(usize, Value)>,
    conflict: usize,
    mut set: Option<sql::Merge>,
    ret: Option<&[Column]>,
) -> (sql::Sql<'r>, Vec<Value>) {
    let Some(returning) = cached_returning(res, ret) else {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::upsert(&mut w, res, values, conflict, set, ret);
        return (w.sql.into(), w.args);
    };
    let (inserting, merging) = (
        sql::written(&mut values),
        set.as_mut().map(|m| (m.sent, sql::written(&mut m.forced))),
    );
    let shape = sql::Shape::Upsert {
        values: inserting,
        conflict,
        set: merging,
        returning,
    };
    let inserted = values.len();
    let forced = set.map(|m| m.forced).unwrap_or_default();
    let mut args = Vec::with_capacity(inserted + forced.len());
    args.extend(values.into_iter().chain(forced).map(|(_, v)| v));
    res.statements
        .statement(B::DIALECT, shape, args, |mut args: Vec<Value>| {
            let forced = args.split_off(inserted);
            let values = FieldSet(inserting).iter().zip(args).collect();
            let set = merging.map(|(sent, f)| sql::Merge {
                sent,
                forced: FieldSet(f).iter().zip(forced).collect(),
            });
            let mut w = SqlWriter::new(B::DIALECT);
            sql::upsert(&mut w, res, values, conflict, set, ret);
            w
        })
}

/// What a one-row write returns, as the statement cache names it (`None`: columns the cache
/// keeps no shape for, built per request).
fn cached_returning(res: &Resource, ret: Option<&[Column]>) -> Option<sql::Returning> {
    match ret {
        None => Some(sql::Returning::Nothing),
        Some([c]) if c.field == res.key && c.alias.is_none() => Some(sql::Returning::Key),
        Some(cols) if cols == res.output_columns.as_slice() => Some(sql::Returning::Output),
        Some(_) => None,
    }
}

/// The merge of a one-row upsert where the dialect merges first: `UPDATE t SET ... WHERE
/// conflict = ? RETURNING cols`, its text built once per shape.
fn merge_first_statement<'r, B: Driver>(
    res: &'r Resource,
    mut set: Vec<(usize, Value)>,
    (conflict, value): (usize, Value),
    ret: &[Column],
) -> (sql::Sql<'r>, Vec<Value>) {
    let build = |set: Vec<(usize, Value)>, value: Value| {
        let mut w = SqlWriter::new(B::DIALECT);
        let chosen = [sql::field_is(conflict, value)];
        sql::update_where(&mut w, res, set, &chosen, &[], None, Some(ret));
        w
    };
    let Some(returning) = cached_returning(res, Some(ret)) else {
        let w = build(set, value);
        return (w.sql.into(), w.args);
    };
    let fields = sql::written(&mut set);
    let mut args: Vec<Value> = set.into_iter().map(|(_, v)| v).collect();
    args.push(value);
    let shape = sql::Shape::MergeFirst {
        set: fields,
        conflict,
        returning,
    };
    res.statements
        .statement(B::DIALECT, shape, args, |mut args: Vec<Value>| {
            let value = args.pop().expect("the conflict value is the last argument");
            build(FieldSet(fields).iter().zip(args).collect(), value)
        })
}

/// The read-back of a one-row upsert where the dialect returns nothing: `SELECT key, cols
/// FROM t WHERE conflict = ?` (the key first), its text built once per shape.
fn read_back_statement<'r, B: Driver>(
    res: &'r Resource,
    (conflict, value): (usize, Value),
    cols: &[Column],
) -> (sql::Sql<'r>, Vec<Value>) {
    let build = |value: Value| {
        let mut all = Vec::with_capacity(cols.len() + 1);
        all.push(Column {
            field: res.key,
            alias: None,
        });
        all.extend(cols.iter().cloned());
        let mut w = SqlWriter::new(B::DIALECT);
        sql::select_where(&mut w, res, &all, &[sql::field_is(conflict, value)]);
        w
    };
    let Some(returning) = cached_returning(res, Some(cols)) else {
        let w = build(value);
        return (w.sql.into(), w.args);
    };
    let shape = sql::Shape::ReadBack {
        field: conflict,
        returning,
    };
    res.statements
        .statement(B::DIALECT, shape, vec![value], |mut args: Vec<Value>| {
            build(args.pop().expect("the conflict value"))
        })
}

/// The insert of a one-row upsert whose merge matched no row: `INSERT INTO t (...) VALUES
/// (...) RETURNING cols`, its text built once per shape.
fn insert_returning_statement<'r, B: Driver>(
    res: &'r Resource,
    mut values: Vec<(usize, Value)>,
    ret: &[Column],
) -> (sql::Sql<'r>, Vec<Value>) {
    let build = |values: Vec<(usize, Value)>| {
        let mut w = SqlWriter::new(B::DIALECT);
        sql::insert(&mut w, res, values, Some(ret));
        w
    };
    let Some(returning) = cached_returning(res, Some(ret)) else {
        let w = build(values);
        return (w.sql.into(), w.args);
    };
    let fields = sql::written(&mut values);
    let args = values.into_iter().map(|(_, v)| v).collect();
    let shape = sql::Shape::InsertReturning {
        values: fields,
        returning,
    };
    res.statements
        .statement(B::DIALECT, shape, args, |args: Vec<Value>| {
            build(FieldSet(fields).iter().zip(args).collect())
        })
}

/// A one-row upsert without a transaction, on the write's connection ([`Upsert`] says how
/// each dialect spells it): the statement that writes is the write's point of no return.
async fn upsert_at_once<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    one: OneUpsert,
    columns: &[Column],
    reply: Reply,
) -> Result<Written, Problem> {
    use crate::db::Upsert as How;
    let map = |e| db_error::map_writing(res, e);
    let mut conn = sent.autocommit(pool).await.map_err(map)?;
    let conn = conn.applying();
    let mut out = Vec::new();
    // Without rows asked for, the key alone comes back (a statement's answer needs one).
    let key = [Column {
        field: res.key,
        alias: None,
    }];
    let cols = if reply.rows { columns } else { &key };
    let (n, inserted) = match (B::DIALECT.upsert, one.set) {
        (How::OnConflict, set) => {
            let (sql, args) =
                upsert_statement::<B>(res, one.values, one.conflict.0, set, Some(cols));
            let row = fetch_one_body::<B>(conn, res, cols, (&sql, &args), &mut out)
                .await
                .map_err(map)?;
            match row {
                Some(row) => (1, B::get_i64(&row, cols.len()).map_err(map)? == 1),
                None => (0, false),
            }
        }
        (How::MergeFirst, Some(merge)) => {
            // An `UPDATE`: the fields it takes from the row are bound as values.
            let mut set: Vec<(usize, Value)> = (one.values.iter())
                .filter(|(i, _)| FieldSet(merge.sent).contains(*i))
                .cloned()
                .collect();
            set.extend(merge.forced);
            let (sql, args) = merge_first_statement::<B>(res, set, one.conflict, cols);
            let merged = fetch_one_body::<B>(conn, res, cols, (&sql, &args), &mut out)
                .await
                .map_err(map)?;
            if merged.is_some() {
                (1, false)
            } else {
                let (sql, args) = insert_returning_statement::<B>(res, one.values, cols);
                let sql = (&*sql, args.as_slice());
                let new = fetch_one_body::<B>(conn, res, cols, sql, &mut out)
                    .await
                    .map_err(map)?;
                (u64::from(new.is_some()), true)
            }
        }
        (How::MergeFirst, None) => {
            let mut w = SqlWriter::new(B::DIALECT);
            sql::upsert(&mut w, res, one.values, one.conflict.0, None, Some(cols));
            let sql = (w.sql.as_str(), w.args.as_slice());
            let new = fetch_one_body::<B>(conn, res, cols, sql, &mut out)
                .await
                .map_err(map)?;
            let n = u64::from(new.is_some());
            (n, n > 0)
        }
        (How::OnDuplicateKey, set) => {
            let (sql, args) = upsert_statement::<B>(res, one.values, one.conflict.0, set, None);
            let done = B::execute(conn, &sql, &args).await.map_err(map)?;
            // The row, read back by its conflict value: its key tells an insert (the
            // statement's new id) from a merge (which reports none, and reports 1 affected
            // row rather than 2 when it changed nothing).
            // A plain read, after the write (autocommit: a lock would end with it), of the
            // one row the unique conflict value names.
            let (sql, args) = read_back_statement::<B>(res, one.conflict, cols);
            let row = B::fetch_optional(conn, &sql, &args)
                .await
                .map_err(map)?
                .ok_or_else(vanished)?;
            let read = output::value_at::<B>(res, &row, 0, res.key).map_err(map)?;
            output::write_row_from::<B>(res, cols, &row, 1, &mut out).map_err(map)?;
            let new = done
                .last_insert_id
                .map(|id| integer_key(res, id))
                .transpose()?;
            (1, done.rows == 1 && new == Some(read))
        }
    };
    if reply.singular {
        check_affected(res, OperationKind::Create, n, None, true)?;
    }
    let body = match (n, reply.singular) {
        (_, true) => out,
        (0, false) => b"[]".to_vec(),
        (_, false) => [b"[".as_slice(), &out, b"]"].concat(),
    };
    Ok(Written {
        rows: n,
        body: reply.rows.then_some(body),
        inserted,
    })
}

/// The fields of a bulk insert that one statement can write on its own (atomic without a
/// transaction): every row writes the same fields, they fit one statement's binds, and the
/// answer needs no second statement (`answerable`).
fn one_statement_insert(rows: &[Vec<(usize, Value)>], answerable: bool) -> Option<u64> {
    let mut masks = rows
        .iter()
        .map(|r| r.iter().fold(0u64, |m, (i, _)| m | 1 << i));
    let first = masks.next()?;
    let fields = first.count_ones() as usize;
    let fits = fields > 0 && rows.len() * fields <= MAX_BINDS;
    (answerable && fits && masks.all(|m| m == first)).then_some(first)
}

/// A bulk insert in one statement, on its own: the statement is the write's point of no
/// return, and its rows are rendered into the answer as they come back.
async fn insert_at_once<B: Driver>(
    pool: &Pool<B>,
    sent: &Sent,
    res: &Resource,
    rows: Vec<Vec<(usize, Value)>>,
    mask: u64,
    columns: &[Column],
    reply: Reply,
) -> Result<Written, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let fields: Vec<usize> = FieldSet(mask).iter().collect();
    let values = rows
        .into_iter()
        .map(|mut r| {
            sql::written(&mut r);
            r.into_iter().map(|(_, v)| v).collect()
        })
        .collect();
    let ret = reply.rows.then_some(columns);
    let mut w = SqlWriter::new(B::DIALECT);
    sql::insert_rows(&mut w, res, &fields, values, ret);
    let mut conn = sent.autocommit(pool).await.map_err(map)?;
    let mut out = Vec::new();
    let n = match ret {
        Some(cols) => {
            let conn = conn.applying();
            let sql = (w.sql.as_str(), w.args.as_slice());
            fetch_body::<B>(conn, res, cols, sql, reply.singular, &mut out)
                .await
                .map_err(map)?
        }
        None => {
            B::execute(conn.applying(), &w.sql, &w.args)
                .await
                .map_err(map)?
                .rows
        }
    };
    Ok(Written {
        rows: n,
        body: reply.rows.then_some(out),
        inserted: n > 0,
    })
}

/// Whether the server takes `INSERT ... RETURNING` where the dialect does not promise it:
/// MariaDB 10.5+ does, MySQL does not. Asked once per router (a bulk insert then costs one
/// statement, not a transaction with a read-back).
async fn insert_returning<B: Driver>(pool: &Pool<B>, res: &Resource) -> Result<bool, Problem> {
    if let Some(known) = res.insert_returning.get() {
        return Ok(*known);
    }
    let map = |e| db_error::map(res, e);
    let sql = "SELECT CAST(VERSION() LIKE '%MariaDB%' \
               AND CAST(SUBSTRING_INDEX(VERSION(), '.', 1) AS UNSIGNED) * 1000 \
               + CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(VERSION(), '.', 2), '.', -1) AS UNSIGNED) \
               >= 10005 AS SIGNED)";
    let row = B::fetch_optional_pooled(pool, sql, &[])
        .await
        .map_err(map)?;
    let known = match row {
        Some(row) => B::get_i64(&row, 0).map_err(map)? == 1,
        None => false,
    };
    Ok(*res.insert_returning.get_or_init(|| known))
}

/// The step between the ids of one multi-row insert when the server hands them out
/// consecutively (MySQL/MariaDB with `innodb_autoinc_lock_mode` 0 or 1, the latter
/// MariaDB's default); `None` when it may interleave them with other inserts (mode 2,
/// MySQL 8's default), where rows are then inserted one by one.
async fn consecutive_ids<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
) -> Result<Option<i64>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let sql = "SELECT CAST(@@innodb_autoinc_lock_mode AS SIGNED), \
               CAST(@@auto_increment_increment AS SIGNED)";
    let row = B::fetch_optional(conn, sql, &[]).await.map_err(map)?;
    let Some(row) = row else { return Ok(None) };
    let mode = B::get_i64(&row, 0).map_err(map)?;
    let step = B::get_i64(&row, 1).map_err(map)?;
    Ok((mode < 2).then_some(step))
}

/// The rows with these keys, rendered in the order of `keys`.
async fn read_by_keys<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    columns: &[Column],
    keys: &[Value],
) -> Result<Rendered, Problem> {
    if keys.is_empty() {
        return Ok(Rendered::default());
    }
    let chosen = [sql::key_in(res, keys.to_vec())];
    let (found, mut rows) =
        rows_for_write::<B>(conn, res, &chosen, Some(columns), keys.len() as u64).await?;
    let mut by_key: Vec<Option<Vec<u8>>> = rows.rows.drain(..).map(Some).collect();
    let mut out = Rendered::default();
    for k in keys {
        let row = found
            .iter()
            .position(|f| f == k)
            .and_then(|i| by_key[i].take())
            .ok_or_else(|| Problem::internal(&"a new row could not be read back"))?;
        out.rows.push(row);
    }
    Ok(out)
}

/// For each row of an upsert, the key of the existing row its conflict field matches (read
/// and locked); 403 when that row is outside what the update may change.
async fn conflicts<B: Driver>(
    conn: &mut B::Connection,
    res: &Resource,
    rows: &[Vec<(usize, Value)>],
    u: Upsert<'_>,
) -> Result<Vec<Option<Value>>, Problem> {
    let map = |e| db_error::map_writing(res, e);
    let conflict = res.field(u.field);
    let mut wanted = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        match row.iter().find(|(i, _)| *i == u.field) {
            Some((_, v)) if !matches!(v, Value::Null(_)) => wanted.push(v.clone()),
            _ => {
                return Err(Problem::unprocessable(
                    format!(
                        "row {n} has no `{}`, which `on_conflict` matches rows by",
                        conflict.name
                    ),
                    vec![Offender {
                        name: format!("[{n}].{}", conflict.name),
                        location: "body",
                        rule: None,
                        detail: "is required by on_conflict".into(),
                    }],
                ))
            }
        }
    }
    let mut found: Vec<(Value, Value, bool)> = Vec::new();
    for chunk in wanted.chunks(MAX_BINDS) {
        let cond = Filter::Cond(crate::filter::Cond {
            field: u.field,
            op: expose_core::grammar::Op::In,
            negated: false,
            operand: crate::filter::Operand::Many(chunk.to_vec()),
        });
        let columns = [
            Column {
                field: res.key,
                alias: None,
            },
            Column {
                field: u.field,
                alias: None,
            },
        ];
        let mut w = SqlWriter::new(B::DIALECT);
        sql::select_for_write(&mut w, res, &columns, &[cond], chunk.len() as u64);
        let mut read = |row: &B::Row| {
            let key = output::value_at::<B>(res, row, 0, res.key)?;
            let value = output::value_at::<B>(res, row, 1, u.field)?;
            found.push((value, key, true));
            Ok(())
        };
        B::fetch_each(conn, &w.sql, &w.args, &mut read)
            .await
            .map_err(map)?;
    }
    // A merge may change only rows its update could: the scope and `where` apply.
    if let Some((_, _, scope, _)) = u.update.filter(|_| u.resolution == Resolution::Merge) {
        if !scope.is_empty() && !found.is_empty() {
            let keys: Vec<Value> = found.iter().map(|(_, k, _)| k.clone()).collect();
            let key_col = [Column {
                field: res.key,
                alias: None,
            }];
            let mut w = SqlWriter::new(B::DIALECT);
            let mut filters = vec![sql::key_in(res, keys)];
            filters.extend(scope.iter().cloned());
            sql::select_for_write(&mut w, res, &key_col, &filters, found.len() as u64);
            let mut visible = Vec::new();
            let mut read = |row: &B::Row| {
                visible.push(output::value_at::<B>(res, row, 0, res.key)?);
                Ok(())
            };
            B::fetch_each(conn, &w.sql, &w.args, &mut read)
                .await
                .map_err(map)?;
            for f in found.iter_mut() {
                f.2 = visible.contains(&f.1);
            }
            if found.iter().any(|f| !f.2) {
                return Err(Problem::forbidden(format!(
                    "a row of {} with this {} exists and this request may not change it; \
                     nothing was written",
                    res.model.path, conflict.name
                )));
            }
        }
    }
    Ok(wanted
        .iter()
        .map(|v| {
            found
                .iter()
                .find(|(value, _, _)| value == v)
                .map(|(_, key, _)| key.clone())
        })
        .collect())
}

/// The response of a write of many rows: `status` with the rows when they were asked for;
/// without them, `status` for a create and 204 for the others. `Content-Range: */n` when a
/// count was asked for.
pub(super) fn respond(
    written: &mut Written,
    prefer: &query::Prefer,
    kind: OperationKind,
    status: StatusCode,
) -> Response {
    let mut response = match written.body.take() {
        Some(body) => json_response(status, body),
        None if kind == OperationKind::Create => status.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    };
    let h = response.headers_mut();
    if prefer.count.is_some() {
        if let Ok(v) = HeaderValue::from_str(&format!("*/{}", written.rows)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    applied(h, prefer);
    response
}
