//! A write's point of no return. Once a write's own statement (or its transaction's
//! `COMMIT`) has been sent, the database decides whether it happens, and no client-side
//! cancellation can take it back. So from that point the request waits for the database's
//! answer (bounded by the statement and busy timeouts) instead of being abandoned by the
//! request timeout: a 504 then always means that nothing was written.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// While a watched operation is polled on this thread: whether it passed its point of
    /// no return during this poll. `None` outside any watched operation.
    static SENT: Cell<Option<bool>> = const { Cell::new(None) };
}

/// An operation whose point of no return is recorded (see [`watch`]).
///
/// The record is kept in a thread-local only while the operation is polled, and moved into
/// the `Watched` after each poll: a few instructions per poll, where a tokio task-local
/// (`RefCell` swapped in and out) cost about 130.
pub(crate) struct Watched<F> {
    op: F,
    sent: bool,
}

/// Runs `op`, recording whether it passes its point of no return.
pub(crate) fn watch<F: Future + Unpin>(op: F) -> Watched<F> {
    Watched { op, sent: false }
}

/// Marks the point of no return of the operation being polled: its write is about to be
/// sent. Outside a watched operation, does nothing.
pub(crate) fn passed() {
    SENT.with(|s| {
        if s.get().is_some() {
            s.set(Some(true));
        }
    });
}

/// Whether the watched operation has passed its point of no return.
pub(crate) fn has_passed<F>(op: &Watched<F>) -> bool {
    op.sent
}

impl<F: Future + Unpin> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        /// Puts back the record of an enclosing watched operation, also if `op` panics.
        struct Restore(Option<bool>);
        impl Drop for Restore {
            fn drop(&mut self) {
                SENT.set(self.0);
            }
        }
        let _outer = Restore(SENT.replace(Some(false)));
        let out = Pin::new(&mut self.op).poll(cx);
        if SENT.get() == Some(true) {
            self.sent = true;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_record_follows_the_operation_that_passes() {
        let mut a = watch(Box::pin(async { passed() }));
        (&mut a).await;
        let mut b = watch(Box::pin(async {
            tokio::task::yield_now().await;
        }));
        (&mut b).await;
        passed(); // outside any request: nothing to mark
        assert!(has_passed(&a));
        assert!(!has_passed(&b));
    }

    #[tokio::test]
    async fn a_pass_is_kept_across_polls_and_not_lent_to_an_enclosing_operation() {
        let mut inner = watch(Box::pin(async {
            passed();
            tokio::task::yield_now().await;
        }));
        let mut outer = watch(Box::pin(async {
            tokio::task::yield_now().await;
            (&mut inner).await;
            has_passed(&inner)
        }));
        assert!((&mut outer).await, "the inner operation passed");
        assert!(!has_passed(&outer), "the outer one did not");
        assert_eq!(SENT.get(), None, "nothing left on the thread");
    }
}
