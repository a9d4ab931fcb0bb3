use expose_runtime::expose;

#[expose(as = "people", list)]
pub struct Person {
    pub id: i64,
    pub timeout: std::time::Duration,
}

fn main() {}
