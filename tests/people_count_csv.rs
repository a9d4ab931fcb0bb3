//! End-to-end, on every backend: a list's estimated totals (`Prefer: count=planned` and
//! `count=estimated`) and its CSV answers (`Accept: text/csv`).
//!
//! Expected rows come from `app::seed_row(n)` (row `n` has id `n`). An estimate is the
//! planner's, so these tests check what holds of any estimate (a number, never below the
//! rows the page shows, the statuses and `Preference-Applied` that go with it) and check
//! the exact figures where the total is counted: always on SQLite, and wherever the page
//! itself or the threshold of `count=estimated` decides.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use expose_runtime::{expose, Backend, Cond, HookCtx, Problem};
use std::sync::Arc;
use support::{send, Reply, TestDb};

/// The people table with a small largest page: `count=estimated` counts up to 20 rows.
#[expose(
    as = "tight",
    table = "people",
    list(fields = "id,name,age", order = "id", limit = 5, max_limit = 20)
)]
pub struct Tight {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub age: i32,
}

/// The people table behind every policy a list has: a forced filter, a scope, fewer
/// readable fields and a `post` hook that changes the page.
#[expose(
    as = "shouted",
    table = "people",
    list(
        fields = "id,name,bio",
        where = "age.lt.30",
        order = "id",
        scope = not_admins,
        post = [shout]
    )
)]
pub struct Shouted {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub age: i32,
    pub is_admin: bool,
    pub bio: Option<String>,
}

fn not_admins(_ctx: &HookCtx) -> Result<Option<Cond<Shouted>>, Problem> {
    Ok(Some(Shouted::FIELDS.is_admin.eq(false)))
}

/// Upper-cases every name of the page.
async fn shout(ctx: &mut HookCtx) -> Result<(), Problem> {
    if let Some(serde_json::Value::Array(rows)) = ctx.output_mut() {
        for r in rows {
            if let Some(name) = r["name"].as_str() {
                r["name"] = name.to_uppercase().into();
            }
        }
    }
    Ok(())
}

const ROWS: u64 = 200;

async fn people(t: &TestDb) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, ROWS).await.expect("seed");
    app::app(t.db.clone())
        .merge(Tight::router().with_state(t.db.clone()))
        .merge(Shouted::router().with_state(t.db.clone()))
}

fn text(r: &Reply) -> String {
    String::from_utf8(r.body.clone()).expect("UTF-8 body")
}

/// The `first-last` and total parts of `Content-Range`.
fn content_range(r: &Reply) -> (String, Option<u64>) {
    let cr = r.header("content-range").expect("Content-Range");
    let (range, total) = cr.split_once('/').expect("range/total");
    (range.to_owned(), total.parse().ok())
}

fn ids(r: &Reply) -> Vec<i64> {
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", text(r)))
        .iter()
        .map(|o| o["id"].as_i64().expect("id"))
        .collect()
}

/// How many seeded rows satisfy `pred`.
fn seeded(pred: impl Fn(u64, i32) -> bool) -> u64 {
    (1..=ROWS).filter(|&n| pred(n, app::seed_row(n).2)).count() as u64
}

// ---------------------------------------------------------------------------------------
// counts

