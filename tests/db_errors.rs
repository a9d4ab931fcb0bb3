//! End-to-end: database errors mapped to problems, never leaked, on every backend. Unique,
//! foreign-key, not-null, check and range violations; an exhausted pool, a closed or
//! unreachable database, statement and request timeouts.

mod support;

use expose_runtime::{expose, Backend, Db, HookCtx, PoolConfig, Problem, RouterConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::proxy::{self, Mode, Proxy};
use support::{get, send, url_of, Reply, TestDb};

/// A team; its name is unique.
#[expose(as = "teams", list, retrieve, create, update, remove)]
pub struct Team {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
}

/// A member of a team. The table is stricter than the struct: `nick` is `NOT NULL`, `age`
/// has a `CHECK`, `email` is unique and at most 100 characters, `score` holds 32 bits (an
/// `INT` column on MySQL; a `CHECK` elsewhere, as sqlx does not decode PostgreSQL's `INTEGER`
/// as an `i64`).
#[expose(
    as = "members",
    list,
    retrieve,
    create(pre = [sleep_before, db_sleep], post = [sleep_after]),
    update,
    remove
)]
pub struct Member {
    #[expose(id, generated)]
    pub id: i64,
    pub team_id: i64,
    pub email: String,
    pub age: i32,
    pub nick: Option<String>,
    pub score: i64,
}

fn header_ms(ctx: &HookCtx, name: &str) -> Option<Duration> {
    let v = ctx.headers().get(name)?.to_str().ok()?.parse().ok()?;
    Some(Duration::from_millis(v))
}

/// Holds the transaction (and its connection) for `x-sleep-ms` milliseconds.
async fn sleep_before(ctx: &mut HookCtx) -> Result<(), Problem> {
    if let Some(d) = header_ms(ctx, "x-sleep-ms") {
        tokio::time::sleep(d).await;
    }
    Ok(())
}

/// After the row is written, waits `x-sleep-after-ms` milliseconds before the commit.
async fn sleep_after(ctx: &mut HookCtx) -> Result<(), Problem> {
    if let Some(d) = header_ms(ctx, "x-sleep-after-ms") {
        tokio::time::sleep(d).await;
    }
    Ok(())
}

/// SQLite's slow statement: a recursive count, seconds long, that SQLite cannot cancel.
const SQLITE_SLOW: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
                           WHERE x < 3000000) SELECT count(*) FROM c";

/// With `x-db-sleep`, runs a statement that takes about a second in the database.
async fn db_sleep(ctx: &mut HookCtx) -> Result<(), Problem> {
    if ctx.headers().get("x-db-sleep").is_none() {
        return Ok(());
    }
    let sql = match ctx.db().backend() {
        Backend::Postgres => "SELECT pg_sleep(1)",
        Backend::MySql => "SELECT SLEEP(1)",
        Backend::Sqlite => SQLITE_SLOW,
    };
    ctx.execute(sql, &[]).await?;
    Ok(())
}

async fn create_tables(db: &Db) {
    let ddl: &[&str] = match db.backend() {
        Backend::Sqlite => &[
            "CREATE TABLE teams (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
            "CREATE TABLE members (id INTEGER PRIMARY KEY AUTOINCREMENT,
             team_id BIGINT NOT NULL REFERENCES teams (id),
             email TEXT NOT NULL UNIQUE CHECK (length(email) <= 100),
             age INTEGER NOT NULL CHECK (age >= 0 AND age < 200),
             nick TEXT NOT NULL,
             score INTEGER NOT NULL CHECK (score BETWEEN -2147483648 AND 2147483647))",
        ],
        Backend::Postgres => &[
            "CREATE TABLE teams (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
            "CREATE TABLE members (id BIGSERIAL PRIMARY KEY,
             team_id BIGINT NOT NULL REFERENCES teams (id),
             email VARCHAR(100) NOT NULL UNIQUE,
             age INTEGER NOT NULL CHECK (age >= 0 AND age < 200),
             nick TEXT NOT NULL,
             score BIGINT NOT NULL CHECK (score BETWEEN -2147483648 AND 2147483647))",
        ],
        Backend::MySql => &[
            "CREATE TABLE teams (id BIGINT AUTO_INCREMENT PRIMARY KEY,
             name VARCHAR(255) NOT NULL UNIQUE)",
            "CREATE TABLE members (id BIGINT AUTO_INCREMENT PRIMARY KEY,
             team_id BIGINT NOT NULL, email VARCHAR(100) NOT NULL UNIQUE,
             age INT NOT NULL CHECK (age >= 0 AND age < 200),
             nick VARCHAR(255) NOT NULL,
             score INT NOT NULL,
             FOREIGN KEY (team_id) REFERENCES teams (id))",
        ],
    };
    for sql in ddl {
        db.execute(sql).await.expect("create table");
    }
}

