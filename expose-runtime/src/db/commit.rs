//! The point of no return of a write, as types: the only ways to a connection that can
//! apply a write record, in a [`Sent`] that the request's caller holds, the moment the
//! statement that applies it is sent. The endpoint reads it when the deadline passes or the
//! connection fails: before it, nothing was applied (504, 503); after it, the outcome is
//! the database's (500 `outcome-unknown`).

use super::{write_turn, Driver, WriteTurn};
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a request's write has been sent to the database: false until an [`Autocommit`]
/// statement or a [`WriteTx::commit`] is sent. Held by the endpoint, outside the operation's
/// future (which a timeout may drop), and lent to it.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    sent: AtomicBool,
    /// The request stopped waiting for the write (its deadline passed after it was sent).
    abandoned: AtomicBool,
}

impl Sent {
    /// Whether the write was sent (its outcome is the database's from then on).
    pub(crate) fn get(&self) -> bool {
        self.sent.load(Ordering::Relaxed)
    }

    /// Marks the write abandoned, before its operation is dropped: an [`Autocommit`]
    /// connection with a statement in flight is then closed rather than returned to the
    /// pool, so that a stalled database does not keep its slot.
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// A pooled connection, with the write's turn, whose statements apply as they run.
    pub(crate) async fn autocommit<'s, B: Driver>(
        &'s self,
        pool: &Pool<B>,
    ) -> Result<Autocommit<'s, B>, sqlx::Error> {
        let (turn, conn) = write_conn(pool).await?;
        Ok(Autocommit {
            conn: Some(conn),
            sent: self,
            _turn: turn,
        })
    }

    /// A transaction, with the write's turn: nothing in it is applied until
    /// [`WriteTx::commit`]. A read whose hook runs a statement has one too
    /// ([`Sent::adopt_read`]).
    pub(crate) async fn begin<'s, B: Driver>(
        &'s self,
        pool: &Pool<B>,
    ) -> Result<WriteTx<'s, B>, sqlx::Error> {
        let (turn, conn) = write_conn(pool).await?;
        // What `Pool::begin_with` does, on the connection already taken.
        let statement = B::DIALECT.begin_write.map(Cow::Borrowed);
        Ok(WriteTx {
            tx: Transaction::begin(conn, statement).await?,
            sent: self,
            _turn: turn,
        })
    }

    /// The transaction a read's hook began (at its first statement), adopted to
    /// continue the read in and commit (no write turn: the backend's plain `BEGIN`).
    pub(crate) fn adopt_read<'s, B: Driver>(
        &'s self,
        tx: Transaction<'static, B>,
    ) -> WriteTx<'s, B> {
        WriteTx {
            tx,
            sent: self,
            _turn: WriteTurn::none(),
        }
    }

    fn mark(&self) {
        self.sent.store(true, Ordering::Relaxed);
    }
}

/// A connection for a write, then the write's turn: SQLite has one writer at a time, and
/// its writes queue in the process (`sql::write_queue`). The connection comes first, so
/// that the turn is held only by a write ready to run.
async fn write_conn<B: Driver>(
    pool: &Pool<B>,
) -> Result<(WriteTurn, PoolConnection<B>), sqlx::Error> {
    let conn = pool.acquire().await?;
    Ok((write_turn(pool).await?, conn))
}

/// A connection whose statements apply as they are sent (no transaction).
pub(crate) struct Autocommit<'s, B: Driver> {
    /// `None` only while it is dropped.
    conn: Option<PoolConnection<B>>,
    sent: &'s Sent,
    /// Released after the connection (fields drop in order).
    _turn: WriteTurn,
}

impl<B: Driver> Autocommit<'_, B> {
    /// The connection, to send the statement that applies the write: from here on the
    /// request waits for its outcome.
    pub(crate) fn applying(&mut self) -> &mut B::Connection {
        self.sent.mark();
        self.conn.as_mut().expect("held until dropped")
    }
}

impl<B: Driver> Drop for Autocommit<'_, B> {
    fn drop(&mut self) {
        if self.sent.abandoned.load(Ordering::Relaxed) {
            // Its statement may still be running: the pool opens another connection
            // instead of waiting for this one, which closes as it drops.
            if let Some(conn) = self.conn.take() {
                drop(conn.detach());
            }
        }
    }
}

/// A write's transaction: statements in it apply only at [`WriteTx::commit`]; dropped
/// without it, it rolls back.
pub(crate) struct WriteTx<'s, B: Driver> {
    tx: Transaction<'static, B>,
    sent: &'s Sent,
    /// Released after the transaction (fields drop in order).
    _turn: WriteTurn,
}

impl<'s, B: Driver> WriteTx<'s, B> {
    /// The transaction's connection, for statements that apply at commit.
    pub(crate) fn conn(&mut self) -> &mut B::Connection {
        &mut self.tx
    }

    /// Lends the transaction out (hooks hold it in their context); [`Lent::back`] takes
    /// it back.
    pub(crate) fn lend(self) -> (Transaction<'static, B>, Lent<'s>) {
        let lent = Lent {
            sent: self.sent,
            turn: self._turn,
        };
        (self.tx, lent)
    }

    /// Sends `COMMIT`: from here on the request waits for its outcome.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.sent.mark();
        self.tx.commit().await
    }
}

/// A [`WriteTx`] whose transaction is lent out.
pub(crate) struct Lent<'s> {
    sent: &'s Sent,
    turn: WriteTurn,
}

impl<'s> Lent<'s> {
    /// The write's transaction again.
    pub(crate) fn back<B: Driver>(self, tx: Transaction<'static, B>) -> WriteTx<'s, B> {
        WriteTx {
            tx,
            sent: self.sent,
            _turn: self.turn,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_the_statement_that_applies_a_write_marks_it_sent() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let sent = Sent::default();
        let mut tx = sent.begin::<sqlx::Sqlite>(&pool).await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(tx.conn())
            .await
            .unwrap();
        assert!(
            !sent.get(),
            "a statement inside a transaction applies at commit"
        );
        drop(tx);
        assert!(!sent.get(), "rolled back");
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let tx = sent.begin::<sqlx::Sqlite>(&pool).await.unwrap();
        tx.commit().await.unwrap();
        assert!(sent.get());

        let sent = Sent::default();
        let mut conn = sent.autocommit::<sqlx::Sqlite>(&pool).await.unwrap();
        assert!(!sent.get(), "a connection alone sends nothing");
        let _ = conn.applying();
        assert!(sent.get());
    }
}
