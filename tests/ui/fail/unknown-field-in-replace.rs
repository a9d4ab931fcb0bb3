use expose_runtime::expose;

#[expose(as = "people", retrieve, replace(fields = "name,emial"))]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
}

fn main() {}
