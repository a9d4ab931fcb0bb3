use expose_runtime::expose;

#[expose(list)]
pub struct Person {
    pub id: i64,
}

fn main() {}
