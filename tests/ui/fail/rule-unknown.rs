use expose_runtime::expose;

#[expose(as = "people", create)]
pub struct Person {
    pub id: i64,
    #[expose(validate(lenght(max = 100)))]
    pub name: String,
    #[expose(validate(email, postcode))]
    pub email: String,
}

fn main() {}
