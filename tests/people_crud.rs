//! End-to-end: the `people` example's five operations on every backend.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use std::sync::Arc;
use support::{get, send, TestDb};

async fn people(t: &TestDb, rows: u64) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    // The table made from the model passes the start-up check, as in `main.rs`.
    expose_runtime::verify(&t.db, &[app::Person::MODEL])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    app::seed(&t.db, rows).await.expect("seed");
    app::app(t.db.clone())
}

async fn list_and_retrieve(t: Arc<TestDb>) {
    let app = people(&t, 30).await;
    let r = get(&app, "/people?limit=5").await;
    assert_eq!(r.status, 200);
    let rows = r.json();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert_eq!(rows[0]["id"], 1);
    assert_eq!(rows[0]["name"], "Person 1");
    assert!(rows[0].get("password").is_none());
    let r = get(&app, "/people/3").await;
    assert_eq!(r.status, 200);
    let p = r.json();
    assert_eq!(p["email"], "person3@example.com");
    assert_eq!(p["bio"], serde_json::Value::Null);
    assert_eq!(p["age"], 21);
    assert!(p.get("password").is_none());
    get(&app, "/people/999").await.problem(404);
    get(&app, "/people/abc").await.problem(400);
    // The readiness handler a load balancer probes.
    let r = get(&app, "/ready").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ready"], true);
}

