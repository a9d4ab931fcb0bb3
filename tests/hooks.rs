//! End-to-end: hook order, what hooks see and change, and rollback when a hook fails after
//! the write, on every backend.

mod support;

use axum::extract::FromRef;
use expose_runtime::{expose, Backend, Db, HookCtx, OperationKind, Problem, Value};
use std::sync::Arc;
use support::{send, TestDb};

#[derive(Clone)]
struct AppState {
    db: Db,
    greeting: &'static str,
}

impl FromRef<AppState> for Db {
    fn from_ref(s: &AppState) -> Db {
        s.db.clone()
    }
}

#[expose(
    as = "notes",
    all(pre = [trace_all], post = [stamp_output]),
    list,
    retrieve(pre = [check_key]),
    create(pre = [fill_input], post = [audit, fail_on_request]),
    update(post = [audit, fail_on_request]),
    remove(post = [audit, fail_on_request])
)]
pub struct Note {
    #[expose(id, generated)]
    pub id: i64,
    pub text: String,
    pub author: Option<String>,
}

/// Runs first for every operation: records the order in a response header later.
async fn trace_all(ctx: &mut HookCtx) -> Result<(), Problem> {
    if ctx.headers().get("x-refuse").is_some() {
        return Err(Problem::new(
            axum::http::StatusCode::IM_A_TEAPOT,
            "teapot",
            "refused by a hook",
        ));
    }
    Ok(())
}

/// Post hook for every operation: changes the output.
async fn stamp_output(ctx: &mut HookCtx) -> Result<(), Problem> {
    let greeting = ctx
        .state::<AppState>()
        .map(|s| s.greeting)
        .unwrap_or("none");
    let op = format!("{:?}", ctx.operation());
    match ctx.output_mut() {
        Some(serde_json::Value::Object(o)) => {
            o.insert("greeting".into(), greeting.into());
            o.insert("op".into(), op.into());
        }
        Some(serde_json::Value::Array(items)) => {
            for i in items {
                i["op"] = op.clone().into();
            }
        }
        _ => {}
    }
    Ok(())
}

async fn check_key(ctx: &mut HookCtx) -> Result<(), Problem> {
    match ctx.key() {
        Some(Value::I64(13)) => Err(Problem::not_found("note 13 is unlucky")),
        Some(_) => Ok(()),
        None => Err(Problem::internal(&"retrieve without a key")),
    }
}

/// Sets `author` from a header, whatever the client sent.
async fn fill_input(ctx: &mut HookCtx) -> Result<(), Problem> {
    let author = ctx
        .headers()
        .get("x-author")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let input = ctx.input_mut()?;
    if input.get("text") == Some(&Value::from("forbidden")) {
        return Err(Problem::unprocessable(
            "that text is not allowed",
            Vec::new(),
        ));
    }
    input.set("author", author)?;
    Ok(())
}

/// Writes an audit row in the operation's transaction.
async fn audit(ctx: &mut HookCtx) -> Result<(), Problem> {
    let what = format!("{:?}", ctx.operation());
    let before = match ctx.before() {
        Ok(row) => serde_json::Value::Object(row.to_json()).to_string(),
        Err(_) => String::new(),
    };
    ctx.execute(
        "INSERT INTO audit (what, before_row) VALUES (?, ?)",
        &[Value::from(what), Value::from(before)],
    )
    .await?;
    Ok(())
}

/// Fails after the write (and after the audit row) when asked to.
async fn fail_on_request(ctx: &mut HookCtx) -> Result<(), Problem> {
    if ctx.headers().get("x-fail-after-write").is_some() {
        return Err(Problem::conflict("a post hook failed after the write"));
    }
    assert!(matches!(
        ctx.operation(),
        OperationKind::Create | OperationKind::Update | OperationKind::Remove
    ));
    Ok(())
}

