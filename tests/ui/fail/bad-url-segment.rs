use expose_runtime::expose;

#[expose(as = "people/all", list)]
pub struct Person {
    pub id: i64,
}

fn main() {}
