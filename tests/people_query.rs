//! End-to-end: the list query language (PostgREST's grammar) on every backend.
//!
//! Every expected result is computed here from `app::seed_row(n)` (row `n` has id `n`),
//! never by asking the API; every list request is also sent with `Prefer: count=exact`, so
//! the count statement is checked against the same expectation as the list statement.

#[path = "../examples/people/app.rs"]
mod app;
mod support;

use serde_json::{json, Value};
use std::sync::Arc;
use support::{get, send, Reply, TestDb};

/// A stricter policy over the same table: tight bounds, a fixed order and page size, a
/// forced filter and fewer readable fields.
#[expose_runtime::expose(
    as = "strict",
    table = "people",
    list(
        fields = "id,name,age,bio",
        where = "age.lt.60",
        fixed_order = "age.desc",
        fixed_limit = 5,
        max_conditions = 3,
        max_depth = 2,
        max_in = 2
    )
)]
pub struct Strict {
    #[expose(id)]
    pub id: i64,
    pub name: String,
    pub age: i32,
    pub bio: Option<String>,
}

/// Rows seeded by most tests.
const ROWS: u64 = 200;

/// One seeded person, as the test expects it.
#[derive(Clone, Debug)]
struct P {
    id: i64,
    name: String,
    email: String,
    age: i32,
    is_admin: bool,
    bio: Option<String>,
}

fn expected_rows(rows: u64) -> Vec<P> {
    (1..=rows)
        .map(|n| {
            let (name, email, age, is_admin, bio) = app::seed_row(n);
            P {
                id: n as i64,
                name,
                email,
                age,
                is_admin,
                bio,
            }
        })
        .collect()
}

/// The ids of the rows that satisfy `pred`, in id order.
fn ids_where(rows: &[P], pred: impl Fn(&P) -> bool) -> Vec<i64> {
    rows.iter().filter(|p| pred(p)).map(|p| p.id).collect()
}

/// A person as the API writes it (without `created_at`, which the database assigns).
fn as_json(p: &P) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "email": p.email,
        "age": p.age,
        "is_admin": p.is_admin,
        "bio": p.bio,
    })
}

/// `/people?...` with every pair percent-encoded.
fn uri(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("/people?{}", s.finish())
}

