//! End-to-end: the field types beyond the basic ones, on every backend: `rust_decimal::Decimal`
//! (exact through create, retrieve, filters and order), enums stored as text
//! (`#[derive(Enum)]`: values checked in bodies and filters), and date-only values on a
//! date-time filter (midnight UTC).

mod support;

use expose_runtime::{expose, Backend, Db, HookCtx, Problem};
use rust_decimal::Decimal;
use support::{get, send, TestDb};

/// Stored as text; MySQL's column is an `ENUM` of the same names.
#[derive(expose_runtime::Enum)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    OnLeave,
    Retired,
}

#[expose(
    as = "ft_items",
    list(
        filter = "id,price,discount,status,previous,created_at",
        sort = "id,price,discount,status,created_at",
        order = "id"
    ),
    retrieve,
    create,
    update
)]
pub struct Item {
    #[expose(id, generated)]
    pub id: i64,
    pub price: Decimal,
    pub discount: Option<Decimal>,
    pub status: Status,
    pub previous: Option<Status>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

async fn app(db: &Db) -> axum::Router {
    let ddl = match db.backend() {
        // SQLite: decimals as TEXT (exact), compared through the `expose_decimal` collation.
        Backend::Sqlite => {
            "CREATE TABLE ft_items (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                price TEXT NOT NULL,
                discount TEXT,
                status TEXT NOT NULL,
                previous TEXT,
                created_at TEXT NOT NULL
            )"
        }
        Backend::Postgres => {
            "CREATE TABLE ft_items (
                id BIGSERIAL PRIMARY KEY,
                price NUMERIC(30, 2) NOT NULL,
                discount NUMERIC,
                status TEXT NOT NULL CHECK (status IN ('active', 'on_leave', 'retired')),
                previous TEXT,
                created_at TIMESTAMPTZ NOT NULL
            )"
        }
        Backend::MySql => {
            "CREATE TABLE ft_items (
                id BIGINT AUTO_INCREMENT PRIMARY KEY,
                price DECIMAL(30, 2) NOT NULL,
                discount DECIMAL(30, 2),
                status ENUM('active', 'on_leave', 'retired') NOT NULL,
                previous VARCHAR(20),
                created_at DATETIME(6) NOT NULL
            )"
        }
    };
    db.execute(ddl).await.expect("create ft_items");
    Item::router().with_state(db.clone())
}

/// Creates an item; returns the response's text (decimals are checked in it, exactly).
async fn create(app: &axum::Router, body: &str) -> String {
    let r = send(app, "POST", "/ft_items", &[], Some(body)).await;
    assert_eq!(
        r.status,
        201,
        "{body}: {}",
        String::from_utf8_lossy(&r.body)
    );
    String::from_utf8(r.body).unwrap()
}

