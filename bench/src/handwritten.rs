//! The reference: hand-written axum + sqlx handlers for the `people` model, written the way a
//! careful engineer would write them for one resource — an explicit column list, `query_as`
//! into a struct, `Json` in and out, binds for every value, the SQL of the generated API.
//!
//! Only the routes and query parameters the workloads use are here:
//!
//! - `GET /people?limit=&offset=&order=id|age.desc&id=gt.N&age=gte.N&is_admin=eq.B`, with
//!   `Prefer: count=exact` adding a `COUNT(*)` (one pooled connection for both statements)
//!   and `Prefer: count=planned` the planner's estimate (`EXPLAIN` of `SELECT 1` with the
//!   same filters on PostgreSQL and MySQL/MariaDB; SQLite has none and counts), and
//!   `Content-Range` / `206 Partial Content` as the generated API answers them;
//! - `GET /people/{id}`, `POST /people` (`INSERT ... RETURNING`, or insert then select by
//!   `LAST_INSERT_ID()` on MySQL), `PATCH /people/{id}` (`UPDATE ... SET` only the fields
//!   sent, `RETURNING`, or update then select on MySQL) and `DELETE /people/{id}`.
//!
//! Statements that do a single thing run without an explicit transaction, as one would write
//! them by hand; the generated API wraps its writes in one (see `bench/README.md`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use expose_runtime::Db;
use serde::{Deserialize, Deserializer, Serialize};

