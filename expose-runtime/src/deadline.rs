//! Request deadlines, watched by one thread for the whole process instead of a tokio timer
//! per request.
//!
//! A tokio timer per request (`tokio::time::timeout`) cost about 1 300 instructions of a
//! single-row read measured with callgrind (`bench/profile.sh`): its registration in the
//! worker's timer wheel, its removal, its polls, and the time driver's work each time a
//! worker parks with timers pending. Here a request that is still pending after its first
//! poll is an entry (deadline, waker) in a sharded slab; one sweeper thread sleeps until the
//! earliest deadline and wakes the requests whose deadline has passed, and a pending request
//! checks the clock when it is polled. A request that ends before its deadline (nearly all)
//! costs one insertion and one removal under a shard's lock, with no work for the runtime's
//! timer. The sweeper is a thread rather than a task, so it serves every tokio runtime of
//! the process (tests start many) and outlives none of them.
//!
//! Precision: a request times out when the sweeper wakes at or after its deadline (the
//! operating system's sleep precision, well under a millisecond on Linux), or earlier if it
//! is polled after the deadline.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Shards of the entries: requests on different worker threads take different locks.
const SHARDS: usize = 8;
/// [`Sweeper::next_wake`] while the sweeper scans: a request registered then wakes it.
const SCANNING: u64 = 0;
/// [`Sweeper::next_wake`] while there is nothing to watch.
const IDLE: u64 = u64::MAX;

/// The deadline passed before the operation ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// Runs `op` until it ends or `timeout` has passed, whichever comes first.
pub(crate) fn within<F: Future + Unpin>(timeout: Duration, op: F) -> Within<F> {
    Within {
        op,
        at: Instant::now().checked_add(timeout),
        slot: None,
    }
}

/// The future of [`within`].
pub(crate) struct Within<F> {
    op: F,
    /// `None`: no deadline (a timeout too long to add to the clock).
    at: Option<Instant>,
    slot: Option<Slot>,
}

/// A registered entry, and the identity of the waker it holds (compared, never used).
#[cfg_attr(test, derive(Clone))]
struct Slot {
    shard: usize,
    key: usize,
    waker: (usize, usize),
}

impl<F: Future + Unpin> Future for Within<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Poll::Ready(out) = Pin::new(&mut this.op).poll(cx) {
            this.unregister();
            return Poll::Ready(Ok(out));
        }
        let Some(at) = this.at else {
            return Poll::Pending;
        };
        match &mut this.slot {
            // The deadline was taken from the clock just before the first poll: no second
            // read. One that has already passed (a zero timeout) is the sweeper's at once.
            None => this.slot = Some(sweeper().register(at, cx.waker())),
            Some(_) if Instant::now() >= at => {
                this.unregister();
                return Poll::Ready(Err(Elapsed));
            }
            Some(slot) if slot.waker != identity(cx.waker()) => sweeper().rewake(slot, cx.waker()),
            Some(_) => {}
        }
        Poll::Pending
    }
}

impl<F> Within<F> {
    fn unregister(&mut self) {
        if let Some(slot) = self.slot.take() {
            sweeper().unregister(slot);
        }
    }
}

impl<F> Drop for Within<F> {
    fn drop(&mut self) {
        self.unregister();
    }
}

fn identity(w: &Waker) -> (usize, usize) {
    (w.data() as usize, w.vtable() as *const _ as usize)
}

struct Entry {
    at: Instant,
    waker: Waker,
    /// Woken once for its deadline; the sweeper does not count it again.
    fired: bool,
}

/// A lock of its own on a cache line of its own.
#[repr(align(128))]
struct Shard(Mutex<slab::Slab<Entry>>);

struct Sweeper {
    /// The origin of [`Sweeper::next_wake`].
    epoch: Instant,
    shards: [Shard; SHARDS],
    /// When the sweeper thread next wakes, in microseconds after `epoch` (at least 1), or
    /// [`SCANNING`] or [`IDLE`]. A request whose deadline is earlier wakes it.
    next_wake: AtomicU64,
    thread: OnceLock<Thread>,
}

fn sweeper() -> &'static Sweeper {
    static SWEEPER: OnceLock<Sweeper> = OnceLock::new();
    let mut started = false;
    let s = SWEEPER.get_or_init(|| {
        started = true;
        Sweeper {
            epoch: Instant::now(),
            shards: std::array::from_fn(|_| Shard(Mutex::new(slab::Slab::new()))),
            next_wake: AtomicU64::new(IDLE),
            thread: OnceLock::new(),
        }
    });
    if started {
        let thread = std::thread::Builder::new()
            .name("expose-deadlines".into())
            .spawn(move || s.run())
            .expect("the deadline thread starts");
        s.thread.set(thread.thread().clone()).expect("set once");
    }
    s
}

