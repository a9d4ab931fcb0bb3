//! End-to-end: the `library` example's contract (README of the example in
//! `examples/library/app.rs`) on every backend: typed hooks that read the written row, a
//! race-free limit of open loans, a scope that checks the rows a write leaves.

#[path = "../examples/library/app.rs"]
mod app;
mod support;

use expose_runtime::Db;
use serde_json::json;
use std::sync::Arc;
use support::{send, Reply, TestDb};

const STAFF: &str = "Bearer staff-token"; // member 1
const ANN: &str = "Bearer ann-token"; // member 2
const BEN: &str = "Bearer ben-token"; // member 3

async fn library(t: &TestDb) -> axum::Router {
    app::create_tables(&t.db).await.expect("tables");
    app::seed(&t.db).await.expect("seed");
    app::app(t.db.clone())
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    auth: &str,
    body: Option<&str>,
) -> Reply {
    let headers: Vec<(&str, &str)> = match auth {
        "" => Vec::new(),
        a => vec![("authorization", a)],
    };
    send(app, method, uri, &headers, body).await
}

async fn loan(app: &axum::Router, auth: &str, book: i64, member: i64) -> Reply {
    let body = json!({ "book_id": book, "member_id": member }).to_string();
    call(app, "POST", "/loans", auth, Some(&body)).await
}

async fn count(db: &Db, sql: &str) -> i64 {
    db.fetch_i64(sql).await.unwrap()
}

async fn on_loan(app: &axum::Router, book: i64) -> bool {
    let r = call(app, "GET", &format!("/books/{book}"), "", None).await;
    assert_eq!(r.status, 200);
    r.json()["on_loan"].as_bool().unwrap()
}

async fn seeded_books_and_members(t: Arc<TestDb>) {
    let app = library(&t).await;
    let r = call(&app, "GET", "/books?limit=100", "", None).await;
    assert_eq!(r.status, 200);
    let books = r.json();
    let books = books.as_array().unwrap();
    assert_eq!(books.len(), 20);
    for (n, b) in books.iter().enumerate() {
        assert_eq!(b["id"], n as i64 + 1);
        assert_eq!(b["on_loan"], false);
        assert!(b["title"].is_string());
    }
    // `email` only for staff; never the token.
    let staff = call(&app, "GET", "/members/2", STAFF, None).await.json();
    assert_eq!(staff["email"], "ann@library.example");
    assert!(staff.get("token").is_none());
    for auth in ["", ANN, BEN] {
        let m = call(&app, "GET", "/members/2", auth, None).await;
        assert_eq!(m.status, 200);
        assert!(m.json().get("email").is_none(), "{auth}: {:?}", m.json());
    }
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 0);
    call(&app, "GET", "/books", "Bearer nobody", None)
        .await
        .problem(401);
}

async fn loans_mark_books(t: Arc<TestDb>) {
    let app = library(&t).await;
    let r = loan(&app, ANN, 1, 2).await;
    assert_eq!(r.status, 201, "{:?}", r.json());
    let l = r.json();
    assert_eq!(
        (l["book_id"].clone(), l["member_id"].clone()),
        (json!(1), json!(2))
    );
    assert!(l["loaned_at"].is_string(), "{l}");
    assert_eq!(l["returned_at"], serde_json::Value::Null);
    assert!(on_loan(&app, 1).await);
    // A book already on loan: 409, nothing written.
    let r = loan(&app, BEN, 1, 3).await;
    assert_eq!(r.problem(409)["detail"], "book 1 is already on loan");
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 1);
    // `?select=id` narrows the answer, not what the post hook reads.
    let body = json!({ "book_id": 2, "member_id": 3 }).to_string();
    let r = call(&app, "POST", "/loans?select=id", BEN, Some(&body)).await;
    assert_eq!(r.status, 201);
    let only_id = r.json();
    assert_eq!(only_id.as_object().unwrap().len(), 1, "{only_id}");
    assert!(
        on_loan(&app, 2).await,
        "the post hook read book_id from the written row"
    );
    // Staff create for anyone.
    assert_eq!(loan(&app, STAFF, 3, 2).await.status, 201);
    assert!(on_loan(&app, 3).await);
}

async fn members_create_only_their_own(t: Arc<TestDb>) {
    let app = library(&t).await;
    let r = loan(&app, ANN, 5, 3).await;
    let p = r.problem(403);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("outside what you may write"),
        "{p}"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 0);
    assert!(
        !on_loan(&app, 5).await,
        "nothing written, the book stays free"
    );
    // A bulk create with one foreign row: 403 and none of the rows is written.
    let body = json!([{ "book_id": 6, "member_id": 2 }, { "book_id": 7, "member_id": 3 }]);
    let r = call(&app, "POST", "/loans", ANN, Some(&body.to_string())).await;
    r.problem(403);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 0);
    assert!(!on_loan(&app, 6).await && !on_loan(&app, 7).await);
    // Anonymous: 401.
    loan(&app, "", 5, 2).await.problem(401);
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 0);
}