/// A person as the API shows it: every column but `password`.
#[derive(Debug, Serialize)]
pub struct Person {
    /// Primary key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Unique e-mail address.
    pub email: String,
    /// Age in years.
    pub age: i32,
    /// Whether the person is an administrator.
    pub is_admin: bool,
    /// Free text, may be absent.
    pub bio: Option<String>,
    /// When the row was inserted.
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /people`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// Name.
    pub name: String,
    /// Unique e-mail address.
    pub email: String,
    /// Password (stored, never shown).
    pub password: String,
    /// Age in years.
    pub age: i32,
    /// Free text.
    #[serde(default)]
    pub bio: Option<String>,
}

/// The body of `PATCH /people/{id}`: only the fields sent change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    /// New name.
    pub name: Option<String>,
    /// New e-mail address.
    pub email: Option<String>,
    /// New password.
    pub password: Option<String>,
    /// New age.
    pub age: Option<i32>,
    /// New bio: absent leaves it, `null` clears it.
    #[serde(default, deserialize_with = "present")]
    pub bio: Option<Option<String>>,
}

/// Tells a field that is present (even as `null`) from one that is absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The query parameters `GET /people` understands here.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    /// Page size (default 100, at most 1000).
    pub limit: Option<u64>,
    /// Rows skipped.
    pub offset: Option<u64>,
    /// `id` (the default) or `age.desc`.
    pub order: Option<String>,
    /// `op.N` on the key, e.g. `gt.5000` for keyset paging.
    pub id: Option<String>,
    /// `op.N` on the age.
    pub age: Option<String>,
    /// `eq.true` or `eq.false`.
    pub is_admin: Option<String>,
}

/// What a handler refuses with.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with a reason.
    BadRequest(String),
    /// 404.
    NotFound,
    /// A database error: 409 for a unique violation, 500 otherwise.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        ApiError::Db(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            ApiError::BadRequest(d) => (StatusCode::BAD_REQUEST, d),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such person".to_owned()),
            ApiError::Db(e) => match e.as_database_error() {
                Some(d) if d.is_unique_violation() => {
                    (StatusCode::CONFLICT, "the e-mail is taken".to_owned())
                }
                _ => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
            },
        };
        let body = serde_json::json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": detail,
        });
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            )],
            body.to_string(),
        )
            .into_response()
    }
}

/// A comparison of a filter parameter, as SQL.
fn comparison(param: &str, value: &str) -> Result<(&'static str, String), ApiError> {
    let (op, operand) = value
        .split_once('.')
        .ok_or_else(|| ApiError::BadRequest(format!("`{param}` must be `op.value`")))?;
    let sql = match op {
        "eq" => " = ",
        "gt" => " > ",
        "gte" => " >= ",
        "lt" => " < ",
        "lte" => " <= ",
        _ => return Err(ApiError::BadRequest(format!("`{param}`: unknown operator"))),
    };
    Ok((sql, operand.to_owned()))
}

/// One checked filter of a list request.
enum Filter {
    Id(&'static str, i64),
    Age(&'static str, i32),
    IsAdmin(bool),
}

/// The checked parts of a list request.
struct ListRequest {
    filters: Vec<Filter>,
    order: &'static str,
    limit: i64,
    offset: i64,
}

impl ListRequest {
    fn parse(q: &ListQuery) -> Result<ListRequest, ApiError> {
        let bad = |p: &str| ApiError::BadRequest(format!("`{p}` is not valid"));
        let mut filters = Vec::new();
        if let Some(v) = &q.id {
            let (op, n) = comparison("id", v)?;
            filters.push(Filter::Id(op, n.parse().map_err(|_| bad("id"))?));
        }
        if let Some(v) = &q.age {
            let (op, n) = comparison("age", v)?;
            filters.push(Filter::Age(op, n.parse().map_err(|_| bad("age"))?));
        }
        if let Some(v) = &q.is_admin {
            let b = match v.as_str() {
                "eq.true" => true,
                "eq.false" => false,
                _ => return Err(bad("is_admin")),
            };
            filters.push(Filter::IsAdmin(b));
        }
        let order = match q.order.as_deref() {
            None | Some("id") | Some("id.asc") => "id ASC",
            Some("age.desc") => "age DESC, id ASC",
            Some(_) => return Err(bad("order")),
        };
        let limit = q.limit.unwrap_or(100).min(1000);
        Ok(ListRequest {
            filters,
            order,
            limit: i64::try_from(limit).map_err(|_| bad("limit"))?,
            offset: i64::try_from(q.offset.unwrap_or(0)).map_err(|_| bad("offset"))?,
        })
    }
}

/// Which total a list request asked for.
enum Count {
    Exact,
    Planned,
}

/// The `Prefer: count=exact|planned` of the request, if any.
fn wants_count(headers: &HeaderMap) -> Option<Count> {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| match p.trim() {
            "count=exact" => Some(Count::Exact),
            "count=planned" => Some(Count::Planned),
            _ => None,
        })
}

/// The answer of a list: `Content-Range`, and 206 when a count shows more rows; the total
/// comes with the preference it applied.
fn list_response(rows: Vec<Person>, offset: i64, total: Option<(i64, &'static str)>) -> Response {
    let (total, applied) = match total {
        Some((t, a)) => (Some(t), Some(a)),
        None => (None, None),
    };
    let n = rows.len() as i64;
    let range = if n == 0 {
        "*".to_owned()
    } else {
        format!("{}-{}", offset, offset + n - 1)
    };
    let status = match total {
        Some(t) if n < t => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let total_text = total.map_or_else(|| "*".to_owned(), |t| t.to_string());
    let mut response = (status, Json(rows)).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("{range}/{total_text}")) {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Some(a) = applied {
        h.insert("preference-applied", HeaderValue::from_static(a));
    }
    response
}

/// The answer of a create: 201, `Location` and the row.
fn created(person: Person) -> Response {
    let location = format!("/people/{}", person.id);
    let mut response = (StatusCode::CREATED, Json(person)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

/// Handlers shared by the three backends: `FromRow`, list, retrieve, remove and the router.
macro_rules! common {
    ($db:ty, $pool:ty, $row:ty, text = $text:ident, by_id = $by_id:literal, delete = $delete:literal) => {
        use super::*;
        use sqlx::{QueryBuilder, Row};

        /// The columns a response shows, in `SELECT` order.
        const COLUMNS: &str = "id, name, email, age, is_admin, bio, created_at";

        impl<'r> sqlx::FromRow<'r, $row> for Person {
            fn from_row(row: &'r $row) -> Result<Person, sqlx::Error> {
                Ok(Person {
                    id: row.try_get("id")?,
                    name: row.$text("name")?,
                    email: row.$text("email")?,
                    age: row.try_get("age")?,
                    is_admin: row.try_get("is_admin")?,
                    bio: row.$text("bio")?,
                    created_at: row.try_get("created_at")?,
                })
            }
        }

        fn push_where(qb: &mut QueryBuilder<'_, $db>, filters: &[Filter]) {
            for (i, f) in filters.iter().enumerate() {
                qb.push(if i == 0 { " WHERE " } else { " AND " });
                match f {
                    Filter::Id(op, v) => qb.push("id").push(op).push_bind(*v),
                    Filter::Age(op, v) => qb.push("age").push(op).push_bind(*v),
                    Filter::IsAdmin(v) => qb.push("is_admin = ").push_bind(*v),
                };
            }
        }

        async fn list(
            State(pool): State<$pool>,
            headers: HeaderMap,
            Query(q): Query<ListQuery>,
        ) -> Result<Response, ApiError> {
            let req = ListRequest::parse(&q)?;
            let mut conn = pool.acquire().await?;
            let mut qb = QueryBuilder::<$db>::new("SELECT ");
            qb.push(COLUMNS).push(" FROM people");
            push_where(&mut qb, &req.filters);
            qb.push(" ORDER BY ").push(req.order);
            qb.push(" LIMIT ").push_bind(req.limit);
            if req.offset > 0 {
                qb.push(" OFFSET ").push_bind(req.offset);
            }
            let rows = qb.build_query_as::<Person>().fetch_all(&mut *conn).await?;
            let total = match wants_count(&headers) {
                None => None,
                Some(Count::Exact) => Some((exact(&mut conn, &req.filters).await?, "count=exact")),
                Some(Count::Planned) => Some(planned(&mut conn, &req.filters).await?),
            };
            Ok(list_response(rows, req.offset, total))
        }

        /// `COUNT(*)` of the rows the filters match.
        async fn exact(
            conn: &mut <$db as sqlx::Database>::Connection,
            filters: &[Filter],
        ) -> Result<i64, sqlx::Error> {
            let mut qb = QueryBuilder::<$db>::new("SELECT COUNT(*) FROM people");
            push_where(&mut qb, filters);
            qb.build_query_scalar::<i64>().fetch_one(&mut *conn).await
        }

        async fn retrieve(
            State(pool): State<$pool>,
            Path(id): Path<i64>,
        ) -> Result<Json<Person>, ApiError> {
            sqlx::query_as::<_, Person>($by_id)
                .bind(id)
                .fetch_optional(&pool)
                .await?
                .map(Json)
                .ok_or(ApiError::NotFound)
        }

        async fn remove(
            State(pool): State<$pool>,
            Path(id): Path<i64>,
        ) -> Result<StatusCode, ApiError> {
            let done = sqlx::query($delete).bind(id).execute(&pool).await?;
            if done.rows_affected() == 0 {
                return Err(ApiError::NotFound);
            }
            Ok(StatusCode::NO_CONTENT)
        }

        /// `SET a = ?, b = ?` for the fields of a patch (nothing when it is empty).
        fn push_set(qb: &mut QueryBuilder<'_, $db>, p: PersonPatch) {
            let mut set = qb.separated(", ");
            if let Some(v) = p.name {
                set.push("name = ").push_bind_unseparated(v);
            }
            if let Some(v) = p.email {
                set.push("email = ").push_bind_unseparated(v);
            }
            if let Some(v) = p.password {
                set.push("password = ").push_bind_unseparated(v);
            }
            if let Some(v) = p.age {
                set.push("age = ").push_bind_unseparated(v);
            }
            if let Some(v) = p.bio {
                set.push("bio = ").push_bind_unseparated(v);
            }
        }

        fn is_empty(p: &PersonPatch) -> bool {
            p.name.is_none()
                && p.email.is_none()
                && p.password.is_none()
                && p.age.is_none()
                && p.bio.is_none()
        }

        /// The hand-written API on this backend.
        pub fn router(pool: $pool) -> Router {
            Router::new()
                .route("/people", get(list).post(create))
                .route("/people/{id}", get(retrieve).patch(update).delete(remove))
                .with_state(pool)
        }
    };
}

/// Writes with `RETURNING` (SQLite, PostgreSQL).
macro_rules! writes_returning {
    ($db:ty, $pool:ty, insert = $insert:literal) => {
        async fn create(
            State(pool): State<$pool>,
            Json(p): Json<NewPerson>,
        ) -> Result<Response, ApiError> {
            let person = sqlx::query_as::<_, Person>($insert)
                .bind(p.name)
                .bind(p.email)
                .bind(p.password)
                .bind(p.age)
                .bind(p.bio)
                .fetch_one(&pool)
                .await?;
            Ok(created(person))
        }

        async fn update(
            State(pool): State<$pool>,
            Path(id): Path<i64>,
            Json(p): Json<PersonPatch>,
        ) -> Result<Json<Person>, ApiError> {
            if is_empty(&p) {
                return retrieve(State(pool), Path(id)).await;
            }
            let mut qb = QueryBuilder::<$db>::new("UPDATE people SET ");
            push_set(&mut qb, p);
            qb.push(" WHERE id = ").push_bind(id);
            qb.push(" RETURNING ").push(COLUMNS);
            qb.build_query_as::<Person>()
                .fetch_optional(&pool)
                .await?
                .map(Json)
                .ok_or(ApiError::NotFound)
        }
    };
}

/// The hand-written API on SQLite.
pub mod sqlite {
    common!(
        sqlx::Sqlite,
        sqlx::SqlitePool,
        sqlx::sqlite::SqliteRow,
        text = try_get,
        by_id = "SELECT id, name, email, age, is_admin, bio, created_at FROM people WHERE id = ?",
        delete = "DELETE FROM people WHERE id = ?"
    );

    /// SQLite keeps no row estimates: counted.
    async fn planned(
        conn: &mut sqlx::SqliteConnection,
        filters: &[Filter],
    ) -> Result<(i64, &'static str), sqlx::Error> {
        Ok((exact(conn, filters).await?, "count=exact"))
    }

    writes_returning!(
        sqlx::Sqlite,
        sqlx::SqlitePool,
        insert = "INSERT INTO people (name, email, password, age, bio) VALUES (?, ?, ?, ?, ?) \
                  RETURNING id, name, email, age, is_admin, bio, created_at"
    );
}

/// The hand-written API on PostgreSQL.
pub mod postgres {
    common!(
        sqlx::Postgres,
        sqlx::PgPool,
        sqlx::postgres::PgRow,
        text = try_get,
        by_id = "SELECT id, name, email, age, is_admin, bio, created_at FROM people WHERE id = $1",
        delete = "DELETE FROM people WHERE id = $1"
    );

    /// `Plan Rows` of `EXPLAIN (FORMAT JSON)` of the rows the filters match.
    async fn planned(
        conn: &mut sqlx::PgConnection,
        filters: &[Filter],
    ) -> Result<(i64, &'static str), sqlx::Error> {
        let mut qb =
            QueryBuilder::<sqlx::Postgres>::new("EXPLAIN (FORMAT JSON) SELECT 1 FROM people");
        push_where(&mut qb, filters);
        let plan = qb
            .build_query_scalar::<sqlx::types::Json<serde_json::Value>>()
            .fetch_one(&mut *conn)
            .await?;
        let rows = plan.0[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(0.0);
        Ok((rows as i64, "count=planned"))
    }
    writes_returning!(
        sqlx::Postgres,
        sqlx::PgPool,
        insert =
            "INSERT INTO people (name, email, password, age, bio) VALUES ($1, $2, $3, $4, $5) \
                  RETURNING id, name, email, age, is_admin, bio, created_at"
    );
}

/// The hand-written API on MySQL/MariaDB: no `RETURNING`, so writes read the row back on the
/// same connection.
pub mod mysql {
    common!(
        sqlx::MySql,
        sqlx::MySqlPool,
        sqlx::mysql::MySqlRow,
        // MySQL/MariaDB flag text columns of a binary collation (`utf8mb4_bin`, as the
        // example's table uses) as VARBINARY, which sqlx's type check refuses for `String`;
        // their bytes are UTF-8 text, which the unchecked decode reads (and checks).
        text = try_get_unchecked,
        by_id = "SELECT id, name, email, age, is_admin, bio, created_at FROM people WHERE id = ?",
        delete = "DELETE FROM people WHERE id = ?"
    );

    /// `rows` of `EXPLAIN` of the rows the filters match (MariaDB reports it as text, MySQL
    /// as an unsigned integer; MySQL's `filtered` is left out, as MariaDB has none).
    async fn planned(
        conn: &mut sqlx::MySqlConnection,
        filters: &[Filter],
    ) -> Result<(i64, &'static str), sqlx::Error> {
        let mut qb = QueryBuilder::<sqlx::MySql>::new("EXPLAIN SELECT 1 FROM people");
        push_where(&mut qb, filters);
        let row = qb.build().fetch_one(&mut *conn).await?;
        let rows = match row.try_get::<Option<&str>, _>("rows") {
            Ok(text) => text.and_then(|t| t.parse().ok()),
            Err(_) => row.try_get::<Option<u64>, _>("rows")?.map(|n| n as i64),
        };
        Ok((rows.unwrap_or(0), "count=planned"))
    }

    const BY_ID: &str =
        "SELECT id, name, email, age, is_admin, bio, created_at FROM people WHERE id = ?";

    async fn create(
        State(pool): State<sqlx::MySqlPool>,
        Json(p): Json<NewPerson>,
    ) -> Result<Response, ApiError> {
        let mut conn = pool.acquire().await?;
        let done = sqlx::query(
            "INSERT INTO people (name, email, password, age, bio) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(p.name)
        .bind(p.email)
        .bind(p.password)
        .bind(p.age)
        .bind(p.bio)
        .execute(&mut *conn)
        .await?;
        let id = i64::try_from(done.last_insert_id())
            .map_err(|_| ApiError::BadRequest("id out of range".into()))?;
        let person = sqlx::query_as::<_, Person>(BY_ID)
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        Ok(created(person))
    }

    async fn update(
        State(pool): State<sqlx::MySqlPool>,
        Path(id): Path<i64>,
        Json(p): Json<PersonPatch>,
    ) -> Result<Json<Person>, ApiError> {
        let mut conn = pool.acquire().await?;
        if !is_empty(&p) {
            let mut qb = QueryBuilder::<sqlx::MySql>::new("UPDATE people SET ");
            push_set(&mut qb, p);
            qb.push(" WHERE id = ").push_bind(id);
            qb.build().execute(&mut *conn).await?;
        }
        sqlx::query_as::<_, Person>(BY_ID)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .map(Json)
            .ok_or(ApiError::NotFound)
    }
}

/// The hand-written API for whichever backend `db` holds (the pool is the one
/// [`Db::connect`] built, so both servers run with the same pool settings).
pub fn router(db: Db) -> Router {
    match db {
        Db::Sqlite(p) => sqlite::router(p),
        Db::Postgres(p) => postgres::router(p),
        Db::MySql(p) => mysql::router(p),
    }
}