fn body_text(r: &Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

/// The `id` of every object of a JSON array body.
fn ids(r: &Reply) -> Vec<i64> {
    r.json()
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", body_text(r)))
        .iter()
        .map(|o| o["id"].as_i64().unwrap_or_else(|| panic!("no id in {o}")))
        .collect()
}

/// SQL `LIKE` as PostgreSQL reads it: `%` any run, `_` one character, `\` escapes the next.
fn like(pattern: &str, s: &str) -> bool {
    enum T {
        Any,
        One,
        Lit(char),
    }
    let mut toks = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        toks.push(match c {
            '%' => T::Any,
            '_' => T::One,
            '\\' => T::Lit(chars.next().expect("no dangling escape in expectations")),
            c => T::Lit(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    // m[j]: the first i tokens match the first j characters.
    let mut m = vec![false; s.len() + 1];
    m[0] = true;
    for t in &toks {
        let mut next = vec![false; s.len() + 1];
        for j in 0..=s.len() {
            next[j] = match t {
                T::Any => m[j] || (j > 0 && next[j - 1]),
                T::One => j > 0 && m[j - 1],
                T::Lit(c) => j > 0 && m[j - 1] && s[j - 1] == *c,
            };
        }
        m = next;
    }
    m[s.len()]
}

/// `ilike` for the ASCII data of these tests.
fn ilike(pattern: &str, s: &str) -> bool {
    like(&pattern.to_ascii_lowercase(), &s.to_ascii_lowercase())
}

/// The expected `Content-Range` of a page of `n` rows at `offset` out of `total`.
fn content_range(offset: usize, n: usize, total: Option<usize>) -> String {
    let range = if n == 0 {
        "*".to_owned()
    } else {
        format!("{}-{}", offset, offset + n - 1)
    };
    let total = total.map_or("*".to_owned(), |t| t.to_string());
    format!("{range}/{total}")
}

async fn people(t: &TestDb, rows: u64) -> axum::Router {
    app::create_table(&t.db).await.expect("create table");
    app::seed(&t.db, rows).await.expect("seed");
    app::app(t.db.clone())
}

/// Query pairs or request headers.
type Pairs<'a> = Vec<(&'a str, &'a str)>;

const COUNT: (&str, &str) = ("prefer", "count=exact");
const OBJECT: (&str, &str) = ("accept", "application/vnd.pgrst.object+json");

/// Sends a filter (with `limit=1000` and an exact count) and checks the ids, in order, and
/// the count.
async fn expect(app: &axum::Router, pairs: &[(&str, &str)], want: Vec<i64>) {
    let mut all = pairs.to_vec();
    all.push(("limit", "1000"));
    let u = uri(&all);
    let r = send(app, "GET", &u, &[COUNT], None).await;
    assert_eq!(r.status, 200, "{pairs:?} ({u}): {}", body_text(&r));
    assert_eq!(ids(&r), want, "{pairs:?} ({u})");
    assert_eq!(
        r.header("content-range"),
        Some(content_range(0, want.len(), Some(want.len())).as_str()),
        "{pairs:?}"
    );
}

/// Sends `pairs` and expects a 400 problem naming `param`; returns the problem.
async fn refused(app: &axum::Router, pairs: &[(&str, &str)], param: &str) -> Value {
    let u = uri(pairs);
    let p = get(app, &u).await.problem(400);
    assert_eq!(p["errors"][0]["name"], param, "{pairs:?}: {p}");
    assert_eq!(p["errors"][0]["in"], "query", "{pairs:?}: {p}");
    p
}

// ---------------------------------------------------------------------------------------

async fn comparison_operators(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let cases: Vec<(Pairs, Vec<i64>)> = vec![
        (vec![("age", "eq.30")], ids_where(&d, |p| p.age == 30)),
        (vec![("age", "neq.30")], ids_where(&d, |p| p.age != 30)),
        (vec![("age", "gt.70")], ids_where(&d, |p| p.age > 70)),
        (vec![("age", "gte.70")], ids_where(&d, |p| p.age >= 70)),
        (vec![("age", "lt.20")], ids_where(&d, |p| p.age < 20)),
        (vec![("age", "lte.20")], ids_where(&d, |p| p.age <= 20)),
        (vec![("age", "eq.-5")], vec![]),
        (vec![("id", "gt.195")], ids_where(&d, |p| p.id > 195)),
        (vec![("id", "lte.3")], vec![1, 2, 3]),
        (vec![("name", "eq.Person 7")], vec![7]),
        (vec![("name", "eq.person 7")], vec![]),
        // Trailing spaces count (MySQL's PAD SPACE collations would ignore them).
        (vec![("name", "eq.Person 7 ")], vec![]),
        (vec![("name", "in.(Person 7 ,Person 8)")], vec![8]),
        (
            vec![("name", "neq.Person 7 "), ("id", "lte.7")],
            (1..=7).collect(),
        ),
        (
            vec![("name", "lt.Person 7 "), ("name", "gte.Person 7")],
            vec![7],
        ),
        (vec![("email", "eq.PERSON7@example.com")], vec![]),
        (vec![("name", "neq.Person 7")], ids_where(&d, |p| p.id != 7)),
        (
            vec![("name", "gt.Person 95")],
            ids_where(&d, |p| p.name.as_str() > "Person 95"),
        ),
        (
            vec![("name", "lte.Person 105")],
            ids_where(&d, |p| p.name.as_str() <= "Person 105"),
        ),
        (
            vec![("email", "eq.person12@example.com")],
            ids_where(&d, |p| p.id == 12),
        ),
        (vec![("is_admin", "eq.true")], ids_where(&d, |p| p.is_admin)),
        (
            vec![("is_admin", "neq.true")],
            ids_where(&d, |p| !p.is_admin),
        ),
        // `not.` on each comparison.
        (vec![("age", "not.eq.30")], ids_where(&d, |p| p.age != 30)),
        (vec![("age", "not.neq.30")], ids_where(&d, |p| p.age == 30)),
        (vec![("age", "not.gt.70")], ids_where(&d, |p| p.age <= 70)),
        (vec![("age", "not.gte.70")], ids_where(&d, |p| p.age < 70)),
        (vec![("age", "not.lt.20")], ids_where(&d, |p| p.age >= 20)),
        (vec![("age", "not.lte.20")], ids_where(&d, |p| p.age > 20)),
        (
            vec![("is_admin", "not.eq.false")],
            ids_where(&d, |p| p.is_admin),
        ),
        // The same field repeated: the conditions AND together.
        (
            vec![("age", "gt.20"), ("age", "lt.25")],
            ids_where(&d, |p| p.age > 20 && p.age < 25),
        ),
        (
            vec![("age", "gte.30"), ("age", "lte.30"), ("id", "lt.100")],
            ids_where(&d, |p| p.age == 30 && p.id < 100),
        ),
        (
            vec![("name", "neq.Person 1"), ("name", "neq.Person 2")],
            ids_where(&d, |p| p.id > 2),
        ),
        (vec![("age", "gt.50"), ("age", "lt.40")], vec![]),
    ];
    for (pairs, want) in cases {
        expect(&app, &pairs, want).await;
    }
    // The rows themselves, not only their ids.
    let r = get(&app, &uri(&[("id", "in.(1,3,50)")])).await;
    let got: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let mut o = o.clone();
            let at = o.as_object_mut().unwrap().remove("created_at").unwrap();
            assert!(
                chrono::DateTime::parse_from_rfc3339(at.as_str().unwrap()).is_ok(),
                "{at}"
            );
            o
        })
        .collect();
    let want: Vec<Value> = [0, 2, 49].iter().map(|&i| as_json(&d[i])).collect();
    assert_eq!(got, want);
}

async fn pattern_operators(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let mut cases: Vec<(&str, &str, Vec<i64>)> = Vec::new();
    for (field, value) in [
        ("name", "like.Person 1*"),
        ("name", "like.Person 1_"),
        ("name", "like.*0"),
        ("name", "like.*5*"),
        ("name", "like.Person 1%"),
        ("name", "like.person*"),
        ("name", "like.PERSON 1*"),
        ("name", "like.Person 42"),
        ("email", "like.person1*@example.com"),
        ("email", "like.*@example.org"),
        ("bio", "like.Bio of person 1*"),
        ("name", "ilike.PERSON 1*"),
        ("name", "ilike.*SON 5"),
        ("name", "ilike.pErSoN 4_"),
        ("email", "ilike.*@EXAMPLE.COM"),
        ("bio", "ilike.BIO OF*7"),
        ("name", "not.like.Person 1*"),
        ("name", "not.ilike.*SON 5*"),
        ("bio", "not.like.*1*"),
        ("bio", "not.ilike.*1*"),
    ] {
        let (negated, rest) = match value.strip_prefix("not.") {
            Some(r) => (true, r),
            None => (false, value),
        };
        let (op, pattern) = rest.split_once('.').unwrap();
        let pattern = pattern.replace('*', "%");
        let want = ids_where(&d, |p| {
            let text = match field {
                "name" => Some(p.name.as_str()),
                "email" => Some(p.email.as_str()),
                _ => p.bio.as_deref(),
            };
            // SQL: a NULL never matches, negated or not.
            text.is_some_and(|s| {
                let m = if op == "like" {
                    like(&pattern, s)
                } else {
                    ilike(&pattern, s)
                };
                m != negated
            })
        });
        cases.push((field, value, want));
    }
    assert!(cases[0].2.len() == 111, "Person 1, 10-19, 100-199");
    assert!(
        cases[5].2.is_empty() && cases[6].2.is_empty(),
        "like is case-sensitive"
    );
    assert_eq!(cases[11].2, cases[0].2, "ilike ignores case");
    for (field, value, want) in cases {
        expect(&app, &[(field, value)], want).await;
    }
}

async fn in_and_is_operators(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let cases: Vec<(Pairs, Vec<i64>)> = vec![
        (vec![("id", "in.(1,2,3,500)")], vec![1, 2, 3]),
        (vec![("id", "in.(3,1,\"2\")")], vec![1, 2, 3]),
        (vec![("id", "in.(7)")], vec![7]),
        (vec![("id", "not.in.(1,2,3)")], ids_where(&d, |p| p.id > 3)),
        (
            vec![(
                "name",
                "in.(Person 1,\"Person 2\",\"Person, 3\",\"Person (4)\",\"a\\\"b\")",
            )],
            vec![1, 2],
        ),
        (
            vec![("name", "in.(\"Person 5\",\"Person 6),(Person 7\")")],
            vec![5],
        ),
        (vec![("name", "in.()")], vec![]),
        (vec![("age", "in.()")], vec![]),
        (vec![("name", "not.in.()")], ids_where(&d, |_| true)),
        (
            vec![("age", "in.(18,19,77)")],
            ids_where(&d, |p| [18, 19, 77].contains(&p.age)),
        ),
        (
            vec![("email", "in.(person9@example.com,person10@example.com)")],
            vec![9, 10],
        ),
        (
            vec![("is_admin", "in.(true)")],
            ids_where(&d, |p| p.is_admin),
        ),
        (vec![("is_admin", "is.true")], ids_where(&d, |p| p.is_admin)),
        (
            vec![("is_admin", "is.false")],
            ids_where(&d, |p| !p.is_admin),
        ),
        (
            vec![("is_admin", "not.is.true")],
            ids_where(&d, |p| !p.is_admin),
        ),
        (
            vec![("is_admin", "not.is.false")],
            ids_where(&d, |p| p.is_admin),
        ),
        (vec![("is_admin", "is.unknown")], vec![]),
        (vec![("is_admin", "is.null")], vec![]),
        (vec![("bio", "is.null")], ids_where(&d, |p| p.bio.is_none())),
        (
            vec![("bio", "is.not_null")],
            ids_where(&d, |p| p.bio.is_some()),
        ),
        (
            vec![("bio", "not.is.null")],
            ids_where(&d, |p| p.bio.is_some()),
        ),
        (
            vec![("bio", "not.is.not_null")],
            ids_where(&d, |p| p.bio.is_none()),
        ),
        (vec![("age", "is.null")], vec![]),
        (vec![("age", "is.not_null")], ids_where(&d, |_| true)),
        (
            vec![("bio", "is.null"), ("age", "lt.21")],
            ids_where(&d, |p| p.bio.is_none() && p.age < 21),
        ),
    ];
    for (pairs, want) in cases {
        expect(&app, &pairs, want).await;
    }
}

async fn null_handling(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let bio = |p: &P| p.bio.clone();
    let b1 = "Bio of person 1";
    // SQL's three-valued logic, as PostgREST has it: a comparison with NULL is unknown, and
    // `not.` of unknown is still unknown, so null bios match neither `x` nor `not.x`.
    let cases: Vec<(Pairs, Vec<i64>)> = vec![
        (vec![("bio", "eq.Bio of person 1")], vec![1]),
        (
            vec![("bio", "neq.Bio of person 1")],
            ids_where(&d, |p| bio(p).is_some_and(|b| b != b1)),
        ),
        (
            vec![("bio", "not.eq.Bio of person 1")],
            ids_where(&d, |p| bio(p).is_some_and(|b| b != b1)),
        ),
        (
            vec![("bio", "gt.Bio of person 5")],
            ids_where(&d, |p| {
                bio(p).is_some_and(|b| b.as_str() > "Bio of person 5")
            }),
        ),
        (
            vec![("bio", "not.gt.Bio of person 5")],
            ids_where(&d, |p| {
                bio(p).is_some_and(|b| b.as_str() <= "Bio of person 5")
            }),
        ),
        (vec![("bio", "eq.Bio of person 3")], vec![]),
        (
            vec![("bio", "in.(Bio of person 1,Bio of person 3)")],
            vec![1],
        ),
        (
            vec![("bio", "not.in.(Bio of person 1)")],
            ids_where(&d, |p| bio(p).is_some_and(|b| b != b1)),
        ),
        (
            vec![("or", "(bio.is.null,bio.eq.Bio of person 1)")],
            ids_where(&d, |p| p.bio.is_none() || p.id == 1),
        ),
        (
            vec![("or", "(bio.eq.Bio of person 1,bio.neq.Bio of person 1)")],
            ids_where(&d, |p| p.bio.is_some()),
        ),
        (
            vec![("not.or", "(bio.is.null,age.lt.30)")],
            ids_where(&d, |p| p.bio.is_some() && p.age >= 30),
        ),
        (
            // NOT (unknown OR false) is unknown: rows with a null bio and age 30 or more
            // are not returned; with age under 30 the OR is true, so NOT is false.
            vec![("not.or", "(bio.eq.x,age.lt.30)")],
            ids_where(&d, |p| p.bio.is_some() && p.age >= 30),
        ),
    ];
    for (pairs, want) in cases {
        expect(&app, &pairs, want).await;
    }
    let r = get(&app, &uri(&[("id", "eq.3")])).await;
    assert_eq!(r.json()[0]["bio"], Value::Null);
}

async fn logic_trees(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let cases: Vec<(Pairs, Vec<i64>)> = vec![
        (
            vec![("or", "(age.lt.20,age.gt.70)")],
            ids_where(&d, |p| p.age < 20 || p.age > 70),
        ),
        (
            vec![("and", "(age.gte.20,age.lte.22)")],
            ids_where(&d, |p| (20..=22).contains(&p.age)),
        ),
        (
            vec![("not.or", "(age.lt.20,age.gt.70)")],
            ids_where(&d, |p| !(p.age < 20 || p.age > 70)),
        ),
        (
            vec![("not.and", "(age.gte.20,age.lte.70)")],
            ids_where(&d, |p| !(p.age >= 20 && p.age <= 70)),
        ),
        (
            vec![("or", "(name.eq.Person 3,and(age.gt.30,age.lt.33))")],
            ids_where(&d, |p| p.id == 3 || (p.age > 30 && p.age < 33)),
        ),
        (
            vec![("or", "(age.eq.18,not.and(age.gte.19,age.lte.76))")],
            ids_where(&d, |p| p.age == 18 || !(p.age >= 19 && p.age <= 76)),
        ),
        (
            vec![
                ("or", "(age.lt.20,age.gt.70)"),
                ("is_admin", "is.false"),
                ("id", "lte.150"),
            ],
            ids_where(&d, |p| {
                (p.age < 20 || p.age > 70) && !p.is_admin && p.id <= 150
            }),
        ),
        (
            vec![("or", "(id.eq.1,id.eq.2)"), ("or", "(id.eq.2,id.eq.3)")],
            vec![2],
        ),
        (
            vec![("and", "(or(id.eq.1,id.eq.2),or(id.eq.2,id.eq.3))")],
            vec![2],
        ),
        (
            vec![("or", "(id.eq.1,not.or(age.lt.77,id.eq.2))")],
            ids_where(&d, |p| p.id == 1 || !(p.age < 77 || p.id == 2)),
        ),
        (
            vec![(
                "or",
                "(name.eq.\"Person 1\",name.in.(\"Person 2\",\"x,y\"))",
            )],
            vec![1, 2],
        ),
        (
            vec![("or", "(name.eq.\"Person, 1\",name.eq.\"Person (2)\")")],
            vec![],
        ),
        (
            vec![("or", "(is_admin.is.true,bio.is.null)")],
            ids_where(&d, |p| p.is_admin || p.bio.is_none()),
        ),
        (
            vec![("or", "(name.like.Person 1*,email.ilike.PERSON2*)")],
            ids_where(&d, |p| {
                p.name.starts_with("Person 1") || p.email.starts_with("person2")
            }),
        ),
        (
            vec![(
                "or",
                "(age.not.lt.76,id.not.in.(2,3,4,5,6,7,8,9,10,11,12,13))",
            )],
            ids_where(&d, |p| p.age >= 76 || !(2..=13).contains(&p.id)),
        ),
        (
            vec![(
                "and",
                "(id.lte.10,or(id.eq.1,and(id.gte.9,not.or(id.eq.10))))",
            )],
            vec![1, 9],
        ),
        (
            vec![("or", "(age.lt.19, id.eq.5)")],
            ids_where(&d, |p| p.age < 19 || p.id == 5),
        ),
    ];
    for (pairs, want) in cases {
        expect(&app, &pairs, want).await;
    }
    // As a client types it, unencoded but for the space.
    let r = get(&app, "/people?or=(age.lt.20,age.gt.70)&limit=1000").await;
    assert_eq!(ids(&r), ids_where(&d, |p| p.age < 20 || p.age > 70));
    let r = get(
        &app,
        "/people?or=(name.eq.Person%203,and(age.gt.30,age.lt.33))",
    )
    .await;
    assert_eq!(
        ids(&r),
        ids_where(&d, |p| p.id == 3 || (p.age > 30 && p.age < 33))
    );
}

async fn ordering(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let sorted = |cmp: &dyn Fn(&P, &P) -> std::cmp::Ordering| -> Vec<i64> {
        let mut v = d.clone();
        v.sort_by(|a, b| cmp(a, b));
        v.iter().map(|p| p.id).collect()
    };
    // `None` sorts first in Rust: nulls-first is the natural order of `Option`.
    let bio_nulls_first = |a: &P, b: &P| a.bio.cmp(&b.bio);
    let bio_nulls_last = |a: &P, b: &P| match (&a.bio, &b.bio) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    };
    let cases: Vec<(&str, Vec<i64>)> = vec![
        (
            "age.desc,name.asc",
            sorted(&|a, b| b.age.cmp(&a.age).then(a.name.cmp(&b.name))),
        ),
        (
            "age.desc,name",
            sorted(&|a, b| b.age.cmp(&a.age).then(a.name.cmp(&b.name))),
        ),
        // Ties broken by the key, ascending.
        (
            "age",
            sorted(&|a, b| a.age.cmp(&b.age).then(a.id.cmp(&b.id))),
        ),
        (
            "age.asc",
            sorted(&|a, b| a.age.cmp(&b.age).then(a.id.cmp(&b.id))),
        ),
        (
            "age.desc",
            sorted(&|a, b| b.age.cmp(&a.age).then(a.id.cmp(&b.id))),
        ),
        (
            "age.desc,id.desc",
            sorted(&|a, b| b.age.cmp(&a.age).then(b.id.cmp(&a.id))),
        ),
        ("id.desc", sorted(&|a, b| b.id.cmp(&a.id))),
        ("name.desc", sorted(&|a, b| b.name.cmp(&a.name))),
        ("name", sorted(&|a, b| a.name.cmp(&b.name))),
        // Every row has the same created_at (one INSERT statement): the key decides.
        ("created_at.desc", sorted(&|a, b| a.id.cmp(&b.id))),
        // Nulls: PostgreSQL's defaults (last ascending, first descending) and explicit.
        (
            "bio",
            sorted(&|a, b| bio_nulls_last(a, b).then(a.id.cmp(&b.id))),
        ),
        (
            "bio.desc",
            sorted(&|a, b| bio_nulls_last(b, a).then(a.id.cmp(&b.id))),
        ),
        (
            "bio.nullsfirst",
            sorted(&|a, b| bio_nulls_first(a, b).then(a.id.cmp(&b.id))),
        ),
        (
            "bio.asc.nullslast",
            sorted(&|a, b| bio_nulls_last(a, b).then(a.id.cmp(&b.id))),
        ),
        (
            "bio.desc.nullslast",
            sorted(&|a, b| {
                match (&a.bio, &b.bio) {
                    (Some(x), Some(y)) => y.cmp(x),
                    _ => bio_nulls_last(a, b),
                }
                .then(a.id.cmp(&b.id))
            }),
        ),
        (
            "bio.desc.nullsfirst",
            sorted(&|a, b| {
                match (&a.bio, &b.bio) {
                    (Some(x), Some(y)) => y.cmp(x),
                    _ => bio_nulls_first(a, b),
                }
                .then(a.id.cmp(&b.id))
            }),
        ),
        (
            "bio.nullsfirst,age.desc",
            sorted(&|a, b| {
                bio_nulls_first(a, b)
                    .then(b.age.cmp(&a.age))
                    .then(a.id.cmp(&b.id))
            }),
        ),
    ];
    for (order, want) in cases {
        let r = get(&app, &uri(&[("order", order), ("limit", "1000")])).await;
        assert_eq!(r.status, 200, "order={order}: {}", body_text(&r));
        assert_eq!(ids(&r), want, "order={order}");
    }
    // No order: the policy's (`id`).
    let r = get(&app, &uri(&[("limit", "1000")])).await;
    assert_eq!(ids(&r), ids_where(&d, |_| true));
    // Order with a filter and a page: a slice of the full sequence.
    let full = sorted(&|a, b| b.age.cmp(&a.age).then(a.id.cmp(&b.id)));
    let r = get(
        &app,
        &uri(&[("order", "age.desc"), ("offset", "7"), ("limit", "30")]),
    )
    .await;
    assert_eq!(ids(&r), full[7..37].to_vec());
    let r = get(
        &app,
        &uri(&[
            ("order", "bio.nullsfirst"),
            ("bio", "lt.Bio of person 2"),
            ("limit", "1000"),
        ]),
    )
    .await;
    let mut want: Vec<&P> = d
        .iter()
        .filter(|p| p.bio.as_deref().is_some_and(|b| b < "Bio of person 2"))
        .collect();
    want.sort_by(|a, b| a.bio.cmp(&b.bio));
    assert_eq!(ids(&r), want.iter().map(|p| p.id).collect::<Vec<_>>());
}

async fn paging(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let range = |a: i64, b: i64| (a..=b).collect::<Vec<i64>>();
    let cases: Vec<(Pairs, Pairs, Vec<i64>, &str)> = vec![
        (vec![], vec![], range(1, 100), "0-99/*"),
        (vec![("limit", "10")], vec![], range(1, 10), "0-9/*"),
        (
            vec![("limit", "10"), ("offset", "15")],
            vec![],
            range(16, 25),
            "15-24/*",
        ),
        (
            vec![("offset", "190")],
            vec![],
            range(191, 200),
            "190-199/*",
        ),
        (vec![("offset", "250")], vec![], vec![], "*/*"),
        (vec![("limit", "0")], vec![], vec![], "*/*"),
        (
            vec![("limit", "5"), ("offset", "0")],
            vec![],
            range(1, 5),
            "0-4/*",
        ),
        (vec![], vec![("range", "0-24")], range(1, 25), "0-24/*"),
        (
            vec![],
            vec![("range-unit", "items"), ("range", "10-19")],
            range(11, 20),
            "10-19/*",
        ),
        (vec![], vec![("range", "items=5-9")], range(6, 10), "5-9/*"),
        (
            vec![],
            vec![("range", "190-")],
            range(191, 200),
            "190-199/*",
        ),
        (
            vec![],
            vec![("range", "195-299")],
            range(196, 200),
            "195-199/*",
        ),
        (
            vec![("age", "eq.30")],
            vec![("range", "1-2")],
            vec![72, 132],
            "1-2/*",
        ),
    ];
    for (pairs, headers, want, cr) in cases {
        let r = send(&app, "GET", &uri(&pairs), &headers, None).await;
        assert_eq!(r.status, 200, "{pairs:?} {headers:?}: {}", body_text(&r));
        assert_eq!(ids(&r), want, "{pairs:?} {headers:?}");
        assert_eq!(r.header("content-range"), Some(cr), "{pairs:?} {headers:?}");
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    // A malformed Range header is a problem, as are negative or non-numeric limits.
    for bad in ["5-2", "abc", "-5", "1-x"] {
        let p = send(&app, "GET", "/people", &[("range", bad)], None)
            .await
            .problem(400);
        assert!(p["detail"].as_str().unwrap().contains("Range"), "{p}");
    }
    refused(&app, &[("limit", "-1")], "limit").await;
    refused(&app, &[("offset", "-1")], "offset").await;
    refused(&app, &[("limit", "ten")], "limit").await;
    refused(&app, &[("limit", "1.5")], "limit").await;
    refused(&app, &[("offset", "")], "offset").await;
    refused(&app, &[("limit", "99999999999999999999999")], "limit").await;
    refused(&app, &[("limit", "1"), ("limit", "2")], "limit").await;
}

async fn limit_is_clamped(t: Arc<TestDb>) {
    let app = people(&t, 1200).await;
    let cases: Vec<(Pairs, Pairs, i64, i64, u16, &str)> = vec![
        (
            vec![("limit", "5000")],
            vec![COUNT],
            1,
            1000,
            206,
            "0-999/1200",
        ),
        (vec![("limit", "5000")], vec![], 1, 1000, 200, "0-999/*"),
        (
            vec![("limit", "1001")],
            vec![COUNT],
            1,
            1000,
            206,
            "0-999/1200",
        ),
        (vec![], vec![("range", "0-4999")], 1, 1000, 200, "0-999/*"),
        (
            vec![("limit", "1000"), ("offset", "1000")],
            vec![COUNT],
            1001,
            1200,
            206,
            "1000-1199/1200",
        ),
        (vec![], vec![COUNT], 1, 100, 206, "0-99/1200"),
        (
            vec![("limit", "18446744073709551615")],
            vec![],
            1,
            1000,
            200,
            "0-999/*",
        ),
    ];
    for (pairs, headers, first, last, status, cr) in cases {
        let r = send(&app, "GET", &uri(&pairs), &headers, None).await;
        assert_eq!(r.status, status, "{pairs:?} {headers:?}: {}", body_text(&r));
        assert_eq!(ids(&r), (first..=last).collect::<Vec<_>>(), "{pairs:?}");
        assert_eq!(r.header("content-range"), Some(cr), "{pairs:?} {headers:?}");
    }
}

async fn counting(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let age30 = ids_where(&d, |p| p.age == 30).len();
    let cases: Vec<(Pairs, Pairs, u16, String, usize)> = vec![
        (
            vec![("limit", "25")],
            vec![COUNT],
            206,
            "0-24/200".into(),
            25,
        ),
        (vec![("limit", "25")], vec![], 200, "0-24/*".into(), 25),
        (
            vec![("limit", "25")],
            vec![("range", "0-99")],
            200,
            "0-24/*".into(),
            25,
        ),
        (
            vec![],
            vec![COUNT, ("range", "0-24")],
            206,
            "0-24/200".into(),
            25,
        ),
        (
            vec![("limit", "1000")],
            vec![COUNT],
            200,
            "0-199/200".into(),
            200,
        ),
        (
            vec![("limit", "200"), ("offset", "0")],
            vec![COUNT],
            200,
            "0-199/200".into(),
            200,
        ),
        (
            vec![("age", "eq.30"), ("limit", "2")],
            vec![COUNT],
            206,
            format!("0-1/{age30}"),
            2,
        ),
        (
            vec![("age", "eq.30")],
            vec![COUNT],
            200,
            format!("0-{}/{age30}", age30 - 1),
            age30,
        ),
        (vec![("age", "gt.500")], vec![COUNT], 200, "*/0".into(), 0),
        (vec![("age", "gt.500")], vec![], 200, "*/*".into(), 0),
        (vec![("limit", "0")], vec![COUNT], 206, "*/200".into(), 0),
        (vec![("offset", "200")], vec![COUNT], 206, "*/200".into(), 0),
        (
            vec![("offset", "195")],
            vec![COUNT],
            206,
            "195-199/200".into(),
            5,
        ),
        (vec![("offset", "201")], vec![], 200, "*/*".into(), 0),
        (
            vec![("limit", "10")],
            vec![("prefer", "return=minimal, count=exact")],
            206,
            "0-9/200".into(),
            10,
        ),
        (
            vec![("limit", "10")],
            vec![("prefer", "handling=lenient"), ("prefer", "count=exact")],
            206,
            "0-9/200".into(),
            10,
        ),
    ];
    for (pairs, headers, status, cr, n) in cases {
        let r = send(&app, "GET", &uri(&pairs), &headers, None).await;
        assert_eq!(r.status, status, "{pairs:?} {headers:?}: {}", body_text(&r));
        assert_eq!(
            r.header("content-range"),
            Some(cr.as_str()),
            "{pairs:?} {headers:?}"
        );
        assert_eq!(ids(&r).len(), n, "{pairs:?} {headers:?}");
        let counted = headers.iter().any(|(_, v)| v.contains("count=exact"));
        assert_eq!(
            r.header("preference-applied")
                .is_some_and(|v| v.contains("count=exact")),
            counted,
            "{pairs:?} {headers:?}"
        );
    }
    // Past the end with a count: 416, with the total.
    for pairs in [
        vec![("offset", "201")],
        vec![("offset", "5"), ("age", "eq.30")],
    ] {
        let r = send(&app, "GET", &uri(&pairs), &[COUNT], None).await;
        let p = r.problem(416);
        let total = if pairs.len() == 1 {
            ROWS as usize
        } else {
            age30
        };
        assert_eq!(
            r.header("content-range"),
            Some(format!("*/{total}").as_str()),
            "{p}"
        );
    }
    let r = send(&app, "GET", "/people", &[COUNT, ("range", "300-")], None).await;
    r.problem(416);
    assert_eq!(r.header("content-range"), Some("*/200"));
}

async fn head_requests(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let r = send(&app, "HEAD", &uri(&[("limit", "25")]), &[COUNT], None).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.header("content-range"), Some("0-24/200"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.body.is_empty(), "{}", body_text(&r));
    let r = send(&app, "HEAD", &uri(&[("age", "eq.30")]), &[COUNT], None).await;
    assert_eq!(r.status, 200);
    let n = ids_where(&expected_rows(ROWS), |p| p.age == 30).len();
    assert_eq!(
        r.header("content-range"),
        Some(format!("0-{}/{n}", n - 1).as_str())
    );
    assert!(r.body.is_empty());
    let r = send(&app, "HEAD", "/people", &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-range"), Some("0-99/*"));
    assert!(r.body.is_empty());
    let r = send(&app, "HEAD", &uri(&[("offset", "300")]), &[COUNT], None).await;
    assert_eq!(r.status, 416);
    assert_eq!(r.header("content-range"), Some("*/200"));
    assert!(r.body.is_empty());
    let r = send(&app, "HEAD", &uri(&[("nope", "eq.1")]), &[], None).await;
    assert_eq!(r.status, 400);
    assert!(r.body.is_empty());
    let r = send(&app, "HEAD", "/people/3", &[], None).await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

async fn singular(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let r = send(&app, "GET", &uri(&[("id", "eq.5")]), &[OBJECT], None).await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.pgrst.object+json")
    );
    let mut o = r.json();
    assert!(o.is_object(), "{o}");
    o.as_object_mut().unwrap().remove("created_at").unwrap();
    assert_eq!(o, as_json(&d[4]));
    let r = send(
        &app,
        "GET",
        &uri(&[
            ("email", "eq.person9@example.com"),
            ("select", "name,years:age"),
        ]),
        &[OBJECT, COUNT],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    assert_eq!(r.json(), json!({"name": "Person 9", "years": 27}));
    assert_eq!(r.header("content-range"), Some("0-0/1"));
    let r = send(
        &app,
        "GET",
        &uri(&[("or", "(id.eq.7,id.eq.8)"), ("limit", "1"), ("offset", "1")]),
        &[OBJECT],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    assert_eq!(r.json()["id"], 8);
    // Zero or several rows: 406, as a problem.
    for pairs in [
        vec![("id", "eq.9999")],
        vec![("age", "eq.18")],
        vec![],
        vec![("name", "like.Person 1_")],
    ] {
        let r = send(&app, "GET", &uri(&pairs), &[OBJECT], None).await;
        r.problem(406);
    }
    // Without the media type the same request is an array.
    let r = get(&app, &uri(&[("id", "eq.5")])).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
}

async fn select_and_aliases(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let r = get(&app, &uri(&[("select", "name,email"), ("limit", "3")])).await;
    assert_eq!(r.status, 200, "{}", body_text(&r));
    let want: Vec<Value> = d[..3]
        .iter()
        .map(|p| json!({"name": p.name, "email": p.email}))
        .collect();
    assert_eq!(r.json(), Value::Array(want));
    // Key order follows `select`.
    let r = get(&app, &uri(&[("select", "email,name"), ("id", "eq.1")])).await;
    assert_eq!(
        body_text(&r),
        r#"[{"email":"person1@example.com","name":"Person 1"}]"#
    );
    let r = get(
        &app,
        &uri(&[("select", "fullName:name,id"), ("id", "eq.4")]),
    )
    .await;
    assert_eq!(r.json(), json!([{"fullName": "Person 4", "id": 4}]));
    // One field under two names; a field under another field's name.
    let r = get(
        &app,
        &uri(&[("select", "name,alias:name,email:id"), ("id", "eq.4")]),
    )
    .await;
    assert_eq!(
        body_text(&r),
        r#"[{"name":"Person 4","alias":"Person 4","email":4}]"#
    );
    let r = get(
        &app,
        &uri(&[("select", " years : age , bio"), ("id", "in.(2,3)")]),
    )
    .await;
    assert_eq!(
        r.json(),
        json!([{"years": 20, "bio": "Bio of person 2"}, {"years": 21, "bio": null}])
    );
    // `*` and no select: every readable field, never the password.
    let readable = [
        "id",
        "name",
        "email",
        "age",
        "is_admin",
        "bio",
        "created_at",
    ];
    for pairs in [vec![("select", "*")], vec![]] {
        let mut pairs = pairs;
        pairs.push(("id", "eq.6"));
        let r = get(&app, &uri(&pairs)).await;
        let o = r.json()[0].clone();
        let keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        let mut keys = keys;
        keys.sort_unstable();
        let mut want = readable.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want, "{pairs:?}");
        let mut o = o;
        o.as_object_mut().unwrap().remove("created_at");
        assert_eq!(o, as_json(&d[5]));
    }
    // Selecting filters nothing out and orders nothing differently.
    let r = get(
        &app,
        &uri(&[("select", "id"), ("age", "eq.40"), ("limit", "1000")]),
    )
    .await;
    assert_eq!(ids(&r), ids_where(&d, |p| p.age == 40));
    // Retrieve takes `select` too.
    let r = get(&app, "/people/6?select=name,years:age").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"name": "Person 6", "years": 24}));
    let r = get(&app, "/people/6?select=*").await;
    assert_eq!(r.json()["email"], "person6@example.com");
    let a = get(&app, "/people/6?select=password").await.problem(400);
    let b = get(&app, "/people/6?select=nonexistent").await.problem(400);
    assert_eq!(
        a["detail"].as_str().unwrap().replace("password", "X"),
        b["detail"].as_str().unwrap().replace("nonexistent", "X")
    );
    let p = get(&app, "/people/6?age=eq.1").await.problem(400);
    assert_eq!(p["errors"][0]["name"], "age");
    // Malformed select, and two columns of one name (a JSON object would hold both).
    for bad in [
        "",
        "name,",
        "a:b:c",
        "name::text",
        "*,name",
        "na me",
        "id,id",
        "a:id,a:name",
        "name,name:email",
        "id:name,id",
    ] {
        refused(&app, &[("select", bad)], "select").await;
    }
}

async fn refusals(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    // Unknown parameters and fields.
    refused(&app, &[("foo", "bar")], "foo").await;
    refused(&app, &[("nope", "eq.1")], "nope").await;
    refused(&app, &[("Name", "eq.Person 1")], "Name").await;
    refused(&app, &[("select", "nope")], "select").await;
    refused(&app, &[("select", "id,nope")], "select").await;
    refused(&app, &[("order", "nope")], "order").await;
    refused(&app, &[("or", "(nope.eq.1)")], "or").await;
    refused(&app, &[("not.and", "(id.eq.1,and(nope.eq.1))")], "not.and").await;
    refused(&app, &[("xor", "(id.eq.1)")], "xor").await;
    // Sorting on a field that may be filtered but not sorted.
    let p = refused(&app, &[("order", "email")], "order").await;
    assert!(p["detail"].as_str().unwrap().contains("email"), "{p}");
    refused(&app, &[("order", "age.desc,email")], "order").await;
    refused(&app, &[("order", "is_admin")], "order").await;
    expect(&app, &[("email", "eq.person1@example.com")], vec![1]).await;
    // Malformed order.
    for bad in [
        "",
        "age.up",
        "age.desc.asc",
        "age,,name",
        "age.nullsfirst.desc",
    ] {
        refused(&app, &[("order", bad)], "order").await;
    }
    // Unknown operators.
    refused(&app, &[("age", "foo.5")], "age").await;
    refused(&app, &[("age", "not.foo.5")], "age").await;
    refused(&app, &[("age", "EQ.5")], "age").await;
    refused(&app, &[("age", "5")], "age").await;
    refused(&app, &[("age", "not.5")], "age").await;
    refused(&app, &[("age", "")], "age").await;
    refused(&app, &[("age", "cs.{1}")], "age").await;
    refused(&app, &[("or", "(age.foo.5)")], "or").await;
    refused(&app, &[("bio", "is.nothing")], "bio").await;
    // Values typed by their field.
    for (k, v) in [
        ("age", "gt.abc"),
        ("age", "eq.1.5"),
        ("age", "eq.99999999999"),
        ("age", "in.(1,x)"),
        ("id", "eq.1e3"),
        ("created_at", "lt.yesterday"),
        ("created_at", "lt.2024-13-01T00:00:00Z"),
        ("is_admin", "eq.maybe"),
        ("is_admin", "eq.1"),
        ("is_admin", "eq.TRUE"),
        ("name", "eq.a\0b"),
    ] {
        let p = refused(&app, &[(k, v)], k).await;
        assert!(p["detail"].as_str().unwrap().contains(k), "{p}");
    }
    refused(&app, &[("or", "(age.gt.abc)")], "or").await;
    refused(&app, &[("and", "(is_admin.eq.maybe)")], "and").await;
    // Operators on the wrong kind of field.
    refused(&app, &[("age", "like.1*")], "age").await;
    refused(&app, &[("created_at", "ilike.2024*")], "created_at").await;
    refused(&app, &[("is_admin", "like.t*")], "is_admin").await;
    refused(&app, &[("or", "(age.like.1*)")], "or").await;
    refused(&app, &[("age", "is.true")], "age").await;
    refused(&app, &[("bio", "is.false")], "bio").await;
    refused(&app, &[("is_admin", "gt.false")], "is_admin").await;
    // Malformed lists and trees.
    for (k, v) in [
        ("id", "in.1,2"),
        ("id", "in.(1,2"),
        ("id", "in.(1,2))"),
        ("name", "in.(a\"b)"),
        ("name", "in.(\"a)"),
        ("or", "age.lt.20"),
        ("or", "(age.lt.20"),
        ("or", "(age.lt.20,)"),
        ("or", "()"),
        ("or", "(age.lt.20))"),
        ("or", "(age)"),
        ("or", "(name.eq.a,b)"),
        ("or", "(name.eq.\"a)"),
        ("and", "(or(id.eq.1)"),
    ] {
        refused(&app, &[(k, v)], k).await;
    }
    // Parameters that may appear once.
    refused(&app, &[("select", "id"), ("select", "name")], "select").await;
    refused(&app, &[("order", "id"), ("order", "age")], "order").await;
    refused(&app, &[("offset", "1"), ("offset", "1")], "offset").await;
    // Refusals name only the first offender, and nothing ran: the table is whole.
    assert_eq!(app::count(&t.db).await.unwrap(), ROWS as i64);
}

async fn hidden_field_reads_like_a_missing_one(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("select", "password")],
        vec![("select", "id,password")],
        vec![("select", "pw:password")],
        vec![("password", "eq.secret-1")],
        vec![("password", "like.secret*")],
        vec![("password", "gt.5")],
        vec![("password", "is.null")],
        vec![("password", "not.in.(a,b)")],
        vec![("order", "password")],
        vec![("order", "age,password.desc")],
        vec![("or", "(password.eq.secret-1)")],
        vec![("or", "(id.eq.1,and(password.like.s*,id.eq.1))")],
        vec![("not.and", "(password.is.null)")],
    ];
    for pairs in cases {
        let other: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| {
                (
                    k.replace("password", "nonexistent"),
                    v.replace("password", "nonexistent"),
                )
            })
            .collect();
        let other: Vec<(&str, &str)> = other
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = get(&app, &uri(&pairs)).await;
        let b = get(&app, &uri(&other)).await;
        let text = body_text(&a);
        assert!(!text.contains("secret-"), "{pairs:?}: {text}");
        let a = a.problem(400);
        let b = b.problem(400);
        assert_eq!(
            a.to_string().replace("password", "X"),
            b.to_string().replace("nonexistent", "X"),
            "{pairs:?}: a hidden field must read like a missing one"
        );
    }
}