impl Sweeper {
    fn shard(&self, i: usize) -> MutexGuard<'_, slab::Slab<Entry>> {
        // A panic while a shard was locked cannot leave an entry half-written.
        self.shards[i].0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, at: Instant, waker: &Waker) -> Slot {
        let shard = shard_of_this_thread();
        let key = self.shard(shard).insert(Entry {
            at,
            waker: waker.clone(),
            fired: false,
        });
        let next = self.next_wake.load(Ordering::SeqCst);
        if next == SCANNING || self.micros(at) < next {
            self.wake_thread();
        }
        Slot {
            shard,
            key,
            waker: identity(waker),
        }
    }

    fn rewake(&self, slot: &mut Slot, waker: &Waker) {
        let old = self
            .shard(slot.shard)
            .get_mut(slot.key)
            .map(|e| std::mem::replace(&mut e.waker, waker.clone()));
        slot.waker = identity(waker);
        // Dropped after the lock is released (as in `unregister`).
        drop(old);
    }

    fn unregister(&self, slot: Slot) {
        // Dropped after the lock is released: dropping the last reference to a task runs
        // the runtime's code, which must not find this shard locked.
        let entry = self.shard(slot.shard).try_remove(slot.key);
        drop(entry);
    }

    fn wake_thread(&self) {
        // Set right after the thread is spawned, by the request that started it.
        self.thread.wait().unpark();
    }

    /// Microseconds after the epoch, at least 1 (0 is [`SCANNING`]).
    fn micros(&self, t: Instant) -> u64 {
        (t.saturating_duration_since(self.epoch).as_micros() as u64).max(1)
    }

    fn run(&self) -> ! {
        loop {
            // Set before the scan: a request registered from here on wakes the thread
            // (`unpark` before `park` makes `park` return at once), so none is missed.
            self.next_wake.store(SCANNING, Ordering::SeqCst);
            let now = Instant::now();
            let mut earliest: Option<Instant> = None;
            for i in 0..SHARDS {
                let mut shard = self.shard(i);
                for (_, e) in shard.iter_mut() {
                    if e.fired {
                        continue;
                    }
                    if e.at <= now {
                        e.fired = true;
                        e.waker.wake_by_ref();
                    } else if earliest.is_none_or(|t| e.at < t) {
                        earliest = Some(e.at);
                    }
                }
            }
            match earliest {
                None => {
                    self.next_wake.store(IDLE, Ordering::SeqCst);
                    std::thread::park();
                }
                Some(at) => {
                    self.next_wake.store(self.micros(at), Ordering::SeqCst);
                    std::thread::park_timeout(at.saturating_duration_since(Instant::now()));
                }
            }
        }
    }
}

/// The shard of the calling thread, given out in turn on a thread's first request.
fn shard_of_this_thread() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SHARD.with(|s| {
        if s.get() == usize::MAX {
            s.set(NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS);
        }
        s.get()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{pending, ready};
    use std::pin::pin;

    #[tokio::test]
    async fn an_operation_that_never_ends_times_out_at_its_deadline() {
        let started = Instant::now();
        let r = within(Duration::from_millis(80), pin!(pending::<()>())).await;
        let took = started.elapsed();
        assert_eq!(r, Err(Elapsed));
        assert!(took >= Duration::from_millis(80), "{took:?}");
        assert!(took < Duration::from_millis(500), "{took:?}");
    }

    #[tokio::test]
    async fn a_zero_timeout_times_out_at_once() {
        let started = Instant::now();
        let r = within(Duration::ZERO, pin!(pending::<()>())).await;
        assert_eq!(r, Err(Elapsed));
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[tokio::test]
    async fn an_operation_that_ends_in_time_gives_its_output() {
        assert_eq!(within(Duration::from_millis(50), ready(7)).await, Ok(7));
        let slow = pin!(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            8
        });
        assert_eq!(within(Duration::from_secs(5), slow).await, Ok(8));
    }

    #[tokio::test]
    async fn a_later_short_deadline_is_not_held_up_by_an_earlier_long_one() {
        let long = tokio::spawn(within(Duration::from_secs(3), Box::pin(pending::<()>())));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        let r = within(Duration::from_millis(60), pin!(pending::<()>())).await;
        assert_eq!(r, Err(Elapsed));
        assert!(started.elapsed() < Duration::from_millis(500));
        long.abort();
    }

    #[test]
    fn a_request_that_ends_or_is_dropped_leaves_no_entry() {
        let mut cx = Context::from_waker(Waker::noop());
        // Tests run at once: an entry is known as this test's by its deadline.
        let ours = |slot: &Slot, at: Instant| {
            let shard = sweeper().shard(slot.shard);
            shard.get(slot.key).is_some_and(|e| e.at == at)
        };
        let mut w = Box::pin(within(Duration::from_secs(30), pending::<()>()));
        assert!(w.as_mut().poll(&mut cx).is_pending());
        let (slot, at) = (
            w.slot.clone().expect("registered while pending"),
            w.at.unwrap(),
        );
        assert!(ours(&slot, at));
        drop(w);
        assert!(!ours(&slot, at), "dropped: unregistered");

        let ends = Cell::new(false);
        let mut w = Box::pin(within(
            Duration::from_secs(31),
            std::future::poll_fn(|_| match ends.get() {
                true => Poll::Ready(()),
                false => Poll::Pending,
            }),
        ));
        assert!(w.as_mut().poll(&mut cx).is_pending());
        let (slot, at) = (
            w.slot.clone().expect("registered while pending"),
            w.at.unwrap(),
        );
        assert!(ours(&slot, at));
        ends.set(true);
        assert!(w.as_mut().poll(&mut cx).is_ready());
        assert!(w.slot.is_none() && !ours(&slot, at), "ended: unregistered");
    }

    #[test]
    fn each_runtime_of_the_process_is_served() {
        for _ in 0..3 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let r = rt.block_on(within(Duration::from_millis(30), pin!(pending::<()>())));
            assert_eq!(r, Err(Elapsed));
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_requests_at_once_each_end_or_time_out() {
        let mut tasks = Vec::new();
        for i in 0..200u64 {
            tasks.push(tokio::spawn(async move {
                let op = Box::pin(async move {
                    if i % 2 == 0 {
                        tokio::time::sleep(Duration::from_millis(i % 7)).await;
                    } else {
                        pending::<()>().await;
                    }
                });
                (i, within(Duration::from_millis(40 + i % 13), op).await)
            }));
        }
        for t in tasks {
            let (i, r) = t.await.unwrap();
            assert_eq!(r.is_ok(), i % 2 == 0, "request {i}");
        }
    }
}
