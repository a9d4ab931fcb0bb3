//! The struct is a contract: `verify` at start refuses each kind of mismatch between a model
//! and its table (one test each, the message naming model, field, column and both types),
//! the DDL from the model passes it, and a UUID key made in Rust goes through create,
//! retrieve, update and remove; on every backend.

mod support;

use expose_runtime::{expose, Backend, Db, MismatchKind, VerifyError};
use std::sync::Arc;
use support::{get, send, TestDb};

/// The model most tests compare with a table.
#[expose(
    as = "items",
    list,
    retrieve,
    create(fields = "name,price,qty,code,note,stock,sku"),
    update(fields = "name,price,qty,code,note,stock,sku"),
    remove
)]
pub struct Item {
    #[expose(id, generated)]
    pub id: i64,
    pub name: String,
    pub price: f64,
    pub qty: i32,
    pub code: String,
    pub note: Option<String>,
    #[expose(default = "0")]
    pub stock: i32,
    #[expose(unique)]
    pub sku: String,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A key made in Rust: SQLite and MySQL have no UUID default.
#[expose(as = "books", list, retrieve, create, update, remove)]
pub struct Book {
    #[expose(id, generate = uuid::Uuid::new_v4)]
    pub id: uuid::Uuid,
    pub title: String,
    #[expose(default = "1")]
    pub copies: i32,
}

/// The issue's model: a `default` key on a column without one (SQLite stored a NULL key).
#[expose(as = "loose", retrieve, create(fields = "title"))]
pub struct Loose {
    #[expose(id, default)]
    pub id: uuid::Uuid,
    pub title: String,
}

/// Every field type, for the DDL round trip.
#[expose(as = "kinds", retrieve, create)]
pub struct Kinds {
    #[expose(id, generated)]
    pub id: i64,
    pub a: i16,
    pub b: i32,
    pub c: i64,
    pub d: f32,
    pub e: f64,
    pub f: bool,
    pub g: String,
    pub h: chrono::DateTime<chrono::Utc>,
    pub i: chrono::NaiveDate,
    pub j: uuid::Uuid,
    pub k: serde_json::Value,
    pub l: Option<String>,
    #[expose(generated)]
    pub m: chrono::DateTime<chrono::Utc>,
}

/// `items` as hand-written SQL, each column replaced by `changes` (`None` drops it).
fn items_table(backend: Backend, changes: &[(&str, Option<&str>)]) -> String {
    let (id, text, ts, now, tail) = match backend {
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
            " DEFAULT CHARSET = utf8mb4",
        ),
    };
    let base = [
        ("id", id.to_owned()),
        ("name", format!("{text} NOT NULL")),
        ("price", "DOUBLE PRECISION NOT NULL".to_owned()),
        ("qty", "INTEGER NOT NULL".to_owned()),
        ("code", format!("{text} NOT NULL")),
        ("note", text.to_owned()),
        ("stock", "INTEGER NOT NULL DEFAULT 0".to_owned()),
        ("sku", format!("{text} NOT NULL UNIQUE")),
        ("created_at", format!("{ts} NOT NULL DEFAULT {now}")),
    ];
    let cols: Vec<String> = base
        .iter()
        .filter_map(|(name, def)| {
            let def = match changes.iter().find(|(c, _)| c == name) {
                Some((_, change)) => change.map(|d| d.replace("{text}", text))?,
                None => def.clone(),
            };
            Some(format!("{name} {def}"))
        })
        .collect();
    format!("CREATE TABLE items ({}){tail}", cols.join(", "))
}

/// The mismatches `verify` reports for `models`, and its message.
async fn refusal(
    db: &Db,
    models: &[&'static expose_runtime::Model],
) -> (Vec<MismatchKind>, String) {
    match expose_runtime::verify(db, models).await {
        Err(e @ VerifyError::Mismatches(_)) => {
            let message = e.to_string();
            let VerifyError::Mismatches(all) = e else {
                unreachable!()
            };
            (all.into_iter().map(|m| m.kind).collect(), message)
        }
        Err(e) => panic!("the catalog could not be read: {e}"),
        Ok(()) => panic!("verify accepted a table that does not match"),
    }
}

/// Asserts that `message` has a line naming the model, field, column and both types.
fn names(message: &str, field: &str, rust: &str, sql: &[&str]) {
    let line = message
        .lines()
        .find(|l| l.contains(&format!("Item.{field} ")) || l.contains(&format!("Loose.{field} ")))
        .unwrap_or_else(|| panic!("no line about `{field}` in:\n{message}"));
    assert!(line.contains(&format!(".{field};")), "column: {line}");
    assert!(line.contains(&format!("Rust {rust},")), "Rust type: {line}");
    let lower = line.to_lowercase();
    assert!(
        sql.iter().any(|s| lower.contains(&format!("sql {s}"))),
        "SQL type {sql:?}: {line}"
    );
}

async fn missing_table(t: Arc<TestDb>) {
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::MissingTable]);
    assert!(message.contains("Item: table `items`"), "{message}");
}

