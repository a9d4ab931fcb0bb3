use expose_runtime::expose;

#[expose(as = "people", lsit)]
pub struct Person {
    pub id: i64,
}

fn main() {}
