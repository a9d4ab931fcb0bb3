//! A write's point of no return. Once a write's own statement (or its transaction's
//! `COMMIT`) has been sent, the database decides whether it happens, and no client-side
//! cancellation can take it back. So from that point the request waits for the database's
//! answer (bounded by the statement and busy timeouts) instead of being abandoned by the
//! request timeout: a 504 then always means that nothing was written.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

tokio::task_local! {
    static SENT: Arc<AtomicBool>;
}

/// Runs `op`, recording in `flag` whether it passed its point of no return.
pub(crate) async fn watch<F: Future>(flag: Arc<AtomicBool>, op: F) -> F::Output {
    SENT.scope(flag, op).await
}

/// Marks the point of no return of the current request: its write is about to be sent.
pub(crate) fn passed() {
    let _ = SENT.try_with(|f| f.store(true, Ordering::Release));
}

/// Whether the request watched with `flag` passed its point of no return.
pub(crate) fn was_passed(flag: &AtomicBool) -> bool {
    flag.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flag_follows_the_request_that_passes() {
        let (a, b) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        watch(a.clone(), async { passed() }).await;
        watch(b.clone(), async {}).await;
        passed(); // outside any request: nothing to mark
        assert!(was_passed(&a));
        assert!(!was_passed(&b));
    }
}