async fn complexity_limits(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let all: Vec<i64> = (1..=ROWS as i64).collect();
    // `or=(...)` is depth 1; the policy (default) allows 8.
    let nested = |depth: usize| {
        let mut s = String::from("id.gt.0");
        for level in (2..=depth).rev() {
            let g = if level % 2 == 0 { "and" } else { "or" };
            s = format!("id.gt.0,{g}({s})");
        }
        format!("({s})")
    };
    expect(&app, &[("or", &nested(8))], all.clone()).await;
    let p = refused(&app, &[("or", &nested(9))], "or").await;
    assert!(p["detail"].as_str().unwrap().contains('8'), "{p}");
    refused(&app, &[("not.and", &nested(40))], "not.and").await;
    // A very deep tree is refused, not a stack overflow.
    let deep = format!("({}id.eq.1{})", "and(".repeat(800), ")".repeat(800));
    refused(&app, &[("or", &deep)], "or").await;
    // Past the router's query-string bound (8 KiB by default) the answer is 414.
    let deeper = format!("({}id.eq.1{})", "and(".repeat(5_000), ")".repeat(5_000));
    let uri = format!("/people?or={deeper}");
    support::get(&app, &uri).await.problem(414);
    // 50 conditions in all, counting those inside trees.
    let fifty: Vec<(&str, &str)> = vec![("id", "gt.0"); 50];
    expect(&app, &fifty, all.clone()).await;
    let mut fifty_one = fifty.clone();
    fifty_one.push(("age", "gt.0"));
    let p = refused(&app, &fifty_one, "age").await;
    assert!(p["detail"].as_str().unwrap().contains("50"), "{p}");
    let mut tree = vec![("id", "gt.0"); 48];
    tree.push(("or", "(id.gt.0,id.gt.0,id.gt.0)"));
    refused(&app, &tree, "or").await;
    let inside = format!("({})", vec!["id.gt.0"; 51].join(","));
    refused(&app, &[("and", &inside)], "and").await;
    // 100 items in one `in` list.
    let items = |n: i64| {
        let v: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        format!("in.({})", v.join(","))
    };
    expect(&app, &[("id", &items(100))], (1..=100).collect()).await;
    let p = refused(&app, &[("id", &items(101))], "id").await;
    assert!(p["detail"].as_str().unwrap().contains("100"), "{p}");
    let in_tree = format!("(id.{})", items(101));
    refused(&app, &[("or", &in_tree)], "or").await;
}

