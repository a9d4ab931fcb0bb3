use expose_runtime::expose;

// The macro cannot read an alias: the rule is checked against the field's type when the
// model is evaluated.
type Age = i32;

#[expose(as = "people", create)]
pub struct Person {
    pub id: i64,
    #[expose(validate(email))]
    pub age: Age,
}

fn main() {
    let _ = Person::router::<expose_runtime::Db>();
}
