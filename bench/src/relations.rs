//! The relations workloads (issue 29): authors and their articles, embedded by the generated
//! API (`select=...,authors(name)`; `select=...,articles(...)&articles.limit=5`) and joined
//! by hand in the reference: a `LEFT JOIN` for an article's author, a second query with
//! `ROW_NUMBER()` per author for an author's last articles.
//!
//! The tables `bench_authors` (one per ten seeded people, at least 20) and `bench_articles`
//! (ten per author, indexed by author) are reset with `people` ([`reset`]).

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use expose_runtime::{expose, Db};
use serde::Serialize;
use std::collections::HashMap;

/// An author, with the articles a list may embed.
#[expose(
    as = "authors",
    table = "bench_authors",
    list(order = "id", embed(Article))
)]
pub struct Author {
    /// Primary key.
    #[expose(id)]
    pub id: i64,
    /// Name.
    pub name: String,
}

/// An article, with the author a list may embed.
#[expose(
    as = "articles",
    table = "bench_articles",
    list(order = "id", embed(Author))
)]
pub struct Article {
    /// Primary key.
    #[expose(id)]
    pub id: i64,
    /// The author.
    #[expose(references = Author)]
    pub author_id: i64,
    /// Title.
    pub title: String,
}

/// Articles per author.
pub const ARTICLES_PER_AUTHOR: u64 = 10;

/// Authors seeded with `rows` people.
pub fn authors(rows: u64) -> u64 {
    (rows / 10).max(20)
}

/// Drops and re-creates both tables, seeded for `rows` people: [`authors`] authors, each
/// with [`ARTICLES_PER_AUTHOR`] articles (ids in author order).
pub async fn reset(db: &Db, rows: u64) -> Result<(), sqlx::Error> {
    db.execute("DROP TABLE IF EXISTS bench_articles").await?;
    db.execute("DROP TABLE IF EXISTS bench_authors").await?;
    expose_runtime::create_tables(db, &[Author::MODEL, Article::MODEL])
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    db.execute("CREATE INDEX IF NOT EXISTS bench_articles_author ON bench_articles (author_id)")
        .await?;
    let authors = authors(rows);
    for chunk in (1..=authors).collect::<Vec<_>>().chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|a| format!("({a}, 'Author {a}')"))
            .collect();
        db.execute(&format!(
            "INSERT INTO bench_authors (id, name) VALUES {}",
            values.join(", ")
        ))
        .await?;
    }
    let articles: Vec<u64> = (1..=authors * ARTICLES_PER_AUTHOR).collect();
    for chunk in articles.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|i| {
                let author = (i - 1) / ARTICLES_PER_AUTHOR + 1;
                format!("({i}, {author}, 'Article {i}')")
            })
            .collect();
        db.execute(&format!(
            "INSERT INTO bench_articles (id, author_id, title) VALUES {}",
            values.join(", ")
        ))
        .await?;
    }
    Ok(())
}

/// The generated side: both models' routers.
pub fn generated(db: Db) -> Router {
    Router::new()
        .merge(Author::router())
        .merge(Article::router())
        .with_state(db)
}

/// An article with its author's name, as both sides answer it.
#[derive(Serialize)]
struct ArticleOut {
    id: i64,
    title: String,
    authors: Option<NameOut>,
}

#[derive(Serialize)]
struct NameOut {
    name: String,
}

/// An author with their last articles.
#[derive(Serialize)]
struct AuthorOut {
    id: i64,
    name: String,
    articles: Vec<TitleOut>,
}

#[derive(Serialize)]
struct TitleOut {
    id: i64,
    title: String,
}

fn limit(q: &HashMap<String, String>, default: i64) -> i64 {
    q.get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default)
}

/// A page as the generated list answers it: 200, JSON, `Content-Range: 0-(n-1)/*`.
fn page<T: Serialize>(rows: Vec<T>) -> Response {
    let n = rows.len();
    let range = match n {
        0 => "*/*".to_owned(),
        n => format!("0-{}/*", n - 1),
    };
    let mut response = (StatusCode::OK, Json(rows)).into_response();
    if let Ok(v) = HeaderValue::from_str(&range) {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    response
}

fn failed(e: sqlx::Error) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
}

/// A text column as decoded: `String`, or bytes where the driver reports a binary-collated
/// `TEXT` as a `BLOB` (MySQL/MariaDB with `utf8mb4_bin`, as the DDL makes it).
trait Text {
    fn text(self) -> String;
}

impl Text for String {
    fn text(self) -> String {
        self
    }
}

