use expose_runtime::expose;

#[expose(as = "people", create)]
pub struct Person {
    pub id: i64,
    #[expose(validate(range(min = 1, max = 100)))]
    pub name: String,
    #[expose(validate(email))]
    pub age: i32,
    #[expose(validate(one_of("a", "b")))]
    pub level: i16,
    #[expose(validate(length(max = 3)))]
    pub active: bool,
}

fn main() {}