/// What a payload must produce: a 400 problem, or a 200 with exactly the expected rows.
async fn harmless(app: &axum::Router, pairs: &[(&str, &str)], want: &[i64]) {
    let u = uri(pairs);
    let r = get(app, &u).await;
    match r.status.as_u16() {
        200 => assert_eq!(ids(&r), want, "{pairs:?} ({u})"),
        400 => {
            r.problem(400);
        }
        s => panic!("{pairs:?} ({u}): {s} {}", body_text(&r)),
    }
}

async fn injection(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let d = expected_rows(ROWS);
    let payloads = [
        "' OR 1=1 --",
        "' OR '1'='1",
        "\"; DROP TABLE people; --",
        "'; DROP TABLE people; --",
        "1) OR (1=1",
        "1 OR 1=1",
        "Person 1' --",
        "Person 1\\",
        "\\'; DROP TABLE people; --",
        "\\\\",
        "\\",
        "\\\"",
        "a\0b",
        "\0",
        "Pérsøn 1 ☃ 🙂",
        "\u{202e}1 nosreP",
        "%",
        "_",
        "' UNION SELECT password FROM people --",
        "`; DROP TABLE people; --",
        "$1",
        "?",
        ":name",
        "Person 1\nOR 1=1",
        "0x50",
        "/**/",
    ];
    for p in payloads {
        // As a value: only rows that really have it (none) come back.
        let eq = ids_where(&d, |r| r.name == p);
        harmless(&app, &[("name", &format!("eq.{p}"))], &eq).await;
        harmless(
            &app,
            &[("name", &format!("neq.{p}"))],
            &ids_where(&d, |r| r.name != p)[..100],
        )
        .await;
        harmless(&app, &[("bio", &format!("eq.{p}"))], &[]).await;
        harmless(&app, &[("age", &format!("eq.{p}"))], &[]).await;
        harmless(&app, &[("id", &format!("in.({p})"))], &[]).await;
        harmless(&app, &[("created_at", &format!("lt.{p}"))], &[]).await;
        let quoted = format!("\"{}\"", p.replace('\\', "\\\\").replace('"', "\\\""));
        harmless(&app, &[("name", &format!("in.({quoted})"))], &eq).await;
        harmless(&app, &[("name", &format!("in.(Person 1,{quoted})"))], &[1]).await;
        harmless(
            &app,
            &[("or", &format!("(name.eq.{quoted},id.eq.2)"))],
            &[2],
        )
        .await;
        harmless(&app, &[("or", &format!("(name.eq.{p},id.eq.2)"))], &[2]).await;
        // In patterns, `%` and `_` are wildcards and `\` escapes, as in SQL.
        let pattern = format!("Person 1{p}");
        // A trailing unpaired `\` means a literal backslash.
        let dangling = pattern.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1;
        let pat = if dangling {
            format!("{pattern}\\")
        } else {
            pattern.clone()
        }
        .replace('*', "%");
        let want = ids_where(&d, |r| like(&pat, &r.name));
        harmless(
            &app,
            &[("name", &format!("like.{pattern}"))],
            &want[..want.len().min(100)],
        )
        .await;
        let want = ids_where(&d, |r| ilike(&pat, &r.name));
        harmless(
            &app,
            &[("name", &format!("ilike.{pattern}"))],
            &want[..want.len().min(100)],
        )
        .await;
        // As a field name, an operator, an order, a select, a logic key: refused.
        for pairs in [
            vec![(p, "eq.1")],
            vec![("name", &*format!("{p}.1"))],
            vec![("name", &*format!("not.{p}.1"))],
            vec![("order", p)],
            vec![("order", &*format!("age.{p}"))],
            vec![("order", &*format!("age,{p}"))],
            vec![("select", p)],
            vec![("select", &*format!("id,{p}"))],
            vec![("select", &*format!("{p}:id"))],
            vec![("or", &*format!("({p}.eq.1)"))],
            vec![("or", &*format!("(id.{p}.1)"))],
            vec![("limit", p)],
            vec![("offset", p)],
        ] {
            let u = uri(&pairs);
            let r = get(&app, &u).await;
            if r.status == 200 {
                // `%`, `_`, `?`... are harmless names for an alias only: `{p}:id`.
                assert_eq!(pairs[0], ("select", &*format!("{p}:id")), "{u}");
                let rows = r.json();
                let got: Vec<Value> = rows.as_array().unwrap().to_vec();
                let want: Vec<Value> = (1..=100).map(|i| json!({ p: i })).collect();
                assert_eq!(got, want, "{u}");
            } else {
                r.problem(400);
            }
        }
        // Headers.
        for (h, v) in [("range", p), ("prefer", p), ("accept", p)] {
            if axum::http::HeaderValue::from_str(v).is_err() {
                continue;
            }
            let r = send(&app, "GET", "/people?limit=3", &[(h, v)], None).await;
            match r.status.as_u16() {
                200 => assert_eq!(ids(&r), vec![1, 2, 3], "{h}: {v}"),
                400 => {
                    r.problem(400);
                }
                // An Accept header naming no JSON type is answered 406.
                406 if h == "accept" => {
                    r.problem(406);
                }
                s => panic!("{h}: {v}: {s} {}", body_text(&r)),
            }
        }
    }
    // Raw, hand-written query strings.
    for raw in [
        "/people?name=eq.%27%20OR%201=1%20--",
        "/people?name=eq.';DROP%20TABLE%20people;--",
        "/people?id=eq.1;DROP%20TABLE%20people",
        "/people?id=eq.1%20OR%201=1",
        "/people?order=id;DROP%20TABLE%20people",
        "/people?order=id%20desc",
        "/people?select=id,(SELECT%20password%20FROM%20people)",
        "/people?name=eq.%00",
        "/people?name%00=eq.x",
        "/people?name=eq.%FF%FE",
        "/people?%27=1",
        "/people?or=(id.eq.1)%20OR%20(1=1)",
        "/people?id=in.(1)%20OR%20(1=1)",
    ] {
        let r = get(&app, raw).await;
        match r.status.as_u16() {
            200 => assert_eq!(ids(&r), Vec::<i64>::new(), "{raw}"),
            400 => {
                r.problem(400);
            }
            s => panic!("{raw}: {s} {}", body_text(&r)),
        }
    }
    // The table is intact and unchanged.
    assert_eq!(app::count(&t.db).await.unwrap(), ROWS as i64);
    let r = send(&app, "GET", &uri(&[("limit", "1000")]), &[COUNT], None).await;
    assert_eq!(r.header("content-range"), Some("0-199/200"));
    let got: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let mut o = o.clone();
            o.as_object_mut().unwrap().remove("created_at");
            o
        })
        .collect();
    assert_eq!(got, d.iter().map(as_json).collect::<Vec<_>>());
}

