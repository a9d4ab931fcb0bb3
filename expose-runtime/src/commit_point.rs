//! A write's point of no return. Once a write's own statement (or its transaction's
//! `COMMIT`) has been sent, the database decides whether it happens, and no client-side
//! cancellation can take it back. So from that point the request waits for the database's
//! answer (bounded by the statement and busy timeouts) instead of being abandoned by the
//! request timeout: a 504 then always means that nothing was written.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    static SENT: Cell<bool>;
}

/// An operation whose point of no return is recorded (see [`watch`]).
pub(crate) type Watched<F> = TaskLocalFuture<Cell<bool>, F>;

/// Runs `op`, recording whether it passes its point of no return.
pub(crate) fn watch<F: Future>(op: F) -> Watched<F> {
    SENT.scope(Cell::new(false), op)
}

/// Marks the point of no return of the current request: its write is about to be sent.
pub(crate) fn passed() {
    let _ = SENT.try_with(|sent| sent.set(true));
}

/// Whether the watched operation passed its point of no return. Asked once, when its
/// deadline has passed: the record is taken out of the operation, which may still be
/// driven to its end (a write already sent) but records nothing more.
pub(crate) fn take_passed<F: Future>(op: Pin<&mut Watched<F>>) -> bool {
    op.take_value().is_some_and(Cell::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;

    #[tokio::test]
    async fn the_record_follows_the_operation_that_passes() {
        let mut a = pin!(watch(async { passed() }));
        a.as_mut().await;
        let mut b = pin!(watch(async {}));
        b.as_mut().await;
        passed(); // outside any request: nothing to mark
        assert!(take_passed(a.as_mut()));
        assert!(!take_passed(b.as_mut()));
        assert!(!take_passed(a), "taken once");
    }
}
