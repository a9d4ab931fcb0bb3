//! The two servers, each a child process of the benchmark's own binary
//! (`expose-bench --serve generated|handwritten --url URL`), so that each has its own
//! runtime, pool and peak RSS (`VmHWM` in `/proc/<pid>/status`).

use crate::setup::Error;
use expose_runtime::Db;
use std::net::SocketAddr;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

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

/// Serves one side on a free loopback port until standard input closes (the child's end of
/// [`Server::start`]). Prints `listening ADDR` once bound. With `seed`, first makes the table
/// and seeds that many rows into it when it is empty (for profiling a side on its own).
pub async fn serve(side: Side, url: &str, seed: Option<u64>) -> Result<(), Error> {
    use axum::serve::ListenerExt;
    let db = Db::connect(url).await?;
    if let Some(rows) = seed {
        crate::app::create_table(&db).await?;
        crate::app::seed(&db, rows).await?;
    }
    let app = match side {
        Side::Generated => crate::app::app(db.clone()),
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
            let mut sink = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut sink).await;
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
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        let read = reader.read_line(&mut line);
        tokio::time::timeout(std::time::Duration::from_secs(30), read)
            .await
            .map_err(|_| format!("the {} server did not start", side.name()))??;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .ok_or_else(|| format!("the {} server said {line:?}", side.name()))?
            .parse()?;
        Ok(Server { side, addr, child })
    }

    fn pid(&self) -> Option<u32> {
        self.child.id()
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
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
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
        drop(self.child.stdin.take());
        let wait = self.child.wait();
        if tokio::time::timeout(std::time::Duration::from_secs(5), wait)
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
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
