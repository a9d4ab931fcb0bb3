use expose_runtime::expose;

#[expose(as = "people", remove(unfiltered = true))]
pub struct Person {
    pub id: i64,
}

fn main() {}