async fn missing_column(t: Arc<TestDb>) {
    t.db.execute(&items_table(t.backend, &[("qty", None)]))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::MissingColumn]);
    assert!(
        message.contains("Item.qty (column items.qty; Rust i32, SQL none)"),
        "{message}"
    );
}

async fn incompatible_types(t: Arc<TestDb>) {
    let changes = [
        ("price", Some("NUMERIC(10,2) NOT NULL")),
        ("qty", Some("BIGINT NOT NULL")),
        ("code", Some("INTEGER NOT NULL")),
    ];
    t.db.execute(&items_table(t.backend, &changes))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    // Every integer is 64 bits in SQLite: an i32 in a BIGINT column reads back.
    let expected = match t.backend {
        Backend::Sqlite => vec![MismatchKind::Type; 2],
        _ => vec![MismatchKind::Type; 3],
    };
    assert_eq!(kinds, expected, "{message}");
    names(&message, "price", "f64", &["numeric", "decimal"]);
    names(&message, "code", "String", &["integer", "int4", "int"]);
    if t.backend != Backend::Sqlite {
        names(&message, "qty", "i32", &["int8", "bigint"]);
    }
}

async fn nullable_column(t: Arc<TestDb>) {
    t.db.execute(&items_table(t.backend, &[("name", Some("{text}"))]))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::Nullable]);
    names(&message, "name", "String", &["text", "varchar"]);
    assert!(message.contains("allows NULL"), "{message}");
}

async fn not_null_column(t: Arc<TestDb>) {
    t.db.execute(&items_table(
        t.backend,
        &[("note", Some("{text} NOT NULL"))],
    ))
    .await
    .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::NotNull]);
    names(&message, "note", "Option<String>", &["text", "varchar"]);
}

async fn no_default(t: Arc<TestDb>) {
    let ts = match t.backend {
        Backend::Sqlite => "TEXT NOT NULL",
        Backend::Postgres => "TIMESTAMPTZ NOT NULL",
        Backend::MySql => "DATETIME(6) NOT NULL",
    };
    let changes = [
        ("created_at", Some(ts)),
        ("stock", Some("INTEGER NOT NULL")),
    ];
    t.db.execute(&items_table(t.backend, &changes))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::NoDefault; 2], "{message}");
    names(&message, "stock", "i32", &["integer", "int4", "int"]);
    names(
        &message,
        "created_at",
        "chrono::DateTime<Utc>",
        &["text", "timestamptz", "datetime"],
    );
    assert!(message.contains("`generated`") && message.contains("`default`"));
}

