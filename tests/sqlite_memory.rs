//! `Db::connect` turns SQLite's memory statistics off before SQLite starts: its counters
//! (and the process-wide mutex every SQLite allocation takes to keep them) are gone, so
//! `sqlite3_memory_used` stays 0 however much SQLite allocates. Alone in its test binary:
//! the setting is the process's, and SQLite takes it only before it first starts.

use expose_runtime::Db;

// SQLite is linked in through sqlx (libsqlite3-sys, bundled).
extern "C" {
    fn sqlite3_memory_used() -> i64;
    fn sqlite3_memory_highwater(reset: std::os::raw::c_int) -> i64;
}

#[tokio::test]
async fn sqlite_keeps_no_memory_statistics_after_connect() {
    let db = Db::connect("sqlite::memory:").await.expect("connect");
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .await
        .expect("create");
    for i in 0..200 {
        db.execute(&format!(
            "INSERT INTO t (body) VALUES ('{}')",
            "x".repeat(100 + i)
        ))
        .await
        .expect("insert");
    }
    // SAFETY: both only read SQLite's global counters.
    let (used, peak) = unsafe { (sqlite3_memory_used(), sqlite3_memory_highwater(0)) };
    // With the statistics on, an open connection alone holds hundreds of KiB here.
    assert_eq!(
        (used, peak),
        (0, 0),
        "SQLite counted its allocations: its memory statistics are on"
    );
}
