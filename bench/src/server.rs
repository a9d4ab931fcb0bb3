//! The two servers, each a child process of the benchmark's own binary
//! (`expose-bench --serve generated|handwritten --url URL`), so that each has its own
//! runtime, pool and peak RSS (`VmHWM` in `/proc/<pid>/status`).
//!
//! The child reads its standard input line by line: end of input stops it, and the line
//! `heap` makes it answer one line on standard output with what its allocators hold
//! ([`Server::heap`]), which `/proc` cannot tell from outside.

use crate::setup::Error;
use expose_runtime::Db;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, ChildStdout};

/// Which implementation a server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The `people` example: `#[expose]`'s generated handlers.
    Generated,
    /// The hand-written axum + sqlx reference ([`crate::handwritten`]).
    Handwritten,
}

impl Side {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Side::Generated => "generated",
            Side::Handwritten => "handwritten",
        }
    }

    /// Parses a name given on the command line.
    pub fn parse(s: &str) -> Option<Side> {
        match s {
            "generated" => Some(Side::Generated),
            "handwritten" => Some(Side::Handwritten),
            _ => None,
        }
    }
}

/// The generated side's router: the `people` example, `/people_hooked` (the `list-hooked`
/// workload's model) and the embedding workloads' models ([`crate::relations`]).
pub fn generated(db: Db) -> axum::Router {
    crate::app::app(db.clone())
        .merge(crate::hooked::HookedPerson::router().with_state(db.clone()))
        .merge(crate::relations::generated(db))
}

/// Serves one side on a free loopback port until standard input closes (the child's end of
/// [`Server::start`]). Prints `listening ADDR` once bound, and answers each `heap` line on
/// standard input with a `heap ...` line ([`Heap`]). With `seed`, first makes the table and
/// seeds that many rows into it when it is empty (for profiling a side on its own).
pub async fn serve(side: Side, url: &str, seed: Option<u64>) -> Result<(), Error> {
    use axum::serve::ListenerExt;
    let db = Db::connect(url).await?;
    if let Some(rows) = seed {
        crate::app::create_table(&db).await?;
        crate::app::seed(&db, rows).await?;
        crate::relations::reset(&db, rows).await?;
    }
    let app = match side {
        Side::Generated => generated(db.clone()),
        Side::Handwritten => crate::handwritten::router(db.clone()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!("listening {addr}");
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // The parent holds the other end: EOF (or its death) stops the server.
            let mut lines = BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == "heap" {
                    println!("heap {}", Heap::of_this_process().to_line());
                }
            }
        })
        .await?;
    db.close().await;
    Ok(())
}

/// A running server child.
pub struct Server {
    /// Which side it runs.
    pub side: Side,
    /// Where it listens.
    pub addr: SocketAddr,
    child: tokio::process::Child,
    /// The child's standard input: closing it stops the child.
    stdin: Option<ChildStdin>,
    /// The child's standard output, kept open for its answers to `heap`.
    stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Starts `side` against the database at `url` and waits until it listens.
    pub async fn start(side: Side, url: &str) -> Result<Server, Error> {
        let exe = std::env::current_exe()?;
        let mut child = tokio::process::Command::new(exe)
            .args(["--serve", side.name(), "--url", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take();
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let read = reader.read_line(&mut line);
        tokio::time::timeout(Duration::from_secs(30), read)
            .await
            .map_err(|_| format!("the {} server did not start", side.name()))??;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .ok_or_else(|| format!("the {} server said {line:?}", side.name()))?
            .parse()?;
        Ok(Server {
            side,
            addr,
            child,
            stdin,
            stdout: reader,
        })
    }

    /// The child's process id (`None` once it has exited).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// What the child's allocators hold, asked over its standard input (`None` when it does
    /// not answer within five seconds).
    pub async fn heap(&mut self) -> Option<Heap> {
        let ask = async {
            let stdin = self.stdin.as_mut()?;
            stdin.write_all(b"heap\n").await.ok()?;
            stdin.flush().await.ok()?;
            let mut line = String::new();
            self.stdout.read_line(&mut line).await.ok()?;
            Heap::from_line(line.trim().strip_prefix("heap ")?)
        };
        tokio::time::timeout(Duration::from_secs(5), ask)
            .await
            .ok()
            .flatten()
    }

    /// Memory of the child as the kernel sees it (`/proc/<pid>/status`).
    pub fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let field = |name| status_field(&status, name);
        Some(Memory {
            rss_kib: field("VmRSS:")?,
            anon_kib: field("RssAnon:")?,
            file_kib: field("RssFile:")?,
            shmem_kib: field("RssShmem:")?,
            threads: field("Threads:")?,
        })
    }

    /// Open file descriptors of the child (the entries of `/proc/<pid>/fd`): its listening
    /// socket, client connections, database connections or files, and the runtime's own.
    pub fn open_fds(&self) -> Option<usize> {
        Some(
            std::fs::read_dir(format!("/proc/{}/fd", self.pid()?))
                .ok()?
                .count(),
        )
    }

    /// Peak resident set size since start or the last [`Server::reset_peak`], in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_field("VmHWM:")
    }

