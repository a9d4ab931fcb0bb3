use expose_runtime::expose;

#[expose(as = "boxes", list)]
pub struct Boxed<T> {
    pub id: i64,
    pub value: T,
}

fn main() {}
