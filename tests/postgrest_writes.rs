//! End-to-end: PostgREST's write protocol on the `people` example, on every backend — bulk
//! insert, upsert, writes chosen by filters, `PUT` by key, `Prefer` and the singular
//! `Accept` — and every refusal, each checked to have written nothing.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use expose_runtime::{expose, Backend, HookCtx, Problem};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use support::{get, send, Reply, TestDb};

const OBJECT: &str = "application/vnd.pgrst.object+json";

async fn people(t: &TestDb, rows: u64) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, rows).await.expect("seed");
    app::app(t.db.clone())
}

fn person(n: u32) -> Json {
    json!({"name": format!("New {n}"), "email": format!("new{n}@example.com"),
           "password": "pw", "age": 20 + n})
}

fn text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// Every row as the API shows it, in key order: what "nothing was written" compares.
async fn all(app: &axum::Router) -> Json {
    let r = get(app, "/people?limit=1000&order=id").await;
    assert_eq!(r.status, 200, "{}", text(&r));
    r.json()
}

async fn by_email(app: &axum::Router, email: &str) -> Json {
    get(app, &format!("/people?email=eq.{email}")).await.json()
}

async fn bulk_insert(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    // postgrest-js's insert of many: `columns` with the union of the keys, an array back.
    let rows = json!([person(1), person(2), {"name": "Three", "email": "three@example.com",
                      "password": "pw", "age": 33, "bio": "b", "ignored": "not in columns"}]);
    let r = send(
        &app,
        "POST",
        "/people?columns=%22name%22,%22email%22,%22password%22,%22age%22,%22bio%22&select=id,email,bio",
        &[("prefer", "return=representation, count=exact")],
        Some(&rows.to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", text(&r));
    let got = r.json();
    assert_eq!(got.as_array().unwrap().len(), 3, "{got}");
    assert_eq!(
        got[0],
        json!({"id": 6, "email": "new1@example.com", "bio": null})
    );
    assert_eq!(got[2]["bio"], "b");
    assert_eq!(r.header("content-range"), Some("*/3"));
    assert!(r
        .header("preference-applied")
        .is_some_and(|p| p.contains("return=representation") && p.contains("count=exact")));
    assert_eq!(app::count(&t.db).await.unwrap(), 8);
    // Without a preference: 201 and no body (PostgREST's default).
    let r = send(
        &app,
        "POST",
        "/people",
        &[],
        Some(&json!([person(4)]).to_string()),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.len()), (201, 0), "{}", text(&r));
    assert_eq!(by_email(&app, "new4@example.com").await[0]["age"], 24);
    // `missing=default`: a field a row omits takes its default; without it, null.
    let rows = json!([{"name": "D1", "email": "d1@example.com", "password": "p", "age": 1,
                       "bio": "has"},
                      {"name": "D2", "email": "d2@example.com", "password": "p", "age": 2}]);
    let r = send(
        &app,
        "POST",
        "/people",
        &[("prefer", "return=representation,missing=default")],
        Some(&rows.to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(r.json()[1]["bio"], Json::Null);
    assert_eq!(r.json()[1]["is_admin"], false);
    assert!(r
        .header("preference-applied")
        .is_some_and(|p| p.contains("missing=default")));
    // One object with `return=representation` is an array too; with the singular Accept,
    // the object.
    let r = send(
        &app,
        "POST",
        "/people",
        &[("prefer", "return=representation")],
        Some(&person(5).to_string()),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(r.json().is_array());
    assert_eq!(r.json().as_array().map(Vec::len), Some(1), "{}", text(&r));
    assert_eq!(r.json()[0]["email"], "new5@example.com");
    let r = send(
        &app,
        "POST",
        "/people",
        &[("prefer", "return=representation"), ("accept", OBJECT)],
        Some(&person(6).to_string()),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["email"], "new6@example.com");
    // Without `Prefer`, one object keeps REST's answer: the object and `Location`.
    let r = send(&app, "POST", "/people", &[], Some(&person(7).to_string())).await;
    assert_eq!(r.status, 201);
    assert!(r.header("location").is_some());
    assert_eq!(r.json()["email"], "new7@example.com");
}

async fn bulk_refusals(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    let before = all(&app).await;
    let post = |uri: &'static str, prefer: &'static str, body: String| {
        let app = app.clone();
        async move {
            let headers: Vec<(&str, &str)> = match prefer {
                "" => vec![],
                p => vec![("prefer", p)],
            };
            send(&app, "POST", uri, &headers, Some(&body)).await
        }
    };
    // More rows than the model's `max_rows`: 413.
    let many: Vec<Json> = (0..1001).map(person).collect();
    post("/people", "", Json::from(many).to_string())
        .await
        .problem(413);
    // One bad row: 422 naming the row and the field; the good rows are not written.
    let rows = json!([person(1), {"name": "x", "email": "x@example.com", "password": "p",
                      "age": "old"}, person(3)]);
    let p = post("/people", "", rows.to_string()).await.problem(422);
    assert_eq!(p["errors"][0]["name"], "[1].age", "{p}");
    // A duplicate e-mail inside the batch: 409, none written.
    let rows = json!([person(1), person(1)]);
    post("/people", "", rows.to_string()).await.problem(409);
    // `columns` naming a field the client may not write, or no field at all: 400.
    for columns in [
        "name,is_admin",
        "name,id",
        "name,nothing",
        "name,created_at",
    ] {
        let uri: &'static str = Box::leak(format!("/people?columns={columns}").into_boxed_str());
        let p = post(uri, "", json!([person(1)]).to_string())
            .await
            .problem(400);
        assert_eq!(p["errors"][0]["name"], "columns", "{p}");
    }
    // Upsert refusals: a conflict target that is not a unique key, `on_conflict` without a
    // resolution, a row without the conflict field.
    post(
        "/people?on_conflict=name",
        "resolution=merge-duplicates",
        json!([person(1)]).to_string(),
    )
    .await
    .problem(400);
    post(
        "/people?on_conflict=email",
        "",
        json!([person(1)]).to_string(),
    )
    .await
    .problem(400);
    post(
        "/people?on_conflict=email",
        "resolution=merge-duplicates",
        json!([{"name": "n", "password": "p", "age": 1}]).to_string(),
    )
    .await
    .problem(422);
    // The singular Accept on two rows: 406.
    let r = send(
        &app,
        "POST",
        "/people",
        &[("accept", OBJECT), ("prefer", "return=representation")],
        Some(&json!([person(1), person(2)]).to_string()),
    )
    .await;
    r.problem(406);
    assert_eq!(all(&app).await, before, "a refused write changed the table");
}

async fn upsert(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    let rep = [(
        "prefer",
        "resolution=merge-duplicates, return=representation",
    )];
    // Merge into person 2 (by e-mail): 200, the row changed, only the fields sent.
    let body = json!({"name": "Two", "email": "person2@example.com", "password": "pw",
                      "age": 99});
    let r = send(
        &app,
        "POST",
        "/people?on_conflict=email",
        &rep,
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.json()[0]["id"], 2);
    assert_eq!(r.json()[0]["age"], 99);
    assert!(r
        .header("preference-applied")
        .is_some_and(|p| p.contains("resolution=merge-duplicates")));
    let two = get(&app, "/people/2").await.json();
    assert_eq!(
        (two["name"].clone(), two["age"].clone()),
        (json!("Two"), json!(99))
    );
    assert_eq!(
        two["bio"], "Bio of person 2",
        "a field not sent is left as it was"
    );
    // Ignore: the existing row is untouched, nothing comes back, 200.
    let body = json!({"name": "Ignored", "email": "person3@example.com", "password": "pw",
                      "age": 1});
    let r = send(
        &app,
        "POST",
        "/people?on_conflict=email",
        &[(
            "prefer",
            "resolution=ignore-duplicates, return=representation",
        )],
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.json(), json!([]));
    assert_eq!(get(&app, "/people/3").await.json()["name"], "Person 3");
    // A new row and an existing one in one request: 201, both in the answer.
    let rows = json!([person(1), {"name": "Four", "email": "person4@example.com",
                      "password": "pw", "age": 44}]);
    let r = send(
        &app,
        "POST",
        "/people?on_conflict=email",
        &rep,
        Some(&rows.to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", text(&r));
    let got = r.json();
    assert_eq!(got.as_array().unwrap().len(), 2, "{got}");
    assert_eq!(got[1]["id"], 4);
    assert_eq!(got[1]["name"], "Four");
    assert_eq!(by_email(&app, "new1@example.com").await[0]["age"], 21);
    assert_eq!(app::count(&t.db).await.unwrap(), 6);
    // On the key (no `on_conflict`): the row with that id, when the key is sent.
    let r = send(
        &app,
        "POST",
        "/people",
        &[("prefer", "resolution=merge-duplicates")],
        Some(
            &json!({"name": "n", "email": "person5@example.com", "password": "p", "age": 5})
                .to_string(),
        ),
    )
    .await;
    // people's key is generated and not writable: a row without it cannot match.
    r.problem(422);
}

async fn update_by_filters(t: Arc<TestDb>) {
    let app = people(&t, 150).await;
    let rep = [("prefer", "return=representation,count=exact")];
    let r = send(
        &app,
        "PATCH",
        "/people?id=in.(1,2,3)&select=id,age",
        &rep,
        Some(r#"{"age":55}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!([{"id":1,"age":55},{"id":2,"age":55},{"id":3,"age":55}])
    );
    assert_eq!(r.header("content-range"), Some("*/3"));
    assert_eq!(get(&app, "/people/2").await.json()["age"], 55);
    // No preference: 204; matching nothing: 204, or 200 with [] when rows are asked for.
    let r = send(
        &app,
        "PATCH",
        "/people?email=eq.person4@example.com",
        &[],
        Some(r#"{"name":"Four"}"#),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.len()), (204, 0));
    assert_eq!(get(&app, "/people/4").await.json()["name"], "Four");
    let r = send(
        &app,
        "PATCH",
        "/people?id=eq.9999",
        &[],
        Some(r#"{"age":1}"#),
    )
    .await;
    assert_eq!(r.status, 204);
    let r = send(
        &app,
        "PATCH",
        "/people?id=eq.9999",
        &rep,
        Some(r#"{"age":1}"#),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.json()), (200, json!([])));
    assert_eq!(r.header("content-range"), Some("*/0"));
    // The full grammar, within the whitelist: `or`, `not`, `like`.
    let r = send(
        &app,
        "PATCH",
        "/people?or=(id.eq.10,name.eq.Person%2011)&age=not.eq.0",
        &rep,
        Some(r#"{"age":66}"#),
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 2, "{}", text(&r));
    // The singular Accept with one row: the object.
    let r = send(
        &app,
        "PATCH",
        "/people?id=eq.12",
        &[("prefer", "return=representation"), ("accept", OBJECT)],
        Some(r#"{"age":12}"#),
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()["age"].clone()),
        (200, json!(12))
    );
    // `max-affected` under `handling=strict`, within the bound: written.
    let r = send(
        &app,
        "PATCH",
        "/people?id=in.(20,21)",
        &[("prefer", "handling=strict, max-affected=2")],
        Some(r#"{"age":21}"#),
    )
    .await;
    assert_eq!(r.status, 204, "{}", text(&r));
    assert_eq!(get(&app, "/people/21").await.json()["age"], 21);
}

async fn update_refusals(t: Arc<TestDb>) {
    let app = people(&t, 150).await;
    let before = all(&app).await;
    let patch = |uri: &'static str, headers: Vec<(&'static str, &'static str)>| {
        let app = app.clone();
        async move { send(&app, "PATCH", uri, &headers, Some(r#"{"age":1}"#)).await }
    };
    // A field outside the whitelist (readable, but not filterable on writes), or hidden.
    let p = patch("/people?bio=is.null", vec![]).await.problem(400);
    assert_eq!(p["errors"][0]["name"], "bio", "{p}");
    let p = patch("/people?password=eq.secret-1", vec![])
        .await
        .problem(400);
    assert!(!p.to_string().contains("secret-1") || p["errors"][0]["name"] == "password");
    // No filter at all; `order` and `limit` (PostgREST removed limited updates).
    patch("/people", vec![]).await.problem(400);
    patch("/people?id=lt.5&limit=1", vec![]).await.problem(400);
    patch("/people?id=lt.5&order=id", vec![]).await.problem(400);
    // Over the model's cap (100 rows), even without a preference.
    let p = patch("/people?age=gte.0", vec![]).await.problem(400);
    assert!(p["detail"].as_str().unwrap().contains("100"), "{p}");
    // Over the request's `max-affected`.
    patch(
        "/people?id=in.(1,2,3)",
        vec![("prefer", "handling=strict, max-affected=2")],
    )
    .await
    .problem(400);
    // The singular Accept on two rows.
    patch(
        "/people?id=in.(1,2)",
        vec![("accept", OBJECT), ("prefer", "return=representation")],
    )
    .await
    .problem(406);
    // A body field the client may not write.
    let r = send(
        &app,
        "PATCH",
        "/people?id=eq.1",
        &[],
        Some(r#"{"is_admin":true}"#),
    )
    .await;
    r.problem(422);
    assert_eq!(all(&app).await, before, "a refused write changed the table");
    // Without `handling=strict`, `max-affected` is not honoured (as PostgREST).
    let r = patch("/people?id=in.(1,2,3)", vec![("prefer", "max-affected=2")]).await;
    assert_eq!(r.status, 204);
}

async fn remove_by_filters(t: Arc<TestDb>) {
    let app = people(&t, 150).await;
    let before = all(&app).await;
    let delete = |uri: &'static str, headers: Vec<(&'static str, &'static str)>| {
        let app = app.clone();
        async move { send(&app, "DELETE", uri, &headers, None).await }
    };
    // Refusals first, none of which removes anything.
    delete("/people", vec![]).await.problem(400);
    delete("/people?bio=is.null", vec![]).await.problem(400);
    delete("/people?age=gte.0", vec![]).await.problem(400);
    delete(
        "/people?id=in.(1,2)",
        vec![("prefer", "handling=strict,max-affected=1")],
    )
    .await
    .problem(400);
    delete("/people?id=in.(1,2)", vec![("accept", OBJECT)])
        .await
        .problem(406);
    assert_eq!(all(&app).await, before);
    // The removed rows come back when asked for.
    let r = delete(
        "/people?id=in.(1,2)&select=id,name",
        vec![("prefer", "return=representation, count=exact")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!([{"id":1,"name":"Person 1"},{"id":2,"name":"Person 2"}])
    );
    assert_eq!(r.header("content-range"), Some("*/2"));
    let r = delete("/people?email=eq.person3@example.com", vec![]).await;
    assert_eq!(r.status, 204);
    get(&app, "/people/3").await.problem(404);
    assert_eq!(app::count(&t.db).await.unwrap(), 147);
    // One row with the singular Accept: the object.
    let r = delete(
        "/people?id=eq.4",
        vec![("accept", OBJECT), ("prefer", "return=representation")],
    )
    .await;
    assert_eq!(r.json()["id"], 4);
}

async fn replace(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    let full = json!({"name": "Five", "email": "five@example.com", "password": "pw",
                      "age": 50, "bio": null});
    let r = send(&app, "PUT", "/people/5", &[], Some(&full.to_string())).await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(r.json()["name"], "Five");
    assert_eq!(get(&app, "/people/5").await.json()["bio"], Json::Null);
    // A key with no row: inserted with that key, 201.
    let new = json!({"id": 500, "name": "N", "email": "n500@example.com", "password": "pw",
                     "age": 5, "bio": "b"});
    let r = send(&app, "PUT", "/people/500", &[], Some(&new.to_string())).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(
        get(&app, "/people/500").await.json()["email"],
        "n500@example.com"
    );
    let before = all(&app).await;
    // Every writable field is required; the body's key must be the path's.
    let p = send(&app, "PUT", "/people/5", &[], Some(r#"{"name":"x"}"#))
        .await
        .problem(422);
    assert!(p["errors"].as_array().unwrap().len() >= 3, "{p}");
    let mut moved = full.clone();
    moved["id"] = json!(6);
    send(&app, "PUT", "/people/5", &[], Some(&moved.to_string()))
        .await
        .problem(400);
    // A stale `If-Match`, and `If-Match` on a row that does not exist: 412.
    let r = send(
        &app,
        "PUT",
        "/people/5",
        &[("if-match", "\"0\"")],
        Some(&full.to_string()),
    )
    .await;
    r.problem(412);
    let r = send(
        &app,
        "PUT",
        "/people/77",
        &[("if-match", "\"0\"")],
        Some(&full.to_string()),
    )
    .await;
    r.problem(412);
    assert_eq!(all(&app).await, before);
}

/// Concurrent writes chosen by overlapping filters all succeed and are all applied: none
/// answers 503 (PostgreSQL may choose one as a deadlock's victim, which undoes it whole;
/// the runtime sends it again).
async fn overlapping_writes_all_apply(t: Arc<TestDb>) {
    let app = people(&t, 300).await;
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let lo = 1 + (i % 6) * 20;
            let uri = format!("/people?id=gte.{lo}&id=lt.{}", lo + 90);
            let body = format!(r#"{{"age":{}}}"#, 100 + i);
            let r = send(&app, "PATCH", &uri, &[], Some(&body)).await;
            (r.status.as_u16(), text(&r))
        }));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 204, "{body}");
    }
    let r = get(&app, "/people?age=gte.100&limit=1000").await;
    assert_eq!(r.json().as_array().unwrap().len(), 190);
}

/// The same when the filters are not on the key (PostgreSQL's plan then meets the rows in
/// the table's physical order, a bitmap or sequential scan, not in key order, and two
/// writes deadlock more often): 24 concurrent writes chosen by overlapping age ranges, each
/// changing a name, all applied.
async fn overlapping_writes_by_other_fields_all_apply(t: Arc<TestDb>) {
    let app = people(&t, 300).await;
    let mut tasks = Vec::new();
    for i in 0..24u32 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            // Seeded ages run over 18..=77, five rows each: 15 ages are 75 rows.
            let lo = 18 + (i % 6) * 8;
            let uri = format!("/people?age=gte.{lo}&age=lt.{}", lo + 15);
            let body = format!(r#"{{"name":"W{i}"}}"#);
            let r = send(&app, "PATCH", &uri, &[], Some(&body)).await;
            (r.status.as_u16(), text(&r))
        }));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 204, "{body}");
    }
    let r = get(&app, "/people?name=like.W*&limit=1000").await;
    assert_eq!(r.json().as_array().unwrap().len(), 55 * 5);
}

/// A write chosen by filters that the database picks as a deadlock's victim is sent again,
/// its rows locked in key order: 204 and applied, where it would otherwise answer 503.
/// Another transaction holds row 2; the write locks row 1 and waits for row 2; the other
/// transaction then asks for row 1 and closes the cycle. PostgreSQL's check runs in the
/// write first (it waited first): the write is the victim. InnoDB undoes either side (when
/// it is the other, the write goes on); SQLite has no row locks (the write waits for the
/// other transaction's commit).
async fn deadlock_victim_is_sent_again(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    let write = {
        let app = app.clone();
        move || async move {
            let r = send(
                &app,
                "PATCH",
                "/people?id=in.(1,2)",
                &[],
                Some(r#"{"age":99}"#),
            )
            .await;
            (r.status.as_u16(), text(&r))
        }
    };
    macro_rules! cycle {
        ($begin:expr) => {{
            let mut other = $begin.await.expect("begin");
            let first = sqlx::query("UPDATE people SET bio = 'other' WHERE id = 2");
            first.execute(&mut *other).await.expect("row 2");
            let write = tokio::spawn(write());
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let second = sqlx::query("UPDATE people SET bio = 'other' WHERE id = 1");
            match second.execute(&mut *other).await {
                Ok(_) => other.commit().await.expect("commit"),
                Err(_) => drop(other),
            }
            write.await.unwrap()
        }};
    }
    let (status, body) = match &t.db {
        expose_runtime::Db::Sqlite(p) => cycle!(p.begin_with("BEGIN IMMEDIATE")),
        expose_runtime::Db::Postgres(p) => cycle!(p.begin()),
        expose_runtime::Db::MySql(p) => cycle!(p.begin()),
    };
    assert_eq!(status, 204, "{body}");
    let rows = get(&app, "/people?id=in.(1,2)&select=age").await.json();
    assert_eq!(rows, json!([{"age": 99}, {"age": 99}]));
}

/// One-row upserts run as one statement (no read first): concurrent upserts of new e-mails
/// all insert (MariaDB once deadlocked on the gap locks of the read), concurrent upserts
/// of one new e-mail insert it once and merge the rest, and the answer's shapes hold.
async fn concurrent_upserts(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    let upsert = |app: axum::Router, body: Json, prefer: &'static str| async move {
        let r = send(
            &app,
            "POST",
            "/people?on_conflict=email",
            &[("prefer", prefer)],
            Some(&body.to_string()),
        )
        .await;
        (r.status.as_u16(), text(&r))
    };
    let merge = "resolution=merge-duplicates, return=representation";
    let mut tasks = Vec::new();
    for n in 0..24u32 {
        let body = json!({"name": "N", "email": format!("fresh{n}@example.com"),
                          "password": "pw", "age": 30});
        tasks.push(tokio::spawn(upsert(app.clone(), body, merge)));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 201, "{body}");
        let row: Json = serde_json::from_str(&body).unwrap();
        assert_eq!(row.as_array().map(Vec::len), Some(1), "{body}");
    }
    let mut tasks = Vec::new();
    for n in 0..12u32 {
        let body = json!({"name": format!("Same {n}"), "email": "same@example.com",
                          "password": "pw", "age": 40 + n});
        tasks.push(tokio::spawn(upsert(app.clone(), body, merge)));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status == 201 || status == 200, "{status} {body}");
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        by_email(&app, "same@example.com")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(app::count(&t.db).await.unwrap(), 5 + 24 + 1);
    // `return=minimal`: the status alone; a merge that changes nothing is still a merge.
    let body = json!({"name": "Person 1", "email": "person1@example.com", "password": "pw",
                      "age": 21});
    let twice = [
        upsert(app.clone(), body.clone(), "resolution=merge-duplicates").await,
        upsert(app.clone(), body.clone(), "resolution=merge-duplicates").await,
    ];
    assert_eq!(
        twice.map(|(s, b)| (s, b.is_empty())),
        [(200, true), (200, true)]
    );
    let body = json!({"name": "Min", "email": "min@example.com", "password": "pw", "age": 1});
    let (status, minimal) = upsert(app.clone(), body, "resolution=merge-duplicates").await;
    assert_eq!((status, minimal.as_str()), (201, ""));
    // One object asked for: the object, not an array.
    let body = json!({"name": "One", "email": "one@example.com", "password": "pw", "age": 2});
    let r = send(
        &app,
        "POST",
        "/people?on_conflict=email",
        &[
            ("prefer", merge),
            ("accept", "application/vnd.pgrst.object+json"),
        ],
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(r.json()["email"], "one@example.com");
    // Ignore, new and existing.
    let ignore = "resolution=ignore-duplicates, return=representation";
    let body = json!({"name": "Ig", "email": "ig@example.com", "password": "pw", "age": 3});
    let (status, first) = upsert(app.clone(), body.clone(), ignore).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = upsert(app.clone(), body, ignore).await;
    assert_eq!((status, again.as_str()), (200, "[]"));
}

/// A label whose update overwrites who edited it last: an upsert's merge writes the
/// fields sent as the row has them and the overwritten one as the update sets it.
#[expose(
    as = "stamps",
    list(order = "id"),
    create(upsert, overwrite(edited_by = creator)),
    update(fields = "label", overwrite(edited_by = editor))
)]
pub struct Stamp {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(unique)]
    pub code: String,
    pub label: String,
    pub edited_by: String,
}

fn creator(_: &HookCtx) -> Result<String, Problem> {
    Ok("creator".into())
}

fn editor(_: &HookCtx) -> Result<String, Problem> {
    Ok("editor".into())
}

async fn upsert_stamp(app: &axum::Router, label: &str) -> Reply {
    let body = json!({"code": "a", "label": label, "edited_by": "client"}).to_string();
    let merge = [(
        "prefer",
        "resolution=merge-duplicates, return=representation",
    )];
    send(app, "POST", "/stamps?on_conflict=code", &merge, Some(&body)).await
}

async fn upsert_merge_sets_sent_and_overwritten_fields(t: Arc<TestDb>) {
    let ddl = match t.backend {
        Backend::Sqlite => "CREATE TABLE stamps (id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL UNIQUE, label TEXT NOT NULL, edited_by TEXT NOT NULL)",
        Backend::Postgres => "CREATE TABLE stamps (id BIGSERIAL PRIMARY KEY, code TEXT NOT NULL UNIQUE, label TEXT NOT NULL, edited_by TEXT NOT NULL)",
        Backend::MySql => "CREATE TABLE stamps (id BIGINT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE, label TEXT NOT NULL, edited_by TEXT NOT NULL)",
    };
    t.db.execute(ddl).await.expect("create stamps");
    let app = Stamp::router().with_state(t.db.clone());
    let r = upsert_stamp(&app, "first").await;
    assert_eq!(r.status, 201, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!([{"id": 1, "code": "a", "label": "first", "edited_by": "creator"}])
    );
    let r = upsert_stamp(&app, "second").await;
    assert_eq!(r.status, 200, "{}", text(&r));
    assert_eq!(
        r.json(),
        json!([{"id": 1, "code": "a", "label": "second", "edited_by": "editor"}]),
        "the label as sent, `edited_by` as the update overwrites it"
    );
    let all = get(&app, "/stamps").await.json();
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");
    assert_eq!(all[0]["edited_by"], "editor");
}

backend_tests!(
    overlapping_writes_all_apply,
    upsert_merge_sets_sent_and_overwritten_fields,
    overlapping_writes_by_other_fields_all_apply,
    deadlock_victim_is_sent_again,
    concurrent_upserts,
    bulk_insert,
    bulk_refusals,
    upsert,
    update_by_filters,
    update_refusals,
    remove_by_filters,
    replace
);
