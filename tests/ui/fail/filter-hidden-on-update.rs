use expose_runtime::expose;

#[expose(
    as = "people",
    all(fields = "-password"),
    list,
    retrieve,
    update(fields = "name,password", filter = "name,password")
)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub password: String,
}

fn main() {}
