use expose_runtime::expose;

#[expose(as = "people", create(pre = [check_admin]))]
pub struct Person {
    pub id: i64,
}

fn main() {}