    /// Current resident set size, in KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_field("VmRSS:")
    }

    fn status_field(&self, name: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        status_field(&status, name)
    }

    /// What the server's threads have used so far: CPU time and the number of times they
    /// were put on a CPU (the first and third fields of `/proc/<pid>/task/*/schedstat`,
    /// summed over threads).
    pub fn usage(&self) -> Option<Usage> {
        let pid = self.pid()?;
        let mut total = Usage::default();
        for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
            let path = task.ok()?.path().join("schedstat");
            // A thread may exit between the listing and the read.
            if let Ok(s) = std::fs::read_to_string(path) {
                let mut fields = s.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
                total.cpu_ns += fields.next().unwrap_or(0);
                total.switches += fields.nth(1).unwrap_or(0);
            }
        }
        Some(total)
    }

    /// Resets the peak RSS to the current RSS (`5` into `/proc/<pid>/clear_refs`); false
    /// when the kernel refused.
    pub fn reset_peak(&self) -> bool {
        self.pid()
            .is_some_and(|pid| std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok())
    }

    /// Stops the server: closes its standard input, then kills it if it has not exited
    /// within five seconds.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        let wait = self.child.wait();
        if tokio::time::timeout(Duration::from_secs(5), wait)
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

/// The number after `name` in `/proc/<pid>/status` (KiB for the memory fields).
fn status_field(status: &str, name: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A server's memory as the kernel sees it, from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size (`VmRSS`): the three below together.
    pub rss_kib: u64,
    /// Resident anonymous memory (`RssAnon`): the heap and the threads' stacks.
    pub anon_kib: u64,
    /// Resident file-backed pages (`RssFile`): the binary, its libraries, mapped files.
    pub file_kib: u64,
    /// Resident shared memory (`RssShmem`): e.g. SQLite's `-shm` index of a WAL database.
    pub shmem_kib: u64,
    /// Threads of the process (not KiB).
    pub threads: u64,
}

/// What a server's allocators hold, as the server itself reports it (in bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Heap {
    /// Bytes SQLite has allocated and not freed (`sqlite3_memory_used`): its page caches,
    /// prepared statements and schemas, over every connection of the process; 0 when it
    /// has opened none.
    pub sqlite_used: u64,
    /// The most SQLite has had allocated at once (`sqlite3_memory_highwater`).
    pub sqlite_peak: u64,
    /// Bytes handed out by glibc's `malloc` and not freed, over every arena and `mmap`
    /// (`mallinfo2`: `uordblks + hblkhd`); `None` on another C library.
    pub malloc_used: Option<u64>,
    /// Bytes glibc holds free in its arenas (`mallinfo2().fordblks`): freed memory it has
    /// not given back to the kernel, whether reusable or fragmented.
    pub malloc_free: Option<u64>,
}

