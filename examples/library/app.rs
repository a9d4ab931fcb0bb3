//! The `library` example: books, members and loans, with bearer-token authentication.
//!
//! - anyone lists and reads books; anyone reads a member, and only staff see `email`;
//! - members see their own loans, staff all of them; anonymous callers get 401;
//! - a member creates loans only for themself (the scope checks the new row: 403, nothing
//!   written); staff create loans for anyone;
//! - a member holds at most 3 open loans, even when requests race (the member's row is
//!   locked before the open loans are counted): a fourth is a 409 problem naming the limit;
//! - a new loan marks its book on loan in the same transaction, reading the written row
//!   (not the response, which `?select=id` narrows); a book already on loan is a 409;
//! - only staff change a loan; setting `returned_at` returns the book;
//! - a loan embeds its book and member (`/loans?select=id,books(title),members(name)`), each
//!   read as a direct read of it would be (a member's e-mail for staff only).

use axum::extract::{FromRef, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use expose_runtime::{expose, Backend, Db, FieldMask, HookCtx, Problem, Scope};

/// The app's own state: the database and the library's rules.
#[derive(Clone)]
pub struct Library {
    /// The database.
    pub db: Db,
    /// Most open (unreturned) loans one member may hold.
    pub max_open_loans: i64,
}

/// The routers of `#[expose]` take the database from the state with `FromRef`.
impl FromRef<Library> for Db {
    fn from_ref(library: &Library) -> Db {
        library.db.clone()
    }
}

/// Who is calling, as the auth middleware found them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The member's id.
    pub id: i64,
    /// Whether the member is staff.
    pub staff: bool,
}

/// A book.
#[expose(as = "books", list(order = "id"), retrieve)]
pub struct Book {
    #[expose(id, generated)]
    pub id: i64,
    pub title: String,
    #[expose(default)]
    pub on_loan: bool,
}

/// A member. Only staff see `email`; nobody sees `token`.
#[expose(
    as = "members",
    all(fields = "-token", fields_for = member_fields),
    retrieve
)]
pub struct Member {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub email: String,
    #[expose(default)]
    pub staff: bool,
    pub token: String,
}

/// A loan of a book to a member; open while `returned_at` is null. Its hooks read the
/// [`Library`] state (`state = Library`: serving its router with another state does not
/// compile).
#[expose(
    as = "loans",
    state = Library,
    all(scope = own_loans, pre = [require_member]),
    list(order = "id", embed(Book, Member)),
    retrieve(embed(Book, Member)),
    create(fields = "book_id,member_id", pre = [at_most_open], post = [mark_on_loan]),
    update(fields = "returned_at", pre = [staff_only], post = [return_book])
)]
#[derive(serde::Deserialize)]
pub struct Loan {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = Book)]
    pub book_id: i64,
    #[expose(references = Member)]
    pub member_id: i64,
    #[expose(generated)]
    pub loaned_at: DateTime<Utc>,
    pub returned_at: Option<DateTime<Utc>>,
}

fn caller(ctx: &HookCtx) -> Option<Caller> {
    ctx.extension::<Caller>().copied()
}

/// Only staff see members' email.
pub fn member_fields(ctx: &HookCtx, fields: &mut FieldMask<Member>) -> Result<(), Problem> {
    if !caller(ctx).is_some_and(|c| c.staff) {
        fields.remove(Member::FIELDS.email);
    }
    Ok(())
}

/// Staff read and write every loan; a member reads and writes only their own (so a loan
/// created for someone else is refused with 403); anonymous callers none.
pub fn own_loans(ctx: &HookCtx) -> Result<Scope<Loan>, Problem> {
    Ok(match caller(ctx) {
        Some(c) if c.staff => Scope::all(),
        Some(c) => Scope::reads(Loan::FIELDS.member_id.eq(c.id)),
        None => Scope::none(),
    })
}

/// `pre` hook of every loan operation: the caller must be signed in.
pub async fn require_member(ctx: &mut HookCtx) -> Result<(), Problem> {
    caller(ctx)
        .map(|_| ())
        .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <token>"))
}

/// `pre` hook of update: only staff change loans.
pub async fn staff_only(ctx: &mut HookCtx) -> Result<(), Problem> {
    match caller(ctx) {
        Some(c) if c.staff => Ok(()),
        _ => Err(Problem::forbidden("only staff may change a loan")),
    }
}

/// `pre` hook of create: a member holds at most `max_open_loans` open loans. The member's
/// row is locked first, so that concurrent loans of one member are counted one at a time.
pub async fn at_most_open(ctx: &mut HookCtx) -> Result<(), Problem> {
    let max = ctx.state::<Library>()?.max_open_loans;
    let member = *ctx
        .input()?
        .get(Loan::FIELDS.member_id)
        .ok_or_else(|| Problem::internal(&"member_id is required on create"))?;
    if !ctx.lock(Member::FIELDS.id, member).await? {
        return Err(Problem::unprocessable(
            format!("member {member} does not exist"),
            Vec::new(),
        ));
    }
    let (open,): (i64,) = ctx
        .fetch_one(
            "SELECT COUNT(*) FROM loans WHERE member_id = ? AND returned_at IS NULL",
            &[member.into()],
        )
        .await?;
    if open >= max {
        return Err(Problem::conflict(format!(
            "member {member} already holds {open} open loans; the limit is {max} open loans \
             per member"
        )));
    }
    Ok(())
}

