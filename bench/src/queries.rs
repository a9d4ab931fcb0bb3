//! The query strings of the parser micro-benchmark (`benches/query_parse.rs`): a typical list
//! query and the largest one the `people` policy allows (the default bounds: 50 conditions,
//! logic trees 8 deep, 100 `in` items), every field readable, sortable and filterable.

use std::fmt::Write as _;

/// A typical list query: two filters, an order and a page size.
pub const TYPICAL: &str = "age=gte.30&is_admin=eq.false&order=age.desc&limit=100";

/// Deepest logic tree the default bounds allow.
pub const MAX_DEPTH: usize = 8;
/// Most conditions the default bounds allow.
pub const MAX_CONDITIONS: usize = 50;
/// Most items of one `in` list the default bounds allow.
pub const MAX_IN: usize = 100;

/// The worst case the policy still accepts: every field selected and sorted on, an `in` list
/// of [`MAX_IN`] items, a logic tree [`MAX_DEPTH`] deep, [`MAX_CONDITIONS`] conditions over
/// every field type, `offset` and the largest `limit`. `depth`, `conditions` and `in_items`
/// let the tests build one just past each bound.
pub fn worst(depth: usize, conditions: usize, in_items: usize) -> String {
    let mut q = String::from(
        "select=id,name,email,age,is_admin,bio,created_at\
         &order=age.desc.nullslast,name.asc,bio.desc.nullsfirst,created_at,id\
         &limit=1000&offset=10",
    );
    let ids: Vec<String> = (1..=in_items).map(|i| i.to_string()).collect();
    let _ = write!(q, "&id=in.({})", ids.join(","));
    q.push_str("&name=like.Person*&email=ilike.*example.com&bio=not.is.null");
    q.push_str("&created_at=gte.2000-01-01T00:00:00Z");
    let mut used = 5;
    // A tree `depth` deep with two conditions per level.
    let mut tree = String::new();
    for level in 1..=depth {
        let group = if level == 1 {
            if depth.is_multiple_of(2) {
                "or=("
            } else {
                "and=("
            }
        } else if (depth - level).is_multiple_of(2) {
            "or("
        } else {
            "and("
        };
        let _ = write!(tree, "{group}age.gt.{level},name.neq.x{level}");
        used += 2;
        if level < depth {
            tree.push(',');
        }
    }
    tree.push_str(&")".repeat(depth));
    q.push('&');
    q.push_str(&tree);
    // The rest as a flat `and`, over the other field types.
    let rest = conditions.saturating_sub(used);
    if rest > 0 {
        let items: Vec<String> = (0..rest)
            .map(|i| match i % 4 {
                0 => format!("age.lt.{}", 200 + i),
                1 => format!(
                    "is_admin.is.{}",
                    if i % 8 == 1 { "false" } else { "not_null" }
                ),
                2 => format!("email.neq.nobody{i}@example.com"),
                _ => format!("created_at.lt.2100-01-{:02}T00:00:00Z", 1 + i % 28),
            })
            .collect();
        let _ = write!(q, "&and=({})", items.join(","));
    }
    q
}

/// [`worst`] at the bounds.
pub fn worst_allowed() -> String {
    worst(MAX_DEPTH, MAX_CONDITIONS, MAX_IN)
}

/// Percent-decodes a query string into owned pairs, as the runtime does before parsing.
pub fn pairs(q: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use expose_core::grammar::{parse_query, Limits};

    fn parses(q: &str) -> Result<(), String> {
        let p = pairs(q);
        parse_query(
            p.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &Limits::default(),
        )
        .map(|_| ())
        .map_err(|e| e.message)
    }

    #[test]
    fn the_bounds_are_those_of_the_runtime() {
        assert_eq!(
            Limits::default(),
            Limits {
                max_depth: MAX_DEPTH,
                max_conditions: MAX_CONDITIONS,
                max_in_items: MAX_IN
            }
        );
    }

    #[test]
    fn typical_and_worst_parse() {
        parses(TYPICAL).unwrap();
        parses(&worst_allowed()).unwrap();
    }

    #[test]
    fn worst_is_at_every_bound() {
        assert!(parses(&worst(MAX_DEPTH + 1, MAX_CONDITIONS, MAX_IN)).is_err());
        assert!(parses(&worst(MAX_DEPTH, MAX_CONDITIONS + 1, MAX_IN)).is_err());
        assert!(parses(&worst(MAX_DEPTH, MAX_CONDITIONS, MAX_IN + 1)).is_err());
    }
}