async fn planned_counts(t: Arc<TestDb>) {
    let app = people(&t).await;
    let estimates = t.backend != Backend::Sqlite;
    let planned = if estimates {
        "count=planned"
    } else {
        "count=exact"
    };
    let prefer = [("prefer", "count=planned")];

    // A full page: the planner's estimate (SQLite: counted).
    let r = send(&app, "GET", "/people?limit=10", &prefer, None).await;
    assert_eq!(r.status, 206, "{}", text(&r));
    assert_eq!(ids(&r), (1..=10).collect::<Vec<_>>());
    let (range, total) = content_range(&r);
    assert_eq!(range, "0-9");
    let total = total.expect("a number");
    assert!(total >= 10, "{total}");
    if !estimates {
        assert_eq!(total, ROWS);
    }
    assert_eq!(r.header("preference-applied"), Some(planned));

    // With filters, and never below the rows shown: offset 150 + 10 rows.
    for uri in [
        "/people?age=gte.30&limit=2",
        "/people?or=(age.lt.20,name.like.*9*)&order=age.desc&limit=3",
        "/people?offset=150&limit=10",
    ] {
        let r = send(&app, "GET", uri, &prefer, None).await;
        assert_eq!(r.status, 206, "{uri}: {}", text(&r));
        let (range, total) = content_range(&r);
        let (first, last) = range.split_once('-').expect("a range");
        let last: u64 = last.parse().unwrap();
        let total = total.unwrap_or_else(|| panic!("{uri}: a number"));
        assert!(total > last, "{uri}: {range}/{total}");
        assert!(first.parse::<u64>().unwrap() <= last);
        assert_eq!(r.header("preference-applied"), Some(planned), "{uri}");
    }
    let r = send(&app, "GET", "/people?age=gte.30&limit=2", &prefer, None).await;
    if !estimates {
        assert_eq!(content_range(&r).1, Some(seeded(|_, age| age >= 30)));
    }

    // A page shorter than asked ends the rows: counted, whatever the backend.
    let age30 = seeded(|_, age| age == 30);
    let r = send(&app, "GET", "/people?age=eq.30&limit=1000", &prefer, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-range"),
        Some(format!("0-{}/{age30}", age30 - 1).as_str())
    );
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    let r = send(&app, "GET", "/people?offset=190", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("190-199/200"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    let r = send(&app, "GET", "/people?age=gt.500", &prefer, None).await;
    assert_eq!((r.status.as_u16(), ids(&r).len()), (200, 0));
    assert_eq!(r.header("content-range"), Some("*/0"));

    // Past the end: the empty page is counted, so 416 tells the truth.
    let r = send(&app, "GET", "/people?offset=500", &prefer, None).await;
    r.problem(416);
    assert_eq!(r.header("content-range"), Some("*/200"));
    let r = send(&app, "GET", "/people?offset=200", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("*/200"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));

    // `limit=0` shows nothing: an estimate, never a 416 made from it (SQLite counts).
    let r = send(&app, "GET", "/people?limit=0&offset=5000", &prefer, None).await;
    if estimates {
        assert!(matches!(r.status.as_u16(), 200 | 206), "{}", text(&r));
        assert!(content_range(&r).1.is_some());
        assert_eq!(r.header("preference-applied"), Some(planned));
    } else {
        r.problem(416);
        assert_eq!(r.header("content-range"), Some("*/200"));
    }

    // HEAD, and with other preferences in the same header.
    let r = send(&app, "HEAD", "/people?limit=10", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert!(r.body.is_empty());
    assert_eq!(r.header("preference-applied"), Some(planned));
    let both = [("prefer", "handling=lenient, count=planned")];
    let r = send(&app, "GET", "/people?limit=10", &both, None).await;
    assert_eq!(
        r.header("preference-applied"),
        Some(format!("handling=lenient, {planned}").as_str())
    );
}

async fn planned_counts_follow_the_statistics(t: Arc<TestDb>) {
    let app = people(&t).await;
    // With fresh statistics, the estimate of a whole small table is its size (PostgreSQL
    // reads every row of a table this small; InnoDB's statistics sample its pages).
    let analyze = match t.backend {
        Backend::Sqlite => "ANALYZE people",
        Backend::Postgres => "VACUUM ANALYZE people",
        Backend::MySql => "ANALYZE TABLE people",
    };
    t.db.execute(analyze).await.expect("analyze");
    let r = send(
        &app,
        "GET",
        "/people?limit=10",
        &[("prefer", "count=planned")],
        None,
    )
    .await;
    let total = content_range(&r).1.expect("a number");
    match t.backend {
        Backend::Sqlite | Backend::Postgres => assert_eq!(total, ROWS),
        Backend::MySql => assert!((ROWS / 2..=ROWS * 2).contains(&total), "{total}"),
    }
    // A range the key's index serves: the estimate follows the condition.
    let r = send(
        &app,
        "GET",
        "/people?id=gt.190&limit=2",
        &[("prefer", "count=planned")],
        None,
    )
    .await;
    let total = content_range(&r).1.expect("a number");
    assert!((2..=40).contains(&total), "{total}");
}

async fn estimated_counts(t: Arc<TestDb>) {
    let app = people(&t).await;
    let estimates = t.backend != Backend::Sqlite;
    let prefer = [("prefer", "count=estimated")];

    // Up to the largest page (`max_limit`, 1000 for people): counted.
    let r = send(&app, "GET", "/people?limit=10", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("0-9/200"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));

    // `tight` serves at most 20 rows a page: 200 rows are past it, so estimated, and never
    // below the 21 rows the bounded count saw.
    let r = send(&app, "GET", "/tight?limit=5", &prefer, None).await;
    assert_eq!(r.status, 206, "{}", text(&r));
    assert_eq!(ids(&r), (1..=5).collect::<Vec<_>>());
    let total = content_range(&r).1.expect("a number");
    if estimates {
        assert!(total >= 21, "{total}");
        assert_eq!(r.header("preference-applied"), Some("count=planned"));
    } else {
        assert_eq!(total, ROWS);
        assert_eq!(r.header("preference-applied"), Some("count=exact"));
    }
    // Past the threshold by the page alone (offset 30): no bounded count, the estimate.
    let r = send(&app, "GET", "/tight?offset=30", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert!(content_range(&r).1.expect("a number") >= 35);
    // Under it: counted.
    let age30 = seeded(|_, age| age == 30);
    assert!(age30 <= 20);
    let r = send(&app, "GET", "/tight?age=eq.30&limit=2", &prefer, None).await;
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("0-1/{age30}").as_str())
    );
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    let r = send(&app, "GET", "/tight?age=lt.25&limit=5", &prefer, None).await;
    let young = seeded(|_, age| age < 25);
    assert!(young > 20);
    let total = content_range(&r).1.expect("a number");
    assert!(total >= 21, "{total}");
    if !estimates {
        assert_eq!(total, young);
    }
    // Exact stays exact.
    let r = send(&app, "GET", "/tight", &[("prefer", "count=exact")], None).await;
    assert_eq!(r.header("content-range"), Some("0-4/200"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
}

// ---------------------------------------------------------------------------------------
// CSV

const CSV: (&str, &str) = ("accept", "text/csv");

fn csv_reply(r: &Reply) -> String {
    assert_eq!(r.status.as_u16() / 100, 2, "{}", text(r));
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    text(r)
}

/// A seeded row as CSV under `id,full,bio` (`full` the name).
fn seeded_line(n: u64) -> String {
    let (name, _, _, _, bio) = app::seed_row(n);
    format!("{n},{name},{}\n", bio.unwrap_or_default())
}

async fn csv_pages(t: Arc<TestDb>) {
    let app = people(&t).await;

    // select with an alias, order, limit; a null is an empty field.
    let r = send(
        &app,
        "GET",
        "/people?select=id,full:name,bio&limit=4",
        &[CSV],
        None,
    )
    .await;
    let body = csv_reply(&r);
    let want: String = std::iter::once("id,full,bio\n".to_owned())
        .chain((1..=4).map(seeded_line))
        .collect();
    assert_eq!(body, want);
    assert!(body.contains("\n3,Person 3,\n"), "{body}");
    assert_eq!(r.header("content-range"), Some("0-3/*"));

    // Filters, order, the Range header and an exact count, as for JSON.
    let pairs = "select=id,full:name,bio&age=gte.70&order=id.desc";
    let headers = [CSV, ("range", "1-3"), ("prefer", "count=exact")];
    let r = send(&app, "GET", &format!("/people?{pairs}"), &headers, None).await;
    let j = send(
        &app,
        "GET",
        &format!("/people?{pairs}"),
        &headers[1..],
        None,
    )
    .await;
    assert_eq!(r.status, 206);
    assert_eq!(r.status, j.status);
    assert_eq!(r.header("content-range"), j.header("content-range"));
    assert_eq!(r.header("preference-applied"), Some("count=exact"));
    let want: String = std::iter::once("id,full,bio\n".to_owned())
        .chain(ids(&j).into_iter().map(|n| seeded_line(n as u64)))
        .collect();
    assert_eq!(csv_reply(&r), want);
    assert_eq!(
        content_range(&r).1,
        Some(seeded(|_, age| age >= 70)),
        "{want}"
    );

    // Every default column, each value as the JSON answer writes it; the hidden password
    // never appears, and cannot be selected.
    let r = send(&app, "GET", "/people?id=eq.50", &[CSV], None).await;
    let j = send(&app, "GET", "/people?id=eq.50", &[], None)
        .await
        .json();
    let p = &j[0];
    let created = p["created_at"].as_str().unwrap();
    assert_eq!(
        csv_reply(&r),
        format!(
            "id,name,email,age,is_admin,bio,created_at\n\
             50,Person 50,person50@example.com,{},true,Bio of person 50,{created}\n",
            p["age"]
        )
    );
    assert!(!text(&r).contains("secret"));
    let r = send(&app, "GET", "/people?select=id,password", &[CSV], None).await;
    r.problem(400);

    // An empty page is the header line alone; a count past the end is 416, as for JSON.
    let r = send(
        &app,
        "GET",
        "/people?select=id,name&age=gt.500",
        &[CSV],
        None,
    )
    .await;
    assert_eq!(csv_reply(&r), "id,name\n");
    assert_eq!(r.header("content-range"), Some("*/*"));
    let r = send(
        &app,
        "GET",
        "/people?offset=300",
        &[CSV, ("prefer", "count=planned")],
        None,
    )
    .await;
    r.problem(416);

    // HEAD: the headers of the CSV answer, no body.
    let r = send(&app, "HEAD", "/people?limit=3", &[CSV], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(r.body.is_empty());
}

async fn csv_quoting(t: Arc<TestDb>) {
    let app = people(&t).await;
    let tricky = serde_json::json!({
        "name": "Doe, \"Jane\"\r\nSecond line",
        "email": "jane@example.com",
        "password": "pw",
        "age": 41,
        "bio": "",
    });
    let r = send(&app, "POST", "/people", &[], Some(&tricky.to_string())).await;
    assert_eq!(r.status, 201, "{}", text(&r));
    let id = r.json()["id"].as_i64().unwrap();
    let r = send(
        &app,
        "GET",
        &format!("/people?id=eq.{id}&select=name,age,bio,e-mail:email"),
        &[CSV],
        None,
    )
    .await;
    assert_eq!(
        csv_reply(&r),
        "name,age,bio,e-mail\n\
         \"Doe, \"\"Jane\"\"\r\nSecond line\",41,\"\",jane@example.com\n"
    );
}

async fn csv_negotiation(t: Arc<TestDb>) {
    let app = people(&t).await;
    let uri = "/people?select=id&limit=2";
    for (accept, csv) in [
        ("text/csv", true),
        ("text/csv; charset=utf-8", true),
        ("TEXT/CSV", true),
        ("text/csv, application/json", true),
        ("application/json, text/csv", false),
        ("application/json;q=0.5, text/csv", true),
        ("text/csv;q=0.5, application/json", false),
        ("text/csv;q=0.5, */*", false),
        ("text/csv;q=0, application/json", false),
        ("*/*", false),
    ] {
        let r = send(&app, "GET", uri, &[("accept", accept)], None).await;
        assert_eq!(r.status, 200, "{accept}: {}", text(&r));
        if csv {
            assert_eq!(csv_reply(&r), "id\n1\n2\n", "{accept}");
        } else {
            assert_eq!(
                r.header("content-type"),
                Some("application/json"),
                "{accept}"
            );
            assert_eq!(ids(&r), [1, 2], "{accept}");
        }
    }
    for accept in ["text/html", "text/csv;q=0", "text/*"] {
        let p = send(&app, "GET", uri, &[("accept", accept)], None)
            .await
            .problem(406);
        assert!(p["detail"].as_str().unwrap().contains("text/csv"), "{p}");
    }
    // One record by key is JSON only.
    send(&app, "GET", "/people/1", &[CSV], None)
        .await
        .problem(406);
}

async fn csv_under_every_policy(t: Arc<TestDb>) {
    let app = people(&t).await;
    // age < 30 (forced), not an admin (scope), names upper-cased by the `post` hook.
    let want: Vec<u64> = (1..=ROWS)
        .filter(|&n| {
            let (_, _, age, admin, _) = app::seed_row(n);
            age < 30 && !admin
        })
        .take(3)
        .collect();
    let r = send(
        &app,
        "GET",
        "/shouted?limit=3",
        &[CSV, ("prefer", "count=exact")],
        None,
    )
    .await;
    let lines: String = want
        .iter()
        .map(|&n| {
            let (name, _, _, _, bio) = app::seed_row(n);
            format!("{n},{},{}\n", name.to_uppercase(), bio.unwrap_or_default())
        })
        .collect();
    assert_eq!(csv_reply(&r), format!("id,name,bio\n{lines}"));
    let matching = (1..=ROWS)
        .filter(|&n| {
            let (_, _, age, admin, _) = app::seed_row(n);
            age < 30 && !admin
        })
        .count();
    assert_eq!(
        r.header("content-range"),
        Some(format!("0-2/{matching}").as_str())
    );
    // A field outside the policy is refused as for JSON.
    send(&app, "GET", "/shouted?select=age", &[CSV], None)
        .await
        .problem(400);
}

backend_tests!(
    planned_counts,
    planned_counts_follow_the_statistics,
    estimated_counts,
    csv_pages,
    csv_quoting,
    csv_negotiation,
    csv_under_every_policy,
);