/// `post` hook of create: the book is on loan, in the loan's transaction. It reads the
/// written row, which has every field whatever the client selected.
pub async fn mark_on_loan(ctx: &mut HookCtx) -> Result<(), Problem> {
    let book = *ctx.row()?.get(Loan::FIELDS.book_id);
    let changed = ctx
        .execute(
            "UPDATE books SET on_loan = ? WHERE id = ? AND on_loan = ?",
            &[true.into(), book.into(), false.into()],
        )
        .await?;
    if changed == 1 {
        return Ok(());
    }
    let found: Option<(bool,)> = ctx
        .fetch_optional("SELECT on_loan FROM books WHERE id = ?", &[book.into()])
        .await?;
    Err(match found {
        Some(_) => Problem::conflict(format!("book {book} is already on loan")),
        None => Problem::unprocessable(format!("book {book} does not exist"), Vec::new()),
    })
}

/// `post` hook of update: a loan that was open and is now returned returns its book. It
/// takes the rows before and after the write as `Loan` structs.
pub async fn return_book(ctx: &mut HookCtx) -> Result<(), Problem> {
    let before: Loan = ctx.before()?.deserialize()?;
    let after: Loan = ctx.row()?.deserialize()?;
    if before.returned_at.is_none() && after.returned_at.is_some() {
        ctx.execute(
            "UPDATE books SET on_loan = ? WHERE id = ?",
            &[false.into(), after.book_id.into()],
        )
        .await?;
    }
    Ok(())
}

/// Axum middleware: `Authorization: Bearer <token>` → [`Caller`] in the extensions. No
/// header means anonymous; an unknown token is 401.
pub async fn authenticate(State(db): State<Db>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(token) = token {
        let found: Result<Option<(i64, bool)>, _> = db
            .fetch_optional(
                "SELECT id, staff FROM members WHERE token = ?",
                &[token.into()],
            )
            .await;
        match found {
            Ok(Some((id, staff))) => {
                req.extensions_mut().insert(Caller { id, staff });
            }
            Ok(None) => return Problem::unauthorized("unknown token").into_response(),
            Err(e) => return Problem::internal(&e).into_response(),
        }
    }
    next.run(req).await
}

/// The router of the example, on its own state.
pub fn app(db: Db) -> axum::Router {
    let state = Library {
        db: db.clone(),
        max_open_loans: 3,
    };
    let api = expose_runtime::OpenApi::new("library", env!("CARGO_PKG_VERSION"))
        .resource::<Book>()
        .resource::<Member>()
        .resource::<Loan>();
    axum::Router::new()
        .merge(Book::router())
        .merge(Member::router())
        .merge(Loan::router())
        .merge(api.router())
        .fallback(expose_runtime::not_found)
        .layer(axum::middleware::from_fn_with_state(db, authenticate))
        .with_state(state)
}

/// Creates the tables if they are missing.
pub async fn create_tables(db: &Db) -> Result<(), sqlx::Error> {
    let (id, text, ts, now, tail) = match db.backend() {
        Backend::Sqlite => (
            "INTEGER PRIMARY KEY AUTOINCREMENT",
            "TEXT",
            "TEXT",
            "(strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))",
            "",
        ),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "TEXT", "TIMESTAMPTZ", "now()", ""),
        Backend::MySql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "VARCHAR(255)",
            "DATETIME(6)",
            "CURRENT_TIMESTAMP(6)",
            " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
        ),
    };
    for ddl in [
        format!(
            "CREATE TABLE IF NOT EXISTS books (id {id}, title {text} NOT NULL, \
             on_loan BOOLEAN NOT NULL DEFAULT FALSE){tail}"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS members (id {id}, name {text} NOT NULL, \
             email {text} NOT NULL UNIQUE, staff BOOLEAN NOT NULL DEFAULT FALSE, \
             token {text} NOT NULL UNIQUE){tail}"
        ),
        format!(
            "CREATE TABLE IF NOT EXISTS loans (id {id}, \
             book_id BIGINT NOT NULL REFERENCES books (id), \
             member_id BIGINT NOT NULL REFERENCES members (id), \
             loaned_at {ts} NOT NULL DEFAULT {now}, returned_at {ts} NULL){tail}"
        ),
    ] {
        db.execute(&ddl).await?;
    }
    Ok(())
}

/// Seeds members 1 (staff), 2 (ann) and 3 (ben), and books 1–20, when there are no members.
pub async fn seed(db: &Db) -> Result<(), sqlx::Error> {
    if db.fetch_i64("SELECT COUNT(*) FROM members").await? > 0 {
        return Ok(());
    }
    db.execute(
        "INSERT INTO members (id, name, email, staff, token) VALUES \
         (1, 'Sam Staff', 'sam@library.example', TRUE, 'staff-token'), \
         (2, 'Ann', 'ann@library.example', FALSE, 'ann-token'), \
         (3, 'Ben', 'ben@library.example', FALSE, 'ben-token')",
    )
    .await?;
    let books: Vec<String> = (1..=20)
        .map(|n| format!("({n}, 'Book {n}', FALSE)"))
        .collect();
    db.execute(&format!(
        "INSERT INTO books (id, title, on_loan) VALUES {}",
        books.join(", ")
    ))
    .await?;
    if db.backend() == Backend::Postgres {
        for t in ["members", "books"] {
            db.execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT MAX(id) FROM {t}))"
            ))
            .await?;
        }
    }
    Ok(())
}
