//! End-to-end: scopes check the rows writes leave (PostgreSQL's `WITH CHECK`), with what
//! may be read and what may be written given apart, on every backend: single, bulk,
//! filter-chosen and upserted writes, each refused with 403 and nothing written.

mod support;

use expose_runtime::{expose, Backend, HookCtx, Problem, Scope};
use serde_json::json;
use std::sync::Arc;
use support::{send, Reply, TestDb};

/// The caller: a header names the owner id (a stand-in for authentication).
fn owner(ctx: &HookCtx) -> Option<i64> {
    ctx.headers().get("x-owner")?.to_str().ok()?.parse().ok()
}

#[expose(
    as = "tasks",
    all(scope = tasks_scope),
    list(order = "id"),
    retrieve,
    create(upsert),
    update,
    replace,
    remove
)]
pub struct Task {
    #[expose(id)]
    pub id: i64,
    pub owner_id: i64,
    pub shared: bool,
    pub title: String,
}

/// Read: one's own tasks and shared ones; write: only one's own. No header: everything.
fn tasks_scope(ctx: &HookCtx) -> Result<Scope<Task>, Problem> {
    Ok(match owner(ctx) {
        Some(me) => {
            let own = Task::FIELDS.owner_id.eq(me);
            Scope::reads(own.clone().or(Task::FIELDS.shared.eq(true))).writes(own)
        }
        None => Scope::all(),
    })
}

async fn setup(t: &TestDb) -> axum::Router {
    let tail = match t.backend {
        Backend::MySql => " DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin",
        _ => "",
    };
    t.db.execute(&format!(
        "CREATE TABLE tasks (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL, \
         shared BOOLEAN NOT NULL, title VARCHAR(100) NOT NULL){tail}"
    ))
    .await
    .unwrap();
    t.db.execute(
        "INSERT INTO tasks (id, owner_id, shared, title) VALUES \
         (1, 1, FALSE, 'a'), (2, 1, TRUE, 'b'), (3, 2, TRUE, 'c'), (4, 2, FALSE, 'd')",
    )
    .await
    .unwrap();
    Task::router().with_state(t.db.clone())
}

async fn as_owner(
    app: &axum::Router,
    me: &str,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> Reply {
    let body = body.map(|b| b.to_string());
    send(app, method, uri, &[("x-owner", me)], body.as_deref()).await
}

async fn snapshot(t: &TestDb) -> Vec<(i64, i64, String)> {
    t.db.fetch_all("SELECT id, owner_id, title FROM tasks ORDER BY id", &[])
        .await
        .unwrap()
}

async fn reads_and_writes_differ(t: Arc<TestDb>) {
    let app = setup(&t).await;
    // Reads: own and shared.
    let r = as_owner(&app, "1", "GET", "/tasks", None).await;
    let ids: Vec<i64> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    // Writes reach only own rows: task 3 is readable but not writable (404, as a row
    // outside the scope).
    as_owner(&app, "1", "PATCH", "/tasks/3", Some(json!({"title": "x"})))
        .await
        .problem(404);
    as_owner(&app, "1", "DELETE", "/tasks/3", None)
        .await
        .problem(404);
    let r = as_owner(
        &app,
        "1",
        "PATCH",
        "/tasks/2",
        Some(json!({"title": "mine"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(snapshot(&t).await[1].2, "mine");
}

async fn creates_are_checked(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let before = snapshot(&t).await;
    let p = as_owner(
        &app,
        "1",
        "POST",
        "/tasks",
        Some(json!({"id": 9, "owner_id": 2, "shared": true, "title": "x"})),
    )
    .await
    .problem(403);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("outside what you may write"),
        "{p}"
    );
    // In bulk, one row outside: nothing written.
    let rows = json!([
        {"id": 10, "owner_id": 1, "shared": false, "title": "ok"},
        {"id": 11, "owner_id": 2, "shared": false, "title": "not mine"}
    ]);
    as_owner(&app, "1", "POST", "/tasks", Some(rows))
        .await
        .problem(403);
    assert_eq!(snapshot(&t).await, before, "nothing written");
    // An upsert merging into one's own row, moving it to another owner: refused.
    let r = send(
        &app,
        "POST",
        "/tasks",
        &[("x-owner", "1"), ("prefer", "resolution=merge-duplicates")],
        Some(
            &json!([{"id": 1, "owner_id": 2, "shared": false, "title": "given away"}]).to_string(),
        ),
    )
    .await;
    r.problem(403);
    assert_eq!(snapshot(&t).await, before, "nothing written");
    // Within the scope: written.
    let r = as_owner(
        &app,
        "1",
        "POST",
        "/tasks",
        Some(json!({"id": 12, "owner_id": 1, "shared": false, "title": "ok"})),
    )
    .await;
    assert_eq!(r.status, 201);
}

async fn updates_are_checked(t: Arc<TestDb>) {
    let app = setup(&t).await;
    let before = snapshot(&t).await;
    // Moving one's own row to another owner.
    as_owner(&app, "1", "PATCH", "/tasks/1", Some(json!({"owner_id": 2})))
        .await
        .problem(403);
    as_owner(
        &app,
        "1",
        "PUT",
        "/tasks/1",
        Some(json!({"id": 1, "owner_id": 2, "shared": false, "title": "a"})),
    )
    .await
    .problem(403);
    // Filter-chosen: both own rows, one would be fine alone; nothing written.
    as_owner(
        &app,
        "1",
        "PATCH",
        "/tasks?id=in.(1,2)",
        Some(json!({"owner_id": 2})),
    )
    .await
    .problem(403);
    assert_eq!(snapshot(&t).await, before, "nothing written");
    // Without a caller (scope: every row), the same update is allowed.
    let r = send(
        &app,
        "PATCH",
        "/tasks/1",
        &[],
        Some(&json!({"owner_id": 2}).to_string()),
    )
    .await;
    assert_eq!(r.status, 200);
}

backend_tests!(
    reads_and_writes_differ,
    creates_are_checked,
    updates_are_checked
);