async fn at_most_three_open_loans(t: Arc<TestDb>) {
    let app = library(&t).await;
    for book in 1..=3 {
        assert_eq!(loan(&app, ANN, book, 2).await.status, 201);
    }
    let r = loan(&app, ANN, 4, 2).await;
    let p = r.problem(409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("the limit is 3 open loans"),
        "{p}"
    );
    assert_eq!(count(&t.db, "SELECT COUNT(*) FROM loans").await, 3);
    assert!(!on_loan(&app, 4).await, "nothing written");
    // A returned loan frees a place.
    let first = call(&app, "GET", "/loans?order=id", ANN, None).await.json()[0]["id"].clone();
    let body = json!({ "returned_at": "2026-01-02T03:04:05Z" }).to_string();
    let r = call(
        &app,
        "PATCH",
        &format!("/loans/{first}"),
        STAFF,
        Some(&body),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(loan(&app, ANN, 4, 2).await.status, 201);
}

async fn sixteen_racing_loans_leave_three(t: Arc<TestDb>) {
    let app = library(&t).await;
    let tasks: Vec<_> = (1..=16)
        .map(|book| {
            let app = app.clone();
            tokio::spawn(async move { loan(&app, BEN, book, 3).await.status.as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(created, 3, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 409),
        "{statuses:?}"
    );
    let open = "SELECT COUNT(*) FROM loans WHERE member_id = 3 AND returned_at IS NULL";
    assert_eq!(count(&t.db, open).await, 3);
    let marked = "SELECT COUNT(*) FROM books WHERE on_loan = TRUE";
    assert_eq!(count(&t.db, marked).await, 3, "one book per loan");
}

async fn loans_are_listed_by_scope(t: Arc<TestDb>) {
    let app = library(&t).await;
    assert_eq!(loan(&app, ANN, 1, 2).await.status, 201);
    assert_eq!(loan(&app, BEN, 2, 3).await.status, 201);
    let members = |r: Reply| -> Vec<i64> {
        let mut v: Vec<i64> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["member_id"].as_i64().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(members(call(&app, "GET", "/loans", ANN, None).await), [2]);
    assert_eq!(members(call(&app, "GET", "/loans", BEN, None).await), [3]);
    assert_eq!(
        members(call(&app, "GET", "/loans", STAFF, None).await),
        [2, 3]
    );
    call(&app, "GET", "/loans", "", None).await.problem(401);
}

async fn staff_return_books(t: Arc<TestDb>) {
    let app = library(&t).await;
    let id = loan(&app, ANN, 9, 2).await.json()["id"].clone();
    let other = loan(&app, BEN, 10, 3).await.json()["id"].clone();
    assert!(on_loan(&app, 9).await);
    let body = json!({ "returned_at": "2026-02-03T04:05:06Z" }).to_string();
    // A member may not: her own loan is 403, another's is out of her scope (404).
    call(&app, "PATCH", &format!("/loans/{id}"), ANN, Some(&body))
        .await
        .problem(403);
    call(&app, "PATCH", &format!("/loans/{other}"), ANN, Some(&body))
        .await
        .problem(404);
    let open = "SELECT COUNT(*) FROM loans WHERE returned_at IS NULL";
    assert_eq!(count(&t.db, open).await, 2, "nothing written");
    assert!(on_loan(&app, 9).await);
    let r = call(&app, "PATCH", &format!("/loans/{id}"), STAFF, Some(&body)).await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert!(r.json()["returned_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-02-03T04:05:06"));
    assert!(!on_loan(&app, 9).await, "the book is back");
    assert!(on_loan(&app, 10).await);
    assert_eq!(count(&t.db, open).await, 1);
}

async fn loans_embed_book_and_member(t: Arc<TestDb>) {
    let app = library(&t).await;
    assert_eq!(loan(&app, STAFF, 1, 2).await.status, 201);
    assert_eq!(loan(&app, STAFF, 2, 3).await.status, 201);
    let uri = "/loans?select=id,books(title),member:members(name,email)";
    // Staff: every loan, the member's e-mail too.
    let r = call(&app, "GET", uri, STAFF, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        json!([
            {"id": 1, "books": {"title": "Book 1"}, "member": {"name": "Ann", "email": "ann@library.example"}},
            {"id": 2, "books": {"title": "Book 2"}, "member": {"name": "Ben", "email": "ben@library.example"}},
        ])
    );
    // A member: their own loans; the e-mail is staff's only, as on /members/{id}.
    let r = call(&app, "GET", uri, ANN, None).await;
    let p = r.problem(400);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("`email` is not a field"),
        "{p}"
    );
    let r = call(
        &app,
        "GET",
        "/loans?select=id,books(*),members(name)",
        ANN,
        None,
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"id": 1, "books": {"id": 1, "title": "Book 1", "on_loan": true}, "members": {"name": "Ann"}}])
    );
    let r = call(&app, "GET", "/loans/2?select=id,members(name)", BEN, None).await;
    assert_eq!(r.json(), json!({"id": 2, "members": {"name": "Ben"}}));
    call(&app, "GET", "/loans?select=id,members(name)", "", None)
        .await
        .problem(401);
}

backend_tests!(
    loans_embed_book_and_member,
    seeded_books_and_members,
    loans_mark_books,
    members_create_only_their_own,
    at_most_three_open_loans,
    sixteen_racing_loans_leave_three,
    loans_are_listed_by_scope,
    staff_return_books
);
