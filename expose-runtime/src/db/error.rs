//! Database errors mapped to problems: never a driver message or SQL text in a response.

use crate::field::Field;
use crate::problem::{Offender, Problem};
use axum::http::{header, HeaderValue, StatusCode};
use sqlx::error::{DatabaseError, ErrorKind};

/// What a database error means for the client, independent of the backend.
#[derive(Debug, PartialEq, Eq)]
enum Meaning {
    Unique,
    /// A reference to a row that does not exist.
    MissingReference,
    /// A row that is still referenced.
    StillReferenced,
    Invalid,
    /// Deadlock, serialization failure, lock wait, busy database: worth retrying.
    Contention,
    /// The database cannot be reached or opened.
    Unavailable,
    /// The statement's completion is unknown (PostgreSQL's `statement_completion_unknown`).
    Unanswered,
    Timeout,
    Other,
}

/// `ambiguous_fk`: what a foreign-key error means when the backend does not say which side
/// failed (SQLite): a missing reference for inserts and updates, a referenced row otherwise.
fn meaning(d: &dyn DatabaseError, ambiguous_fk: Meaning) -> Meaning {
    let code = d.code();
    let code = code.as_deref().unwrap_or("");
    let mysql = d
        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(|e| e.number());
    match mysql {
        Some(1213 | 1205) => return Meaning::Contention,
        Some(1969 | 3024) => return Meaning::Timeout,
        Some(1452) => return Meaning::MissingReference,
        Some(1451) => return Meaning::StillReferenced,
        Some(1264 | 1406 | 1366 | 1048 | 3819 | 4025) => return Meaning::Invalid,
        _ => {}
    }
    match code {
        // PostgreSQL SQLSTATEs.
        "40001" | "40P01" | "55P03" | "53300" => return Meaning::Contention,
        "57014" => return Meaning::Timeout,
        // statement_completion_unknown: the server itself cannot say.
        "40003" => return Meaning::Unanswered,
        "22001" | "22003" | "22021" | "22P02" | "22007" | "22008" => return Meaning::Invalid,
        // SQLite: SQLITE_BUSY and SQLITE_LOCKED, with their extended codes.
        "5" | "6" | "261" | "262" | "517" => return Meaning::Contention,
        // SQLite: SQLITE_CANTOPEN, with its extended codes.
        "14" | "270" | "526" | "782" | "1038" | "1294" | "1550" => return Meaning::Unavailable,
        _ => {}
    }
    // PostgreSQL says which side of a foreign key failed in the message's first words and in
    // its detail ("Key (team_id)=(9) is not present in table ...").
    let detail = d
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|e| e.detail())
        .unwrap_or("");
    let message = d.message();
    let says = |words: &str| message.contains(words) || detail.contains(words);
    match d.kind() {
        ErrorKind::UniqueViolation => Meaning::Unique,
        ErrorKind::ForeignKeyViolation
            if says("is not present") || message.starts_with("insert or update") =>
        {
            Meaning::MissingReference
        }
        ErrorKind::ForeignKeyViolation
            if says("still referenced") || message.starts_with("update or delete") =>
        {
            Meaning::StillReferenced
        }
        ErrorKind::ForeignKeyViolation => ambiguous_fk,
        ErrorKind::NotNullViolation | ErrorKind::CheckViolation => Meaning::Invalid,
        _ => Meaning::Other,
    }
}

fn unavailable(detail: &str) -> Problem {
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
}

/// What a statement was about, so that an error can name the resource and the field a
/// constraint guards.
#[derive(Clone, Copy)]
pub(crate) struct Subject {
    /// The resource's URL segment.
    pub(crate) path: &'static str,
    pub(crate) fields: &'static [Field],
}

/// Maps an sqlx error met while serving `res`.
pub(crate) fn map(res: impl Into<Subject>, e: sqlx::Error) -> Problem {
    map_with(Some(res.into()), e, Meaning::StillReferenced)
}

/// Like [`map`], for statements that write a row's values (insert, update): a foreign-key
/// error the backend does not explain is a reference to a missing row.
pub(crate) fn map_writing(res: impl Into<Subject>, e: sqlx::Error) -> Problem {
    map_with(Some(res.into()), e, Meaning::MissingReference)
}

/// Maps an sqlx error; with a subject, constraint errors name the field.
pub(crate) fn map_for(res: Option<Subject>, e: sqlx::Error) -> Problem {
    map_with(res, e, Meaning::StillReferenced)
}

fn map_with(res: Option<Subject>, e: sqlx::Error, ambiguous_fk: Meaning) -> Problem {
    let path = res.map_or("record", |r| r.path);
    match &e {
        sqlx::Error::Database(d) => {
            let field = res.and_then(|r| culprit(r, d.constraint().unwrap_or(""), d.message()));
            let with_field = |p: Problem, detail: &str| match field {
                Some(name) => p.with_offender(Offender {
                    name: name.to_owned(),
                    location: "body",
                    rule: None,
                    detail: detail.to_owned(),
                }),
                None => p,
            };
            match meaning(d.as_ref(), ambiguous_fk) {
                Meaning::Unique => with_field(
                    Problem::conflict(match field {
                        Some(f) => format!("another record of `{path}` already has this `{f}`"),
                        None => format!("another record of `{path}` already has these values"),
                    }),
                    "must be unique",
                ),
                Meaning::MissingReference => with_field(
                    Problem::unprocessable(
                        "a value refers to a record that does not exist",
                        Vec::new(),
                    ),
                    "refers to a record that does not exist",
                ),
                Meaning::StillReferenced => with_field(
                    Problem::conflict("other records still refer to this one"),
                    "is still referred to",
                ),
                Meaning::Invalid => with_field(
                    Problem::unprocessable(
                        "a value does not fit the column it is stored in",
                        Vec::new(),
                    ),
                    "does not fit its column",
                ),
                Meaning::Contention => {
                    tracing::warn!(error = %e, "database contention");
                    unavailable("the database is busy with conflicting work; try again")
                }
                Meaning::Unavailable => {
                    tracing::warn!(error = %e, "database unavailable");
                    unavailable("the database is busy or unreachable; try again shortly")
                }
                Meaning::Unanswered => {
                    tracing::warn!(error = %e, "statement completion unknown");
                    unavailable("the database could not complete the request; try again")
                        .unanswered()
                }
                Meaning::Timeout => {
                    tracing::warn!(error = %e, "statement timeout");
                    Problem::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        "timeout",
                        "the database took too long to answer",
                    )
                }
                Meaning::Other => Problem::internal(&e),
            }
        }
        // Before a connection was had: nothing was sent.
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            tracing::warn!(error = %e, "database unavailable");
            unavailable("the database is busy or unreachable; try again shortly")
        }
        // The connection failed: a statement on it may have been applied without an answer.
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => {
            tracing::warn!(error = %e, "database unavailable");
            unavailable("the database is busy or unreachable; try again shortly").unanswered()
        }
        _ => Problem::internal(&e),
    }
}

/// The API name of the field a constraint error is about, found by its column in the
/// constraint name or the driver's message (never shown to the client as such).
fn culprit(res: Subject, constraint: &str, message: &str) -> Option<&'static str> {
    res.fields
        .iter()
        .filter(|f| !f.key || res.fields.len() == 1)
        .find(|f| {
            let c = f.column;
            constraint.split(['_', '.']).any(|p| p == c)
                || constraint.contains(&format!("_{c}_"))
                || message.contains(&format!(".{c}"))
                || message.contains(&format!("'{c}'"))
                || message.contains(&format!("\"{c}\""))
                || message.contains(&format!("`{c}`"))
        })
        .map(|f| f.name)
}