/// Patterns on data holding the pattern characters themselves.
async fn pattern_escapes(t: Arc<TestDb>) {
    let app = people(&t, 3).await;
    let names = [
        "50% off_sale",
        "50x off-sale",
        "back\\slash",
        "star*name",
        "Quote\"d",
        "Ünïcode Ñame",
    ];
    let mut id = 3;
    let mut all: Vec<(i64, &str)> = vec![(1, "Person 1"), (2, "Person 2"), (3, "Person 3")];
    for (i, n) in names.iter().enumerate() {
        let body =
            json!({"name": n, "email": format!("x{i}@example.com"), "password": "pw", "age": 30});
        let r = send(&app, "POST", "/people", &[], Some(&body.to_string())).await;
        assert_eq!(r.status, 201, "{}", body_text(&r));
        id += 1;
        assert_eq!(r.json()["id"], id);
        all.push((id, n));
    }
    let want = |pred: &dyn Fn(&str) -> bool| -> Vec<i64> {
        all.iter()
            .filter(|(_, n)| pred(n))
            .map(|(i, _)| *i)
            .collect()
    };
    for (value, pattern, insensitive) in [
        ("like.50\\%*", "50\\%%", false),
        ("like.50%*", "50%%", false),
        ("like.50_*", "50_%", false),
        ("like.*\\_*", "%\\_%", false),
        ("like.*_sale", "%_sale", false),
        ("like.back\\\\slash", "back\\\\slash", false),
        ("like.star_name", "star_name", false),
        ("like.Quote\"d", "Quote\"d", false),
        ("like.Ünïcode*", "Ünïcode%", false),
        ("like.ünïcode*", "ünïcode%", false),
        ("ilike.50\\% OFF*", "50\\% off%", true),
        ("ilike.*\\_SALE", "%\\_sale", true),
        ("ilike.BACK\\\\*", "back\\\\%", true),
        ("ilike.PERSON _", "person _", true),
    ] {
        let w = want(&|n: &str| {
            if insensitive {
                ilike(pattern, n)
            } else {
                like(pattern, n)
            }
        });
        assert!(
            !w.is_empty() || value.starts_with("like.ü"),
            "{value} should match something"
        );
        expect(&app, &[("name", value)], w).await;
    }
    for (value, want_ids) in [
        ("eq.back\\slash", vec![6]),
        ("eq.star*name", vec![7]),
        ("eq.50% off_sale", vec![4]),
        ("eq.Quote\"d", vec![8]),
        ("eq.Ünïcode Ñame", vec![9]),
        ("in.(\"back\\\\slash\",\"Quote\\\"d\")", vec![6, 8]),
    ] {
        expect(&app, &[("name", value)], want_ids).await;
    }
    expect(
        &app,
        &[("or", "(name.eq.\"back\\\\slash\",name.eq.\"Quote\\\"d\")")],
        vec![6, 8],
    )
    .await;
    // A pattern ending in a lone escape means a literal backslash on every backend (no name
    // here ends with one).
    for value in ["like.*\\", "ilike.back\\", "like.\\\\\\"] {
        expect(&app, &[("name", value)], vec![]).await;
    }
    expect(&app, &[("or", "(id.eq.1,name.like.*\\)")], vec![1]).await;
    expect(&app, &[("name", "like.back\\\\*")], vec![6]).await;
}

