//! The SQL writer: identifiers from `&'static str` only, values always bound.
//!
//! This plays the part of sqlx's `QueryBuilder`, which is generic over one database type and
//! needs an `Encode` bound per value type; our values are typed at run time ([`Value`]) and
//! one statement shape serves three dialects, so the writer keeps the values in a list that
//! the backend binds in order.

use crate::db::Dialect;
use crate::value::Value;
use std::fmt::Write;

/// A statement under construction.
pub(crate) struct SqlWriter {
    pub(crate) sql: String,
    pub(crate) args: Vec<Value>,
    pub(crate) dialect: &'static Dialect,
    /// The table (or alias) that qualifies the columns of filters and orders written now:
    /// set where a statement reads more than one table (a join, an `EXISTS`); `None`
    /// writes them unqualified.
    pub(crate) qualifier: Option<&'static str>,
}

impl SqlWriter {
    pub(crate) fn new(dialect: &'static Dialect) -> SqlWriter {
        SqlWriter {
            sql: String::with_capacity(128),
            args: Vec::new(),
            dialect,
            qualifier: None,
        }
    }

    /// Appends SQL keywords and punctuation (never user input: the type requires `'static`).
    pub(crate) fn push(&mut self, keyword: &'static str) -> &mut Self {
        self.sql.push_str(keyword);
        self
    }

    /// Appends a quoted identifier from the compiled model.
    pub(crate) fn ident(&mut self, name: &'static str) -> &mut Self {
        let q = self.dialect.quote;
        self.sql.push(q);
        for c in name.chars() {
            if c == q {
                self.sql.push(q);
            }
            self.sql.push(c);
        }
        self.sql.push(q);
        self
    }

    /// Appends a placeholder and binds the value to it.
    pub(crate) fn bind(&mut self, value: Value) -> &mut Self {
        self.args.push(value);
        if self.dialect.numbered_params {
            let _ = write!(self.sql, "${}", self.args.len());
        } else {
            self.sql.push('?');
        }
        self
    }

    /// Appends idents separated by commas.
    pub(crate) fn ident_list(
        &mut self,
        names: impl IntoIterator<Item = &'static str>,
    ) -> &mut Self {
        for (i, n) in names.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(n);
        }
        self
    }

    /// Appends a limit / offset number (a `u64`, so it cannot carry SQL).
    pub(crate) fn number(&mut self, n: u64) -> &mut Self {
        let _ = write!(self.sql, "{n}");
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers_and_numbers_placeholders() {
        let mut w = SqlWriter::new(&Dialect::POSTGRES);
        w.push("SELECT ")
            .ident("we\"ird")
            .push(" WHERE a = ")
            .bind(Value::I32(1));
        w.push(" AND b = ").bind(Value::Bool(true));
        assert_eq!(w.sql, "SELECT \"we\"\"ird\" WHERE a = $1 AND b = $2");
        let mut w = SqlWriter::new(&Dialect::MYSQL);
        w.ident("a`b").push(" = ").bind(Value::I32(1));
        assert_eq!(w.sql, "`a``b` = ?");
    }
}
