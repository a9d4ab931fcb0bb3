//! RFC 9457 problem details: the one error type every refusal is rendered from.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One offending field, query parameter or header, named in a [`Problem`]'s `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offender {
    /// The field, parameter or header the client sent.
    pub name: String,
    /// Where it was: `body`, `query`, `path` or `header`.
    #[serde(rename = "in")]
    pub location: &'static str,
    /// What is wrong with it.
    pub detail: String,
    /// The validation rule the value broke (`length`, `range`, `email`, a model's own rule
    /// from its `validate` function, ...), when a declared rule refused it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<&'static str>,
}

/// An RFC 9457 `application/problem+json` response.
///
/// Every request the API refuses is answered with one. Handlers, hooks and extractors return
/// `Result<_, Problem>`; build one with the constructor for its status and add offenders:
///
/// ```
/// use expose_runtime::Problem;
/// let p = Problem::forbidden("only admins may create people");
/// assert_eq!(p.status().as_u16(), 403);
/// ```
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    errors: Vec<Offender>,
    instance: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The database did not answer a statement (the connection failed or the reply was
    /// lost): after a write was sent, its outcome is unknown.
    unanswered: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [Offender],
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a str>,
}

impl Problem {
    /// A problem with any status; `kind` is a short kebab-case slug that becomes the `type`
    /// URI (`urn:expose:problem:<kind>`).
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            instance: None,
            headers: Vec::new(),
            unanswered: false,
        }
    }

    /// 500: a write was sent to the database and its answer was lost, or came after the
    /// request's deadline, so it may or may not have been applied. No `Retry-After`: a blind
    /// retry could apply it twice.
    pub(crate) fn outcome_unknown(why: &str) -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "outcome-unknown",
            format!(
                "the write was sent to the database and {why}: it may or may not have been \
                 applied; read the record before writing it again"
            ),
        )
    }

    /// Marks a problem met when the database did not answer (see [`Problem::outcome_unknown`]).
    pub(crate) fn unanswered(mut self) -> Problem {
        self.unanswered = true;
        self
    }

    /// Whether the database did not answer the statement this problem is about.
    pub(crate) fn is_unanswered(&self) -> bool {
        self.unanswered
    }

    /// 400: a query parameter, path value or header the client got wrong.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// 400 naming one query parameter.
    pub fn invalid_parameter(name: impl Into<String>, detail: impl Into<String>) -> Problem {
        let detail = detail.into();
        Problem::new(StatusCode::BAD_REQUEST, "invalid-parameter", detail.clone()).with_offender(
            Offender {
                name: name.into(),
                location: "query",
                rule: None,
                detail,
            },
        )
    }

    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, "conflict", detail)
    }

    /// 422 naming every offending body field.
    pub fn unprocessable(detail: impl Into<String>, errors: Vec<Offender>) -> Problem {
        let mut p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-body", detail);
        p.errors = errors;
        p
    }

    /// 500 with an opaque message; the cause is logged under the id the response carries.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        let id = uuid::Uuid::new_v4();
        tracing::error!(error_id = %id, error = %cause, "internal error");
        let mut p = Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the server failed to answer; quote error id {id} when reporting it"),
        );
        p.instance = Some(format!("urn:uuid:{id}"));
        p
    }

    /// Adds an offending field or parameter.
    pub fn with_offender(mut self, offender: Offender) -> Problem {
        self.errors.push(offender);
        self
    }

    /// Adds a response header (`Allow`, `Retry-After`, ...).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Problem {
        self.headers.push((name, value));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The human-readable explanation.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The offending fields and parameters.
    pub fn errors(&self) -> &[Offender] {
        &self.errors
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.detail)
    }
}

impl std::error::Error for Problem {}

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = Body {
            kind: format!("urn:expose:problem:{}", self.kind),
            title: match self.kind {
                "outcome-unknown" => "Outcome unknown",
                _ => self.status.canonical_reason().unwrap_or("Error"),
            },
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: &self.errors,
            instance: self.instance.as_deref(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut res = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            bytes,
        )
            .into_response();
        for (name, value) in self.headers {
            res.headers_mut().append(name, value);
        }
        res
    }
}
