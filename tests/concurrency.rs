//! End-to-end: no lost updates. Conditional requests (`ETag`, `If-Match`, `If-None-Match`,
//! `require_if_match`) and many concurrent clients incrementing one counter, on every backend.

mod support;

use expose_runtime::{expose, Backend, Db};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use support::{get, send, Reply, TestDb};

/// A counter with a row version: writes must name the version they read.
#[expose(
    as = "counters",
    list,
    retrieve,
    create,
    update(require_if_match),
    remove(require_if_match)
)]
pub struct Counter {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub n: i64,
    #[expose(version, default)]
    pub version: i64,
}

/// A counter without a version field: its `ETag` is a hash of its content, and `If-Match`
/// is optional.
#[expose(as = "tallies", retrieve, create, update, remove)]
pub struct Tally {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub n: i64,
}

async fn setup(t: &TestDb) -> axum::Router {
    let ddl: &[&str] = match t.backend {
        Backend::Sqlite => &[
            "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
             n BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
            "CREATE TABLE tallies (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
             n BIGINT NOT NULL)",
        ],
        Backend::Postgres => &[
            "CREATE TABLE counters (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,
             n BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
            "CREATE TABLE tallies (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL,
             n BIGINT NOT NULL)",
        ],
        Backend::MySql => &[
            "CREATE TABLE counters (id BIGINT AUTO_INCREMENT PRIMARY KEY,
             name VARCHAR(255) NOT NULL, n BIGINT NOT NULL, version BIGINT NOT NULL DEFAULT 1)",
            "CREATE TABLE tallies (id BIGINT AUTO_INCREMENT PRIMARY KEY,
             name VARCHAR(255) NOT NULL, n BIGINT NOT NULL)",
        ],
    };
    for sql in ddl {
        t.db.execute(sql).await.expect("create table");
    }
    let db: Db = t.db.clone();
    axum::Router::new()
        .merge(Counter::router())
        .merge(Tally::router())
        .with_state(db)
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn etag(r: &Reply) -> String {
    r.header("etag")
        .unwrap_or_else(|| panic!("no ETag on {} {}", r.status, text(r)))
        .to_owned()
}

