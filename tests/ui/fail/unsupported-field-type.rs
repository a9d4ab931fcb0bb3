use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    pub id: i64,
    pub tags: Vec<String>,
}

fn main() {}
