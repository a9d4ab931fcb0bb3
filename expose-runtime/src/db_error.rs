//! Database errors mapped to problems: never a driver message or SQL text in a response.

use crate::problem::{Offender, Problem};
use crate::resource::Resource;
use axum::http::{header, HeaderValue, StatusCode};
use sqlx::error::ErrorKind;

/// Maps an sqlx error met while serving `res`.
pub(crate) fn map(res: &Resource, e: sqlx::Error) -> Problem {
    match &e {
        sqlx::Error::Database(d) => {
            let field = culprit(res, d.constraint().unwrap_or(""), d.message());
            let with_field = |p: Problem, detail: &str| match field {
                Some(name) => p.with_offender(Offender {
                    name: name.to_owned(),
                    location: "body",
                    detail: detail.to_owned(),
                }),
                None => p,
            };
            match d.kind() {
                ErrorKind::UniqueViolation => with_field(
                    Problem::conflict(match field {
                        Some(f) => format!("another {} already has this `{f}`", res.model.path),
                        None => format!("another {} already has these values", res.model.path),
                    }),
                    "must be unique",
                ),
                ErrorKind::ForeignKeyViolation => with_field(
                    Problem::conflict("the change would break a reference between records"),
                    "refers to a record that does not exist, or is still referred to",
                ),
                ErrorKind::NotNullViolation | ErrorKind::CheckViolation => with_field(
                    Problem::unprocessable("a value breaks a rule of the table", Vec::new()),
                    "breaks a rule of the table",
                ),
                _ => Problem::internal(&e),
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            tracing::warn!(error = %e, "database unavailable");
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is busy or unreachable; try again shortly",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        }
        _ => Problem::internal(&e),
    }
}

/// The API name of the field a constraint error is about, found by its column in the
/// constraint name or the driver's message (never shown to the client as such).
fn culprit(res: &Resource, constraint: &str, message: &str) -> Option<&'static str> {
    res.model
        .fields
        .iter()
        .filter(|f| !f.key || res.model.fields.len() == 1)
        .find(|f| {
            let c = f.column;
            constraint.split(['_', '.']).any(|p| p == c)
                || constraint.contains(&format!("_{c}_"))
                || message.contains(&format!(".{c}"))
                || message.contains(&format!("'{c}'"))
                || message.contains(&format!("\"{c}\""))
        })
        .map(|f| f.name)
}
