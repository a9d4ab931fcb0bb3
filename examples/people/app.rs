//! The `people` resource: the model, its table on each backend, and deterministic seed rows.
//! `main.rs` serves it; the end-to-end tests drive the same code.

use expose_runtime::{expose, Backend, Db};

/// A person, exposed at `/people`.
#[expose(
    as = "people",
    all(fields = "-password"),
    list(
        filter = "id,name,email,age,is_admin,bio,created_at",
        sort = "id,name,age,bio,created_at",
        order = "id",
        limit = 100,
        max_limit = 1000
    ),
    retrieve,
    // `POST /people` takes one object or an array of up to 1000; `Prefer:
    // resolution=merge-duplicates` with `on_conflict=email` upserts.
    create(fields = "name,email,password,age,bio", upsert, max_rows = 1000),
    // `PATCH /people/{id}`, and `PATCH /people?<filters>` on at most 100 rows.
    update(
        fields = "name,email,password,age,bio",
        filter = "id,name,email,age",
        max_affected = 100
    ),
    remove(filter = "id,name,email,age", max_affected = 100),
    // `PUT /people/{id}`: the whole row replaced, or inserted with that key.
    replace(fields = "name,email,password,age,bio")
)]
pub struct Person {
    #[expose(id, generated)]
    pub id: i64,
    #[expose(validate(non_empty))]
    pub name: String,
    #[expose(unique, validate(email))]
    pub email: String,
    pub password: String,
    #[expose(validate(range(min = 0, max = 150)))]
    pub age: i32,
    #[expose(default = "FALSE")]
    pub is_admin: bool,
    pub bio: Option<String>,
    #[expose(generated)]
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The router of the example.
pub fn app(db: Db) -> axum::Router {
    app_under(db, "")
}

/// The router of the example with the API nested under `prefix` (`/api/v1`; `""` for none):
/// the document (still at `/openapi.json`) names the prefix in `servers`, so that its paths
/// (`/people`) are served at `/api/v1/people`.
pub fn app_under(db: Db, prefix: &str) -> axum::Router {
    let mut api = expose_runtime::OpenApi::new("people", env!("CARGO_PKG_VERSION"));
    let mut router = axum::Router::new();
    if prefix.is_empty() {
        router = router.merge(Person::router());
    } else {
        api = api.server(prefix);
        router = router.nest(prefix, Person::router());
    }
    let api = api.resource::<Person>();
    router
        .merge(api.router()) // GET /openapi.json
        .merge(api.index_router("/"))
        .route("/ready", axum::routing::get(expose_runtime::ready)) // for a load balancer
        .fallback(expose_runtime::not_found)
        .with_state(db)
}

/// Creates the `people` table if it is missing, from the model (`Person::MODEL.create_table`
/// gives the statement of each backend).
pub async fn create_table(db: &Db) -> Result<(), expose_runtime::DdlError> {
    expose_runtime::create_tables(db, &[Person::MODEL]).await
}

/// Row `n` of the seed data: (name, email, age, is_admin, bio).
pub fn seed_row(n: u64) -> (String, String, i32, bool, Option<String>) {
    (
        format!("Person {n}"),
        format!("person{n}@example.com"),
        18 + (n % 60) as i32,
        n.is_multiple_of(50),
        (!n.is_multiple_of(3)).then(|| format!("Bio of person {n}")),
    )
}

/// Inserts `rows` deterministic people with ids 1..=rows when the table is empty, in batches.
/// Returns how many rows were inserted.
pub async fn seed(db: &Db, rows: u64) -> Result<u64, sqlx::Error> {
    if count(db).await? > 0 {
        return Ok(0);
    }
    const BATCH: u64 = 1000;
    let mut start = 1;
    while start <= rows {
        let end = (start + BATCH - 1).min(rows);
        let mut sql = String::from(
            "INSERT INTO people (id, name, email, password, age, is_admin, bio) VALUES ",
        );
        for n in start..=end {
            let (name, email, age, admin, bio) = seed_row(n);
            // The values are generated here, never taken from input: literals are safe.
            let bio = bio.map_or("NULL".to_owned(), |b| format!("'{b}'"));
            let admin = if admin { "TRUE" } else { "FALSE" };
            if n > start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({n}, '{name}', '{email}', 'secret-{n}', {age}, {admin}, {bio})"
            ));
        }
        db.execute(&sql).await?;
        start = end + 1;
    }
    if db.backend() == Backend::Postgres && rows > 0 {
        db.execute(
            "SELECT setval(pg_get_serial_sequence('people', 'id'), (SELECT MAX(id) FROM people))",
        )
        .await?;
    }
    Ok(rows)
}

/// The number of rows in `people`.
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    db.fetch_i64("SELECT COUNT(*) FROM people").await
}