async fn create_update_remove(t: Arc<TestDb>) {
    let app = people(&t, 3).await;
    let body = r#"{"name":"Ada","email":"ada@example.com","password":"pw","age":36}"#;
    let r = send(&app, "POST", "/people", &[], Some(body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    assert_eq!(created["id"], 4);
    assert_eq!(r.header("location"), Some("/people/4"));
    assert_eq!(created["is_admin"], false);
    assert!(created["created_at"].is_string());
    assert!(created.get("password").is_none());
    // The same columns in another order (the statement of a shape is cached): each value
    // lands in its own column.
    let body = r#"{"age":41,"password":"pw","email":"bo@example.com","name":"Bo"}"#;
    let r = send(&app, "POST", "/people", &[], Some(body)).await;
    assert_eq!(r.status, 201);
    let bo = r.json();
    assert_eq!(bo["name"], "Bo");
    assert_eq!(bo["email"], "bo@example.com");
    assert_eq!(bo["age"], 41);
    let uri = format!("/people/{}", bo["id"]);
    assert_eq!(send(&app, "DELETE", &uri, &[], None).await.status, 204);
    let r = send(
        &app,
        "PATCH",
        "/people/4",
        &[],
        Some(r#"{"age":37,"bio":"math"}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["age"], 37);
    assert_eq!(r.json()["bio"], "math");
    assert_eq!(r.json()["name"], "Ada");
    send(&app, "PATCH", "/people/99", &[], Some(r#"{"age":1}"#))
        .await
        .problem(404);
    let r = send(&app, "DELETE", "/people/4", &[], None).await;
    assert_eq!(r.status, 204);
    send(&app, "DELETE", "/people/4", &[], None)
        .await
        .problem(404);
    get(&app, "/people/4").await.problem(404);
}

async fn refusals(t: Arc<TestDb>) {
    let app = people(&t, 3).await;
    let r = send(&app, "POST", "/people/1", &[], Some("{}")).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, PATCH, DELETE, PUT"));
    // PUT replaces a whole row: every writable field is required.
    send(&app, "PUT", "/people/1", &[], Some("{}"))
        .await
        .problem(422);
    let r = send(&app, "PUT", "/people", &[], None).await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST, PATCH, DELETE"));
    // A write chosen by filters needs a filter.
    let r = send(&app, "DELETE", "/people", &[], None).await;
    r.problem(400);
    // Paths no route matches, and `select` given twice.
    get(&app, "/people/1/x").await.problem(404);
    get(&app, "/nothing").await.problem(404);
    get(&app, "/people/1?select=id&select=name")
        .await
        .problem(400);
    // A client that accepts no JSON (nor, on a list, CSV).
    send(&app, "GET", "/people", &[("accept", "text/html")], None)
        .await
        .problem(406);
    send(&app, "GET", "/people/1", &[("accept", "text/csv")], None)
        .await
        .problem(406);
    send(&app, "GET", "/people/1", &[("accept", "text/html")], None)
        .await
        .problem(406);
    assert_eq!(
        send(
            &app,
            "GET",
            "/people/1",
            &[("accept", "text/html, */*;q=0.1")],
            None
        )
        .await
        .status,
        200
    );
    // Not JSON, malformed JSON, unknown and non-writable fields, wrong types, missing fields.
    send(
        &app,
        "POST",
        "/people",
        &[("content-type", "text/plain")],
        Some("hi"),
    )
    .await
    .problem(415);
    send(&app, "POST", "/people", &[], Some("{\"name\":"))
        .await
        .problem(400);
    let p = send(
        &app,
        "POST",
        "/people",
        &[],
        Some(r#"{"name":5,"is_admin":true,"nope":1,"id":9,"created_at":"x"}"#),
    )
    .await
    .problem(422);
    let named: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    for f in [
        "name",
        "is_admin",
        "nope",
        "id",
        "created_at",
        "email",
        "password",
        "age",
    ] {
        assert!(named.contains(&f), "{f} not named in {p}");
    }
    // A refused write changes nothing.
    assert_eq!(app::count(&t.db).await.unwrap(), 3);
    let p = send(
        &app,
        "PATCH",
        "/people/1",
        &[],
        Some(r#"{"is_admin":true,"age":"old"}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    let r = get(&app, "/people/1").await;
    assert_eq!(r.json()["is_admin"], false);
    // Duplicate email: 409 naming the field, no SQL in the body.
    let body = r#"{"name":"X","email":"person1@example.com","password":"pw","age":3}"#;
    let p = send(&app, "POST", "/people", &[], Some(body))
        .await
        .problem(409);
    assert_eq!(p["errors"][0]["name"], "email", "{p}");
    let text = p.to_string().to_lowercase();
    assert!(
        !text.contains("insert") && !text.contains("constraint") && !text.contains("duplicate"),
        "{p}"
    );
}

async fn hidden_field_never_leaks(t: Arc<TestDb>) {
    let app = people(&t, 5).await;
    for uri in [
        "/people",
        "/people/1",
        "/people?select=id,name",
        "/people?password=eq.secret-1",
        "/people?order=password",
        "/people?select=password",
    ] {
        let r = get(&app, uri).await;
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert!(!text.contains("secret-"), "{uri}: {text}");
    }
    let a = get(&app, "/people?password=eq.x").await.problem(400);
    let b = get(&app, "/people?nonexistent=eq.x").await.problem(400);
    assert_eq!(
        a["detail"].as_str().unwrap().replace("password", "X"),
        b["detail"].as_str().unwrap().replace("nonexistent", "X"),
        "a hidden field must read like a missing one"
    );
}

/// The router nested under a prefix with a parameter of its own: the item operations still
/// find their `{id}` (axum's path parameters then hold two), percent-decoded.
async fn nested_under_a_parameter(t: Arc<TestDb>) {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, 3).await.expect("seed");
    let app = axum::Router::new()
        .nest("/tenants/{tenant}", app::Person::router())
        .with_state(t.db.clone());
    let r = get(&app, "/tenants/acme/people/2").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["id"], 2);
    assert_eq!(get(&app, "/tenants/acme/people/%32").await.json()["id"], 2);
    let r = send(
        &app,
        "PATCH",
        "/tenants/a/people/2",
        &[],
        Some(r#"{"age":50}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["age"], 50);
    let r = send(&app, "DELETE", "/tenants/a/people/3", &[], None).await;
    assert_eq!(r.status, 204);
    get(&app, "/tenants/a/people/3").await.problem(404);
    let p = get(&app, "/tenants/a/people/x").await.problem(400);
    assert_eq!(p["errors"][0]["in"], "path", "{p}");
    // A segment that is not UTF-8 once decoded is refused like any other bad key.
    let p = get(&app, "/tenants/a/people/%FF").await.problem(400);
    assert_eq!(p["errors"][0]["name"], "id", "{p}");
    assert_eq!(get(&app, "/tenants/a/people").await.status, 200);
    // `Location` names the created row under the prefix the client used.
    let body = r#"{"name":"Nia","email":"nia@example.com","password":"pw","age":30}"#;
    let r = send(&app, "POST", "/tenants/a/people", &[], Some(body)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let location = format!("/tenants/a/people/{}", r.json()["id"]);
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(get(&app, &location).await.status, 200);
}

backend_tests!(
    list_and_retrieve,
    create_update_remove,
    refusals,
    hidden_field_never_leaks,
    nested_under_a_parameter
);