fn app_with(db: Db, config: RouterConfig) -> axum::Router {
    axum::Router::new()
        .merge(Team::router())
        .merge(Member::router_with(config))
        .with_state(db)
}

async fn setup(t: &TestDb) -> axum::Router {
    create_tables(&t.db).await;
    let app = app_with(t.db.clone(), RouterConfig::default());
    let r = send(&app, "POST", "/teams", &[], Some(r#"{"name":"red"}"#)).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    app
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Words that only a leaked driver message, SQL text or stack trace would contain.
const LEAKS: &[&str] = &[
    "select ",
    "insert ",
    "update ",
    "delete from",
    "constraint",
    "duplicate",
    "violat",
    "syntax",
    "sqlx",
    "sqlstate",
    "foreign key",
    "not-null",
    "error returned from database",
    "pg_sleep",
    "sleep(",
    "with recursive",
    "members_",
    "teams_",
    "panicked",
    "backtrace",
    ".rs:",
    "interrupted",
    "statement_timeout",
    "canceling",
    "max_statement_time",
    "pool timed out",
    "pooltimedout",
    "poolclosed",
];

/// Asserts a problem response of `status` whose body leaks nothing; returns the problem.
fn clean(r: &Reply, status: u16) -> serde_json::Value {
    let p = r.problem(status);
    let body = text(r).to_lowercase();
    for word in LEAKS {
        assert!(!body.contains(word), "`{word}` leaked: {body}");
    }
    p
}

/// The `Location` of a 201 response.
fn created(r: &Reply) -> String {
    assert_eq!(r.status, 201, "{}", text(r));
    r.header("location").expect("Location").to_owned()
}

/// The first offender's name, if any.
fn offender(p: &serde_json::Value) -> Option<&str> {
    p["errors"][0]["name"].as_str()
}

async fn count(db: &Db, table: &str) -> i64 {
    db.fetch_i64(&format!("SELECT COUNT(*) FROM {table}"))
        .await
        .unwrap()
}

fn member(team: i64, email: &str) -> String {
    format!(r#"{{"team_id":{team},"email":"{email}","age":30,"nick":"n","score":1}}"#)
}

async fn unique_violations(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let p = clean(
        &send(&app, "POST", "/teams", &[], Some(r#"{"name":"red"}"#)).await,
        409,
    );
    assert_eq!(offender(&p), Some("name"), "{p}");
    assert!(p["detail"].as_str().unwrap().contains("`name`"), "{p}");
    // A table with two unique columns names the right one.
    let r = send(&app, "POST", "/members", &[], Some(&member(1, "a@x.io"))).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    let p = clean(
        &send(&app, "POST", "/members", &[], Some(&member(1, "a@x.io"))).await,
        409,
    );
    assert_eq!(offender(&p), Some("email"), "{p}");
    assert_eq!(p["errors"][0]["in"], "body");
    // Also on update.
    let b = created(&send(&app, "POST", "/members", &[], Some(&member(1, "b@x.io"))).await);
    let p = clean(
        &send(&app, "PATCH", &b, &[], Some(r#"{"email":"a@x.io"}"#)).await,
        409,
    );
    assert_eq!(offender(&p), Some("email"), "{p}");
    assert_eq!(get(&app, &b).await.json()["email"], "b@x.io");
    assert_eq!(count(&t.db, "teams").await, 1);
    assert_eq!(count(&t.db, "members").await, 2);
}

async fn foreign_keys(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // A reference to a row that does not exist: 422, on create and update (SQLite does not
    // say which side of the key failed; a write of a row's values is the referencing side).
    let missing = |r: &Reply| clean(r, 422);
    // Every backend names the field: SQLite's error does not, so its foreign keys are read
    // from the catalog.
    let p = missing(&send(&app, "POST", "/members", &[], Some(&member(99, "a@x.io"))).await);
    assert_eq!(offender(&p), Some("team_id"), "{p}");
    assert_eq!(count(&t.db, "members").await, 0);
    let a = created(&send(&app, "POST", "/members", &[], Some(&member(1, "a@x.io"))).await);
    let p = missing(&send(&app, "PATCH", &a, &[], Some(r#"{"team_id":99}"#)).await);
    assert_eq!(offender(&p), Some("team_id"), "{p}");
    assert_eq!(get(&app, &a).await.json()["team_id"], 1);
    // Removing a row that is still referenced: 409, and it stays.
    let p = clean(&send(&app, "DELETE", "/teams/1", &[], None).await, 409);
    assert!(p["detail"].as_str().unwrap().contains("refer"), "{p}");
    assert_eq!(count(&t.db, "teams").await, 1);
    // Once nothing refers to it, it goes.
    assert_eq!(send(&app, "DELETE", &a, &[], None).await.status, 204);
    assert_eq!(
        send(&app, "DELETE", "/teams/1", &[], None).await.status,
        204
    );
}

async fn invalid_values(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let ok = r#"{"team_id":1,"email":"a@x.io","age":30,"nick":"n","score":1}"#;
    let with = |member: &str, value: &str| {
        let mut o: serde_json::Value = serde_json::from_str(ok).unwrap();
        o[member] = serde_json::from_str(value).unwrap();
        o.to_string()
    };
    let long_email = format!("\"{}@x.io\"", "e".repeat(120));
    let cases = [
        // NOT NULL in the table, nullable in the struct: the database refuses it.
        (with("nick", "null"), "nick"),
        // The CHECK constraint.
        (with("age", "-1"), "age"),
        (with("age", "500"), "age"),
        // Longer than the column (VARCHAR(100), or a CHECK on SQLite).
        (with("email", &long_email), "email"),
        // An i64 in the struct, a 32-bit column in the table.
        (with("score", "3000000000"), "score"),
    ];
    for (body, field) in cases {
        let p = clean(&send(&app, "POST", "/members", &[], Some(&body)).await, 422);
        match offender(&p) {
            Some(name) => assert_eq!(name, field, "{body}: {p}"),
            // PostgreSQL's "value too long for type character varying(100)" names no
            // column; the problem says the database does not say which.
            None => {
                assert!(
                    t.backend == Backend::Postgres && field == "email",
                    "{body}: {p}"
                );
                assert!(
                    p["detail"].as_str().unwrap().contains("does not say which"),
                    "{p}"
                );
            }
        }
        assert_eq!(count(&t.db, "members").await, 0, "{body}");
    }
    // Beyond the field's own type: refused before the database, naming the field.
    for age in ["3000000000", "-2147483649", "1.5", "1e10", "\"30\"", "true"] {
        let body = ok.replace("\"age\":30", &format!("\"age\":{age}"));
        let p = clean(&send(&app, "POST", "/members", &[], Some(&body)).await, 422);
        assert_eq!(offender(&p), Some("age"), "{body}: {p}");
    }
    for score in ["9223372036854775808", "-9223372036854775809", "1e30"] {
        let body = ok.replace("\"score\":1", &format!("\"score\":{score}"));
        let p = clean(&send(&app, "POST", "/members", &[], Some(&body)).await, 422);
        assert_eq!(offender(&p), Some("score"), "{body}: {p}");
    }
    assert_eq!(count(&t.db, "members").await, 0);
    // The same on update, and the row is unchanged.
    let a = created(&send(&app, "POST", "/members", &[], Some(ok)).await);
    let before = get(&app, &a).await.json();
    for body in [
        r#"{"nick":null}"#,
        r#"{"age":-5}"#,
        r#"{"score":4294967296}"#,
        r#"{"age":3000000000}"#,
    ] {
        clean(&send(&app, "PATCH", &a, &[], Some(body)).await, 422);
    }
    assert_eq!(get(&app, &a).await.json(), before);
}

/// A pool of one connection with a short acquire timeout, on the test's database.
async fn small_pool(t: &TestDb, statement_timeout: Option<Duration>) -> Db {
    let url = url_of(t).await;
    Db::connect_with(
        &url,
        PoolConfig {
            max_connections: 1,
            acquire_timeout: Duration::from_millis(200),
            statement_timeout,
            ..PoolConfig::default()
        },
    )
    .await
    .expect("connect a small pool")
}

async fn pool_exhausted(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    let db = small_pool(&t, None).await;
    let app = app_with(db.clone(), RouterConfig::default());
    // One request holds the only connection for a while...
    let holder = {
        let app = app.clone();
        tokio::spawn(async move {
            send(
                &app,
                "POST",
                "/members",
                &[("x-sleep-ms", "1500")],
                Some(&member(1, "slow@x.io")),
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ...so the others are answered 503 with Retry-After after the acquire timeout.
    for (method, uri, body) in [
        ("GET", "/teams", None),
        ("GET", "/teams/1", None),
        ("POST", "/teams", Some(r#"{"name":"blue"}"#)),
        ("PATCH", "/teams/1", Some(r#"{"name":"green"}"#)),
        ("DELETE", "/teams/1", None),
    ] {
        let started = Instant::now();
        let r = send(&app, method, uri, &[], body).await;
        clean(&r, 503);
        let retry: u64 = r
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!(retry >= 1);
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "{method} {uri} waited {:?}",
            started.elapsed()
        );
    }
    // The holder finishes normally; then the pool serves again.
    let r = holder.await.unwrap();
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(get(&app, "/teams/1").await.json()["name"], "red");
    assert_eq!(count(&t.db, "teams").await, 1);
    db.close().await;
}

async fn database_closed(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    let db = small_pool(&t, None).await;
    let app = app_with(db.clone(), RouterConfig::default());
    assert_eq!(get(&app, "/teams/1").await.status, 200);
    db.close().await;
    for (method, uri, body) in [
        ("GET", "/teams", None),
        ("GET", "/members/1", None),
        ("POST", "/teams", Some(r#"{"name":"blue"}"#)),
        ("POST", "/members", Some(&*member(1, "a@x.io"))),
        ("PATCH", "/teams/1", Some(r#"{"name":"green"}"#)),
        ("DELETE", "/teams/1", None),
    ] {
        let r = send(&app, method, uri, &[], body).await;
        clean(&r, 503);
        assert!(r.header("retry-after").is_some(), "{method} {uri}");
    }
    assert_eq!(count(&t.db, "teams").await, 1);
}

async fn database_unreachable(t: Arc<TestDb>) {
    // Nothing listens on port 9 of the loopback interface (nor can a SQLite file be opened in
    // a directory that does not exist).
    let pool = sqlx::pool::PoolOptions::new().acquire_timeout(Duration::from_millis(300));
    let db: Db = match t.backend {
        Backend::Sqlite => {
            let missing = std::env::temp_dir().join("expose-no-such-dir/db.sqlite");
            let opts: sqlx::sqlite::SqliteConnectOptions =
                format!("sqlite:{}", missing.display()).parse().unwrap();
            Db::Sqlite(pool.connect_lazy_with(opts))
        }
        Backend::Postgres => Db::Postgres(
            sqlx::pool::PoolOptions::new()
                .acquire_timeout(Duration::from_millis(300))
                .connect_lazy("postgres://postgres@127.0.0.1:9/test")
                .unwrap(),
        ),
        Backend::MySql => Db::MySql(
            sqlx::pool::PoolOptions::new()
                .acquire_timeout(Duration::from_millis(300))
                .connect_lazy("mysql://root@127.0.0.1:9/test")
                .unwrap(),
        ),
    };
    let app = app_with(db, RouterConfig::default());
    for (method, uri, body) in [
        ("GET", "/teams", None),
        ("GET", "/teams/1", None),
        ("POST", "/members", Some(&*member(1, "a@x.io"))),
        ("DELETE", "/teams/1", None),
    ] {
        let started = Instant::now();
        let r = send(&app, method, uri, &[], body).await;
        clean(&r, 503);
        assert!(r.header("retry-after").is_some(), "{method} {uri}");
        assert!(started.elapsed() < Duration::from_secs(3), "{method} {uri}");
    }
}

async fn statement_timeout(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    let db = small_pool(&t, Some(Duration::from_millis(100))).await;
    // SQLite has no statement timeout: the router's request timeout bounds the request.
    let config = match t.backend {
        Backend::Sqlite => RouterConfig {
            request_timeout: Duration::from_millis(200),
            ..RouterConfig::default()
        },
        _ => RouterConfig::default(),
    };
    let app = app_with(db.clone(), config);
    let started = Instant::now();
    let r = send(
        &app,
        "POST",
        "/members",
        &[("x-db-sleep", "1")],
        Some(&member(1, "a@x.io")),
    )
    .await;
    let p = clean(&r, 504);
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the statement was not cut short: {:?}",
        started.elapsed()
    );
    assert!(!p["detail"].as_str().unwrap().is_empty());
    assert_eq!(count(&t.db, "members").await, 0, "nothing was written");
    // The pool recovers: the same row can be written without the slow statement. SQLite
    // cannot cancel the statement, so its only connection is busy (503, or 504 while the
    // write waits for the lock) until it ends.
    let started = Instant::now();
    loop {
        let r = send(&app, "POST", "/members", &[], Some(&member(1, "a@x.io"))).await;
        if [503, 504].contains(&r.status.as_u16()) && t.backend == Backend::Sqlite {
            clean(&r, r.status.as_u16());
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never recovered"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(r.status, 201, "{}", text(&r));
        break;
    }
    eprintln!("{:?}: recovered after {:?}", t.backend, started.elapsed());
    db.close().await;
}

async fn request_timeout(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    let config = RouterConfig {
        request_timeout: Duration::from_millis(150),
        ..RouterConfig::default()
    };
    let app = app_with(t.db.clone(), config);
    // Before the write and after it (before the commit): 504, and nothing is written.
    for header in ["x-sleep-ms", "x-sleep-after-ms"] {
        let started = Instant::now();
        let r = send(
            &app,
            "POST",
            "/members",
            &[(header, "1000")],
            Some(&member(1, "a@x.io")),
        )
        .await;
        let p = clean(&r, 504);
        assert!(p["detail"]
            .as_str()
            .unwrap()
            .contains("nothing was written"));
        assert!(started.elapsed() < Duration::from_millis(900), "{header}");
        assert_eq!(count(&t.db, "members").await, 0, "{header}");
    }
    // The abandoned transaction released its locks: the same (unique) row goes in now.
    let r = send(&app, "POST", "/members", &[], Some(&member(1, "a@x.io"))).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(count(&t.db, "members").await, 1);
    // A write already sent when the deadline passes is the database's to decide: the
    // request is answered at the deadline, "outcome unknown" (500, no `Retry-After`), not
    // held for the database and not told to retry. Another connection holds a write lock on
    // `teams` for 600 ms, which the insert waits for (whether it then runs depends on how far
    // the driver had got; `replies_lost_after_a_write` shows one that was applied).
    let teams = axum::Router::new()
        .merge(Team::router_with(RouterConfig {
            request_timeout: Duration::from_millis(150),
            ..RouterConfig::default()
        }))
        .with_state(t.db.clone());
    let holder = lock_teams_for(&t, Duration::from_millis(600)).await;
    let started = Instant::now();
    let r = send(&teams, "POST", "/teams", &[], Some(r#"{"name":"late"}"#)).await;
    let p = clean(&r, 500);
    assert_eq!(p["type"], "urn:expose:problem:outcome-unknown", "{p}");
    assert_eq!(p["title"], "Outcome unknown");
    assert!(p["detail"].as_str().unwrap().contains("may or may not"));
    assert!(r.header("retry-after").is_none());
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(150 + 1000),
        "answered after {took:?}"
    );
    holder.await.unwrap();
    // The abandoned write's connection went back to the pool only once it was done (sqlx's
    // release check): the router still writes.
    let r = send(&teams, "POST", "/teams", &[], Some(r#"{"name":"after"}"#)).await;
    assert_eq!(r.status, 201, "{}", text(&r));
}

/// Holds a lock that blocks inserts into `teams`, from another connection, for `hold`.
async fn lock_teams_for(t: &TestDb, hold: Duration) -> tokio::task::JoinHandle<()> {
    macro_rules! hold {
        ($tx:expr, $sql:expr) => {{
            let mut tx = $tx.await.unwrap();
            sqlx::query($sql).execute(&mut *tx).await.unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(hold).await;
                tx.rollback().await.unwrap();
            })
        }};
    }
    match &t.db {
        // The runtime's own writers queue in the process; this one is outside the runtime,
        // so the insert waits in SQLite's busy handler.
        Db::Sqlite(p) => hold!(p.begin_with("BEGIN IMMEDIATE"), "SELECT 1"),
        Db::Postgres(p) => hold!(p.begin(), "LOCK TABLE teams IN EXCLUSIVE MODE"),
        // A locking read of every row locks the gaps too (next-key locks): inserts wait.
        Db::MySql(p) => hold!(p.begin(), "SELECT * FROM teams FOR UPDATE"),
    }
}

/// A pool on the test's own database through a fault-injecting proxy (PostgreSQL, MySQL).
async fn proxied(t: &TestDb, config: PoolConfig) -> (Db, Arc<Proxy>) {
    let (upstream, url) = proxy::through(&url_of(t).await, 0);
    let proxy = Proxy::start(upstream).await;
    let (_, url) = proxy::through(&url, proxy.port);
    let db = Db::connect_with(&url, config)
        .await
        .expect("connect through the proxy");
    (db, proxy)
}

/// A pool of one connection through a fault-injecting proxy, handed out without sqlx's ping
/// (PostgreSQL, MySQL): a write's statement is the first thing it sends.
async fn one_connection_through_a_proxy(t: &TestDb) -> (Db, Arc<Proxy>) {
    let (upstream, url) = proxy::through(&url_of(t).await, 0);
    let proxy = Proxy::start(upstream).await;
    let (_, url) = proxy::through(&url, proxy.port);
    macro_rules! pool {
        () => {
            sqlx::pool::PoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false)
                .connect(&url)
                .await
                .unwrap()
        };
    }
    let db = match t.backend {
        Backend::Postgres => Db::Postgres(pool!()),
        _ => Db::MySql(pool!()),
    };
    (db, proxy)
}

/// While the database is unreachable every request is answered 503 + `Retry-After` within
/// the acquire timeout (1 s by default), the readiness handler says so, and the first
/// request after the database is back succeeds.
async fn database_down_and_back(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    // SQLite's "down": its file's directory is gone (and comes back).
    let dir = std::env::temp_dir().join(format!("expose-down-{}", uuid::Uuid::new_v4()));
    let (db, proxy) = match t.backend {
        Backend::Sqlite => {
            std::fs::create_dir_all(&dir).unwrap();
            let url = format!("sqlite:{}", dir.join("db.sqlite").display());
            let db = Db::connect_with(&url, PoolConfig::default()).await.unwrap();
            create_tables(&db).await;
            (db, None)
        }
        _ => {
            let (db, proxy) = proxied(&t, PoolConfig::default()).await;
            (db, Some(proxy))
        }
    };
    let app = axum::Router::new()
        .route("/ready", axum::routing::get(expose_runtime::ready))
        .with_state(db.clone())
        .merge(app_with(db.clone(), RouterConfig::default()));
    assert_eq!(get(&app, "/teams").await.status, 200);
    assert_eq!(get(&app, "/ready").await.status, 200);
    match &proxy {
        Some(p) => p.set(Mode::Refuse).await,
        None => {
            db.close().await;
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    for (method, uri, body) in [
        ("GET", "/teams", None),
        ("GET", "/teams/1", None),
        ("POST", "/members", Some(&*member(1, "a@x.io"))),
        ("DELETE", "/teams/1", None),
        ("GET", "/ready", None),
    ] {
        let started = Instant::now();
        let r = send(&app, method, uri, &[], body).await;
        clean(&r, 503);
        assert!(r.header("retry-after").is_some(), "{method} {uri}");
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(1500),
            "{method} {uri}: {took:?}"
        );
    }
    match &proxy {
        Some(p) => p.set(Mode::Pass).await,
        None => return, // a closed SQLite pool stays closed; the 503s are what it shows
    }
    let r = send(&app, "POST", "/teams", &[], Some(r#"{"name":"back"}"#)).await;
    assert_eq!(
        r.status,
        201,
        "the first request after the database is back: {}",
        text(&r)
    );
    assert_eq!(get(&app, "/ready").await.status, 200);
}

/// The server's replies are lost after a write reached it: the write is answered "outcome
/// unknown" by the request timeout (never 503 "retry"), and it was in fact applied.
async fn replies_lost_after_a_write(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    if t.backend == Backend::Sqlite {
        return; // no network between the runtime and SQLite
    }
    // One connection, whose statements a first write prepares, and no ping before it is
    // handed out: the lost write's statement is the first thing sent once replies are lost.
    let (db, proxy) = one_connection_through_a_proxy(&t).await;
    // Teams: a create without hooks is one statement that applies as it runs.
    let app = axum::Router::new()
        .merge(Team::router_with(RouterConfig {
            request_timeout: Duration::from_millis(300),
            ..RouterConfig::default()
        }))
        .with_state(db.clone());
    let r = send(&app, "POST", "/teams", &[], Some(r#"{"name":"first"}"#)).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    // Back in the pool (sqlx checks a released connection with a round trip of its own).
    let idle = || match &db {
        Db::Postgres(p) => p.num_idle(),
        Db::MySql(p) => p.num_idle(),
        Db::Sqlite(p) => p.num_idle(),
    };
    let waited = Instant::now();
    while idle() == 0 {
        assert!(waited.elapsed() < Duration::from_secs(2), "never released");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.set(Mode::LoseReplies).await;
    let started = Instant::now();
    let r = send(&app, "POST", "/teams", &[], Some(r#"{"name":"lost"}"#)).await;
    let p = clean(&r, 500);
    assert_eq!(p["type"], "urn:expose:problem:outcome-unknown", "{p}");
    assert!(r.header("retry-after").is_none());
    assert!(started.elapsed() < Duration::from_millis(300 + 1000));
    let applied = || async {
        t.db.fetch_i64("SELECT COUNT(*) FROM teams WHERE name = 'lost'")
            .await
            .unwrap()
    };
    let waited = Instant::now();
    while applied().await == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the write never reached the database"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The abandoned connection (whose reply never comes) was closed, not kept waiting in
    // the pool's only slot: with the proxy passing again, the next write gets a new one.
    proxy.set(Mode::Pass).await;
    let r = send(&app, "POST", "/teams", &[], Some(r#"{"name":"next"}"#)).await;
    assert_eq!(r.status, 201, "{}", text(&r));
}

/// The database stalls (nothing comes back, connections stay open) for longer than the
/// request timeout: writes are answered by the timeout + 1 s, nothing answered 504 is
/// written, and the pool serves again once the database does.
async fn database_stalls(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    if t.backend == Backend::Sqlite {
        return; // no network between the runtime and SQLite
    }
    let (db, proxy) = proxied(&t, PoolConfig::default()).await;
    let config = RouterConfig {
        request_timeout: Duration::from_millis(300),
        ..RouterConfig::default()
    };
    let app = app_with(db.clone(), config);
    assert_eq!(get(&app, "/members").await.status, 200);
    proxy.set(Mode::Stall).await;
    for i in 0..3 {
        let email = format!("stalled{i}@x.io");
        let started = Instant::now();
        let r = send(&app, "POST", "/members", &[], Some(&member(1, &email))).await;
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(300 + 1000),
            "answered after {took:?}"
        );
        let p = clean(&r, r.status.as_u16());
        let written = || async {
            t.db.fetch_i64(&format!(
                "SELECT COUNT(*) FROM members WHERE email = '{email}'"
            ))
            .await
            .unwrap()
        };
        match r.status.as_u16() {
            // Nothing was sent: nothing may be written.
            503 | 504 => assert_eq!(written().await, 0, "{p}"),
            500 => assert_eq!(p["type"], "urn:expose:problem:outcome-unknown", "{p}"),
            s => panic!("unexpected {s}: {p}"),
        }
    }
    proxy.cut();
    proxy.set(Mode::Pass).await;
    let started = Instant::now();
    loop {
        let r = send(
            &app,
            "POST",
            "/members",
            &[],
            Some(&member(1, "after@x.io")),
        )
        .await;
        if r.status == 201 {
            break;
        }
        let p = clean(&r, r.status.as_u16());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the pool never recovered: {p}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A router of teams whose creates keep their answers for an hour.
fn keyed_teams(db: &Db, request_timeout: Duration) -> axum::Router {
    axum::Router::new()
        .merge(Team::router_with(RouterConfig {
            request_timeout,
            idempotency_keys: Some(Duration::from_secs(3600)),
            ..RouterConfig::default()
        }))
        .with_state(db.clone())
}

async fn teams_named(t: &TestDb, name: &str) -> i64 {
    t.db.fetch_i64(&format!("SELECT COUNT(*) FROM teams WHERE name = '{name}'"))
        .await
        .unwrap()
}

/// `Idempotency-Key` on create: a retry gets the first answer and writes nothing; the same
/// key with another body is 422, while the first still runs 409, a malformed key 400.
async fn idempotency_keys(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    t.db.create_idempotency_table().await.unwrap();
    let app = keyed_teams(&t.db, Duration::from_secs(30));
    let post = |key: String, name: &str| {
        let (app, body) = (app.clone(), format!(r#"{{"name":"{name}"}}"#));
        async move {
            send(
                &app,
                "POST",
                "/teams",
                &[("idempotency-key", &key)],
                Some(&body),
            )
            .await
        }
    };
    let first = post("k-1".into(), "idem").await;
    assert_eq!(first.status, 201, "{}", text(&first));
    assert!(first.header("idempotent-replayed").is_none());
    let again = post("k-1".into(), "idem").await;
    assert_eq!(again.status, 201, "{}", text(&again));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("etag"), first.header("etag"));
    assert_eq!(text(&again), text(&first));
    assert_eq!(teams_named(&t, "idem").await, 1, "written once");
    // The same key for another request.
    let p = clean(&post("k-1".into(), "other").await, 422);
    assert_eq!(p["errors"][0]["name"], "Idempotency-Key", "{p}");
    assert_eq!(teams_named(&t, "other").await, 0);
    // Malformed keys.
    for key in [String::new(), "a b".into(), "k".repeat(256)] {
        let p = clean(&post(key.clone(), "bad").await, 400);
        assert_eq!(p["errors"][0]["name"], "Idempotency-Key", "{key:?}: {p}");
    }
    // A malformed key is refused on a router that keeps no answers too.
    let plain = axum::Router::new()
        .merge(Team::router())
        .with_state(t.db.clone());
    let key = [("idempotency-key", "a b")];
    clean(
        &send(&plain, "POST", "/teams", &key, Some(r#"{"name":"x"}"#)).await,
        400,
    );
    // While the first request with a key runs (held up by a lock), a second gets 409.
    let holder = lock_teams_for(&t, Duration::from_millis(600)).await;
    let slow = tokio::spawn(post("k-slow".into(), "slow"));
    tokio::time::sleep(Duration::from_millis(150)).await;
    clean(&post("k-slow".into(), "slow").await, 409);
    let r = slow.await.unwrap();
    assert_eq!(r.status, 201, "{}", text(&r));
    holder.await.unwrap();
    let r = post("k-slow".into(), "slow").await;
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(teams_named(&t, "slow").await, 1);
    // PATCH and DELETE keep their answers too: a repeated delete answers 204 again, not
    // 404.
    let item = first.header("location").unwrap().to_owned();
    let key = [("idempotency-key", "k-patch")];
    let patched = send(&app, "PATCH", &item, &key, Some(r#"{"name":"renamed"}"#)).await;
    assert_eq!(patched.status, 200, "{}", text(&patched));
    let again = send(&app, "PATCH", &item, &key, Some(r#"{"name":"renamed"}"#)).await;
    assert_eq!(again.status, 200, "{}", text(&again));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(text(&again), text(&patched));
    assert_eq!(again.header("etag"), patched.header("etag"));
    let key = [("idempotency-key", "k-delete")];
    assert_eq!(send(&app, "DELETE", &item, &key, None).await.status, 204);
    let again = send(&app, "DELETE", &item, &key, None).await;
    assert_eq!(again.status, 204);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Without a key, the row is simply gone.
    clean(&send(&app, "DELETE", &item, &[], None).await, 404);
    // A bulk create and a remove chosen by filters keep their answers too.
    let key = [
        ("idempotency-key", "k-bulk"),
        ("prefer", "return=representation"),
    ];
    let rows = Some(r#"[{"name":"bulk-a"},{"name":"bulk-b"}]"#);
    let bulk = send(&app, "POST", "/teams", &key, rows).await;
    assert_eq!(bulk.status, 201, "{}", text(&bulk));
    let again = send(&app, "POST", "/teams", &key, rows).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(text(&again), text(&bulk));
    assert_eq!(teams_named(&t, "bulk-a").await, 1, "written once");
    let key = [("idempotency-key", "k-bulk-delete")];
    let ids: Vec<i64> = bulk
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let uri = format!("/teams?id=in.({},{})", ids[0], ids[1]);
    assert_eq!(send(&app, "DELETE", &uri, &key, None).await.status, 204);
    let again = send(&app, "DELETE", &uri, &key, None).await;
    assert_eq!(
        (again.status.as_u16(), again.header("idempotent-replayed")),
        (204, Some("true"))
    );
    assert_eq!(teams_named(&t, "bulk-b").await, 0);
}

/// The reply to a keyed create's `COMMIT` is lost: "outcome unknown"; the client retries
/// with the same key and gets the first answer, and the table holds exactly one row.
async fn idempotent_retry_after_a_lost_commit(t: Arc<TestDb>) {
    let _ = setup(&t).await;
    if t.backend == Backend::Sqlite {
        return; // no network between the runtime and SQLite
    }
    t.db.create_idempotency_table().await.unwrap();
    let (db, proxy) = one_connection_through_a_proxy(&t).await;
    let app = keyed_teams(&db, Duration::from_millis(300));
    let post = |key: &'static str, name: &'static str| {
        let (app, body) = (app.clone(), format!(r#"{{"name":"{name}"}}"#));
        async move {
            send(
                &app,
                "POST",
                "/teams",
                &[("idempotency-key", key)],
                Some(&body),
            )
            .await
        }
    };
    let r = post("warm", "warm").await;
    assert_eq!(r.status, 201, "{}", text(&r));
    proxy.set(Mode::LoseRepliesAfter(b"COMMIT")).await;
    let r = post("k-lost", "lost").await;
    let p = clean(&r, 500);
    assert_eq!(p["type"], "urn:expose:problem:outcome-unknown", "{p}");
    // The dead connection is closed (as TCP keep-alive would), the database answers again.
    proxy.cut();
    proxy.set(Mode::Pass).await;
    let waited = Instant::now();
    while teams_named(&t, "lost").await == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "the COMMIT never landed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The retry: the first answer, nothing written again.
    let started = Instant::now();
    let r = loop {
        let r = post("k-lost", "lost").await;
        if r.status != 503 || started.elapsed() > Duration::from_secs(5) {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(r.header("idempotent-replayed"), Some("true"));
    assert_eq!(teams_named(&t, "lost").await, 1, "exactly one row");
}

backend_tests!(
    unique_violations,
    foreign_keys,
    invalid_values,
    pool_exhausted,
    database_closed,
    database_unreachable,
    statement_timeout,
    request_timeout,
    database_down_and_back,
    replies_lost_after_a_write,
    database_stalls,
    idempotency_keys,
    idempotent_retry_after_a_lost_commit,
);
