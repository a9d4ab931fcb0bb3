//! Conditional requests (RFC 9110 §13): `If-Match` on writes, `If-None-Match` on reads.

use axum::http::{header, HeaderMap, HeaderName};

/// The entity-tags of one conditional header: `*`, or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tags {
    Any,
    List(Vec<String>),
}

fn read(headers: &HeaderMap, name: HeaderName) -> Option<Tags> {
    let mut tags = Vec::new();
    let mut any = false;
    let mut seen = false;
    for v in headers.get_all(name) {
        seen = true;
        let Ok(v) = v.to_str() else { continue };
        for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if t == "*" {
                any = true;
            } else {
                tags.push(t.to_owned());
            }
        }
    }
    seen.then_some(if any { Tags::Any } else { Tags::List(tags) })
}

/// `If-Match`, when sent.
pub(crate) fn if_match(headers: &HeaderMap) -> Option<Tags> {
    read(headers, header::IF_MATCH)
}

/// `If-None-Match`, when sent.
pub(crate) fn if_none_match(headers: &HeaderMap) -> Option<Tags> {
    read(headers, header::IF_NONE_MATCH)
}

impl Tags {
    /// Strong comparison (for `If-Match`): a weak tag never matches.
    pub(crate) fn matches_strong(&self, etag: &str) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(l) => l.iter().any(|t| t == etag),
        }
    }

    /// Weak comparison (for `If-None-Match`).
    pub(crate) fn matches_weak(&self, etag: &str) -> bool {
        match self {
            Tags::Any => true,
            Tags::List(l) => l.iter().any(|t| t.strip_prefix("W/").unwrap_or(t) == etag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn parses_lists_and_star() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h), None);
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        let t = if_match(&h).unwrap();
        assert!(t.matches_strong("\"a\""));
        assert!(!t.matches_strong("\"b\""));
        assert!(t.matches_weak("\"b\""));
        h.insert(header::IF_MATCH, HeaderValue::from_static("*"));
        assert_eq!(if_match(&h), Some(Tags::Any));
    }
}
