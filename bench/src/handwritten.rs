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
//!   sent, `RETURNING`, or update then select on MySQL) and `DELETE /people/{id}`;
//! - PostgREST's writes of many rows, as the generated API answers them: `POST /people` of
//!   a JSON array (one multi-row `INSERT`; with `Prefer: return=representation` 201 and the
//!   rows as an array, else an empty 201), `PATCH /people?id=gte.N&id=lt.M` (one
//!   `UPDATE ... WHERE` in a transaction that is rolled back when it changed more than the
//!   example's `max_affected`, 100 rows: 400; else 204) and `POST /people?on_conflict=email` with
//!   `Prefer: resolution=merge-duplicates` (an upsert: 201 when the row was inserted, 200
//!   when it was merged, the row in a one-element array with `return=representation`).
//!
//! Statements that do a single thing run without an explicit transaction, as one would write
//! them by hand; the generated API wraps its writes in one (see `bench/README.md`).

use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
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
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
    /// 404.
    NotFound,
    /// 403 (`list-hooked`'s check).
    Forbidden,
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
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/json".to_owned(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such person".to_owned()),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "blocked".to_owned()),
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

/// Whether `Prefer` holds `token` (`return=representation`, ...).
fn prefers(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|p| p.trim() == token))
}

/// Most rows of one bulk create (as the generated API's default `max_rows`).
const MAX_ROWS: usize = 1000;

/// Most rows one `PATCH /people?<filters>` may change (the example's `max_affected`).
const MAX_AFFECTED: u64 = 100;

/// What a `POST /people` asks for.
enum PostBody {
    /// One object: REST's create.
    One(NewPerson),
    /// A JSON array: a bulk create.
    Many(Vec<NewPerson>),
    /// `?on_conflict=email` with `Prefer: resolution=merge-duplicates`: insert, or merge into
    /// the row with the same e-mail.
    Upsert(NewPerson),
}

impl PostBody {
    fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<PostBody, ApiError> {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let mut upsert = false;
        for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            match (&*k, &*v) {
                ("on_conflict", "email") => upsert = true,
                _ => return Err(ApiError::BadRequest(format!("`{k}={v}` is not understood"))),
            }
        }
        let bad = |e: serde_json::Error| ApiError::BadRequest(e.to_string());
        if upsert {
            if !prefers(headers, "resolution=merge-duplicates") {
                return Err(ApiError::BadRequest(
                    "`on_conflict` needs `Prefer: resolution=merge-duplicates`".into(),
                ));
            }
            return serde_json::from_slice(body)
                .map(PostBody::Upsert)
                .map_err(bad);
        }
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            let rows: Vec<NewPerson> = serde_json::from_slice(body).map_err(bad)?;
            if rows.len() > MAX_ROWS {
                return Err(ApiError::BadRequest(format!(
                    "at most {MAX_ROWS} rows in one request"
                )));
            }
            return Ok(PostBody::Many(rows));
        }
        serde_json::from_slice(body).map(PostBody::One).map_err(bad)
    }
}

/// The filters of a write chosen by filters (`PATCH /people?id=gte.N&id=lt.M`): `id`, `age`
/// and `is_admin` conditions, any number of each, at least one.
fn write_filters(query: Option<&str>) -> Result<Vec<Filter>, ApiError> {
    let bad = |p: &str| ApiError::BadRequest(format!("`{p}` is not valid"));
    let mut filters = Vec::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        filters.push(match &*k {
            "id" => {
                let (op, n) = comparison("id", &v)?;
                Filter::Id(op, n.parse().map_err(|_| bad("id"))?)
            }
            "age" => {
                let (op, n) = comparison("age", &v)?;
                Filter::Age(op, n.parse().map_err(|_| bad("age"))?)
            }
            "is_admin" => match &*v {
                "eq.true" => Filter::IsAdmin(true),
                "eq.false" => Filter::IsAdmin(false),
                _ => return Err(bad("is_admin")),
            },
            other => return Err(bad(other)),
        });
    }
    if filters.is_empty() {
        return Err(ApiError::BadRequest(
            "a write of the collection needs a filter".into(),
        ));
    }
    Ok(filters)
}

