//! The operations a model can expose: one enum, and the facts about each in one place.

/// One operation of an exposed model. Tables of per-operation data are indexed by it
/// ([`OperationKind::index`]); a new operation is a new variant here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationKind {
    /// `GET /path`: a page of rows.
    List,
    /// `GET /path/{id}`: one row.
    Retrieve,
    /// `POST /path`: a new row.
    Create,
    /// `PATCH /path/{id}`: changes to one row.
    Update,
    /// `DELETE /path/{id}`: one row removed.
    Remove,
    /// `PUT /path/{id}`: the row with that key replaced (every writable field), or inserted
    /// when there is none (PostgREST's single-row upsert).
    Replace,
}

impl OperationKind {
    /// Every operation, in the order of [`OperationKind::index`].
    pub const ALL: [OperationKind; 6] = [
        OperationKind::List,
        OperationKind::Retrieve,
        OperationKind::Create,
        OperationKind::Update,
        OperationKind::Remove,
        OperationKind::Replace,
    ];

    /// How many operations there are: the length of a table indexed by them.
    pub const COUNT: usize = OperationKind::ALL.len();

    /// The position of this operation in [`OperationKind::ALL`] and in tables indexed by it.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name in the attribute (`list(...)`), in traces and in messages.
    pub const fn name(self) -> &'static str {
        match self {
            OperationKind::List => "list",
            OperationKind::Retrieve => "retrieve",
            OperationKind::Create => "create",
            OperationKind::Update => "update",
            OperationKind::Remove => "remove",
            OperationKind::Replace => "replace",
        }
    }

    /// The operation called `name` in the attribute.
    pub fn from_name(name: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The HTTP method that runs it.
    pub const fn method(self) -> &'static str {
        match self {
            OperationKind::List | OperationKind::Retrieve => "GET",
            OperationKind::Create => "POST",
            OperationKind::Update => "PATCH",
            OperationKind::Remove => "DELETE",
            OperationKind::Replace => "PUT",
        }
    }

    /// Whether it is served on the item path (`/path/{id}`) rather than the collection's.
    pub const fn on_item(self) -> bool {
        matches!(
            self,
            OperationKind::Retrieve
                | OperationKind::Update
                | OperationKind::Remove
                | OperationKind::Replace
        )
    }

    /// Whether it is also served on the collection path, choosing its rows by the request's
    /// filters (PostgREST's `PATCH /path?<filters>` and `DELETE /path?<filters>`).
    pub const fn on_collection_too(self) -> bool {
        matches!(self, OperationKind::Update | OperationKind::Remove)
    }

    /// Whether it reads rows (and so has readable fields, `select` and a row policy).
    pub const fn reads(self) -> bool {
        matches!(self, OperationKind::List | OperationKind::Retrieve)
    }

    /// Whether a client sends a body of fields to write.
    pub const fn takes_body(self) -> bool {
        matches!(
            self,
            OperationKind::Create | OperationKind::Update | OperationKind::Replace
        )
    }

    /// Whether it changes the table.
    pub const fn writes(self) -> bool {
        matches!(
            self,
            OperationKind::Create
                | OperationKind::Update
                | OperationKind::Remove
                | OperationKind::Replace
        )
    }
}

/// The defaults of a list's bounds, where the attribute sets none: the macro checks limits
/// against them and the runtime applies them.
pub mod defaults {
    /// Page size when the client asks for none (`limit`).
    pub const LIMIT: u64 = 100;
    /// Largest page a client may ask for (`max_limit`).
    pub const MAX_LIMIT: u64 = 1000;
    /// Most filter conditions in one request (`max_conditions`).
    pub const MAX_CONDITIONS: usize = 50;
    /// Deepest nesting of `and(...)` / `or(...)` (`max_depth`).
    pub const MAX_DEPTH: usize = 8;
    /// Most items in one `in.(...)` list (`max_in`).
    pub const MAX_IN_ITEMS: usize = 100;
    /// Deepest nesting of an attribute's `where` filter (checked by the macro, parsed at
    /// router build).
    pub const WHERE_MAX_DEPTH: usize = 64;
    /// Most rows in one create request (a JSON array body; `max_rows`).
    pub const MAX_ROWS: u64 = 1000;
    /// Most rows one update or remove chosen by filters may change (`max_affected`); a
    /// request's `Prefer: max-affected=n` may only lower it.
    pub const MAX_AFFECTED: u64 = 1000;
    /// Deepest nesting of embedded resources in one `select` (`embed_depth`):
    /// `users(posts(...))` is depth 2.
    pub const EMBED_DEPTH: usize = 1;
    /// Most embedded rows per parent row and relation (`embed_rows`): a larger
    /// `rel.limit` is clamped to it.
    pub const EMBED_ROWS: u64 = 100;
    /// Deepest nesting of embedded resources the `select` grammar reads at all.
    pub const SELECT_MAX_NESTING: usize = 16;
}

#[cfg(test)]
mod tests {
    use super::OperationKind;

    #[test]
    fn the_table_order_is_the_enum_order_and_names_round_trip() {
        for (i, k) in OperationKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(OperationKind::from_name(k.name()), Some(k));
        }
        assert_eq!(OperationKind::from_name("upsert"), None);
        assert_eq!(OperationKind::Replace.method(), "PUT");
    }
}
