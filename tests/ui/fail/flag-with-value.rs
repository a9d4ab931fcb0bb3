use expose_runtime::expose;

#[expose(as = "people", update(require_if_match = true))]
pub struct Person {
    #[expose(id = true)]
    pub id: i64,
    #[expose(version)]
    pub version: i64,
}

fn main() {}