/// The answer of a write of many rows: `status`, the rows as an array when they were asked
/// for (`return=representation`), and the preferences honoured, as the generated API
/// answers them.
fn rows_response(
    status: StatusCode,
    rows: Option<Vec<Person>>,
    applied: Option<&'static str>,
) -> Response {
    let mut response = match rows {
        Some(rows) => (status, Json(rows)).into_response(),
        None => status.into_response(),
    };
    if let Some(applied) = applied {
        response
            .headers_mut()
            .insert("preference-applied", HeaderValue::from_static(applied));
    }
    response
}

/// The answer of a bulk create: 201, with the rows when they were asked for.
fn bulk_created(rows: Option<Vec<Person>>) -> Response {
    let applied = rows.is_some().then_some("return=representation");
    rows_response(StatusCode::CREATED, rows, applied)
}

/// The answer of an upsert: 201 when the row was inserted, 200 when it was merged, with
/// the row in a one-element array when it was asked for.
fn upserted(person: Person, inserted: bool, rows: bool) -> Response {
    let status = match inserted {
        true => StatusCode::CREATED,
        false => StatusCode::OK,
    };
    let applied = match rows {
        true => "return=representation, resolution=merge-duplicates",
        false => "resolution=merge-duplicates",
    };
    rows_response(status, rows.then(|| vec![person]), Some(applied))
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

        /// The list behind a check of the request (`list-hooked`): no SQL of its own.
        async fn list_hooked(
            state: State<$pool>,
            headers: HeaderMap,
            q: Query<ListQuery>,
        ) -> Result<Response, ApiError> {
            if headers.contains_key("x-blocked") {
                return Err(ApiError::Forbidden);
            }
            list(state, headers, q).await
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

        /// `POST /people`: one object (REST's create, or a one-row bulk create with
        /// `return=representation`), an array (a bulk create) or an upsert.
        async fn post(
            State(pool): State<$pool>,
            RawQuery(query): RawQuery,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            let rows = prefers(&headers, "return=representation");
            match PostBody::parse(query.as_deref(), &headers, &body)? {
                PostBody::One(p) if !rows => create(State(pool), Json(p)).await,
                PostBody::One(p) => bulk_create(&pool, vec![p], true).await,
                PostBody::Many(people) if people.is_empty() => {
                    Ok(bulk_created(rows.then(Vec::new)))
                }
                PostBody::Many(people) => bulk_create(&pool, people, rows).await,
                PostBody::Upsert(p) => upsert(&pool, p, rows).await,
            }
        }

        /// A multi-row `INSERT` of `people`, without its `RETURNING` or what follows.
        fn insert_values(people: Vec<NewPerson>) -> QueryBuilder<'static, $db> {
            let mut qb =
                QueryBuilder::<$db>::new("INSERT INTO people (name, email, password, age, bio) ");
            qb.push_values(people, |mut row, p| {
                row.push_bind(p.name)
                    .push_bind(p.email)
                    .push_bind(p.password)
                    .push_bind(p.age)
                    .push_bind(p.bio);
            });
            qb
        }

        /// `PATCH /people?<filters>`: one `UPDATE ... WHERE`, 204.
        async fn update_many(
            State(pool): State<$pool>,
            RawQuery(query): RawQuery,
            Json(p): Json<PersonPatch>,
        ) -> Result<StatusCode, ApiError> {
            let filters = write_filters(query.as_deref())?;
            if !is_empty(&p) {
                // The same bound as the generated API's `max_affected = 100`, kept the way
                // PostgREST keeps its own: write, count, and roll back above the bound.
                let mut qb = QueryBuilder::<$db>::new("UPDATE people SET ");
                push_set(&mut qb, p);
                push_where(&mut qb, &filters);
                let mut tx = pool.begin().await?;
                let done = qb.build().execute(&mut *tx).await?;
                if done.rows_affected() > MAX_AFFECTED {
                    tx.rollback().await?;
                    return Err(ApiError::BadRequest(format!(
                        "more than {MAX_AFFECTED} rows; nothing was written"
                    )));
                }
                tx.commit().await?;
            }
            Ok(StatusCode::NO_CONTENT)
        }

        /// The hand-written API on this backend.
        pub fn router(pool: $pool) -> Router {
            Router::new()
                .route("/people", get(list).post(post).patch(update_many))
                .route("/people_hooked", get(list_hooked))
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

        /// One multi-row `INSERT ... RETURNING`, its rows in the order sent.
        async fn bulk_create(
            pool: &$pool,
            people: Vec<NewPerson>,
            rows: bool,
        ) -> Result<Response, ApiError> {
            let mut qb = insert_values(people);
            if !rows {
                qb.build().execute(pool).await?;
                return Ok(bulk_created(None));
            }
            qb.push(" RETURNING ").push(COLUMNS);
            let people = qb.build_query_as::<Person>().fetch_all(pool).await?;
            Ok(bulk_created(Some(people)))
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

    /// Merges the person into the row with its e-mail (no row back when there is none).
    const MERGE: &str = "UPDATE people SET name = ?, password = ?, age = ?, bio = ? \
         WHERE email = ? RETURNING id, name, email, age, is_admin, bio, created_at";

    /// Inserts the person.
    const INSERT: &str = "INSERT INTO people (name, email, password, age, bio) \
         VALUES (?, ?, ?, ?, ?) RETURNING id, name, email, age, is_admin, bio, created_at";

    /// An upsert on the e-mail. SQLite has no `xmax` to tell an inserted row from an
    /// updated one after a single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`
    /// (`changes()` is 1 either way, `last_insert_rowid()` keeps the connection's previous
    /// insert on an update), so: `UPDATE ... WHERE email = ? RETURNING` (a row back:
    /// merged), else `INSERT ... RETURNING` (inserted). One statement for a merge, two for
    /// an insert, one commit either way (an `UPDATE` that matches nothing writes nothing,
    /// where an `INSERT ... ON CONFLICT DO NOTHING` that conflicts still rewrites the
    /// AUTOINCREMENT counter in `sqlite_sequence`, a second commit), and right under
    /// concurrent writers: a row inserted by another request between the two statements
    /// makes the insert a unique violation, and the merge is tried again.
    async fn upsert(
        pool: &sqlx::SqlitePool,
        p: NewPerson,
        rows: bool,
    ) -> Result<Response, ApiError> {
        let mut last = None;
        for _ in 0..3 {
            let merged = sqlx::query_as::<_, Person>(MERGE)
                .bind(&p.name)
                .bind(&p.password)
                .bind(p.age)
                .bind(&p.bio)
                .bind(&p.email)
                .fetch_optional(pool)
                .await?;
            if let Some(person) = merged {
                return Ok(upserted(person, false, rows));
            }
            let new = sqlx::query_as::<_, Person>(INSERT)
                .bind(&p.name)
                .bind(&p.email)
                .bind(&p.password)
                .bind(p.age)
                .bind(&p.bio)
                .fetch_one(pool)
                .await;
            match new {
                Ok(person) => return Ok(upserted(person, true, rows)),
                Err(e)
                    if e.as_database_error()
                        .is_some_and(|d| d.is_unique_violation()) =>
                {
                    last = Some(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ApiError::Db(last.unwrap_or(sqlx::Error::RowNotFound)))
    }
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

    /// An upsert on the e-mail; `xmax` is 0 in a row version its own statement inserted.
    const UPSERT: &str = "INSERT INTO people (name, email, password, age, bio) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO UPDATE SET \
         name = EXCLUDED.name, password = EXCLUDED.password, age = EXCLUDED.age, \
         bio = EXCLUDED.bio \
         RETURNING id, name, email, age, is_admin, bio, created_at, (xmax = 0) AS inserted";

    /// One `INSERT ... ON CONFLICT (email) DO UPDATE ... RETURNING ..., (xmax = 0)`.
    async fn upsert(pool: &sqlx::PgPool, p: NewPerson, rows: bool) -> Result<Response, ApiError> {
        let row = sqlx::query(UPSERT)
            .bind(p.name)
            .bind(p.email)
            .bind(p.password)
            .bind(p.age)
            .bind(p.bio)
            .fetch_one(pool)
            .await?;
        let inserted: bool = row.try_get("inserted")?;
        let person = <Person as sqlx::FromRow<_>>::from_row(&row)?;
        Ok(upserted(person, inserted, rows))
    }
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

    /// One multi-row `INSERT`, then the new rows read back by their ids: InnoDB gives the
    /// rows of one multi-row insert consecutive ids from `LAST_INSERT_ID()` (the first) on
    /// when `innodb_autoinc_lock_mode` is 0 or 1 (1, "consecutive", is MariaDB's default and
    /// this server's). Plain MySQL has no `INSERT ... RETURNING`; MariaDB (10.5+) has, but
    /// this module keeps to what both have, as its single-row writes do.
    async fn bulk_create(
        pool: &sqlx::MySqlPool,
        people: Vec<NewPerson>,
        rows: bool,
    ) -> Result<Response, ApiError> {
        let n = i64::try_from(people.len()).map_err(|_| ApiError::BadRequest("too many".into()))?;
        let mut conn = pool.acquire().await?;
        let done = insert_values(people).build().execute(&mut *conn).await?;
        if !rows {
            return Ok(bulk_created(None));
        }
        let first = i64::try_from(done.last_insert_id())
            .map_err(|_| ApiError::BadRequest("id out of range".into()))?;
        let people = sqlx::query_as::<_, Person>(
            "SELECT id, name, email, age, is_admin, bio, created_at FROM people \
             WHERE id BETWEEN ? AND ? ORDER BY id",
        )
        .bind(first)
        .bind(first + n - 1)
        .fetch_all(&mut *conn)
        .await?;
        if people.len() as i64 != n {
            return Err(ApiError::Db(sqlx::Error::Protocol(
                "the new rows' ids are not consecutive (innodb_autoinc_lock_mode = 2?)".into(),
            )));
        }
        Ok(bulk_created(Some(people)))
    }

    /// An upsert on the e-mail: `INSERT ... ON DUPLICATE KEY UPDATE`, then the row read
    /// back by its e-mail. The affected rows tell an insert (1) from a merge (2), except
    /// that a merge which changes nothing also reports 1 (sqlx connects with
    /// `CLIENT_FOUND_ROWS`); an insert is also the statement's new id, which a merge does
    /// not report, so both are checked.
    async fn upsert(
        pool: &sqlx::MySqlPool,
        p: NewPerson,
        rows: bool,
    ) -> Result<Response, ApiError> {
        let mut conn = pool.acquire().await?;
        let done = sqlx::query(
            "INSERT INTO people (name, email, password, age, bio) VALUES (?, ?, ?, ?, ?) \
             ON DUPLICATE KEY UPDATE name = VALUES(name), password = VALUES(password), \
             age = VALUES(age), bio = VALUES(bio)",
        )
        .bind(p.name)
        .bind(&p.email)
        .bind(p.password)
        .bind(p.age)
        .bind(p.bio)
        .execute(&mut *conn)
        .await?;
        let person = sqlx::query_as::<_, Person>(
            "SELECT id, name, email, age, is_admin, bio, created_at FROM people WHERE email = ?",
        )
        .bind(&p.email)
        .fetch_one(&mut *conn)
        .await?;
        let inserted = done.rows_affected() == 1
            && i64::try_from(done.last_insert_id()).is_ok_and(|id| id == person.id);
        Ok(upserted(person, inserted, rows))
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
    let relations = crate::relations::handwritten(db.clone());
    let people = match db {
        Db::Sqlite(p) => sqlite::router(p),
        Db::Postgres(p) => postgres::router(p),
        Db::MySql(p) => mysql::router(p),
    };
    people.merge(relations)
}
