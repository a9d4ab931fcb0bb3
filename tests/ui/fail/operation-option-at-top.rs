use expose_runtime::expose;

#[expose(as = "people", list, limit = 10)]
pub struct Person {
    pub id: i64,
}

fn main() {}