/// Creates a row of `path` named `name` with `n = 0`; returns its location and tag.
async fn create(app: &axum::Router, path: &str, name: &str) -> (String, String) {
    let body = format!(r#"{{"name":"{name}","n":0}}"#);
    let r = send(app, "POST", path, &[], Some(&body)).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    let location = r.header("location").expect("Location").to_owned();
    (location, etag(&r))
}

fn patch_n(n: i64) -> String {
    format!(r#"{{"n":{n}}}"#)
}

/// What the concurrent clients did.
#[derive(Default)]
struct Stats {
    ok: AtomicU64,
    stale: AtomicU64,
    busy: AtomicU64,
}

/// `clients` tasks each increment `uri`'s `n` `each` times through GET + PATCH with
/// `If-Match`, retrying on 412 (stale) and 503 (busy). Returns the counts.
async fn hammer(app: &axum::Router, uri: &str, clients: u64, each: u64) -> Arc<Stats> {
    let stats = Arc::new(Stats::default());
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (app, uri, stats) = (app.clone(), uri.to_owned(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            let mut attempts = 0;
            while done < each {
                attempts += 1;
                assert!(
                    attempts < 5_000,
                    "client {client} made no progress in {attempts} attempts"
                );
                let r = get(&app, &uri).await;
                if r.status == 503 {
                    r.problem(503);
                    stats.busy.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                assert_eq!(r.status, 200, "{}", text(&r));
                let tag = etag(&r);
                let n = r.json()["n"].as_i64().expect("n");
                let r = send(
                    &app,
                    "PATCH",
                    &uri,
                    &[("if-match", &tag)],
                    Some(&patch_n(n + 1)),
                )
                .await;
                match r.status.as_u16() {
                    200 => {
                        assert_eq!(r.json()["n"], n + 1);
                        assert_ne!(etag(&r), tag, "the tag must change with the row");
                        stats.ok.fetch_add(1, Ordering::Relaxed);
                        done += 1;
                    }
                    412 => {
                        r.problem(412);
                        stats.stale.fetch_add(1, Ordering::Relaxed);
                    }
                    503 => {
                        r.problem(503);
                        assert!(r.header("retry-after").is_some());
                        stats.busy.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    }
                    s => panic!("PATCH {uri}: {s} {}", text(&r)),
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("a client panicked");
    }
    stats
}

const CLIENTS: u64 = 8;
const EACH: u64 = 6;

async fn increments_are_never_lost(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let (uri, _) = create(&app, "/counters", "shared").await;
    let stats = hammer(&app, &uri, CLIENTS, EACH).await;
    let ok = stats.ok.load(Ordering::Relaxed);
    assert_eq!(ok, CLIENTS * EACH);
    let r = get(&app, &uri).await;
    assert_eq!(r.status, 200);
    let row = r.json();
    assert_eq!(row["n"], ok as i64, "lost updates: {row}");
    assert_eq!(
        row["version"],
        1 + ok as i64,
        "one version per update: {row}"
    );
    // The same through the database, not the API.
    let n =
        t.db.fetch_i64("SELECT n FROM counters WHERE name = 'shared'")
            .await
            .unwrap();
    assert_eq!(n, ok as i64);
    eprintln!(
        "{:?}: {ok} increments, {} stale (412), {} busy (503)",
        t.backend,
        stats.stale.load(Ordering::Relaxed),
        stats.busy.load(Ordering::Relaxed)
    );
}

async fn content_tags_lose_no_updates_either(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let (uri, _) = create(&app, "/tallies", "shared").await;
    let stats = hammer(&app, &uri, 4, 5).await;
    let ok = stats.ok.load(Ordering::Relaxed);
    assert_eq!(ok, 20);
    assert_eq!(get(&app, &uri).await.json()["n"], 20);
}

async fn conditional_requests(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let (uri, created) = create(&app, "/counters", "c").await;
    let other = create(&app, "/counters", "other").await.0;
    // Create, retrieve and a narrowed retrieve agree on the tag.
    let r = get(&app, &uri).await;
    assert_eq!(r.status, 200);
    let e0 = etag(&r);
    assert_eq!(e0, created);
    assert!(
        e0.starts_with('"') && e0.ends_with('"'),
        "a strong tag: {e0}"
    );
    assert_eq!(r.json()["version"], 1);
    assert_eq!(etag(&get(&app, &format!("{uri}?select=n")).await), e0);
    assert_ne!(etag(&get(&app, &other).await), e0, "tags differ per row");
    // If-None-Match: 304 with the tag and no body when it matches (weak comparison).
    let weak = format!("W/{e0}");
    for inm in [e0.as_str(), weak.as_str(), "*", &format!("\"x\", {e0}")] {
        let r = send(&app, "GET", &uri, &[("if-none-match", inm)], None).await;
        assert_eq!(r.status, 304, "If-None-Match: {inm}");
        assert_eq!(etag(&r), e0);
        assert!(r.body.is_empty());
    }
    let r = send(&app, "GET", &uri, &[("if-none-match", "\"x\"")], None).await;
    assert_eq!(r.status, 200);
    // Writes without If-Match: 428, and nothing changes.
    let p = send(&app, "PATCH", &uri, &[], Some(&patch_n(5)))
        .await
        .problem(428);
    assert!(p["detail"].as_str().unwrap().contains("If-Match"), "{p}");
    send(&app, "DELETE", &uri, &[], None).await.problem(428);
    // A tag that does not match, or a weak one (strong comparison): 412.
    for im in ["\"0000000000000000\"", weak.as_str(), "\"\"", "garbage"] {
        send(&app, "PATCH", &uri, &[("if-match", im)], Some(&patch_n(5)))
            .await
            .problem(412);
        send(&app, "DELETE", &uri, &[("if-match", im)], None)
            .await
            .problem(412);
    }
    // Another row's tag does not unlock this one.
    let other_tag = etag(&get(&app, &other).await);
    send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", &other_tag)],
        Some(&patch_n(5)),
    )
    .await
    .problem(412);
    let r = get(&app, &uri).await;
    assert_eq!(etag(&r), e0);
    assert_eq!(r.json()["n"], 0);
    assert_eq!(r.json()["version"], 1);
    // The current tag: 200, a new tag, the version bumped.
    let r = send(&app, "PATCH", &uri, &[("if-match", &e0)], Some(&patch_n(1))).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let e1 = etag(&r);
    assert_ne!(e1, e0);
    assert_eq!(r.json()["n"], 1);
    assert_eq!(r.json()["version"], 2);
    let r = get(&app, &uri).await;
    assert_eq!(etag(&r), e1, "update and retrieve agree on the tag");
    // The old tag is now stale everywhere.
    send(&app, "PATCH", &uri, &[("if-match", &e0)], Some(&patch_n(9)))
        .await
        .problem(412);
    send(&app, "DELETE", &uri, &[("if-match", &e0)], None)
        .await
        .problem(412);
    let r = send(&app, "GET", &uri, &[("if-none-match", &e0)], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["n"], 1);
    // The version cannot be written by the client.
    let p = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", &e1)],
        Some(r#"{"version":1}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["name"], "version", "{p}");
    // A list of tags matches when one does; `*` matches any current row.
    let list = format!("\"nope\", {e1}");
    let r = send(
        &app,
        "PATCH",
        &uri,
        &[("if-match", &list)],
        Some(&patch_n(2)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let e2 = etag(&r);
    let r = send(&app, "PATCH", &uri, &[("if-match", "*")], Some(&patch_n(3))).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.json()["version"], 4);
    let e3 = etag(&r);
    assert!(e2 != e3 && e1 != e3);
    // Even an update that writes the same value bumps the version, so the tag changes.
    let r = send(&app, "PATCH", &uri, &[("if-match", &e3)], Some(&patch_n(3))).await;
    assert_eq!(r.status, 200);
    let e4 = etag(&r);
    assert_ne!(e4, e3);
    // DELETE: stale 412, current 204; then the row is gone for every precondition.
    send(&app, "DELETE", &uri, &[("if-match", &e3)], None)
        .await
        .problem(412);
    let r = send(&app, "DELETE", &uri, &[("if-match", &e4)], None).await;
    assert_eq!(r.status, 204, "{}", text(&r));
    send(&app, "PATCH", &uri, &[("if-match", "*")], Some(&patch_n(1)))
        .await
        .problem(404);
    send(&app, "DELETE", &uri, &[("if-match", &e4)], None)
        .await
        .problem(404);
    send(&app, "GET", &uri, &[("if-none-match", &e4)], None)
        .await
        .problem(404);
    // The other row was never touched.
    assert_eq!(etag(&get(&app, &other).await), other_tag);
}

async fn content_tags(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let (uri, created) = create(&app, "/tallies", "t").await;
    let r = get(&app, &uri).await;
    let e0 = etag(&r);
    assert_eq!(e0, created);
    let r = send(&app, "GET", &uri, &[("if-none-match", &e0)], None).await;
    assert_eq!(r.status, 304);
    // If-Match is optional here...
    let r = send(&app, "PATCH", &uri, &[], Some(&patch_n(1))).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    let e1 = etag(&r);
    assert_ne!(e1, e0, "the content changed, so the tag did");
    // ...but a stale one is refused, on update and remove, and nothing changes.
    send(&app, "PATCH", &uri, &[("if-match", &e0)], Some(&patch_n(7)))
        .await
        .problem(412);
    send(&app, "DELETE", &uri, &[("if-match", &e0)], None)
        .await
        .problem(412);
    let r = get(&app, &uri).await;
    assert_eq!(r.json()["n"], 1);
    assert_eq!(etag(&r), e1);
    let r = send(&app, "GET", &uri, &[("if-none-match", &e0)], None).await;
    assert_eq!(r.status, 200);
    // The current tag is accepted; the same content gives the same tag back.
    let r = send(&app, "PATCH", &uri, &[("if-match", &e1)], Some(&patch_n(0))).await;
    assert_eq!(r.status, 200);
    assert_eq!(etag(&r), e0, "content tags depend on the content only");
    let r = send(&app, "DELETE", &uri, &[("if-match", &e0)], None).await;
    assert_eq!(r.status, 204);
    get(&app, &uri).await.problem(404);
}

backend_tests!(
    increments_are_never_lost,
    content_tags_lose_no_updates_either,
    conditional_requests,
    content_tags,
);
