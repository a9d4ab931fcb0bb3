//! What differs between SQLite, PostgreSQL and MySQL/MariaDB.

/// The SQL features the statement builder adapts to.
#[derive(Debug)]
pub(crate) struct Dialect {
    /// Position in per-dialect caches.
    pub(crate) id: usize,
    /// Identifier quote character.
    pub(crate) quote: char,
    /// `$1, $2` (PostgreSQL) rather than `?`.
    pub(crate) numbered_params: bool,
    /// `INSERT/UPDATE ... RETURNING` (else: write, then select in the same transaction).
    pub(crate) returning: bool,
    /// `ORDER BY x NULLS FIRST` (else emulated with `x IS NULL`).
    pub(crate) nulls_order: bool,
    /// How `like` (case-sensitive) is written.
    pub(crate) like: Like,
    /// An insert of no columns.
    pub(crate) insert_defaults: &'static str,
    /// `SELECT ... FOR UPDATE`.
    pub(crate) row_locks: bool,
    /// The mode of a `LOCK TABLE t IN ... MODE` that keeps every other writer of the table
    /// out until the transaction ends, without blocking readers (`None`: no such lock).
    pub(crate) writers_lock: Option<&'static str>,
    /// How a writing transaction starts (`None`: the driver's `BEGIN`).
    pub(crate) begin_write: Option<&'static str>,
    /// How a write chosen by filters is bounded to at most `cap` rows in one statement.
    pub(crate) bound: Bound,
    /// What asks the planner for its estimate of a statement's rows, which the backend's
    /// `Driver::planned_rows` reads (`None`: SQLite, whose planner keeps no row estimates).
    pub(crate) explain: Option<&'static str>,
    /// How one row is upserted in one statement.
    pub(crate) upsert: Upsert,
    /// How `cs`, `cd` and `ov` are written.
    pub(crate) containment: Containment,
}

/// How a dialect tests containment and overlap (`cs`, `cd`, `ov`) of arrays and JSON
/// (`sql::statements::containment`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Containment {
    /// `@>`, `<@`, `&&` on native arrays, `@>` and `<@` on `jsonb` (PostgreSQL).
    Operators,
    /// Arrays are JSON arrays in text, their items listed by `json_each`; JSON documents
    /// have no containment (SQLite; refused before SQL, `query::check_backend`).
    JsonEach,
    /// `JSON_CONTAINS` and `JSON_OVERLAPS` on JSON arrays and documents (MySQL/MariaDB).
    JsonContains,
}

/// How one statement writes the rows its filters choose only when there are at most `cap`
/// (`sql::statements::where_capped`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Bound {
    /// The plain filtered statement, with an uncorrelated count of at most `cap + 1`
    /// matching rows in its `WHERE`, evaluated once before the write's scan (SQLite, whose
    /// writers are serialised; PostgreSQL, whose plain `SELECT` in the count takes no row
    /// locks). On PostgreSQL two overlapping writes may lock their rows in different
    /// orders (a bitmap scan meets them in physical order) and deadlock: the victim is sent
    /// again with its rows locked in key order first (`sql::Bounded::ordered`).
    Counted,
    /// `UPDATE/DELETE ... LIMIT cap + 1` in a transaction, rolled back when it
    /// changed more than `cap` rows (MySQL/MariaDB: the counted form's subquery takes
    /// shared locks on the rows it counts, and two overlapping writes deadlock when each
    /// then wants the other's rows exclusively).
    Limited,
}

/// How a dialect upserts one row without reading it first (`batch::upsert_at_once`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub(crate) enum Upsert {
    /// `INSERT ... ON CONFLICT (c) DO UPDATE ... RETURNING ..., (xmax = 0)`: one statement
    /// that says whether it inserted (PostgreSQL).
    OnConflict,
    /// `UPDATE ... WHERE c = ? RETURNING ...`, and `INSERT ... RETURNING ...` when it
    /// matched nothing (SQLite: `ON CONFLICT DO UPDATE ... RETURNING` cannot tell an insert
    /// from a merge; the write's turn keeps other writers out between the two).
    MergeFirst,
    /// `INSERT ... ON DUPLICATE KEY UPDATE ...`, then the row read back by its conflict
    /// value (MySQL/MariaDB: no `RETURNING`). It matches on every unique index of the
    /// table, so it is used only where the conflict field is the only unique one a row can
    /// hit.
    OnDuplicateKey,
}

/// How a case-sensitive `LIKE` is spelled.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Like {
    /// `LIKE` is case-sensitive (PostgreSQL).
    Native,
    /// `LIKE` ignores case for ASCII: use `GLOB` with a translated pattern (SQLite).
    Glob,
    /// `LIKE` follows the column's collation: compare as binary (MySQL).
    Binary,
}

impl Dialect {
    pub(crate) const SQLITE: Dialect = Dialect {
        id: 0,
        quote: '"',
        numbered_params: false,
        returning: true,
        nulls_order: true,
        like: Like::Glob,
        insert_defaults: " DEFAULT VALUES",
        row_locks: false,
        writers_lock: None,
        // Take the write lock at once: a read-then-write transaction that upgrades later
        // fails with SQLITE_BUSY when another writer got there first.
        begin_write: Some("BEGIN IMMEDIATE"),
        bound: Bound::Counted,
        explain: None,
        upsert: Upsert::MergeFirst,
        containment: Containment::JsonEach,
    };
    pub(crate) const POSTGRES: Dialect = Dialect {
        id: 1,
        quote: '"',
        numbered_params: true,
        returning: true,
        nulls_order: true,
        like: Like::Native,
        insert_defaults: " DEFAULT VALUES",
        row_locks: true,
        writers_lock: Some("SHARE ROW EXCLUSIVE"),
        begin_write: None,
        bound: Bound::Counted,
        explain: Some("EXPLAIN (FORMAT JSON) "),
        upsert: Upsert::OnConflict,
        containment: Containment::Operators,
    };
    pub(crate) const MYSQL: Dialect = Dialect {
        id: 2,
        quote: '`',
        numbered_params: false,
        returning: false,
        nulls_order: false,
        like: Like::Binary,
        insert_defaults: " () VALUES ()",
        row_locks: true,
        writers_lock: None,
        begin_write: None,
        bound: Bound::Limited,
        explain: Some("EXPLAIN "),
        upsert: Upsert::OnDuplicateKey,
        containment: Containment::JsonContains,
    };
}
