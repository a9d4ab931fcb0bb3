//! Declared validation: the rules a field's attribute gives (`#[expose(validate(...))]`), as
//! data the macro emits, and the check of one written value against them.
//!
//! Checked while a write body is read (`body.rs`), before any SQL; the OpenAPI document
//! states the same rules (`openapi.rs`).

use crate::field_type::FieldType;
use crate::value::Value;

/// One validation rule of a field, in the vocabulary of `validator` / `garde`.
///
/// A rule applies to a value the client writes; `null` in an `Option` field passes every
/// rule (make the field non-`Option` to require a value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// `length(min = a, max = b)`: the number of characters (Unicode scalar values, as JSON
    /// Schema's `minLength` / `maxLength` count them) of a string.
    Length {
        /// The fewest characters, when bounded.
        min: Option<u64>,
        /// The most characters, when bounded.
        max: Option<u64>,
    },
    /// `non_empty`: a string of at least one character.
    NonEmpty,
    /// `range(min = a, max = b)`: a number within the bounds, both inclusive.
    Range {
        /// The least value, when bounded.
        min: Option<Num>,
        /// The greatest value, when bounded.
        max: Option<Num>,
    },
    /// `email`: an e-mail address (`local@domain`, as HTML's `type=email` takes it).
    Email,
    /// `url`: an absolute URI with a scheme (`https://example.com/a`), as JSON Schema's
    /// `format: uri` means it.
    Url,
    /// `pattern = "..."`: the string matches the regular expression (the `regex` crate's
    /// syntax; unanchored, as JSON Schema's `pattern`: write `^...$` to match it whole).
    Pattern(&'static str),
    /// `one_of("a", "b")` / `one_of(1, 2)`: the value is one of these.
    OneOf(&'static [Choice]),
}

/// A bound of [`Rule::Range`], as written: an integer or a number with a fraction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A whole number.
    Int(i64),
    /// A number with a fraction (only for `f32` / `f64` fields).
    Float(f64),
}

/// A value of [`Rule::OneOf`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// A string, for `String` fields.
    Text(&'static str),
    /// An integer, for integer fields.
    Int(i64),
}