// SQLite is linked into the binary through sqlx (libsqlite3-sys, bundled). Both functions
// only read SQLite's global memory statistics (compiled in: SQLITE_DEFAULT_MEMSTATUS=1).
extern "C" {
    fn sqlite3_memory_used() -> i64;
    fn sqlite3_memory_highwater(reset: std::ffi::c_int) -> i64;
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    /// glibc's `struct mallinfo2` (since glibc 2.33).
    #[repr(C)]
    #[derive(Default)]
    pub struct MallInfo2 {
        pub arena: usize,
        pub ordblks: usize,
        pub smblks: usize,
        pub hblks: usize,
        pub hblkhd: usize,
        pub usmblks: usize,
        pub fsmblks: usize,
        pub uordblks: usize,
        pub fordblks: usize,
        pub keepcost: usize,
    }

    extern "C" {
        pub fn mallinfo2() -> MallInfo2;
    }
}

impl Heap {
    /// This process's figures.
    pub fn of_this_process() -> Heap {
        // SAFETY: both take no pointers and only read SQLite's global counters (under its
        // own mutex); they are valid before SQLite is initialised too.
        let (used, peak) = unsafe { (sqlite3_memory_used(), sqlite3_memory_highwater(0)) };
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: `mallinfo2` takes no arguments and returns a plain struct by value.
        let (malloc_used, malloc_free) = {
            let m = unsafe { glibc::mallinfo2() };
            (
                Some((m.uordblks + m.hblkhd) as u64),
                Some(m.fordblks as u64),
            )
        };
        #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
        let (malloc_used, malloc_free) = (None, None);
        Heap {
            sqlite_used: u64::try_from(used).unwrap_or(0),
            sqlite_peak: u64::try_from(peak).unwrap_or(0),
            malloc_used,
            malloc_free,
        }
    }

    /// The line the child sends (`-` for a figure it does not have).
    fn to_line(self) -> String {
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        format!(
            "{} {} {} {}",
            self.sqlite_used,
            self.sqlite_peak,
            opt(self.malloc_used),
            opt(self.malloc_free)
        )
    }

    /// Reads [`Heap::to_line`].
    fn from_line(line: &str) -> Option<Heap> {
        let mut f = line.split_whitespace();
        let opt = |v: &str| {
            if v == "-" {
                Some(None)
            } else {
                v.parse().ok().map(Some)
            }
        };
        Some(Heap {
            sqlite_used: f.next()?.parse().ok()?,
            sqlite_peak: f.next()?.parse().ok()?,
            malloc_used: opt(f.next()?)?,
            malloc_free: opt(f.next()?)?,
        })
    }
}

/// CPU use of a server process, summed over its threads ([`Server::usage`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// CPU time, in nanoseconds.
    pub cpu_ns: u64,
    /// Times a thread was put on a CPU: each follows a context switch, voluntary (the thread
    /// waited: a lock, a channel, the next request) or not (its time slice ran out).
    pub switches: u64,
}

impl Usage {
    /// What was used between `earlier` and `self`.
    pub fn since(self, earlier: Usage) -> Usage {
        Usage {
            cpu_ns: self.cpu_ns.saturating_sub(earlier.cpu_ns),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }

    /// Both counts added.
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            cpu_ns: self.cpu_ns + other.cpu_ns,
            switches: self.switches + other.switches,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heap_line_reads_back() {
        let h = Heap {
            sqlite_used: 1,
            sqlite_peak: 2,
            malloc_used: Some(3),
            malloc_free: None,
        };
        assert_eq!(h.to_line(), "1 2 3 -");
        assert_eq!(Heap::from_line(&h.to_line()), Some(h));
        assert_eq!(Heap::from_line("1 2"), None);
    }

    #[test]
    fn this_process_has_a_heap() {
        let h = Heap::of_this_process();
        assert!(h.sqlite_peak >= h.sqlite_used);
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        assert!(h.malloc_used.unwrap_or(0) > 0);
    }

    #[test]
    fn status_fields_are_read_by_name() {
        let s = "Name:\tx\nVmRSS:\t  1234 kB\nThreads:\t7\n";
        assert_eq!(status_field(s, "VmRSS:"), Some(1234));
        assert_eq!(status_field(s, "Threads:"), Some(7));
        assert_eq!(status_field(s, "RssAnon:"), None);
    }
}
