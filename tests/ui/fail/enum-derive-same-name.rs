#[derive(expose_runtime::Enum)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    #[serde(rename = "active")]
    Enabled,
}

#[derive(expose_runtime::Enum)]
#[serde(rename_all = "Title Case")]
pub enum Other {
    A,
}

#[derive(expose_runtime::Enum)]
pub enum Empty {}

fn main() {}
