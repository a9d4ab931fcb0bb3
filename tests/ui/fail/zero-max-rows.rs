use expose_runtime::expose;

#[expose(as = "people", create(max_rows = 0))]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
