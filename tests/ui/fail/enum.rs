use expose_runtime::expose;

#[expose(as = "colors", list)]
pub enum Color {
    Red,
    Green,
}

fn main() {}
