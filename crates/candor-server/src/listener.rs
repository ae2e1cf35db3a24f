//! The service's listener, bounded: at most so many connections in all and from one address
//! (the rest are closed at once, not left to fill the backlog or the process's file
//! descriptors), each dropped when it has been idle too long — sending or receiving nothing, as a
//! slow or stalled client does — or has lived longer than a connection may.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// How many connections, from where, for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_connections: usize,
    pub per_address: u32,
    /// Longest a connection may go without a byte either way.
    pub idle: Duration,
    /// Longest a connection may live; a client reconnects after.
    pub lifetime: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            per_address: 64,
            idle: Duration::from_secs(20),
            lifetime: Duration::from_secs(300),
        }
    }
}

type Counts = Arc<Mutex<HashMap<IpAddr, u32>>>;

/// A TCP listener that keeps to [`Limits`].
pub struct Bounded {
    inner: TcpListener,
    limits: Limits,
    open: Arc<Semaphore>,
    per_address: Counts,
}

impl Bounded {
    pub fn new(inner: TcpListener, limits: Limits) -> Bounded {
        Bounded {
            inner,
            limits,
            open: Arc::new(Semaphore::new(limits.max_connections)),
            per_address: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A place for a connection from `ip`, if it is under both caps.
    fn admit(&self, ip: IpAddr) -> Option<(OwnedSemaphorePermit, Slot)> {
        let permit = self.open.clone().try_acquire_owned().ok()?;
        let mut counts = self.per_address.lock().ok()?;
        let n = counts.entry(ip).or_insert(0);
        if *n >= self.limits.per_address {
            return None;
        }
        *n += 1;
        Some((permit, Slot { ip, counts: self.per_address.clone() }))
    }
}

/// A connection's place in its address's count, given back when it closes.
struct Slot {
    ip: IpAddr,
    counts: Counts,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut counts) = self.counts.lock() {
            if let Some(n) = counts.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    counts.remove(&self.ip);
                }
            }
        }
    }
}

impl axum::serve::Listener for Bounded {
    type Io = Connection;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Connection, SocketAddr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, or a connection reset before it was accepted: wait a
                    // little and go on, as a server must.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.admit(addr.ip()) {
                Some((permit, slot)) => return (Connection::new(stream, self.limits, permit, slot), addr),
                None => drop(stream),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An admitted connection: the stream, and the timer that ends it when idle or too old.
pub struct Connection {
    stream: TcpStream,
    idle: Duration,
    ends: Instant,
    timer: Pin<Box<Sleep>>,
    _permit: OwnedSemaphorePermit,
    _slot: Slot,
}

impl Connection {
    fn new(stream: TcpStream, limits: Limits, permit: OwnedSemaphorePermit, slot: Slot) -> Connection {
        let now = Instant::now();
        let ends = now + limits.lifetime;
        let timer = Box::pin(tokio::time::sleep_until((now + limits.idle).min(ends)));
        Connection { stream, idle: limits.idle, ends, timer, _permit: permit, _slot: slot }
    }

    /// Something moved: the idle time starts again (never past the connection's end).
    fn moved(&mut self) {
        let next = (Instant::now() + self.idle).min(self.ends);
        self.timer.as_mut().reset(next);
    }

    /// While the stream waits: whether the connection's time is up.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.timer.as_mut().poll(cx).is_ready()
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long or lived too long")
}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.moved();
                Poll::Ready(r)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The caller's address, as handlers see it (`ConnectInfo<Peer>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, Bounded>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, Bounded>) -> Peer {
        Peer(*stream.remote_addr())
    }
}
