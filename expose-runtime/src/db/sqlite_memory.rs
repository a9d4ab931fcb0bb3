//! SQLite's memory statistics, which [`Db::connect`](super::Db::connect) turns off before
//! SQLite first starts in the process.
//!
//! With them on (SQLite's default, `SQLITE_DEFAULT_MEMSTATUS=1`), every `sqlite3_malloc` and
//! `sqlite3_free` takes one mutex shared by the whole process, to keep the counters of
//! `sqlite3_memory_used`. A page of rows is allocated on the connections' worker threads
//! (sqlx copies each value out of the statement) and freed on tokio's threads, so under
//! concurrent reads the threads queue on that mutex: on a 2-core machine, 32 connections
//! reading 100 rows each, most of the context switches of both sides of the bench were
//! waits for it, and with the statistics off the CPU time per request halved
//! (`bench/PROFILE.md`, "SQLite's memory mutex").

use std::os::raw::c_int;
use std::sync::Once;

/// Turns SQLite's memory statistics off (`sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0)`), once
/// per process, when SQLite has not started yet; where it has (a connection opened before,
/// by this runtime with statistics kept, or by other code), SQLite refuses the change and
/// keeps its statistics, which is only slower.
#[allow(unsafe_code)]
pub(super) fn statistics_off() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `sqlite3_config` takes an integer option and, for MEMSTATUS, one `int`;
        // it only writes SQLite's global configuration, and refuses (SQLITE_MISUSE) once
        // SQLite is initialised. SQLite requires that no other thread calls into it while it
        // runs: it runs once, from the first `Db::connect` of SQLite, before that opens a
        // connection; code that opens SQLite on another thread at that same moment must
        // keep the statistics (`PoolConfig::sqlite_memory_statistics`).
        let rc = unsafe {
            libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MEMSTATUS, 0 as c_int)
        };
        if rc != libsqlite3_sys::SQLITE_OK {
            tracing::debug!(
                code = rc,
                "SQLite had started already: its memory statistics stay on"
            );
        }
    });
}