/// Date-times compare as instants on every backend (SQLite stores them as text).
async fn date_times(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let set = |id: i64, at: &str| {
        let at = at.to_owned();
        let db = t.db.clone();
        async move {
            let value = match db.backend() {
                // As the column's default writes it.
                expose_runtime::Backend::Sqlite => format!(
                    "'{}'",
                    chrono::DateTime::parse_from_rfc3339(&at)
                        .unwrap()
                        .format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
                ),
                expose_runtime::Backend::Postgres => format!("'{at}'"),
                expose_runtime::Backend::MySql => format!(
                    "'{}'",
                    chrono::DateTime::parse_from_rfc3339(&at)
                        .unwrap()
                        .format("%Y-%m-%d %H:%M:%S%.6f")
                ),
            };
            db.execute(&format!(
                "UPDATE people SET created_at = {value} WHERE id = {id}"
            ))
            .await
            .expect("set created_at");
        }
    };
    set(1, "2020-01-01T00:00:00Z").await;
    set(2, "2020-06-15T12:30:45.250Z").await;
    set(3, "2019-12-31T23:59:59.999Z").await;
    let now = chrono::Utc::now();
    let later = (now + chrono::Duration::hours(1)).to_rfc3339();
    let rest: Vec<i64> = (4..=ROWS as i64).collect();
    let (lt_later, gt_later) = (format!("lt.{later}"), format!("gt.{later}"));
    let cases: Vec<(Pairs, Vec<i64>)> = vec![
        (vec![("created_at", "eq.2020-01-01T00:00:00Z")], vec![1]),
        (vec![("created_at", "eq.2020-01-01T00:00:00.000Z")], vec![1]),
        (
            vec![("created_at", "eq.2020-01-01T02:00:00+02:00")],
            vec![1],
        ),
        (vec![("created_at", "eq.2020-06-15T12:30:45.25Z")], vec![2]),
        (vec![("created_at", "lt.2020-01-01T00:00:00Z")], vec![3]),
        (vec![("created_at", "lte.2020-01-01T00:00:00Z")], vec![1, 3]),
        (
            vec![
                ("created_at", "gte.2020-01-01T00:00:00Z"),
                ("created_at", "lt.2021-01-01T00:00:00Z"),
            ],
            vec![1, 2],
        ),
        (
            vec![
                ("created_at", "gt.2020-01-01T00:00:00Z"),
                ("created_at", "lt.2021-01-01T00:00:00Z"),
            ],
            vec![2],
        ),
        (
            vec![("created_at", "neq.2020-01-01T00:00:00Z"), ("id", "lte.3")],
            vec![2, 3],
        ),
        (
            vec![(
                "created_at",
                "in.(2020-06-15T12:30:45.250Z,2019-12-31T23:59:59.999Z)",
            )],
            vec![2, 3],
        ),
        (
            vec![("created_at", "gt.2021-01-01T00:00:00Z")],
            rest.clone(),
        ),
        (
            vec![("created_at", "lt.2021-01-01T00:00:00+14:00")],
            vec![1, 2, 3],
        ),
        (vec![("created_at", &lt_later)], (1..=ROWS as i64).collect()),
        (vec![("created_at", &gt_later)], vec![]),
        (
            vec![(
                "or",
                "(created_at.eq.2020-01-01T00:00:00Z,created_at.lt.2020-01-01T00:00:00Z)",
            )],
            vec![1, 3],
        ),
    ];
    for (pairs, want) in cases {
        expect(&app, &pairs, want).await;
    }
    let r = get(&app, &uri(&[("order", "created_at"), ("limit", "5")])).await;
    assert_eq!(ids(&r), vec![3, 1, 2, 4, 5]);
    let r = get(
        &app,
        &uri(&[("order", "created_at.desc"), ("limit", "1000")]),
    )
    .await;
    let mut want = rest.clone();
    want.extend([2, 1, 3]);
    assert_eq!(ids(&r), want);
    let r = get(
        &app,
        &uri(&[("id", "in.(1,2,3)"), ("select", "id,created_at")]),
    )
    .await;
    let at: Vec<chrono::DateTime<chrono::Utc>> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["created_at"].as_str().unwrap().parse().unwrap())
        .collect();
    let want: Vec<chrono::DateTime<chrono::Utc>> = [
        "2020-01-01T00:00:00Z",
        "2020-06-15T12:30:45.250Z",
        "2019-12-31T23:59:59.999Z",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    assert_eq!(at, want);
}