impl Text for Vec<u8> {
    fn text(self) -> String {
        String::from_utf8(self)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }
}

macro_rules! handwritten_backend {
    ($m:ident, $pool:ty, $numbered:expr, $text:ty) => {
        mod $m {
            use super::*;

            pub(super) fn router(pool: $pool) -> Router {
                Router::new()
                    .route("/articles", get(articles))
                    .route("/authors", get(authors))
                    .with_state(pool)
            }

            /// `GET /articles?select=id,title,authors(name)&limit=N`: one `LEFT JOIN`.
            async fn articles(
                State(pool): State<$pool>,
                Query(q): Query<HashMap<String, String>>,
            ) -> Response {
                let sql = if $numbered {
                    "SELECT a.id, a.title, u.name FROM bench_articles a \
                     LEFT JOIN bench_authors u ON u.id = a.author_id ORDER BY a.id LIMIT $1"
                } else {
                    "SELECT a.id, a.title, u.name FROM bench_articles a \
                     LEFT JOIN bench_authors u ON u.id = a.author_id ORDER BY a.id LIMIT ?"
                };
                let rows: Result<Vec<(i64, $text, Option<$text>)>, _> = sqlx::query_as(sql)
                    .bind(limit(&q, 100))
                    .fetch_all(&pool)
                    .await;
                match rows {
                    Ok(rows) => page(
                        rows.into_iter()
                            .map(|(id, title, name)| ArticleOut {
                                id,
                                title: title.text(),
                                authors: name.map(|name| NameOut { name: name.text() }),
                            })
                            .collect(),
                    ),
                    Err(e) => failed(e),
                }
            }

            /// `GET /authors?select=id,name,articles(id,title)&articles.order=id.desc&
            /// articles.limit=5&limit=N`: the authors, then their last five articles in one
            /// query.
            async fn authors(
                State(pool): State<$pool>,
                Query(q): Query<HashMap<String, String>>,
            ) -> Response {
                let sql = if $numbered {
                    "SELECT id, name FROM bench_authors ORDER BY id LIMIT $1"
                } else {
                    "SELECT id, name FROM bench_authors ORDER BY id LIMIT ?"
                };
                let authors: Vec<(i64, $text)> = match sqlx::query_as(sql)
                    .bind(limit(&q, 100))
                    .fetch_all(&pool)
                    .await
                {
                    Ok(a) => a,
                    Err(e) => return failed(e),
                };
                let per = q
                    .get("articles.limit")
                    .and_then(|l| l.parse::<i64>().ok())
                    .unwrap_or(100);
                let mut out: Vec<AuthorOut> = authors
                    .into_iter()
                    .map(|(id, name)| AuthorOut {
                        id,
                        name: name.text(),
                        articles: Vec::new(),
                    })
                    .collect();
                if out.is_empty() {
                    return page(out);
                }
                let marks: Vec<String> = (1..=out.len())
                    .map(|i| {
                        if $numbered {
                            format!("${i}")
                        } else {
                            "?".to_owned()
                        }
                    })
                    .collect();
                let sql = format!(
                    "SELECT id, title, author_id FROM (SELECT id, title, author_id, \
                     ROW_NUMBER() OVER (PARTITION BY author_id ORDER BY id DESC) AS rn \
                     FROM bench_articles WHERE author_id IN ({})) t WHERE rn <= {per} \
                     ORDER BY author_id, rn",
                    marks.join(", ")
                );
                let mut query = sqlx::query_as::<_, (i64, $text, i64)>(&sql);
                for a in &out {
                    query = query.bind(a.id);
                }
                let rows = match query.fetch_all(&pool).await {
                    Ok(r) => r,
                    Err(e) => return failed(e),
                };
                let at: HashMap<i64, usize> =
                    out.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
                for (id, title, author) in rows {
                    if let Some(&i) = at.get(&author) {
                        out[i].articles.push(TitleOut {
                            id,
                            title: title.text(),
                        });
                    }
                }
                page(out)
            }
        }
    };
}

handwritten_backend!(sqlite, sqlx::SqlitePool, false, String);
handwritten_backend!(postgres, sqlx::PgPool, true, String);
handwritten_backend!(mysql, sqlx::MySqlPool, false, Vec<u8>);

/// The hand-written side: the two routes the workloads use.
pub fn handwritten(db: Db) -> Router {
    match db {
        Db::Sqlite(p) => sqlite::router(p),
        Db::Postgres(p) => postgres::router(p),
        Db::MySql(p) => mysql::router(p),
    }
}
