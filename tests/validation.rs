//! End-to-end: declared validation on every backend. Each field rule refuses what breaks it
//! with a 422 naming the field and the rule, every failing field at once (rows of a bulk body
//! as `[n].field`), on create, update, replace and an update chosen by filters, before any
//! SQL; valid input is written; the model's `validate` function joins its errors; the OpenAPI
//! document states the rules. And database constraint errors name the field their column
//! belongs to, or say that no single field is to blame.

mod support;

use expose_runtime::{expose, Backend, Db, FieldErrors, Input, OpenApi};
use serde_json::{json, Value as Json};
use std::sync::Arc;
use support::{get, send, Reply, TestDb};

/// A sign-up with a rule on each field, and a rule across two.
#[expose(
    as = "signups",
    validate = handle_is_not_name,
    list,
    retrieve,
    create(max_rows = 10),
    update(filter = "id,plan", max_affected = 10),
    replace
)]
pub struct Signup {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(validate(length(min = 2, max = 10)))]
    pub name: String,
    #[expose(validate(email))]
    pub email: Option<String>,
    #[expose(validate(url))]
    pub homepage: Option<String>,
    #[expose(validate(range(min = 0, max = 150)))]
    pub age: i32,
    #[expose(validate(pattern = "^[a-z]+$"))]
    pub handle: String,
    #[expose(validate(one_of("basic", "premium")))]
    pub plan: String,
    #[expose(validate(one_of(1, 2, 3)))]
    pub level: i16,
    #[expose(validate(range(min = 0.5, max = 9.5)))]
    pub score: f64,
    #[expose(validate(non_empty))]
    pub bio: Option<String>,
}

/// The handle may not repeat the name (when a write sends both).
fn handle_is_not_name(input: &Input) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::new();
    if let (Some(name), Some(handle)) = (
        input.get(Signup::FIELDS.name),
        input.get(Signup::FIELDS.handle),
    ) {
        if name == handle {
            errors.add(
                Signup::FIELDS.handle,
                "differs_from_name",
                "must differ from `name`",
            );
        }
    }
    errors.into_result()
}

async fn create_signups(db: &Db) {
    let (id, float) = match db.backend() {
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"),
        Backend::Postgres => ("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION"),
        Backend::MySql => ("BIGINT AUTO_INCREMENT PRIMARY KEY", "DOUBLE"),
    };
    let text = match db.backend() {
        Backend::MySql => "VARCHAR(255)",
        _ => "TEXT",
    };
    db.execute(&format!(
        "CREATE TABLE signups (id {id}, name {text} NOT NULL, email {text}, homepage {text},
         age INTEGER NOT NULL, handle {text} NOT NULL, plan {text} NOT NULL,
         level SMALLINT NOT NULL, score {float} NOT NULL, bio {text})"
    ))
    .await
    .expect("create signups");
}

fn valid() -> Json {
    json!({
        "name": "Ada", "email": "ada@example.com", "homepage": "https://ada.example/x?y=1",
        "age": 36, "handle": "ada", "plan": "basic", "level": 2, "score": 9.5, "bio": "b",
    })
}

fn with(member: &str, value: Json) -> String {
    let mut o = valid();
    o[member] = value;
    o.to_string()
}

