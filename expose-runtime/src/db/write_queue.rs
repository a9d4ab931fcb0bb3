//! SQLite's writers, queued in the process.
//!
//! A SQLite database has one writer at a time. Without a queue, concurrent writes from a
//! pool's connections collide on the file lock and wait in SQLite's busy handler, which
//! sleeps 1, 2, 5, 10 ... 100 ms between attempts: under load, throughput falls and the
//! slowest writes wait far longer than the queue ahead of them. So every write the runtime
//! makes on SQLite, once it has its connection, takes its turn on a first-come-first-served
//! lock per database file before it starts; the busy timeout still covers other processes
//! and writes made outside the runtime. PostgreSQL and MySQL lock rows, not the database:
//! their writes do not queue.
//!
//! The queues are per file for the whole process, as SQLite's lock is: two pools (two
//! routers' apps, or tests) on one file share one. Measured: SQLite create at 32
//! connections runs at 1.49–1.56× the hand-written handlers' throughput (`bench/RESULTS.md`).

use super::Driver;
use sqlx::{Pool, SqlitePool};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::OwnedMutexGuard;

/// The queue of each SQLite database file of the process (a process has few: a list).
static QUEUES: Mutex<Vec<(PathBuf, Arc<tokio::sync::Mutex<()>>)>> = Mutex::new(Vec::new());

/// A write's turn: the database is this write's until it is dropped.
pub(crate) struct Turn {
    _guard: Option<OwnedMutexGuard<()>>,
}

impl Turn {
    /// No turn: for a transaction that does not queue (a read whose hooks may write).
    pub(crate) fn none() -> Turn {
        Turn { _guard: None }
    }
}

/// Waits for the turn of a write on `pool`'s database (at once on backends that lock rows).
/// A write waits for its turn at most as long as for a connection (the pool's acquire
/// timeout); past it, it fails as a pool timeout does (503 with `Retry-After`).
pub(crate) async fn turn<B: Driver>(pool: &Pool<B>) -> Result<Turn, sqlx::Error> {
    let Some(pool) = B::as_sqlite(pool) else {
        return Ok(Turn::none());
    };
    let queue = queue(pool);
    // Uncontended (the common case): no timer.
    let guard = match queue.clone().try_lock_owned() {
        Ok(guard) => guard,
        Err(_) => {
            let wait = pool.options().get_acquire_timeout();
            tokio::time::timeout(wait, queue.lock_owned())
                .await
                .map_err(|_| sqlx::Error::PoolTimedOut)?
        }
    };
    Ok(Turn {
        _guard: Some(guard),
    })
}

fn queue(pool: &SqlitePool) -> Arc<tokio::sync::Mutex<()>> {
    let options = pool.connect_options();
    let file = options.get_filename();
    let mut queues = QUEUES.lock().unwrap_or_else(|e| e.into_inner());
    // Compared as bytes: hashing a `Path` walks its components.
    if let Some((_, queue)) = queues
        .iter()
        .find(|(f, _)| f.as_os_str() == file.as_os_str())
    {
        return queue.clone();
    }
    let queue = Arc::new(tokio::sync::Mutex::new(()));
    queues.push((file.to_path_buf(), queue.clone()));
    queue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_to_one_file_take_turns_and_other_files_do_not_wait() {
        let dir = std::env::temp_dir().join(format!("expose-queue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = |name: &str| format!("sqlite:{}?mode=rwc", dir.join(name).display());
        let a1 = SqlitePool::connect_lazy(&url("a.db")).unwrap();
        let a2 = SqlitePool::connect_lazy(&url("a.db")).unwrap();
        let b = SqlitePool::connect_lazy(&url("b.db")).unwrap();
        let first = turn::<sqlx::Sqlite>(&a1).await.unwrap();
        // Another pool on the same file waits for the first turn ...
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            turn::<sqlx::Sqlite>(&a2),
        );
        assert!(waiting.await.is_err());
        // ... a pool on another file does not.
        let _other = turn::<sqlx::Sqlite>(&b).await.unwrap();
        drop(first);
        let second = turn::<sqlx::Sqlite>(&a2).await.unwrap();
        // A turn not given within the pool's acquire timeout is a pool timeout.
        let impatient = sqlx::sqlite::SqlitePoolOptions::new()
            .acquire_timeout(std::time::Duration::from_millis(20))
            .connect_lazy(&url("a.db"))
            .unwrap();
        assert!(matches!(
            turn::<sqlx::Sqlite>(&impatient).await,
            Err(sqlx::Error::PoolTimedOut)
        ));
        drop(second);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
