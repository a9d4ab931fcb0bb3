use expose_runtime::expose;

#[expose(as = "people", list(sort = "agee"))]
pub struct Person {
    pub id: i64,
    pub age: i32,
}

fn main() {}