async fn key_not_supplied(t: Arc<TestDb>) {
    let uuid = match t.backend {
        Backend::Sqlite => "BLOB",
        Backend::Postgres => "UUID",
        Backend::MySql => "BINARY(16)",
    };
    t.db.execute(&format!(
        "CREATE TABLE loose (id {uuid} PRIMARY KEY, title TEXT NOT NULL)"
    ))
    .await
    .unwrap();
    let (kinds, message) = refusal(&t.db, &[Loose::MODEL]).await;
    // SQLite lets a primary key other than INTEGER hold NULL: the very bug of the issue.
    let expected = match t.backend {
        Backend::Sqlite => vec![MismatchKind::Nullable, MismatchKind::KeyNotSupplied],
        _ => vec![MismatchKind::KeyNotSupplied],
    };
    assert_eq!(kinds, expected, "{message}");
    names(&message, "id", "uuid::Uuid", &["blob", "uuid", "binary"]);
    assert!(message.contains("a create would store no key"), "{message}");

    // Served anyway, a create never answers with a null key.
    let app = axum::Router::new()
        .merge(Loose::router())
        .with_state(t.db.clone());
    let r = send(&app, "POST", "/loose", &[], Some(r#"{"title":"Dune"}"#)).await;
    assert!(
        !r.status.is_success(),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    if t.backend == Backend::Sqlite {
        // The row went in with a NULL key: a 500 whose body tells nothing of the schema.
        let p = r.problem(500);
        assert!(!p["detail"].as_str().unwrap().contains("key"), "{p}");
        assert!(r.header("location").is_none());
    }
}

async fn not_unique(t: Arc<TestDb>) {
    t.db.execute(&items_table(t.backend, &[("sku", Some("{text} NOT NULL"))]))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::NotUnique]);
    names(&message, "sku", "String", &["text", "varchar"]);
}

async fn every_mismatch_in_one_error(t: Arc<TestDb>) {
    let changes = [("price", Some("TEXT NOT NULL")), ("note", None)];
    t.db.execute(&items_table(t.backend, &changes))
        .await
        .unwrap();
    let (kinds, message) = refusal(&t.db, &[Item::MODEL, Book::MODEL]).await;
    assert_eq!(
        kinds,
        [
            MismatchKind::Type,
            MismatchKind::MissingColumn,
            MismatchKind::MissingTable
        ],
        "{message}"
    );
    assert!(message.starts_with("the database does not match the models (3 mismatches):"));
}

async fn ddl_round_trip(t: Arc<TestDb>) {
    let models = [Item::MODEL, Book::MODEL, Kinds::MODEL];
    expose_runtime::create_tables(&t.db, &models).await.unwrap();
    expose_runtime::verify(&t.db, &models)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Twice is harmless: IF NOT EXISTS.
    expose_runtime::create_tables(&t.db, &models).await.unwrap();
    let app = axum::Router::new()
        .merge(Kinds::router())
        .merge(Item::router())
        .with_state(t.db.clone());
    let row = serde_json::json!({
        "a": -7, "b": 70000, "c": 9_000_000_000i64, "d": 1.5, "e": 2.25, "f": true,
        "g": "text", "h": "2024-01-31T12:00:00Z", "i": "2024-01-31",
        "j": "67e55044-10b1-426f-9247-bb680e5fe0c8", "k": {"a": [1, 2]}, "l": null
    });
    let r = send(&app, "POST", "/kinds", &[], Some(&row.to_string())).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    let back = get(&app, r.header("location").unwrap()).await.json();
    assert_eq!(created, back);
    for (k, v) in row.as_object().unwrap() {
        if k != "h" {
            assert_eq!(&back[k], v, "{k}");
        }
    }
    // `default` and `generated` columns filled by the database.
    let r = send(
        &app,
        "POST",
        "/items",
        &[],
        Some(r#"{"name":"n","price":1.5,"qty":2,"code":"c","sku":"s"}"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["stock"], 0);
    assert!(r.json()["created_at"].is_string());
}

async fn uuid_key_generated_in_rust(t: Arc<TestDb>) {
    expose_runtime::create_tables(&t.db, &[Book::MODEL])
        .await
        .unwrap();
    expose_runtime::verify(&t.db, &[Book::MODEL]).await.unwrap();
    let app = axum::Router::new()
        .merge(Book::router())
        .with_state(t.db.clone());
    let r = send(&app, "POST", "/books", &[], Some(r#"{"title":"Dune"}"#)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let book = r.json();
    let id: uuid::Uuid = book["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(r.header("location"), Some(&*format!("/books/{id}")));
    assert_eq!(book["copies"], 1);
    let uri = format!("/books/{id}");
    assert_eq!(get(&app, &uri).await.json(), book);
    let r = send(
        &app,
        "PATCH",
        &uri,
        &[],
        Some(r#"{"title":"Dune Messiah"}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(get(&app, &uri).await.json()["title"], "Dune Messiah");
    // A key the client sends is kept; a bulk create makes one per row.
    let mine = "0190b7e4-0000-7000-8000-000000000001";
    let r = send(
        &app,
        "POST",
        "/books",
        &[],
        Some(&format!(r#"{{"id":"{mine}","title":"Mine"}}"#)),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["id"], mine);
    let r = send(
        &app,
        "POST",
        "/books",
        &[("prefer", "return=representation")],
        Some(r#"[{"title":"A"},{"title":"B"}]"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let rows = r.json();
    let (a, b) = (&rows[0]["id"], &rows[1]["id"]);
    assert!(a.is_string() && b.is_string() && a != b, "{rows}");
    assert_eq!(
        get(&app, "/books").await.json().as_array().unwrap().len(),
        4
    );
    assert_eq!(send(&app, "DELETE", &uri, &[], None).await.status, 204);
    get(&app, &uri).await.problem(404);
}

/// A field that references another table: `verify` wants the foreign key.
#[expose(as = "fk_loans", retrieve)]
pub struct FkLoan {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(references = "fk_members (id)")]
    pub member_id: i64,
}

#[expose(as = "fk_members", retrieve)]
pub struct FkMember {
    #[expose(id, generated)]
    pub id: i64,
}

async fn no_foreign_key(t: Arc<TestDb>) {
    expose_runtime::create_tables(&t.db, &[FkMember::MODEL])
        .await
        .unwrap();
    let ddl = FkLoan::MODEL.create_table(t.backend).unwrap();
    // The model's table without its REFERENCES clause.
    let without = ddl.replace(" REFERENCES fk_members (id)", "");
    assert_ne!(ddl, without, "{ddl}");
    t.db.execute(&without).await.unwrap();
    let (kinds, message) = refusal(&t.db, &[FkMember::MODEL, FkLoan::MODEL]).await;
    assert_eq!(kinds, [MismatchKind::NoForeignKey], "{message}");
    let line = message
        .lines()
        .find(|l| l.contains("FkLoan.member_id "))
        .unwrap();
    assert!(
        line.contains("(column fk_loans.member_id; Rust i64, SQL "),
        "{line}"
    );
    assert!(line.contains("references fk_members(id)"), "{line}");
    // With the DDL's foreign key, accepted.
    t.db.execute("DROP TABLE fk_loans").await.unwrap();
    t.db.execute(&ddl).await.unwrap();
    expose_runtime::verify(&t.db, &[FkMember::MODEL, FkLoan::MODEL])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

backend_tests!(
    no_foreign_key,
    missing_table,
    missing_column,
    incompatible_types,
    nullable_column,
    not_null_column,
    no_default,
    key_not_supplied,
    not_unique,
    every_mismatch_in_one_error,
    ddl_round_trip,
    uuid_key_generated_in_rust,
);