/// Numbers at the edges of their types: a problem or a correct answer, never a server error.
async fn huge_numbers(t: Arc<TestDb>) {
    let app = people(&t, ROWS).await;
    let all: Vec<i64> = (1..=ROWS as i64).collect();
    expect(&app, &[("id", "gt.-9223372036854775808")], all.clone()).await;
    expect(&app, &[("id", "lt.9223372036854775807")], all.clone()).await;
    expect(&app, &[("id", "eq.9223372036854775807")], vec![]).await;
    expect(&app, &[("age", "gte.-2147483648")], all.clone()).await;
    refused(&app, &[("id", "eq.9223372036854775808")], "id").await;
    refused(&app, &[("age", "eq.2147483648")], "age").await;
    for offset in [
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551615",
    ] {
        for headers in [vec![], vec![COUNT]] {
            let r = send(&app, "GET", &uri(&[("offset", offset)]), &headers, None).await;
            match r.status.as_u16() {
                200 if headers.is_empty() => {
                    assert_eq!(ids(&r), Vec::<i64>::new());
                    assert_eq!(r.header("content-range"), Some("*/*"));
                }
                416 if !headers.is_empty() => {
                    r.problem(416);
                    assert_eq!(r.header("content-range"), Some("*/200"));
                }
                400 => {
                    r.problem(400);
                }
                s => panic!("offset={offset} {headers:?}: {s} {}", body_text(&r)),
            }
        }
    }
    for (range, first, last) in [
        ("0-18446744073709551615", 1, 1000),
        ("5-18446744073709551615", 6, 1005),
        ("0-9223372036854775807", 1, 1000),
    ] {
        let r = send(&app, "GET", "/people", &[("range", range)], None).await;
        assert_eq!(r.status, 200, "Range: {range}: {}", body_text(&r));
        let want: Vec<i64> = (first..=last.min(ROWS as i64)).collect();
        assert_eq!(ids(&r), want, "Range: {range}");
    }
    for range in [
        "18446744073709551615-",
        "18446744073709551615-18446744073709551615",
    ] {
        let r = send(&app, "GET", "/people", &[("range", range), COUNT], None).await;
        assert!(
            [400, 416].contains(&r.status.as_u16()),
            "Range: {range}: {} {}",
            r.status,
            body_text(&r)
        );
        r.problem(r.status.as_u16());
    }
}

