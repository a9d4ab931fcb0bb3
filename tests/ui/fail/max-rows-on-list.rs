use expose_runtime::expose;

#[expose(as = "people", list(max_rows = 10), create)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

fn main() {}