impl Rule {
    /// The rule's name, as the attribute writes it and a problem's `rule` member reports it.
    pub const fn name(&self) -> &'static str {
        match self {
            Rule::Length { .. } => "length",
            Rule::NonEmpty => "non_empty",
            Rule::Range { .. } => "range",
            Rule::Email => "email",
            Rule::Url => "url",
            Rule::Pattern(_) => "pattern",
            Rule::OneOf(_) => "one_of",
        }
    }

    /// Whether the rule applies to values of `ty`. The macro refuses a rule on a field whose
    /// type it does not fit where it can read the type; [`Field::rules`](crate::field::Field)
    /// refuses the rest when the model is evaluated (at compile time).
    pub const fn fits(&self, ty: FieldType) -> bool {
        let text = matches!(ty, FieldType::Text);
        let int = matches!(ty, FieldType::I16 | FieldType::I32 | FieldType::I64);
        let number = int || matches!(ty, FieldType::F32 | FieldType::F64);
        match self {
            Rule::Length { .. } | Rule::NonEmpty | Rule::Email | Rule::Url | Rule::Pattern(_) => {
                text
            }
            Rule::Range { min, max } => {
                number
                    && (!int
                        || (!matches!(min, Some(Num::Float(_)))
                            && !matches!(max, Some(Num::Float(_)))))
            }
            Rule::OneOf(choices) => {
                let mut i = 0;
                while i < choices.len() {
                    let ok = match choices[i] {
                        Choice::Text(_) => text,
                        Choice::Int(_) => int,
                    };
                    if !ok {
                        return false;
                    }
                    i += 1;
                }
                text || int
            }
        }
    }

    /// Checks one value; `Err` says what the value must be. `pattern` is the compiled
    /// [`Rule::Pattern`] (the schema compiles each once).
    pub(crate) fn check(&self, v: &Value, pattern: Option<&regex::Regex>) -> Result<(), String> {
        let ok = match (self, v) {
            (_, Value::Null(_)) => true,
            (Rule::Length { min, max }, Value::Text(s)) => {
                let n = s.chars().count() as u64;
                min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
            }
            (Rule::NonEmpty, Value::Text(s)) => !s.is_empty(),
            (Rule::Email, Value::Text(s)) => is_email(s),
            (Rule::Url, Value::Text(s)) => is_uri(s),
            (Rule::Pattern(_), Value::Text(s)) => pattern.is_some_and(|p| p.is_match(s)),
            (Rule::Range { min, max }, v) => match number(v) {
                Some(x) => min.is_none_or(|m| !x.below(&m)) && max.is_none_or(|m| !x.above(&m)),
                None => false,
            },
            (Rule::OneOf(choices), v) => choices.iter().any(|c| match (c, v) {
                (Choice::Text(c), Value::Text(s)) => c == s,
                (Choice::Int(c), v) => number(v).is_some_and(|x| x == N::I(i128::from(*c))),
                _ => false,
            }),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(self.requirement())
        }
    }

    /// What a value must be to pass, for problem details: "must be at most 150".
    pub fn requirement(&self) -> String {
        fn between(what: &str, min: Option<String>, max: Option<String>, unit: &str) -> String {
            match (min, max) {
                (Some(a), Some(b)) if a == b => format!("must {what}exactly {a}{unit}"),
                (Some(a), Some(b)) => format!("must {what}from {a} to {b}{unit}"),
                (Some(a), None) => format!("must {what}at least {a}{unit}"),
                (None, Some(b)) => format!("must {what}at most {b}{unit}"),
                (None, None) => "may be anything".to_owned(),
            }
        }
        match self {
            Rule::Length { min, max } => between(
                "have ",
                min.map(|m| m.to_string()),
                max.map(|m| m.to_string()),
                " characters",
            ),
            Rule::NonEmpty => "must not be empty".to_owned(),
            Rule::Range { min, max } => between(
                "be ",
                min.map(|m| m.to_string()),
                max.map(|m| m.to_string()),
                "",
            ),
            Rule::Email => "must be an e-mail address, like name@example.com".to_owned(),
            Rule::Url => {
                "must be an absolute URL with a scheme, like https://example.com/".to_owned()
            }
            Rule::Pattern(p) => format!("must match the pattern `{p}`"),
            Rule::OneOf(choices) => {
                let list: Vec<String> = choices.iter().map(Choice::to_string).collect();
                format!("must be one of: {}", list.join(", "))
            }
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Float(x) => write!(f, "{x}"),
        }
    }
}

impl std::fmt::Display for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Choice::Text(s) => write!(f, "{s:?}"),
            Choice::Int(i) => write!(f, "{i}"),
        }
    }
}

/// A number to compare with bounds: integers exactly, floats as floats.
#[derive(PartialEq)]
enum N {
    I(i128),
    F(f64),
}

fn number(v: &Value) -> Option<N> {
    Some(match v {
        Value::I16(x) => N::I((*x).into()),
        Value::I32(x) => N::I((*x).into()),
        Value::I64(x) => N::I((*x).into()),
        Value::F32(x) => N::F((*x).into()),
        Value::F64(x) => N::F(*x),
        _ => return None,
    })
}

impl N {
    fn cmp(&self, b: &Num) -> Option<std::cmp::Ordering> {
        match (self, b) {
            (N::I(a), Num::Int(b)) => Some(a.cmp(&i128::from(*b))),
            (N::I(a), Num::Float(b)) => (*a as f64).partial_cmp(b),
            (N::F(a), Num::Int(b)) => a.partial_cmp(&(*b as f64)),
            (N::F(a), Num::Float(b)) => a.partial_cmp(b),
        }
    }
    fn below(&self, b: &Num) -> bool {
        self.cmp(b) == Some(std::cmp::Ordering::Less)
    }
    fn above(&self, b: &Num) -> bool {
        self.cmp(b) == Some(std::cmp::Ordering::Greater)
    }
}