async fn stricter_policy(t: Arc<TestDb>) {
    let _ = people(&t, ROWS).await;
    let app: axum::Router = Strict::router().with_state(t.db.clone());
    let d = expected_rows(ROWS);
    let get_ids = |pairs: Pairs<'static>| {
        let app = app.clone();
        async move {
            let r = send(
                &app,
                "GET",
                &uri(&pairs).replace("/people", "/strict"),
                &[COUNT],
                None,
            )
            .await;
            assert!(
                [200, 206].contains(&r.status.as_u16()),
                "{pairs:?}: {}",
                body_text(&r)
            );
            (ids(&r), r.header("content-range").map(str::to_owned))
        }
    };
    let mut young: Vec<&P> = d.iter().filter(|p| p.age < 60).collect();
    young.sort_by(|a, b| b.age.cmp(&a.age).then(a.id.cmp(&b.id)));
    let young: Vec<i64> = young.iter().map(|p| p.id).collect();
    let n = young.len();
    // The forced filter, the fixed order and the fixed page size.
    let (got, cr) = get_ids(vec![]).await;
    assert_eq!(got, young[..5].to_vec());
    assert_eq!(cr.as_deref(), Some(format!("0-4/{n}").as_str()));
    let (got, cr) = get_ids(vec![("offset", "5")]).await;
    assert_eq!(got, young[5..10].to_vec());
    assert_eq!(cr.as_deref(), Some(format!("5-9/{n}").as_str()));
    let r = send(&app, "GET", "/strict", &[("range", "10-")], None).await;
    assert_eq!(ids(&r), young[10..15].to_vec());
    // The forced filter ANDs with the client's, even inside `or`.
    let (got, _) = get_ids(vec![("age", "gte.60")]).await;
    assert!(got.is_empty());
    let (got, cr) = get_ids(vec![("or", "(age.gt.70,id.eq.1)")]).await;
    assert_eq!(got, vec![1]);
    assert_eq!(cr.as_deref(), Some("0-0/1"));
    let (got, _) = get_ids(vec![("not.and", "(age.lt.60)")]).await;
    assert!(got.is_empty());
    // Exactly at the bounds: 3 conditions, depth 2, 2 `in` items.
    let (got, _) = get_ids(vec![
        ("id", "in.(1,2)"),
        ("or", "(age.gt.0,and(bio.is.null))"),
    ])
    .await;
    assert_eq!(got, vec![2, 1], "the fixed order: age descending");
    let at = |pairs: Pairs<'static>, param: &'static str| {
        let app = app.clone();
        async move {
            let u = uri(&pairs).replace("/people", "/strict");
            let p = get(&app, &u).await.problem(400);
            if !param.is_empty() {
                assert_eq!(p["errors"][0]["name"], param, "{pairs:?}: {p}");
            }
            p
        }
    };
    at(vec![("id", "in.(1,2,3)")], "id").await;
    at(vec![("or", "(id.eq.1,and(id.eq.1,or(id.eq.1)))")], "or").await;
    at(
        vec![
            ("id", "gt.0"),
            ("id", "gt.0"),
            ("id", "gt.0"),
            ("id", "gt.0"),
        ],
        "id",
    )
    .await;
    at(
        vec![("id", "gt.0"), ("or", "(id.gt.0,id.gt.0,id.gt.0)")],
        "or",
    )
    .await;
    at(vec![("order", "id")], "order").await;
    at(vec![("order", "age.desc")], "order").await;
    at(vec![("limit", "5")], "limit").await;
    // Fields outside the policy read like missing ones.
    for (k, v) in [
        ("select", "email"),
        ("email", "eq.x"),
        ("or", "(is_admin.is.true)"),
    ] {
        let a = at(vec![(k, v)], k).await;
        let other = v
            .replace("email", "nonexistent")
            .replace("is_admin", "nonexistent");
        let k2 = k.replace("email", "nonexistent");
        let u = format!(
            "/strict?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair(&k2, &other)
                .finish()
        );
        let b = get(&app, &u).await.problem(400);
        assert_eq!(
            a.to_string().replace("email", "X").replace("is_admin", "X"),
            b.to_string().replace("nonexistent", "X")
        );
    }
    // A bounded Range would change the fixed page size.
    for range in ["0-1", "0-99"] {
        let p = send(&app, "GET", "/strict", &[("range", range)], None)
            .await
            .problem(400);
        assert!(p["detail"].as_str().unwrap().contains("fixed"), "{p}");
    }
    // Only list is exposed.
    send(&app, "GET", "/strict/1", &[], None).await.problem(405);
}

backend_tests!(
    comparison_operators,
    pattern_operators,
    in_and_is_operators,
    null_handling,
    logic_trees,
    ordering,
    paging,
    limit_is_clamped,
    counting,
    head_requests,
    singular,
    select_and_aliases,
    refusals,
    hidden_field_reads_like_a_missing_one,
    complexity_limits,
    injection,
    pattern_escapes,
    date_times,
    huge_numbers,
    stricter_policy,
);