/// The offenders of a 422: (name, rule) pairs.
fn offenders(r: &Reply) -> Vec<(String, String)> {
    let p = r.problem(422);
    p["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors: {p}"))
        .iter()
        .map(|e| {
            assert_eq!(e["in"], "body", "{p}");
            assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{p}");
            (
                e["name"].as_str().unwrap().to_owned(),
                e["rule"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn count(db: &Db, table: &str) -> i64 {
    db.fetch_i64(&format!("SELECT COUNT(*) FROM {table}"))
        .await
        .unwrap()
}

fn app(db: Db) -> axum::Router {
    axum::Router::new().merge(Signup::router()).with_state(db)
}

async fn each_rule_refuses_what_breaks_it(t: Arc<TestDb>) {
    create_signups(&t.db).await;
    let app = app(t.db.clone());
    let cases = [
        (
            "name",
            json!("A"),
            "length",
            "must have from 2 to 10 characters",
        ),
        (
            "name",
            json!("ABCDEFGHIJK"),
            "length",
            "must have from 2 to 10 characters",
        ),
        (
            "email",
            json!("ada.example.com"),
            "email",
            "must be an e-mail address",
        ),
        ("email", json!("ada@"), "email", "must be an e-mail address"),
        (
            "homepage",
            json!("ada.example"),
            "url",
            "must be an absolute URL",
        ),
        ("age", json!(-1), "range", "must be from 0 to 150"),
        ("age", json!(151), "range", "must be from 0 to 150"),
        (
            "handle",
            json!("Ada1"),
            "pattern",
            "must match the pattern `^[a-z]+$`",
        ),
        (
            "plan",
            json!("gold"),
            "one_of",
            r#"must be one of: "basic", "premium""#,
        ),
        ("level", json!(4), "one_of", "must be one of: 1, 2, 3"),
        ("score", json!(0.49), "range", "must be from 0.5 to 9.5"),
        ("score", json!(10), "range", "must be from 0.5 to 9.5"),
        ("bio", json!(""), "non_empty", "must not be empty"),
    ];
    for (field, value, rule, detail) in cases {
        let body = with(field, value);
        let r = send(&app, "POST", "/signups", &[], Some(&body)).await;
        assert_eq!(offenders(&r), pairs(&[(field, rule)]), "{body}");
        let p = r.json();
        let d = p["errors"][0]["detail"].as_str().unwrap();
        assert!(d.starts_with(detail), "{body}: {d}");
        assert!(p["detail"].as_str().unwrap().contains(field), "{p}");
    }
    assert_eq!(count(&t.db, "signups").await, 0);
    // Values at the bounds pass, characters are counted (not bytes), and `null` passes the
    // rules of an `Option` field.
    for body in [
        with("name", json!("ééééééééé\u{1F600}")),
        with("age", json!(0)),
        with("age", json!(150)),
        with("score", json!(0.5)),
        with("email", json!(null)),
        with("bio", json!(null)),
        with("homepage", json!("mailto:ada@example.com")),
        with("email", json!("a.b+c!#$%&'*/=?^_`{|}~-@x-y.example")),
    ] {
        let r = send(&app, "POST", "/signups", &[], Some(&body)).await;
        assert_eq!(
            r.status,
            201,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(count(&t.db, "signups").await, 8);
}

async fn every_failing_field_at_once(t: Arc<TestDb>) {
    create_signups(&t.db).await;
    let app = app(t.db.clone());
    let body = json!({
        "name": "A", "email": "nope", "homepage": "x", "age": 200, "handle": "UP",
        "plan": "gold", "level": 0, "score": 0, "bio": "",
    });
    let r = send(&app, "POST", "/signups", &[], Some(&body.to_string())).await;
    assert_eq!(
        offenders(&r),
        pairs(&[
            ("name", "length"),
            ("email", "email"),
            ("homepage", "url"),
            ("age", "range"),
            ("handle", "pattern"),
            ("plan", "one_of"),
            ("level", "one_of"),
            ("score", "range"),
            ("bio", "non_empty"),
        ])
    );
    // A member of the wrong type and a broken rule are listed together; the model's own
    // rule waits for a row whose every member typed.
    let body =
        json!({"name": "ab", "handle": "ab", "age": "old", "plan": "x", "level": 1, "score": 1});
    let r = send(&app, "POST", "/signups", &[], Some(&body.to_string())).await;
    assert_eq!(offenders(&r), pairs(&[("age", ""), ("plan", "one_of")]));
    // Field rules and the model's rule together.
    let body =
        json!({"name": "ab", "handle": "ab", "age": 151, "plan": "basic", "level": 1, "score": 1});
    let r = send(&app, "POST", "/signups", &[], Some(&body.to_string())).await;
    assert_eq!(
        offenders(&r),
        pairs(&[("age", "range"), ("handle", "differs_from_name")])
    );
    assert_eq!(count(&t.db, "signups").await, 0);
}

async fn rows_of_a_bulk_body_are_named(t: Arc<TestDb>) {
    create_signups(&t.db).await;
    let app = app(t.db.clone());
    let rows = json!([
        valid(),
        serde_json::from_str::<Json>(&with("name", json!("A"))).unwrap(),
        serde_json::from_str::<Json>(&with("age", json!(999))).unwrap(),
        serde_json::from_str::<Json>(&with("handle", json!("ada"))).unwrap(),
    ]);
    let mut r3 = rows.clone();
    r3[3]["name"] = json!("ada");
    let r = send(&app, "POST", "/signups", &[], Some(&r3.to_string())).await;
    assert_eq!(
        offenders(&r),
        pairs(&[
            ("[1].name", "length"),
            ("[2].age", "range"),
            ("[3].handle", "differs_from_name"),
        ])
    );
    assert_eq!(count(&t.db, "signups").await, 0);
    let ok = json!([valid(), valid()]);
    let r = send(&app, "POST", "/signups", &[], Some(&ok.to_string())).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(count(&t.db, "signups").await, 2);
}

async fn every_write_is_checked(t: Arc<TestDb>) {
    create_signups(&t.db).await;
    let app = app(t.db.clone());
    let r = send(&app, "POST", "/signups", &[], Some(&valid().to_string())).await;
    assert_eq!(r.status, 201);
    let path = r.header("location").unwrap().to_owned();
    let before = get(&app, &path).await.json();
    // Update: the fields sent are checked, the others are not required.
    let r = send(
        &app,
        "PATCH",
        &path,
        &[],
        Some(r#"{"age":151,"plan":"gold"}"#),
    )
    .await;
    assert_eq!(
        offenders(&r),
        pairs(&[("age", "range"), ("plan", "one_of")])
    );
    let r = send(
        &app,
        "PATCH",
        &path,
        &[],
        Some(r#"{"name":"x","handle":"x"}"#),
    )
    .await;
    assert_eq!(
        offenders(&r),
        pairs(&[("name", "length"), ("handle", "differs_from_name")])
    );
    // Replace.
    let r = send(&app, "PUT", &path, &[], Some(&with("email", json!("no")))).await;
    assert_eq!(offenders(&r), pairs(&[("email", "email")]));
    // An update chosen by filters.
    let r = send(
        &app,
        "PATCH",
        "/signups?plan=eq.basic",
        &[],
        Some(r#"{"level":7}"#),
    )
    .await;
    assert_eq!(offenders(&r), pairs(&[("level", "one_of")]));
    assert_eq!(get(&app, &path).await.json(), before);
    // Valid writes go through on each.
    let r = send(
        &app,
        "PATCH",
        &path,
        &[],
        Some(r#"{"age":150,"plan":"premium"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = send(&app, "PUT", &path, &[], Some(&with("name", json!("Grace")))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = send(
        &app,
        "PATCH",
        "/signups?plan=eq.basic",
        &[],
        Some(r#"{"level":3}"#),
    )
    .await;
    assert!(
        r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let now = get(&app, &path).await.json();
    assert_eq!(
        (now["name"].as_str(), now["level"].as_i64()),
        (Some("Grace"), Some(3))
    );
}

#[test]
fn the_openapi_document_states_the_rules() {
    let doc = OpenApi::new("t", "1").resource::<Signup>().document();
    for body in ["SignupCreate", "SignupUpdate", "SignupReplace"] {
        let p = &doc["components"]["schemas"][body]["properties"];
        assert_eq!(p["name"]["minLength"], 2, "{body}");
        assert_eq!(p["name"]["maxLength"], 10);
        assert_eq!(p["email"]["format"], "email");
        assert_eq!(p["homepage"]["format"], "uri");
        assert_eq!(
            (p["age"]["minimum"].clone(), p["age"]["maximum"].clone()),
            (json!(0), json!(150))
        );
        assert_eq!(p["handle"]["allOf"], json!([{ "pattern": "^[a-z]+$" }]));
        assert_eq!(p["plan"]["enum"], json!(["basic", "premium"]));
        assert_eq!(p["level"]["enum"], json!([1, 2, 3]));
        assert_eq!(
            (p["score"]["minimum"].clone(), p["score"]["maximum"].clone()),
            (json!(0.5), json!(9.5))
        );
        assert_eq!(p["bio"]["minLength"], 1);
    }
    // The rules are about what clients write: the read schema does not state them.
    let read = &doc["components"]["schemas"]["Signup"]["properties"];
    assert!(read["name"].get("minLength").is_none(), "{read}");
    assert!(read["email"].get("format").is_none(), "{read}");
}

/// A book with a key the client gives, a reference to a shelf, and checks the struct does
/// not state: a price within bounds (one column), a sale price below the price (two), and,
/// on MySQL/MariaDB, columns narrower than the struct's types.
#[expose(as = "books", table = "v_books", list, retrieve, create, update)]
pub struct Book {
    #[expose(id)]
    pub isbn: String,
    pub shelf_id: i64,
    pub title: String,
    pub price: i32,
    pub sale: Option<i32>,
}

/// A shelf.
#[expose(as = "v_shelves", retrieve, create)]
pub struct Shelf {
    #[expose(id)]
    pub id: i64,
}

async fn create_books(db: &Db) {
    let ddl: [&str; 2] = match db.backend() {
        Backend::Sqlite => [
            "CREATE TABLE v_shelves (id INTEGER PRIMARY KEY)",
            "CREATE TABLE v_books (isbn TEXT PRIMARY KEY,
             shelf_id BIGINT NOT NULL REFERENCES v_shelves (id),
             title TEXT NOT NULL, price INTEGER NOT NULL CHECK (price >= 0),
             sale INTEGER, CHECK (sale < price))",
        ],
        Backend::Postgres => [
            "CREATE TABLE v_shelves (id BIGINT PRIMARY KEY)",
            "CREATE TABLE v_books (isbn TEXT PRIMARY KEY,
             shelf_id BIGINT NOT NULL REFERENCES v_shelves (id),
             title TEXT NOT NULL, price INTEGER NOT NULL CHECK (price >= 0),
             sale INTEGER, CHECK (sale < price))",
        ],
        Backend::MySql => [
            "CREATE TABLE v_shelves (id BIGINT PRIMARY KEY)",
            "CREATE TABLE v_books (isbn VARCHAR(20) PRIMARY KEY,
             shelf_id BIGINT NOT NULL, title VARCHAR(5) NOT NULL,
             price SMALLINT NOT NULL CHECK (price >= 0),
             sale INT, CHECK (sale < price),
             FOREIGN KEY (shelf_id) REFERENCES v_shelves (id))",
        ],
    };
    for sql in ddl {
        db.execute(sql).await.expect("create table");
    }
}

fn book(isbn: &str, shelf: i64, title: &str, price: i32, sale: Option<i32>) -> String {
    json!({"isbn": isbn, "shelf_id": shelf, "title": title, "price": price, "sale": sale})
        .to_string()
}

/// The one offender of a problem, and its detail.
fn blamed(r: &Reply, status: u16) -> (Option<String>, String) {
    let p = r.problem(status);
    let errors = p["errors"].as_array().cloned().unwrap_or_default();
    assert!(errors.len() <= 1, "{p}");
    let body = String::from_utf8_lossy(&r.body).to_lowercase();
    for leak in [
        "constraint",
        "v_books",
        "sqlstate",
        "duplicate entry",
        "violat",
    ] {
        assert!(!body.contains(leak), "`{leak}` leaked: {body}");
    }
    (
        errors
            .first()
            .map(|e| e["name"].as_str().unwrap().to_owned()),
        p["detail"].as_str().unwrap().to_owned(),
    )
}

async fn constraint_errors_name_the_field(t: Arc<TestDb>) {
    create_books(&t.db).await;
    let app = axum::Router::new()
        .merge(Book::router())
        .merge(Shelf::router())
        .with_state(t.db.clone());
    assert_eq!(
        send(&app, "POST", "/v_shelves", &[], Some(r#"{"id":1}"#))
            .await
            .status,
        201
    );
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&book("1", 1, "Dune", 10, None)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // A duplicate primary key names the key.
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&book("1", 1, "Emma", 10, None)),
    )
    .await;
    let (name, detail) = blamed(&r, 409);
    assert_eq!(name.as_deref(), Some("isbn"), "{detail}");
    assert!(detail.contains("key `isbn`"), "{detail}");
    // A reference to a missing row names the referring field, on create and update.
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&book("2", 9, "Emma", 10, None)),
    )
    .await;
    assert_eq!(blamed(&r, 422).0.as_deref(), Some("shelf_id"));
    let r = send(&app, "PATCH", "/books/1", &[], Some(r#"{"shelf_id":9}"#)).await;
    assert_eq!(blamed(&r, 422).0.as_deref(), Some("shelf_id"));
    // A check on one column names it.
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&book("3", 1, "Emma", -1, None)),
    )
    .await;
    let (name, detail) = blamed(&r, 422);
    assert_eq!(name.as_deref(), Some("price"), "{detail}");
    assert!(detail.contains("check"), "{detail}");
    // A check across two columns blames no single field, and says so.
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&book("4", 1, "Emma", 5, Some(7))),
    )
    .await;
    let (name, detail) = blamed(&r, 422);
    assert_eq!(name, None, "{detail}");
    assert!(detail.contains("no single field"), "{detail}");
    // MySQL/MariaDB's "does not fit": too long (1406) and out of range (1264) name the column.
    if t.backend == Backend::MySql {
        let r = send(
            &app,
            "POST",
            "/books",
            &[],
            Some(&book("5", 1, "Too long", 5, None)),
        )
        .await;
        let (name, detail) = blamed(&r, 422);
        assert_eq!(name.as_deref(), Some("title"), "{detail}");
        let r = send(
            &app,
            "POST",
            "/books",
            &[],
            Some(&book("6", 1, "Emma", 40000, None)),
        )
        .await;
        let (name, detail) = blamed(&r, 422);
        assert_eq!(name.as_deref(), Some("price"), "{detail}");
        assert!(detail.contains("does not fit"), "{detail}");
    }
    assert_eq!(count(&t.db, "v_books").await, 1);
}

backend_tests!(
    each_rule_refuses_what_breaks_it,
    every_failing_field_at_once,
    rows_of_a_bulk_body_are_named,
    every_write_is_checked,
    constraint_errors_name_the_field,
);
