//! A fault-injecting TCP proxy between the runtime and a database server, on the loopback
//! interface: it passes bytes through, refuses connections (the port closed), stalls both
//! directions, or loses the server's replies, and can cut every connection it carries.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// What the proxy does with traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bytes go through both ways.
    Pass,
    /// The port is closed (connections are refused) and every open connection is cut.
    Refuse,
    /// Nothing goes through either way; connections stay open.
    Stall,
    /// The client's bytes reach the server; the server's replies are dropped.
    LoseReplies,
    /// As `Pass` until the client sends these bytes on a connection (`COMMIT`, say); from
    /// then on that connection's replies are dropped.
    LoseRepliesAfter(&'static [u8]),
}

/// A running proxy; dropping it stops it.
pub struct Proxy {
    pub port: u16,
    mode: watch::Sender<Mode>,
    /// Bumped to cut every open connection.
    cuts: watch::Sender<u64>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    upstream: SocketAddr,
}

impl Proxy {
    /// A proxy to `upstream` on a free loopback port.
    pub async fn start(upstream: SocketAddr) -> Arc<Proxy> {
        let listener = listen(0).await;
        let port = listener.local_addr().unwrap().port();
        let proxy = Arc::new(Proxy {
            port,
            mode: watch::channel(Mode::Pass).0,
            cuts: watch::channel(0).0,
            task: Mutex::new(None),
            upstream,
        });
        proxy.serve(listener);
        proxy
    }

    /// Sets the mode; `Refuse` closes the port and cuts every connection, and leaving it
    /// opens the port again.
    pub async fn set(&self, mode: Mode) {
        let was = *self.mode.borrow();
        self.mode.send_replace(mode);
        if mode == Mode::Refuse && was != Mode::Refuse {
            let task = self.task.lock().unwrap().take();
            if let Some(task) = task {
                task.abort();
                let _ = task.await;
            }
            self.cut();
        } else if was == Mode::Refuse && mode != Mode::Refuse {
            self.serve(listen(self.port).await);
        }
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        self.cuts.send_modify(|n| *n += 1);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (mode, cuts, upstream) = (self.mode.subscribe(), self.cuts.subscribe(), self.upstream);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (mode, cuts) = (mode.clone(), cuts.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    carry(client, server, mode, cuts).await;
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
        self.cuts.send_modify(|n| *n += 1);
    }
}

/// A listener on `port` of the loopback interface (0: any), reusable at once after a close.
async fn listen(port: u16) -> tokio::net::TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap();
    socket.listen(128).unwrap()
}

/// Carries one connection until either side closes or the connection is cut.
async fn carry(
    mut client: TcpStream,
    mut server: TcpStream,
    mut mode: watch::Receiver<Mode>,
    mut cuts: watch::Receiver<u64>,
) {
    // Only cuts from now on end this connection.
    cuts.borrow_and_update();
    mode.borrow_and_update();
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    let mut losing = false;
    loop {
        if *mode.borrow() == Mode::Stall {
            tokio::select! {
                _ = mode.changed() => continue,
                _ = cuts.changed() => return,
            }
        }
        tokio::select! {
            n = cr.read(&mut up) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if let Mode::LoseRepliesAfter(p) = *mode.borrow() {
                        losing |= up[..n].windows(p.len()).any(|w| w == p);
                    }
                    if sw.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
            },
            n = sr.read(&mut down) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let lose = losing || *mode.borrow() == Mode::LoseReplies;
                    if !lose && cw.write_all(&down[..n]).await.is_err() {
                        return;
                    }
                }
            },
            _ = mode.changed() => {}
            _ = cuts.changed() => return,
        }
    }
}

/// The `host:port` of a database URL, and the same URL through a proxy on `port`.
pub fn through(url: &str, port: u16) -> (SocketAddr, String) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host = &authority[host_start..];
    let addr: SocketAddr = host
        .replace("localhost", "127.0.0.1")
        .parse()
        .unwrap_or_else(|e| panic!("`{host}` of {url} is not an IP and port: {e}"));
    let proxied = format!(
        "{}{}127.0.0.1:{port}{}",
        &url[..start],
        &authority[..host_start],
        &rest[authority_end..]
    );
    (addr, proxied)
}