/// The ids a list answers, in order.
async fn ids(app: &axum::Router, query: &str) -> Vec<i64> {
    let r = get(app, &format!("/ft_items?{query}")).await;
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

/// The items every test creates: ids 1 to 4.
async fn seed(app: &axum::Router) {
    for body in [
        r#"{"price": 12345678901234567890.12, "discount": "0.05", "status": "on_leave", "created_at": "2020-01-01T00:00:00Z"}"#,
        r#"{"price": "9.50", "status": "active", "previous": "retired", "created_at": "2019-12-31T23:59:59Z"}"#,
        r#"{"price": 100.00, "discount": 1.25, "status": "retired", "created_at": "2020-01-01T00:00:01Z"}"#,
        r#"{"price": -0.01, "status": "active", "created_at": "2020-06-15T12:00:00Z"}"#,
    ] {
        create(app, body).await;
    }
}

async fn decimals_are_exact(t: std::sync::Arc<TestDb>) {
    let app = app(&t.db).await;
    let first = create(
        &app,
        r#"{"price": 12345678901234567890.12, "discount": "0.05", "status": "on_leave", "created_at": "2020-01-01T00:00:00Z"}"#,
    )
    .await;
    // A JSON number, every digit kept (read as text, never through f64).
    assert!(
        first.contains(r#""price":12345678901234567890.12"#),
        "{first}"
    );
    assert!(first.contains(r#""discount":0.05"#), "{first}");
    let r = get(&app, "/ft_items/1").await;
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains(r#""price":12345678901234567890.12"#),
        "{text}"
    );
    // Read by user SQL (`Db::fetch_*`) as a `Decimal`, exactly, on every backend.
    let (price,): (Decimal,) =
        t.db.fetch_one("SELECT price FROM ft_items WHERE id = ?", &[1i64.into()])
            .await
            .unwrap();
    assert_eq!(price.to_string(), "12345678901234567890.12");
    // Also through a list, and as the input of a filter and an update.
    let r = get(&app, "/ft_items?price=eq.12345678901234567890.12").await;
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains(r#""price":12345678901234567890.12"#),
        "{text}"
    );
    let r = send(
        &app,
        "PATCH",
        "/ft_items/1",
        &[],
        Some(r#"{"price": "98765432109876543210.98", "discount": null}"#),
    )
    .await;
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains(r#""price":98765432109876543210.98"#) && text.contains(r#""discount":null"#),
        "{text}"
    );
}

async fn decimals_compare_and_sort_as_numbers(t: std::sync::Arc<TestDb>) {
    let app = app(&t.db).await;
    seed(&app).await;
    // Every comparison operator; `9.5` and `9.50` are one number.
    assert_eq!(ids(&app, "price=eq.9.5").await, [2]);
    assert_eq!(ids(&app, "price=neq.9.50").await, [1, 3, 4]);
    assert_eq!(ids(&app, "price=gt.10").await, [1, 3]);
    assert_eq!(ids(&app, "price=gte.100").await, [1, 3]);
    assert_eq!(ids(&app, "price=lt.9.5").await, [4]);
    assert_eq!(ids(&app, "price=lte.9.5").await, [2, 4]);
    assert_eq!(ids(&app, "price=in.(9.50,100,1e2)").await, [2, 3]);
    assert_eq!(ids(&app, "price=not.gt.0").await, [4]);
    // Exact at 22 digits, where a float cannot tell the two apart.
    assert_eq!(ids(&app, "price=gt.12345678901234567890.11").await, [1]);
    assert_eq!(
        ids(&app, "price=lt.12345678901234567890.13&price=gt.100").await,
        [1]
    );
    assert!(ids(&app, "price=gt.12345678901234567890.12")
        .await
        .is_empty());
    assert_eq!(ids(&app, "discount=is.null").await, [2, 4]);
    assert_eq!(ids(&app, "discount=gte.0.05").await, [1, 3]);
    // Sorted as numbers (as text, "9.50" would follow "12345...", and "-0.01" lead).
    assert_eq!(ids(&app, "order=price").await, [4, 2, 3, 1]);
    assert_eq!(ids(&app, "order=price.desc").await, [1, 3, 2, 4]);
    assert_eq!(
        ids(&app, "order=discount.desc.nullslast,id").await,
        [3, 1, 2, 4]
    );
}

async fn decimals_that_do_not_fit_are_refused(t: std::sync::Arc<TestDb>) {
    let app = app(&t.db).await;
    for price in [
        r#""abc""#,
        r#""1_000""#,
        "true",
        "[1]",
        // Beyond a Decimal's 28 places or its range: refused, not rounded.
        "0.00000000000000000000000000001",
        "1e40",
        r#""1e40""#,
    ] {
        let body = format!(
            r#"{{"price": {price}, "status": "active", "created_at": "2020-01-01T00:00:00Z"}}"#
        );
        let p = send(&app, "POST", "/ft_items", &[], Some(&body))
            .await
            .problem(422);
        assert_eq!(p["errors"][0]["name"], "price", "{price}: {p}");
        assert!(
            p["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("decimal"),
            "{p}"
        );
    }
    for value in ["gt.abc", "eq.1,5", "in.(1,x)", "lt.1e40"] {
        let p = get(&app, &format!("/ft_items?price={value}"))
            .await
            .problem(400);
        assert_eq!(p["errors"][0]["name"], "price", "{value}: {p}");
    }
    assert!(ids(&app, "").await.is_empty());
}

async fn enum_values_are_checked(t: std::sync::Arc<TestDb>) {
    let app = app(&t.db).await;
    seed(&app).await;
    let r = get(&app, "/ft_items/1").await;
    assert_eq!(r.json()["status"], "on_leave");
    assert_eq!(r.json()["previous"], serde_json::Value::Null);
    assert_eq!(get(&app, "/ft_items/2").await.json()["previous"], "retired");
    // A body with another value: 422 naming the field and the allowed values.
    for status in [r#""sleeping""#, r#""Active""#, "1", "null"] {
        let body =
            format!(r#"{{"price": 1, "status": {status}, "created_at": "2020-01-01T00:00:00Z"}}"#);
        let p = send(&app, "POST", "/ft_items", &[], Some(&body))
            .await
            .problem(422);
        assert_eq!(p["errors"][0]["name"], "status", "{p}");
        let detail = p["errors"][0]["detail"].as_str().unwrap();
        if status != "null" {
            assert!(
                detail.contains("`active`, `on_leave`, `retired`"),
                "{detail}"
            );
        }
    }
    let p = send(
        &app,
        "PATCH",
        "/ft_items/1",
        &[],
        Some(r#"{"previous": "gone"}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["name"], "previous", "{p}");
    // Filters: eq, neq, in, is; values checked too.
    assert_eq!(ids(&app, "status=eq.active").await, [2, 4]);
    assert_eq!(ids(&app, "status=neq.active").await, [1, 3]);
    assert_eq!(ids(&app, "status=in.(on_leave,retired)").await, [1, 3]);
    assert_eq!(ids(&app, "status=not.in.(on_leave,retired)").await, [2, 4]);
    assert_eq!(ids(&app, "previous=is.null").await, [1, 3, 4]);
    assert_eq!(
        ids(&app, "or=(status.eq.retired,previous.eq.retired)").await,
        [2, 3]
    );
    // Sorted by the stored text.
    assert_eq!(ids(&app, "order=status,id").await, [2, 4, 1, 3]);
    for (value, says) in [
        ("eq.sleeping", "`active`, `on_leave`, `retired`"),
        ("in.(active,Active)", "`active`, `on_leave`, `retired`"),
        ("gt.active", "eq, neq or in"),
        ("like.act*", "text fields only"),
    ] {
        let p = get(&app, &format!("/ft_items?status={value}"))
            .await
            .problem(400);
        assert_eq!(p["errors"][0]["name"], "status", "{value}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(says), "{value}: {p}");
    }
    let p = get(&app, "/ft_items?or=(status.eq.gone,id.eq.1)")
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["name"], "or", "{p}");
}

async fn a_date_alone_on_a_date_time_filter_is_midnight_utc(t: std::sync::Arc<TestDb>) {
    let app = app(&t.db).await;
    seed(&app).await;
    // 1: 2020-01-01T00:00:00Z, 2: 2019-12-31T23:59:59Z, 3: 2020-01-01T00:00:01Z,
    // 4: 2020-06-15T12:00:00Z.
    assert_eq!(ids(&app, "created_at=gt.2020-01-01").await, [3, 4]);
    assert_eq!(ids(&app, "created_at=gte.2020-01-01").await, [1, 3, 4]);
    assert_eq!(ids(&app, "created_at=lt.2020-01-01").await, [2]);
    assert_eq!(ids(&app, "created_at=eq.2020-01-01").await, [1]);
    assert_eq!(
        ids(&app, "created_at=in.(2020-01-01,2019-12-31T23:59:59Z)").await,
        [1, 2]
    );
    assert_eq!(
        ids(
            &app,
            "and=(created_at.gte.2020-01-01,created_at.lt.2020-02-01)"
        )
        .await,
        [1, 3]
    );
    // Still a date: an impossible one is refused, and a body wants a date-time.
    let p = get(&app, "/ft_items?created_at=gt.2020-02-30")
        .await
        .problem(400);
    assert_eq!(p["errors"][0]["name"], "created_at", "{p}");
    let p = send(
        &app,
        "POST",
        "/ft_items",
        &[],
        Some(r#"{"price": 1, "status": "active", "created_at": "2020-01-01"}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["name"], "created_at", "{p}");
}

/// A decimal as an upsert's conflict target, and hooks reading and setting the typed fields.
#[expose(
    as = "ft_prices",
    list(order = "code"),
    create(upsert, pre = [no_retired_price]),
    update
)]
pub struct Price {
    #[expose(id)]
    pub code: String,
    #[expose(unique)]
    pub amount: Decimal,
    pub status: Status,
}

/// Reads the enum and the decimal as their Rust types; a retired price above 1000 is made
/// active, a negative one refused.
async fn no_retired_price(ctx: &mut HookCtx) -> Result<(), Problem> {
    let input = ctx.input_mut()?;
    let amount = input.get(Price::FIELDS.amount).copied();
    if amount.is_some_and(|a| a.is_sign_negative()) {
        let why = "must not be negative".to_owned();
        return Err(Problem::unprocessable(
            "a price is never negative",
            vec![expose_runtime::Offender {
                name: "amount".into(),
                location: "body",
                detail: why,
                rule: None,
            }],
        ));
    }
    if let (Some(Status::Retired), Some(a)) = (input.get(Price::FIELDS.status), amount) {
        if a > Decimal::ONE_THOUSAND {
            input.set(Price::FIELDS.status, Status::Active)?;
        }
    }
    Ok(())
}

async fn decimal_conflict_targets_and_typed_hooks(t: std::sync::Arc<TestDb>) {
    let ddl = match t.backend {
        Backend::Sqlite => "CREATE TABLE ft_prices (code TEXT PRIMARY KEY, amount TEXT NOT NULL UNIQUE, status TEXT NOT NULL)",
        Backend::Postgres => "CREATE TABLE ft_prices (code TEXT PRIMARY KEY, amount NUMERIC(30, 2) NOT NULL UNIQUE, status TEXT NOT NULL)",
        Backend::MySql => "CREATE TABLE ft_prices (code VARCHAR(20) PRIMARY KEY, amount DECIMAL(30, 2) NOT NULL UNIQUE, status VARCHAR(20) NOT NULL)",
    };
    t.db.execute(ddl).await.expect("create ft_prices");
    let app = Price::router().with_state(t.db.clone());
    let merge = [(
        "prefer",
        "resolution=merge-duplicates, return=representation",
    )];
    let r = send(
        &app,
        "POST",
        "/ft_prices?on_conflict=amount",
        &merge,
        Some(r#"[{"code": "a", "amount": 12345678901234567890.12, "status": "retired"}]"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    // The hook saw a retired price above 1000 and made it active.
    assert_eq!(r.json()[0]["status"], "active");
    // The same amount, to the digit: merged into row `a` (a rounded read of the stored
    // amount would miss it and insert, which the unique index refuses).
    let r = send(
        &app,
        "POST",
        "/ft_prices?on_conflict=amount",
        &merge,
        Some(r#"[{"code": "a", "amount": "12345678901234567890.12", "status": "on_leave"}]"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let text = String::from_utf8(r.body).unwrap();
    assert!(
        text.contains(r#""amount":12345678901234567890.12"#) && text.contains("on_leave"),
        "{text}"
    );
    // One digit off is another amount: inserted.
    let r = send(
        &app,
        "POST",
        "/ft_prices?on_conflict=amount",
        &merge,
        Some(r#"[{"code": "b", "amount": 12345678901234567890.13, "status": "active"}]"#),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let p = send(
        &app,
        "POST",
        "/ft_prices",
        &[],
        Some(r#"{"code": "c", "amount": "-1", "status": "active"}"#),
    )
    .await
    .problem(422);
    assert_eq!(p["errors"][0]["name"], "amount", "{p}");
    let r = get(&app, "/ft_prices").await;
    let codes: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, ["a", "b"]);
}

backend_tests!(
    decimal_conflict_targets_and_typed_hooks,
    decimals_are_exact,
    decimals_compare_and_sort_as_numbers,
    decimals_that_do_not_fit_are_refused,
    enum_values_are_checked,
    a_date_alone_on_a_date_time_filter_is_midnight_utc,
);

#[test]
fn the_openapi_schema_says_decimal_and_enum() {
    let doc = expose_runtime::OpenApi::new("t", "1")
        .resource::<Item>()
        .document();
    let props = &doc["components"]["schemas"]["Item"]["properties"];
    assert_eq!(
        props["status"]["enum"],
        serde_json::json!(["active", "on_leave", "retired"])
    );
    assert_eq!(
        props["previous"]["enum"],
        serde_json::json!(["active", "on_leave", "retired", null])
    );
    assert_eq!(
        props["price"]["type"],
        serde_json::json!(["number", "string"])
    );
    assert_eq!(
        props["discount"]["type"],
        serde_json::json!(["null", "number", "string"])
    );
    let filter = doc["paths"]["/ft_items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap();
    let pattern = filter["schema"]["pattern"].as_str().unwrap();
    assert!(pattern.contains("(?:active|on_leave|retired)"), "{pattern}");
    assert!(!pattern.contains("gt"), "{pattern}");
}
