//! serde renames: the JSON and query names follow serde, field lists use Rust names.

use expose_runtime::expose;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expose(as = "accounts", table = "account", list(sort = "created_at"), retrieve)]
pub struct Account {
    #[expose(id, column = "account_id")]
    pub id: uuid::Uuid,
    #[serde(rename = "displayName")]
    pub display_name: String,
    pub created_at: chrono::NaiveDate,
}

fn main() {
    let _ = Account::router::<expose_runtime::Db>();
}
