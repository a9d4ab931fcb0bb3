use expose_runtime::expose;

#[expose(as = "people")]
pub struct Person {
    pub id: i64,
}

fn main() {}
