//! User SQL's one placeholder style, `?`, made the backend's: `$1, $2, ...` on PostgreSQL.
//!
//! A small tokenizer finds the `?` that are placeholders: string literals (`'..'` with `''`
//! escapes; backslash escapes too in MySQL's strings and PostgreSQL's `E'..'`), quoted
//! identifiers (`".."`, `` `..` ``) and comments (`-- ...` to the end of the line, `/* */`)
//! are copied unchanged. Every backend counts the placeholders against the values given.

use super::Backend;
use std::borrow::Cow;

/// A statement whose placeholders do not match the values given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mismatch {
    pub(crate) placeholders: usize,
    pub(crate) values: usize,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the statement has {} `?` placeholder(s) but {} value(s) were given",
            self.placeholders, self.values
        )
    }
}

impl std::error::Error for Mismatch {}

/// `sql` with its `?` placeholders in the backend's style, checked against `values` values.
pub(crate) fn rewrite(
    sql: &str,
    backend: Backend,
    values: usize,
) -> Result<Cow<'_, str>, Mismatch> {
    let numbered = backend == Backend::Postgres;
    let mut out = String::new();
    let mut n = 0;
    scan(sql, backend == Backend::MySql, |piece| match piece {
        Piece::Placeholder => {
            n += 1;
            if numbered {
                out.push('$');
                out.push_str(&n.to_string());
            }
        }
        Piece::Text(t) => {
            if numbered {
                out.push_str(t)
            }
        }
    });
    if n != values {
        return Err(Mismatch {
            placeholders: n,
            values,
        });
    }
    Ok(if numbered {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(sql)
    })
}

#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    /// Anything that is not a placeholder, copied as is.
    Text(&'a str),
    Placeholder,
}

/// Splits `sql` into text and placeholders. `backslashes`: `\` escapes the next character in
/// every string literal (MySQL's default); PostgreSQL's `E'..'` strings always do.
fn scan<'a>(sql: &'a str, backslashes: bool, mut emit: impl FnMut(Piece<'a>)) {
    let b = sql.as_bytes();
    let mut i = 0;
    let mut start = 0;
    while i < b.len() {
        match b[i] {
            b'?' => {
                emit(Piece::Text(&sql[start..i]));
                emit(Piece::Placeholder);
                i += 1;
                start = i;
            }
            q @ (b'\'' | b'"' | b'`') => {
                let escaped = q != b'`'
                    && (backslashes
                        || (q == b'\''
                            && i > 0
                            && matches!(b[i - 1], b'e' | b'E')
                            && (i < 2 || !is_word(b[i - 2]))));
                i = quoted_end(b, i + 1, q, escaped);
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p + 1);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = b[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(b.len(), |p| i + 2 + p + 2);
            }
            _ => i += 1,
        }
    }
    emit(Piece::Text(&sql[start..]));
}

/// Where a literal opened by `q` ends (just past its closing quote, or the end of the text):
/// a doubled quote is one quote inside it.
fn quoted_end(b: &[u8], mut i: usize, q: u8, backslash: bool) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' if backslash => i += 2,
            c if c == q => {
                if b.get(i + 1) == Some(&q) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pg(sql: &str, n: usize) -> String {
        rewrite(sql, Backend::Postgres, n).unwrap().into_owned()
    }

    #[test]
    fn placeholders_are_numbered_outside_literals_identifiers_and_comments() {
        assert_eq!(
            pg("INSERT INTO t (a, \"b?\") VALUES (?, '?', ?)", 2),
            "INSERT INTO t (a, \"b?\") VALUES ($1, '?', $2)"
        );
        assert_eq!(
            pg("SELECT 'it''s ?', ? -- why?\n, ?", 2),
            "SELECT 'it''s ?', $1 -- why?\n, $2"
        );
        assert_eq!(pg("SELECT /* ? */ ? /* ?", 1), "SELECT /* ? */ $1 /* ?");
        assert_eq!(
            pg("SELECT \"a\"\"?\", `?`, ?", 1),
            "SELECT \"a\"\"?\", `?`, $1"
        );
        assert_eq!(pg("SELECT E'\\'?', ?", 1), "SELECT E'\\'?', $1");
        // `e` ending a word is not the `E` prefix: `'\'` is a whole literal there.
        assert_eq!(pg("SELECT name'\\', ?", 1), "SELECT name'\\', $1");
        assert_eq!(pg("SELECT '?", 0), "SELECT '?");
        assert_eq!(pg("é ? ü", 1), "é $1 ü");
    }

    #[test]
    fn other_backends_keep_the_text_and_count() {
        let sql = "SELECT 'a\\'?' , ?";
        assert!(matches!(rewrite(sql, Backend::MySql, 1), Ok(Cow::Borrowed(s)) if s == sql));
        assert_eq!(
            rewrite("SELECT ?, '?'", Backend::Sqlite, 2),
            Err(Mismatch {
                placeholders: 1,
                values: 2
            })
        );
        assert_eq!(
            Mismatch {
                placeholders: 1,
                values: 2
            }
            .to_string(),
            "the statement has 1 `?` placeholder(s) but 2 value(s) were given"
        );
    }

    /// Text without any character the tokenizer treats specially.
    fn plain() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ,()=<>*+.\n_é]{0,12}"
    }

    /// A literal, quoted identifier or comment, with `?` and quotes inside.
    fn opaque() -> impl Strategy<Value = String> {
        let inner = "[a-z ?$\"`'\n]{0,8}";
        prop_oneof![
            inner.prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
            inner.prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
            inner.prop_map(|s| format!("`{}`", s.replace('`', "``"))),
            inner.prop_map(|s| format!("/*{}*/", s.replace("*/", ""))),
            inner.prop_map(|s| format!("--{}\n", s.replace('\n', " "))),
        ]
    }

    #[derive(Debug, Clone)]
    enum Part {
        Plain(String),
        Opaque(String),
        Placeholder,
    }

    fn parts() -> impl Strategy<Value = Vec<Part>> {
        prop::collection::vec(
            prop_oneof![
                plain().prop_map(Part::Plain),
                opaque().prop_map(Part::Opaque),
                Just(Part::Placeholder),
            ],
            0..12,
        )
    }

    proptest! {
        /// Every placeholder, and only those, becomes `$n` in order; the rest is unchanged.
        #[test]
        fn only_placeholders_change(parts in parts()) {
            let mut sql = String::new();
            let mut want = String::new();
            let mut n = 0;
            for p in &parts {
                match p {
                    // A space keeps a plain piece from gluing an `E` onto a literal's quote.
                    Part::Plain(s) | Part::Opaque(s) => {
                        sql.push_str(s);
                        sql.push(' ');
                        want.push_str(s);
                        want.push(' ');
                    }
                    Part::Placeholder => {
                        n += 1;
                        sql.push_str("? ");
                        want.push_str(&format!("${n} "));
                    }
                }
            }
            prop_assert_eq!(pg(&sql, n), want);
            prop_assert!(rewrite(&sql, Backend::Sqlite, n).is_ok());
        }

        /// Any text: the output keeps every byte but placeholders, and never panics.
        #[test]
        fn any_text_round_trips(sql in "\\PC{0,40}") {
            let mut count = 0;
            let mut back = String::new();
            scan(&sql, false, |p| match p {
                Piece::Text(t) => back.push_str(t),
                Piece::Placeholder => { count += 1; back.push('?') }
            });
            prop_assert_eq!(&back, &sql);
            prop_assert!(count <= sql.matches('?').count());
            let rewritten = pg(&sql, count);
            prop_assert_eq!(rewritten.matches('?').count(), sql.matches('?').count() - count);
        }
    }
}
