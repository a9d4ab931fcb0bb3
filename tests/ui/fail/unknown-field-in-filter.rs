use expose_runtime::expose;

#[expose(as = "people", list(filter = "emial"))]
pub struct Person {
    pub id: i64,
    pub email: String,
}

fn main() {}
