use expose_runtime::expose;

// `where` is parsed as the runtime parses it: inside a filter, a value holding `,` `(` `)`
// or `"` is double-quoted (`\"` and `\\` escape), and a quote must be closed.
#[expose(
    as = "people",
    list(
        where = r#"name.neq."a \"quoted\", (fine) name""#,
        where = "name.eq.f(x)",
        where = r#"name.eq."O'Brien"#
    )
)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