/// An e-mail address as HTML's `input type=email` takes it: a local part of letters,
/// digits and ``.!#$%&'*+/=?^_`{|}~-`` (1 to 64 characters, no leading, trailing or double
/// dot), `@`, and a domain of dot-separated labels of letters, digits and `-` (each 1 to 63
/// characters, not starting or ending with `-`), 254 characters in all at most.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".!#$%&'*+/=?^_`{|}~-".contains(c));
    s.len() <= 254 && local_ok && is_domain(domain)
}

fn is_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// An absolute URI (RFC 3986): a scheme (a letter, then letters, digits, `+`, `-`, `.`),
/// `:`, and at least one more character, each an unreserved or reserved character or a
/// `%` with two hex digits; after `//`, a host that is not empty.
pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return false;
    }
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                if !(i + 2 < b.len()
                    && b[i + 1].is_ascii_hexdigit()
                    && b[i + 2].is_ascii_hexdigit())
                {
                    return false;
                }
                i += 3;
                continue;
            }
            c if c.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            !host.is_empty() && !host.starts_with(':')
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in [
            "a@b",
            "a.b+c@example.com",
            "!#$%&'*+/=?^_`{|}~-@x-y.Z9",
            "0@A.com",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "@b", "a@", "a@b@c", ".a@b", "a..b@c", "a b@c", "a@-b", "a@b..c", "a@b_c",
            "é@b",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn uris() {
        for ok in [
            "https://example.com",
            "http://a/b?c=d#e",
            "mailto:a@b",
            "urn:isbn:0451450523",
            "http://h/%20",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "/a/b",
            "http:",
            "1http://a",
            "http://",
            "http://a b",
            "http://a/%2",
            "http://a/%zz",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }

    #[test]
    fn each_rule_checks_its_values() {
        let t = |s: &str| Value::Text(s.into());
        let len = Rule::Length {
            min: Some(1),
            max: Some(3),
        };
        assert!(len.check(&t("héé"), None).is_ok());
        assert_eq!(
            len.check(&t("abcd"), None).unwrap_err(),
            "must have from 1 to 3 characters"
        );
        assert!(len.check(&Value::Null(FieldType::Text), None).is_ok());
        let range = Rule::Range {
            min: Some(Num::Int(0)),
            max: Some(Num::Int(150)),
        };
        assert!(range.check(&Value::I32(150), None).is_ok());
        assert_eq!(
            range.check(&Value::I32(151), None).unwrap_err(),
            "must be from 0 to 150"
        );
        let half = Rule::Range {
            min: Some(Num::Float(0.5)),
            max: None,
        };
        assert!(half.check(&Value::F64(0.4), None).is_err());
        assert!(half.check(&Value::F64(0.5), None).is_ok());
        let one = Rule::OneOf(&[Choice::Text("a"), Choice::Text("b")]);
        assert!(one.check(&t("b"), None).is_ok());
        assert_eq!(
            one.check(&t("c"), None).unwrap_err(),
            "must be one of: \"a\", \"b\""
        );
        let ints = Rule::OneOf(&[Choice::Int(1), Choice::Int(2)]);
        assert!(ints.check(&Value::I16(2), None).is_ok());
        assert!(ints.check(&Value::I64(3), None).is_err());
        let p = regex::Regex::new("^[a-z]+$").unwrap();
        assert!(Rule::Pattern("^[a-z]+$").check(&t("abc"), Some(&p)).is_ok());
        assert!(Rule::Pattern("^[a-z]+$")
            .check(&t("aBc"), Some(&p))
            .is_err());
        assert!(Rule::NonEmpty.check(&t(""), None).is_err());
    }

    #[test]
    fn rules_fit_their_types() {
        assert!(Rule::Email.fits(FieldType::Text));
        assert!(!Rule::Email.fits(FieldType::I32));
        assert!(!Rule::Range {
            min: None,
            max: None
        }
        .fits(FieldType::Text));
        assert!(!Rule::Range {
            min: Some(Num::Float(0.5)),
            max: None
        }
        .fits(FieldType::I32));
        assert!(Rule::Range {
            min: Some(Num::Float(0.5)),
            max: None
        }
        .fits(FieldType::F32));
        assert!(!Rule::OneOf(&[Choice::Text("a")]).fits(FieldType::I64));
        assert!(Rule::OneOf(&[Choice::Int(1)]).fits(FieldType::I64));
    }
}
