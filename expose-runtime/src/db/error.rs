//! Database errors mapped to problems: never a driver message or SQL text in a response.

use crate::db::Driver;
use crate::field::{Field, FieldSet};
use crate::problem::{Offender, Problem};
use crate::value::Value;
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

/// Whether the database broke a deadlock by failing this statement (PostgreSQL's
/// `deadlock_detected`, MySQL's `ER_LOCK_DEADLOCK`): undone whole, so that a statement sent
/// on its own may be sent again.
pub(crate) fn deadlocked(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(d) = e else {
        return false;
    };
    let mysql = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>();
    match mysql {
        Some(m) => m.number() == 1213,
        None => d.code().as_deref() == Some("40P01"),
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
    /// The SQL table.
    pub(crate) table: &'static str,
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

/// Like [`map_writing`], for a statement that wrote the fields `written` on `conn`: SQLite's
/// foreign-key error names no column, so the table's foreign keys are read from its catalog
/// (`pragma_foreign_key_list`, the table a bound value) and the written fields among them
/// are named, alone or together.
pub(crate) async fn map_writing_on<B: Driver>(
    conn: &mut B::Connection,
    res: impl Into<Subject>,
    written: FieldSet,
    e: sqlx::Error,
) -> Problem {
    let res = res.into();
    let sqlite_fk = matches!(&e, sqlx::Error::Database(d)
        if d.kind() == ErrorKind::ForeignKeyViolation
            && d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some());
    if !sqlite_fk {
        return map_writing(res, e);
    }
    let mut columns: Vec<String> = Vec::new();
    let table = [Value::Text(res.table.to_owned())];
    let read = B::fetch_each(
        conn,
        "SELECT \"from\" FROM pragma_foreign_key_list(?)",
        &table,
        &mut |row| {
            columns.extend(B::get_text(row, 0)?);
            Ok(())
        },
    )
    .await;
    if let Err(why) = read {
        tracing::warn!(error = %why, "reading SQLite's foreign keys");
    }
    let names: Vec<&'static str> = written
        .iter()
        .filter_map(|i| res.fields.get(i))
        .filter(|f| columns.iter().any(|c| c == f.column))
        .map(|f| f.name)
        .collect();
    let blamed = match names.as_slice() {
        [] => Blame::Unknown,
        [one] => Blame::One(one),
        _ => Blame::Several(names),
    };
    map_blamed(Some(res), e, Meaning::MissingReference, Some(blamed))
}

fn map_with(res: Option<Subject>, e: sqlx::Error, ambiguous_fk: Meaning) -> Problem {
    map_blamed(res, e, ambiguous_fk, None)
}

/// Maps an error; `blamed`, when known, says which fields it is about.
fn map_blamed(
    res: Option<Subject>,
    e: sqlx::Error,
    ambiguous_fk: Meaning,
    blamed: Option<Blame>,
) -> Problem {
    let path = res.map_or("record", |r| r.path);
    match &e {
        sqlx::Error::Database(d) => {
            let meaning = meaning(d.as_ref(), ambiguous_fk);
            let blamed =
                blamed.unwrap_or_else(|| res.map_or(Blame::Unknown, |r| blame(r, d.as_ref())));
            let with_field = |p: Problem, detail: &str| match blamed {
                Blame::One(name) => p.with_offender(Offender {
                    name: name.to_owned(),
                    location: "body",
                    rule: None,
                    detail: detail.to_owned(),
                }),
                _ => p,
            };
            // When several fields are involved, the problem says so and names them.
            let together = |what: &str| match &blamed {
                Blame::Several(names) => format!(
                    "{what}: the fields {} together, so no single field is to blame",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                _ => what.to_owned(),
            };
            match meaning {
                Meaning::Unique => with_field(
                    Problem::conflict(match (&blamed, res.map(|r| r.key_name())) {
                        (Blame::One(f), Some(key)) if *f == key => {
                            format!("another record of `{path}` already has this key `{f}`")
                        }
                        (Blame::One(f), _) => {
                            format!("another record of `{path}` already has this `{f}`")
                        }
                        _ => together(&format!("another record of `{path}` already has these values")),
                    }),
                    "must be unique",
                ),
                Meaning::MissingReference => with_field(
                    Problem::unprocessable(
                        match &blamed {
                            Blame::Unknown if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() => {
                                "a value refers to a record that does not exist (SQLite does not say \
                                 which field; check each field that refers to another record)"
                                    .to_owned()
                            }
                            _ => together("a value refers to a record that does not exist"),
                        },
                        Vec::new(),
                    ),
                    "refers to a record that does not exist",
                ),
                // About the row itself (a remove, a key changed), not a field of a body.
                Meaning::StillReferenced => {
                    Problem::conflict("other records still refer to this one")
                }
                Meaning::Invalid => {
                    let check = d.kind() == ErrorKind::CheckViolation
                        || matches!(
                            d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                                .map(|e| e.number()),
                            Some(3819 | 4025)
                        );
                    let detail = match (&blamed, check) {
                        (Blame::One(_), true) => {
                            "a value is refused by a check of the table".to_owned()
                        }
                        (Blame::One(_), false) => {
                            "a value does not fit the column it is stored in".to_owned()
                        }
                        (Blame::Several(_), _) => {
                            together("the values are refused by a check of the table")
                        }
                        (Blame::Unknown, true) => "the values are refused by a check of the \
                                                   table that involves no single field"
                            .to_owned(),
                        (Blame::Unknown, false) => "a value does not fit the column it is \
                                                    stored in; the database does not say which"
                            .to_owned(),
                    };
                    with_field(
                        Problem::unprocessable(detail, Vec::new()),
                        if check { "is refused by a check of the table" } else { "does not fit its column" },
                    )
                }
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

/// Which fields a constraint error is about.
#[derive(Debug, PartialEq, Eq)]
enum Blame {
    /// One field (its API name).
    One(&'static str),
    /// Several fields together (a composite key, a check across columns).
    Several(Vec<&'static str>),
    /// The error names no column of the model.
    Unknown,
}

impl Subject {
    fn key_name(&self) -> &'static str {
        self.fields.iter().find(|f| f.key).map_or("", |f| f.name)
    }
}

/// The fields a constraint error is about: the columns the backend's error names, read from
/// its structured parts where it has them (PostgreSQL's detail and column, MySQL's error
/// texts, SQLite's constraint messages), else guessed from the constraint's name. Never shown
/// to the client as such: only the API names of the model's fields come out.
fn blame(res: Subject, d: &dyn DatabaseError) -> Blame {
    let message = d.message();
    let constraint = d.constraint().unwrap_or("");
    let mut columns: Vec<String> = Vec::new();
    let mut key = false;
    if let Some(pg) = d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        // "Key (team_id)=(9) is not present ...", "Key (a, b)=(1, 2) already exists."
        if let Some(list) = pg.detail().and_then(|t| between(t, "Key (", ")=")) {
            columns.extend(
                list.split(',')
                    .map(|c| c.trim().trim_matches('"').to_owned()),
            );
        }
        if let Some(c) = pg.column() {
            columns.push(c.to_owned());
        }
        key = constraint.ends_with("_pkey");
    } else if let Some(my) = d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        let quoted = |t: &str| {
            t.trim_matches(|c| c == '\'' || c == '`')
                .rsplit('.')
                .next()
                .unwrap_or("")
                .trim_matches('`')
                .to_owned()
        };
        match my.number() {
            // Duplicate entry '...' for key 'email' (MySQL 8: 'members.email').
            1062 => {
                if let Some(k) = message.rsplit_once(" for key ").map(|(_, k)| quoted(k)) {
                    if k == "PRIMARY" {
                        key = true;
                    } else {
                        columns.push(k);
                    }
                }
            }
            // ... FOREIGN KEY (`team_id`) REFERENCES ...
            1451 | 1452 => {
                if let Some(list) = between(message, "FOREIGN KEY (", ")") {
                    columns.extend(
                        list.split(',')
                            .map(|c| c.trim().trim_matches('`').to_owned()),
                    );
                }
            }
            // Data too long / Out of range value / Incorrect ... value for column 'c' at row 1
            // (MariaDB: column `db`.`t`.`c`); Column 'c' cannot be null.
            1406 | 1264 | 1366 | 1048 => {
                let after = message
                    .split_once("for column ")
                    .or_else(|| message.split_once("Column "))
                    .map(|(_, rest)| rest);
                if let Some(rest) = after {
                    let name = rest.split(" at row").next().unwrap_or(rest);
                    let name = name.split(" cannot").next().unwrap_or(name);
                    columns.push(quoted(name.trim()));
                }
            }
            // MariaDB: CONSTRAINT `age` failed for `db`.`t` (a column's check is named after
            // it); MySQL: Check constraint 'members_chk_1' is violated.
            4025 => {
                if let Some(name) = between(message, "CONSTRAINT `", "`") {
                    columns.extend(columns_in_name(res, name));
                }
            }
            3819 => {
                if let Some(name) = between(message, "constraint '", "'") {
                    columns.extend(columns_in_name(res, name));
                }
            }
            _ => {}
        }
    } else if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // "UNIQUE constraint failed: t.a, t.b", "NOT NULL constraint failed: t.a",
        // "CHECK constraint failed: age >= 0 AND age < 200" (or the constraint's name).
        if let Some((kind, rest)) = message.split_once(" constraint failed: ") {
            if kind == "CHECK" {
                columns.extend(identifiers(res, rest));
                if columns.is_empty() {
                    columns.extend(columns_in_name(res, rest));
                }
            } else {
                columns.extend(
                    rest.split(',')
                        .map(|c| c.trim().rsplit('.').next().unwrap_or("").to_owned()),
                );
            }
        }
    }
    if columns.is_empty() && !key && !constraint.is_empty() {
        // PostgreSQL's check and other named constraints: `members_age_check`.
        columns.extend(columns_in_name(res, constraint));
    }
    if key {
        return Blame::One(res.key_name());
    }
    let mut names: Vec<&'static str> = Vec::new();
    for c in &columns {
        if let Some(f) = res.fields.iter().find(|f| f.column == c) {
            if !names.contains(&f.name) {
                names.push(f.name);
            }
        }
    }
    match names.as_slice() {
        [] => Blame::Unknown,
        [one] => Blame::One(one),
        _ => Blame::Several(names),
    }
}

/// The text between `start` and the next `end`.
fn between<'t>(text: &'t str, start: &str, end: &str) -> Option<&'t str> {
    let (_, rest) = text.split_once(start)?;
    rest.split_once(end).map(|(inside, _)| inside)
}

/// The model's columns that appear as whole identifiers in an expression (SQLite's text of
/// a failed `CHECK`).
fn identifiers(res: Subject, expr: &str) -> Vec<String> {
    let words: Vec<&str> = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    res.fields
        .iter()
        .filter(|f| words.iter().any(|w| w.eq_ignore_ascii_case(f.column)))
        .map(|f| f.column.to_owned())
        .collect()
}

/// The model's columns a constraint's name is made of (`members_age_check`, `age_range`):
/// longer column names first, so that `team_id` wins over `id`. The key is left out: every
/// `<table>_id` prefix would name it; a key's own constraint is recognised by its kind.
fn columns_in_name(res: Subject, name: &str) -> Vec<String> {
    let name = name.rsplit('.').next().unwrap_or(name);
    let mut rest = format!("_{name}_");
    let mut by_length: Vec<&Field> = res.fields.iter().filter(|f| !f.key).collect();
    by_length.sort_by_key(|f| std::cmp::Reverse(f.column.len()));
    let mut found = Vec::new();
    for f in by_length {
        let part = format!("_{}_", f.column);
        if rest.contains(&part) {
            rest = rest.replacen(&part, "_", 1);
            found.push(f.column.to_owned());
        }
    }
    found
}
