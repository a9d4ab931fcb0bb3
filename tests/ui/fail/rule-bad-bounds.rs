use expose_runtime::expose;

#[expose(as = "people", create)]
pub struct Person {
    pub id: i64,
    #[expose(validate(range(min = 0.5)))]
    pub age: i32,
    #[expose(validate(range(max = 40000)))]
    pub small: i16,
    #[expose(validate(length(min = 10, max = 2)))]
    pub name: String,
    #[expose(validate(length))]
    pub nick: String,
    #[expose(validate(non_empty, non_empty))]
    pub bio: String,
}

fn main() {}
