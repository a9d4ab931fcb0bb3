use expose_runtime::expose;

#[expose(as = "people", list(limit = 0, max_limit = 0))]
pub struct Person {
    pub id: i64,
}

fn main() {}