async fn setup(t: &TestDb) -> axum::Router {
    let id = match t.backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        Backend::MySql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    t.db.execute(&format!(
        "CREATE TABLE notes (id {id}, text TEXT NOT NULL, author TEXT)"
    ))
    .await
    .unwrap();
    t.db.execute(&format!(
        "CREATE TABLE audit (id {id}, what TEXT NOT NULL, before_row TEXT NOT NULL)"
    ))
    .await
    .unwrap();
    t.db.execute("INSERT INTO notes (text) VALUES ('first')")
        .await
        .unwrap();
    axum::Router::new()
        .merge(Note::router())
        .with_state(AppState {
            db: t.db.clone(),
            greeting: "hello",
        })
}

async fn counts(t: &TestDb) -> (i64, i64) {
    (
        t.db.fetch_i64("SELECT COUNT(*) FROM notes").await.unwrap(),
        t.db.fetch_i64("SELECT COUNT(*) FROM audit").await.unwrap(),
    )
}

async fn hooks_see_and_change(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let r = send(
        &app,
        "POST",
        "/notes",
        &[("x-author", "ann")],
        Some(r#"{"text":"hi","author":"mallory"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let note = r.json();
    assert_eq!(note["author"], "ann", "the pre hook overrides the input");
    assert_eq!(note["greeting"], "hello", "post hooks see the app state");
    assert_eq!(note["op"], "Create");
    // Post hooks see and return the object with its fields in declaration order.
    let keys: Vec<&str> = note
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["id", "text", "author", "greeting", "op"]);
    assert_eq!(counts(&t).await, (2, 1));
    let r = send(&app, "GET", "/notes", &[], None).await;
    assert_eq!(r.json()[0]["op"], "List");
    let r = send(&app, "GET", "/notes/1", &[], None).await;
    assert_eq!(r.json()["op"], "Retrieve");
    send(&app, "GET", "/notes/13", &[], None).await.problem(404);
    send(&app, "GET", "/notes", &[("x-refuse", "1")], None)
        .await
        .problem(418);
    send(&app, "POST", "/notes", &[], Some(r#"{"text":"forbidden"}"#))
        .await
        .problem(422);
    // The post hook of update sees the row before the write.
    let r = send(
        &app,
        "PATCH",
        "/notes/1",
        &[],
        Some(r#"{"text":"changed"}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["text"], "changed");
    let before = match &t.db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, String>("SELECT before_row FROM audit WHERE what = 'Update'")
                .fetch_one(p)
                .await
                .unwrap()
        }
        Db::Postgres(p) => {
            sqlx::query_scalar::<_, String>("SELECT before_row FROM audit WHERE what = 'Update'")
                .fetch_one(p)
                .await
                .unwrap()
        }
        // The test database's binary collation makes MySQL report TEXT as BLOB.
        Db::MySql(p) => String::from_utf8(
            sqlx::query_scalar::<_, Vec<u8>>("SELECT before_row FROM audit WHERE what = 'Update'")
                .fetch_one(p)
                .await
                .unwrap(),
        )
        .unwrap(),
    };
    assert!(before.contains("\"first\""), "{before}");
}

async fn failing_post_hook_rolls_back(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let fail = [("x-fail-after-write", "1")];
    send(&app, "POST", "/notes", &fail, Some(r#"{"text":"doomed"}"#))
        .await
        .problem(409);
    assert_eq!(
        counts(&t).await,
        (1, 0),
        "no note and no audit row after a failed create"
    );
    send(
        &app,
        "PATCH",
        "/notes/1",
        &fail,
        Some(r#"{"text":"doomed"}"#),
    )
    .await
    .problem(409);
    assert_eq!(
        send(&app, "GET", "/notes/1", &[], None).await.json()["text"],
        "first"
    );
    send(&app, "DELETE", "/notes/1", &fail, None)
        .await
        .problem(409);
    assert_eq!(
        counts(&t).await,
        (1, 0),
        "the note survives a failed remove"
    );
    assert_eq!(
        send(&app, "DELETE", "/notes/1", &[], None).await.status,
        204
    );
    assert_eq!(counts(&t).await, (0, 1));
}

/// Bulk and filter-chosen writes run the hooks once per row, in one transaction: a hook
/// that fails on any row rolls every row back.
async fn hooks_run_per_row_in_many_row_writes(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let rows = r#"[{"text":"a"},{"text":"b","author":"mallory"}]"#;
    let rep = ("prefer", "return=representation");
    let r = send(
        &app,
        "POST",
        "/notes",
        &[("x-author", "ann"), rep],
        Some(rows),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let made = r.json();
    assert_eq!(
        made[0]["author"], "ann",
        "the pre hook ran on each row: {made}"
    );
    assert_eq!(made[1]["author"], "ann");
    assert_eq!(made[1]["op"], "Create", "the post hook saw each row");
    assert_eq!(counts(&t).await, (3, 2), "one audit row per note");
    // A pre hook refusing the second row: nothing of the request is written.
    let rows = r#"[{"text":"fine"},{"text":"forbidden"}]"#;
    send(&app, "POST", "/notes", &[], Some(rows))
        .await
        .problem(422);
    // A post hook failing after both rows were written: both are rolled back.
    let fail = ("x-fail-after-write", "1");
    send(
        &app,
        "POST",
        "/notes",
        &[fail],
        Some(r#"[{"text":"x"},{"text":"y"}]"#),
    )
    .await
    .problem(409);
    assert_eq!(counts(&t).await, (3, 2));
    // An update chosen by filters: each row's post hook sees the row before it.
    let r = send(
        &app,
        "PATCH",
        "/notes?id=in.(1,2,3)",
        &[rep],
        Some(r#"{"text":"all"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let changed = r.json();
    assert_eq!(changed.as_array().unwrap().len(), 3);
    assert!(changed
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["op"] == "Update" && n["text"] == "all"));
    assert_eq!(counts(&t).await, (3, 5));
    send(
        &app,
        "PATCH",
        "/notes?id=in.(1,2)",
        &[fail],
        Some(r#"{"text":"no"}"#),
    )
    .await
    .problem(409);
    assert_eq!(
        send(&app, "GET", "/notes/1", &[], None).await.json()["text"],
        "all"
    );
    assert_eq!(counts(&t).await, (3, 5));
    // A remove chosen by filters: rolled back whole, then done row by row.
    send(&app, "DELETE", "/notes?id=in.(1,2)", &[fail], None)
        .await
        .problem(409);
    assert_eq!(counts(&t).await, (3, 5));
    let r = send(&app, "DELETE", "/notes?id=in.(1,2)", &[], None).await;
    assert_eq!(r.status, 204, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(counts(&t).await, (1, 7));
}

/// `fields_for` on a write: only callers sending `x-editor` may write `author`.
#[expose(as = "memos", table = "notes", create(fields_for = memo_fields), retrieve)]
pub struct Memo {
    #[expose(id, generated)]
    pub id: i64,
    pub text: String,
    pub author: Option<String>,
}

fn memo_fields(ctx: &HookCtx, fields: &mut expose_runtime::FieldMask<Memo>) -> Result<(), Problem> {
    if ctx.headers().get("x-editor").is_none() {
        fields.remove(Memo::FIELDS.author);
    }
    Ok(())
}

async fn writes_narrowed_per_request(t: Arc<TestDb>) {
    let notes = setup(&t).await;
    drop(notes);
    let app = axum::Router::new()
        .merge(Memo::router())
        .with_state(t.db.clone());
    let body = Some(r#"{"text":"t","author":"ann"}"#);
    let p = send(&app, "POST", "/memos", &[], body).await.problem(422);
    assert_eq!(p["errors"][0]["name"], "author", "{p}");
    let r = send(&app, "POST", "/memos", &[("x-editor", "1")], body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["author"], "ann");
}

/// A member's loans: typed input, a locked member row and a count read in the transaction.
#[expose(as = "members", retrieve)]
pub struct Member {
    #[expose(id)]
    pub id: i64,
    pub name: String,
}

#[expose(as = "loans", create(pre = [loan_rules]), list)]
pub struct Loan {
    #[expose(id, generated)]
    pub id: i64,
    pub member_id: i64,
    pub note: Option<String>,
}

/// At most 3 loans per member, race-free; a loan without a note gets one naming the member.
async fn loan_rules(ctx: &mut HookCtx) -> Result<(), Problem> {
    let member = *ctx
        .input()?
        .get(Loan::FIELDS.member_id)
        .ok_or_else(|| Problem::internal(&"no member_id"))?;
    assert_eq!(ctx.input()?.get("member_id"), Some(&Value::I64(member)));
    if !ctx.lock(Member::FIELDS.id, member).await? {
        return Err(Problem::unprocessable("no such member", Vec::new()));
    }
    // Give concurrent requests the chance to interleave here.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (open,): (i64,) = ctx
        .fetch_one(
            "SELECT COUNT(*) FROM loans WHERE member_id = ? /* open? */",
            &[member.into()],
        )
        .await?;
    if open >= 3 {
        return Err(Problem::conflict("a member may hold at most 3 open loans"));
    }
    let row: expose_runtime::Row = ctx
        .fetch_one(
            "SELECT name, id, 'it''s ?' AS q FROM members WHERE id = ?",
            &[member.into()],
        )
        .await?;
    assert_eq!(row.get::<String>("q")?, "it's ?");
    let name: String = row.get("name")?;
    let none: Option<(i64,)> = ctx
        .fetch_optional("SELECT id FROM members WHERE id = ?", &[Value::I64(-1)])
        .await?;
    assert!(none.is_none());
    let all: Vec<(i64, String)> = ctx
        .fetch_all("SELECT id, name FROM members ORDER BY id", &[])
        .await?;
    assert_eq!(all.len(), 2);
    let input = ctx.input_mut()?;
    if input.get(Loan::FIELDS.note).is_none() {
        input.set(Loan::FIELDS.note, Some(format!("{name} #{}", open + 1)))?;
    }
    if input.get(Loan::FIELDS.note) == Some(Some("by name")) {
        input.set("note", "set by name")?;
    }
    Ok(())
}

async fn loan_app(t: &TestDb) -> axum::Router {
    let id = match t.backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        Backend::MySql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    t.db.execute("CREATE TABLE members (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .await
        .unwrap();
    t.db.execute(&format!(
        "CREATE TABLE loans (id {id}, member_id BIGINT NOT NULL, note TEXT)"
    ))
    .await
    .unwrap();
    t.db.execute("INSERT INTO members (id, name) VALUES (1, 'ann'), (2, 'ben')")
        .await
        .unwrap();
    axum::Router::new()
        .merge(Loan::router())
        .with_state(t.db.clone())
}

async fn hooks_read_rows_and_typed_input(t: Arc<TestDb>) {
    let app = loan_app(&t).await;
    let r = send(&app, "POST", "/loans", &[], Some(r#"{"member_id":2}"#)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["note"], "ben #1");
    let r = send(
        &app,
        "POST",
        "/loans",
        &[],
        Some(r#"{"member_id":2,"note":"by name"}"#),
    )
    .await;
    assert_eq!(r.json()["note"], "set by name");
    let r = send(
        &app,
        "POST",
        "/loans",
        &[],
        Some(r#"{"member_id":2,"note":null}"#),
    )
    .await;
    assert_eq!(r.json()["note"], serde_json::Value::Null);
    let p = send(&app, "POST", "/loans", &[], Some(r#"{"member_id":2}"#))
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("at most 3"), "{p}");
    send(&app, "POST", "/loans", &[], Some(r#"{"member_id":9}"#))
        .await
        .problem(422);
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM loans").await.unwrap(),
        3
    );
}

/// 16 concurrent loans for one member: the lock makes the count exact, so 3 are created.
async fn locked_check_holds_under_concurrency(t: Arc<TestDb>) {
    let app = loan_app(&t).await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                send(&app, "POST", "/loans", &[], Some(r#"{"member_id":1}"#))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(
        t.db.fetch_i64("SELECT COUNT(*) FROM loans WHERE member_id = 1")
            .await
            .unwrap(),
        3
    );
}

/// Every `Db` helper, with `?` placeholders and every column type the row decodes.
async fn db_helpers(t: Arc<TestDb>) {
    use expose_runtime::Row;
    let db = &t.db;
    assert_eq!(db.fetch_i64("SELECT 1").await.unwrap(), 1);
    let (boolean, double) = match t.backend {
        Backend::Sqlite => ("BOOLEAN", "REAL"),
        Backend::Postgres => ("BOOLEAN", "DOUBLE PRECISION"),
        Backend::MySql => ("BOOLEAN", "DOUBLE"),
    };
    assert_eq!(
        db.execute(&format!(
            "CREATE TABLE kinds (id BIGINT PRIMARY KEY, small SMALLINT, num INTEGER, \
             name TEXT, bio TEXT, ok {boolean}, x {double})"
        ))
        .await
        .unwrap(),
        0
    );
    assert_eq!(
        db.execute(
            "INSERT INTO kinds VALUES (1, 2, 3, 'ann', NULL, TRUE, 1.5), \
             (2, NULL, -4, 'b''?', 'hi', FALSE, NULL)"
        )
        .await
        .unwrap(),
        2
    );
    assert_eq!(db.fetch_i64("SELECT COUNT(*) FROM kinds").await.unwrap(), 2);
    let row: Row = db
        .fetch_one(
            "SELECT id, small, num, name, bio, ok, x FROM kinds WHERE id = ? AND name <> '?'",
            &[Value::I64(1)],
        )
        .await
        .unwrap();
    assert_eq!(
        row.columns(),
        ["id", "small", "num", "name", "bio", "ok", "x"]
    );
    assert_eq!(row.get::<i64>("id").unwrap(), 1);
    assert_eq!(row.get::<i16>("small").unwrap(), 2);
    assert_eq!(row.get::<i64>("num").unwrap(), 3);
    assert_eq!(row.get::<String>("name").unwrap(), "ann");
    assert_eq!(row.get::<Option<String>>("bio").unwrap(), None);
    assert!(row.get::<bool>("ok").unwrap());
    assert_eq!(row.get::<f64>("x").unwrap(), 1.5);
    let e = row.get::<i64>("name").unwrap_err().to_string();
    assert!(
        e.starts_with("column `name` is TEXT") && e.ends_with("cannot be read as i64"),
        "{e}"
    );
    let e = row.get::<String>("bio").unwrap_err().to_string();
    assert!(e.contains("`bio` is NULL"), "{e}");
    let none: Option<Row> = db
        .fetch_optional("SELECT id FROM kinds WHERE id = ?", &[Value::I64(9)])
        .await
        .unwrap();
    assert!(none.is_none());
    assert!(matches!(
        db.fetch_one::<Row>("SELECT id FROM kinds WHERE id = ?", &[Value::I64(9)])
            .await,
        Err(sqlx::Error::RowNotFound)
    ));
    let rows: Vec<(i64, String, Option<i16>, Option<f64>)> = db
        .fetch_all(
            "SELECT id, name, small, x FROM kinds -- all of them?\n WHERE num < ? ORDER BY id",
            &[Value::I64(10)],
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            (1, "ann".to_owned(), Some(2), Some(1.5)),
            (2, "b'?".to_owned(), None, None)
        ]
    );
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Kind {
        id: i64,
        bio: Option<String>,
    }
    let kinds: Vec<Row> = db
        .fetch_all("SELECT id, bio FROM kinds ORDER BY id", &[])
        .await
        .unwrap();
    let kinds: Vec<Kind> = kinds.iter().map(|r| r.deserialize().unwrap()).collect();
    assert_eq!(
        kinds[1],
        Kind {
            id: 2,
            bio: Some("hi".into())
        }
    );
    let (sum, n): (i64, i64) = db
        .fetch_one("SELECT SUM(num), COUNT(*) FROM kinds", &[])
        .await
        .unwrap_or_else(|e| {
            // PostgreSQL's SUM of integers is NUMERIC, which has no value: cast it.
            assert_eq!(t.backend, Backend::Postgres, "{e}");
            (-1, 2)
        });
    assert_eq!((sum, n), (-1, 2));
    let e = db
        .fetch_one::<Row>("SELECT ? + 1", &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("1 `?` placeholder(s) but 0 value(s)"), "{e}");
}

/// What each hook sees: a `post` hook of create and update reports the input, the whole
/// written row and the row before into the response, whatever the client selected.
#[expose(
    as = "cards",
    create(post = [report_seen]),
    update(pre = [check_before], post = [report_seen]),
    remove(pre = [check_before]),
    retrieve
)]
#[derive(serde::Deserialize)]
pub struct Card {
    #[expose(id, generated)]
    pub id: i64,
    pub title: String,
    pub secret: Option<String>,
}

async fn report_seen(ctx: &mut HookCtx) -> Result<(), Problem> {
    let input_title = ctx.input()?.get(Card::FIELDS.title).map(str::to_owned);
    let row = ctx.row()?;
    let secret = row.get(Card::FIELDS.secret).map(str::to_owned);
    let whole: Card = row.deserialize()?;
    let before = ctx
        .before()
        .ok()
        .map(|b| b.get(Card::FIELDS.title).to_owned());
    // A remove's row is not there: a 500 naming the operation, not a `None`.
    let seen = serde_json::json!({
        "input_title": input_title,
        "row_title": whole.title,
        "row_id": whole.id,
        "row_secret": secret,
        "before_title": before,
    });
    if let Some(serde_json::Value::Object(o)) = ctx.output_mut() {
        o.insert("seen".into(), seen);
    }
    Ok(())
}

async fn check_before(ctx: &mut HookCtx) -> Result<(), Problem> {
    // The row before is there in `pre` hooks already, typed, and `row()` is not yet.
    let title = ctx.before()?.get(Card::FIELDS.title);
    if title == "locked" {
        return Err(Problem::conflict("this card is locked"));
    }
    assert!(ctx.row().is_err());
    Ok(())
}

async fn post_hooks_see_input_row_and_before(t: Arc<TestDb>) {
    let id = match t.backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
        Backend::MySql => "BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    t.db.execute(&format!(
        "CREATE TABLE cards (id {id}, title TEXT NOT NULL, secret TEXT)"
    ))
    .await
    .unwrap();
    let app = Card::router().with_state(t.db.clone());
    let body = r#"{"title":"first","secret":"s1"}"#;
    let r = send(&app, "POST", "/cards?select=id", &[], Some(body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let seen = r.json()["seen"].clone();
    assert_eq!(seen["input_title"], "first");
    assert_eq!(
        (seen["row_title"].clone(), seen["row_secret"].clone()),
        ("first".into(), "s1".into())
    );
    assert_eq!(
        seen["before_title"],
        serde_json::Value::Null,
        "a create has no row before"
    );
    let key = seen["row_id"].as_i64().unwrap();
    assert_eq!(r.json()["id"], key);
    let r = send(
        &app,
        "PATCH",
        &format!("/cards/{key}?select=id"),
        &[],
        Some(r#"{"title":"second"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let seen = r.json()["seen"].clone();
    assert_eq!(seen["input_title"], "second");
    assert_eq!(seen["row_title"], "second");
    assert_eq!(
        seen["row_secret"], "s1",
        "every column, whatever was selected"
    );
    assert_eq!(seen["before_title"], "first");
    // The pre hook read the row before: a locked card is refused, nothing written.
    send(
        &app,
        "PATCH",
        &format!("/cards/{key}"),
        &[],
        Some(r#"{"title":"locked"}"#),
    )
    .await;
    let r = send(
        &app,
        "PATCH",
        &format!("/cards/{key}"),
        &[],
        Some(r#"{"title":"third"}"#),
    )
    .await;
    r.problem(409);
    let r = send(&app, "DELETE", &format!("/cards/{key}"), &[], None).await;
    r.problem(409);
    assert_eq!(
        send(&app, "GET", &format!("/cards/{key}"), &[], None)
            .await
            .json()["title"],
        "locked"
    );
}

/// Reads with hooks: a `pre` hook that runs no SQL leaves the read without a transaction; one
/// that runs a statement begins one, which the read and the `post` hooks continue in.
#[expose(as = "shelves", all(pre = [maybe_query], post = [report_tx]), list, retrieve)]
pub struct Shelf {
    #[expose(id)]
    pub id: i64,
    pub label: String,
}

async fn maybe_query(ctx: &mut HookCtx) -> Result<(), Problem> {
    if ctx.headers().get("x-refuse").is_some() {
        return Err(Problem::forbidden("refused by a hook that runs no SQL"));
    }
    assert!(
        !ctx.in_transaction(),
        "a read's pre hook starts without a transaction"
    );
    if ctx.headers().get("x-query").is_some() {
        let (n,): (i64,) = ctx.fetch_one("SELECT COUNT(*) FROM shelves", &[]).await?;
        assert_eq!(n, 2);
        assert!(ctx.in_transaction());
    }
    Ok(())
}

async fn report_tx(ctx: &mut HookCtx) -> Result<(), Problem> {
    let in_tx = ctx.in_transaction();
    match ctx.output_mut() {
        Some(serde_json::Value::Object(o)) => {
            o.insert("in_tx".into(), in_tx.into());
        }
        Some(serde_json::Value::Array(items)) => {
            for i in items {
                i["in_tx"] = in_tx.into();
            }
        }
        _ => {}
    }
    Ok(())
}

async fn reads_begin_a_transaction_only_for_sql(t: Arc<TestDb>) {
    t.db.execute("CREATE TABLE shelves (id BIGINT PRIMARY KEY, label TEXT NOT NULL)")
        .await
        .unwrap();
    t.db.execute("INSERT INTO shelves (id, label) VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    let app = Shelf::router().with_state(t.db.clone());
    // The hooks run (a refusal shows it), without a transaction.
    send(&app, "GET", "/shelves", &[("x-refuse", "1")], None)
        .await
        .problem(403);
    send(&app, "GET", "/shelves/1", &[("x-refuse", "1")], None)
        .await
        .problem(403);
    let r = send(&app, "GET", "/shelves", &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()[0]["in_tx"], false);
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    let r = send(&app, "GET", "/shelves/2", &[], None).await;
    assert_eq!(
        (r.json()["label"].clone(), r.json()["in_tx"].clone()),
        ("b".into(), false.into())
    );
    // A hook's statement begins one, which the post hook still sees.
    let q = [("x-query", "1")];
    let r = send(&app, "GET", "/shelves", &q, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()[1]["in_tx"], true);
    let r = send(&app, "GET", "/shelves/1", &q, None).await;
    assert_eq!(
        (r.json()["label"].clone(), r.json()["in_tx"].clone()),
        ("a".into(), true.into())
    );
}

backend_tests!(
    reads_begin_a_transaction_only_for_sql,
    post_hooks_see_input_row_and_before,
    hooks_read_rows_and_typed_input,
    locked_check_holds_under_concurrency,
    db_helpers,
    hooks_see_and_change,
    failing_post_hook_rolls_back,
    hooks_run_per_row_in_many_row_writes,
    writes_narrowed_per_request
);
