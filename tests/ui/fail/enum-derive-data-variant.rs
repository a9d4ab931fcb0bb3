#[derive(expose_runtime::Enum)]
pub enum Status {
    Active,
    Late(u32),
    Away { until: String },
}

fn main() {}
