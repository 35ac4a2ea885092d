//! What a listening socket shares with its connections: the socket's kind and limits, the
//! table of peers that completed their handshake with their outboxes, the admission of new
//! connections and the bytes held against the socket's budget. The socket's accept loop (`socket.rs`) and each
//! connection's threads (`connection.rs`) both work on a [`Shared`].

use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::admission::Admission;
use super::codec::Limits;
use super::subscriptions::Subscriptions;
use super::{
    ECHO_QUEUE_BYTES, HANDSHAKE_TIMEOUT, MAX_COMMAND, MAX_CONNECTIONS, MAX_FRAMES, MAX_MESSAGE,
    MAX_SMALL_MESSAGE, QUEUE_BYTES, QUEUE_MESSAGES, SOCKET_BUDGET, STALL_TIMEOUT,
};
use crate::kernel::log;

/// A ROUTER's received message and the bytes it counts in the budget.
pub(super) type Delivery = (Received, usize);

/// One connection of a socket, as the kernel names it to [`RouterSocket::vouch`] for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerId(pub(super) u64);

/// A message a ROUTER received.
#[derive(Debug)]
pub struct Received {
    /// The sending peer's routing identity, then the message's frames.
    pub frames: Vec<Bytes>,
    /// The connection it came on.
    pub from: PeerId,
}

/// The socket types this transport implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Router,
    Pub,
    Rep,
}

impl Kind {
    /// The name in READY's `Socket-Type`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Router => "ROUTER",
            Kind::Pub => "PUB",
            Kind::Rep => "REP",
        }
    }

    /// Whether a peer announcing `socket_type` may talk to this socket (ZMTP's table).
    pub(super) fn accepts(self, socket_type: &[u8]) -> bool {
        let peers: &[&[u8]] = match self {
            Kind::Router => &[b"DEALER", b"REQ", b"ROUTER"],
            Kind::Pub => &[b"SUB", b"XSUB"],
            Kind::Rep => &[b"REQ", b"DEALER"],
        };
        peers.contains(&socket_type)
    }

    /// The most bytes queued for one peer: little for echoes, which a REQ waits for.
    fn queue_bytes(self) -> usize {
        match self {
            Kind::Router | Kind::Pub => QUEUE_BYTES,
            Kind::Rep => ECHO_QUEUE_BYTES,
        }
    }

    /// What one peer may send: full-size messages only where Jupyter sends requests.
    pub(super) fn limits(self) -> Limits {
        let max_message = match self {
            Kind::Router => MAX_MESSAGE,
            Kind::Pub | Kind::Rep => MAX_SMALL_MESSAGE,
        };
        Limits {
            max_message,
            max_frames: MAX_FRAMES,
            max_command: MAX_COMMAND,
        }
    }
}

/// How long peers may take and how much they may make a socket hold: [`HANDSHAKE_TIMEOUT`],
/// [`STALL_TIMEOUT`], [`SOCKET_BUDGET`] (smaller in tests).
#[derive(Clone, Copy, Debug)]
pub(super) struct Bounds {
    /// From the connection to the peer's READY.
    pub(super) handshake: Duration,
    /// Silence in the middle of a message.
    pub(super) stall: Duration,
    /// Bytes of unfinished or undelivered messages, all peers together.
    pub(super) budget: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            handshake: HANDSHAKE_TIMEOUT,
            stall: STALL_TIMEOUT,
            budget: SOCKET_BUDGET,
        }
    }
}

/// A connection's queue of encoded messages for its writing thread, bounded like a ZeroMQ
/// high-water mark: a full queue refuses more instead of blocking the sender.
#[derive(Clone)]
pub(super) struct Outbox {
    tx: SyncSender<Bytes>,
    queued: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl Outbox {
    /// An empty outbox for a peer of a `kind` socket and the receiving end its writer drains
    /// (calling [`Outbox::written`]).
    pub(super) fn new(kind: Kind) -> (Self, Receiver<Bytes>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_MESSAGES);
        let queued = Arc::new(AtomicUsize::new(0));
        let max_bytes = kind.queue_bytes();
        (
            Self {
                tx,
                queued,
                max_bytes,
            },
            rx,
        )
    }

    /// Queues `wire` unless the queue is full (by messages, or by bytes when not empty);
    /// whether it was queued.
    pub(super) fn push(&self, wire: Bytes) -> bool {
        let len = wire.len();
        let before = self.queued.fetch_add(len, Ordering::SeqCst);
        if before > 0 && before + len > self.max_bytes {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            return false;
        }
        if self.tx.try_send(wire).is_err() {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// The writer is done with `len` queued bytes (written, or abandoned).
    pub(super) fn written(queued: &AtomicUsize, len: usize) {
        queued.fetch_sub(len, Ordering::SeqCst);
    }

    /// The byte counter the writer decrements.
    pub(super) fn counter(&self) -> Arc<AtomicUsize> {
        self.queued.clone()
    }

    fn is_empty(&self) -> bool {
        self.queued.load(Ordering::SeqCst) == 0
    }
}

/// A peer that completed its handshake.
pub(super) struct Peer {
    id: u64,
    /// Its address, for log lines.
    addr: String,
    /// A ROUTER peer's routing identity (empty for other sockets).
    pub(super) identity: Bytes,
    outbox: Outbox,
    /// A PUB peer's subscriptions.
    pub(super) subscriptions: Subscriptions,
    /// Whether messages to it are being dropped (logged once per episode).
    dropping: bool,
}

impl Peer {
    /// Queues `wire` for this peer, logging when it starts to drop messages.
    pub(super) fn offer(&mut self, wire: Bytes, channel: &'static str) {
        if self.outbox.push(wire) {
            self.dropping = false;
        } else if !self.dropping {
            self.dropping = true;
            log::line(
                channel,
                "peers not reading",
                &format!("{} is not reading; dropping messages to it", self.addr),
            );
        }
    }
}

/// What a socket's accept loop, its connections and its handle share.
pub(super) struct Shared {
    pub(super) kind: Kind,
    /// The Jupyter channel's name in log lines (`shell`, `iopub`, ...).
    pub(super) channel: &'static str,
    pub(super) bounds: Bounds,
    peers: Mutex<Vec<Peer>>,
    /// Every open connection, handshakes included, and what closes it.
    admission: Mutex<Admission<TcpStream>>,
    /// Bytes of unfinished or undelivered messages, counted against `bounds.budget`.
    pub(super) held: AtomicUsize,
    /// Connection threads still running (those closed to admit a newcomer included).
    pub(super) threads: AtomicUsize,
    pub(super) next_id: AtomicU64,
    /// Where a ROUTER's connections deliver what they receive (with the bytes it holds).
    incoming: Option<SyncSender<Delivery>>,
}

impl Shared {
    /// The state of a new socket of `kind`: no peers, no connections, nothing held.
    pub(super) fn new(
        kind: Kind,
        channel: &'static str,
        bounds: Bounds,
        incoming: Option<SyncSender<Delivery>>,
    ) -> Self {
        Shared {
            kind,
            channel,
            bounds,
            peers: Mutex::new(Vec::new()),
            admission: Mutex::new(Admission::new(MAX_CONNECTIONS)),
            held: AtomicUsize::new(0),
            threads: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            incoming,
        }
    }

    pub(super) fn peers(&self) -> MutexGuard<'_, Vec<Peer>> {
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn admission(&self) -> MutexGuard<'_, Admission<TcpStream>> {
        self.admission.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Vouches for connection `id` (`admission.rs`; nothing if it has closed since).
    pub(super) fn vouch(&self, id: u64) {
        self.admission().vouch(id);
    }

    /// One line on the kernel's stderr about this socket, about `kind` (see `log.rs`).
    pub(super) fn log(&self, kind: &'static str, message: &str) {
        log::line(self.channel, kind, message);
    }

    /// Adds connection `id`'s peer, whose READY was accepted. For a ROUTER, `identity` is
    /// the one it announced (empty: one is generated, as libzmq does: a zero octet and a
    /// counter). Returns the peer's routing identity, or why it is refused.
    pub(super) fn register(
        &self,
        id: u64,
        addr: &str,
        identity: &[u8],
        outbox: Outbox,
    ) -> Result<Bytes, String> {
        let identity = match (self.kind, identity) {
            (Kind::Pub | Kind::Rep, _) => Bytes::new(),
            (Kind::Router, []) => {
                let mut generated = vec![0u8];
                generated.extend_from_slice(&(id as u32).to_be_bytes());
                Bytes::from(generated)
            }
            (Kind::Router, [0, ..]) => {
                return Err("identities starting with a zero octet are reserved".into());
            }
            (Kind::Router, named) if named.len() > 255 => {
                return Err(format!(
                    "an identity of {} octets (255 at most)",
                    named.len()
                ));
            }
            (Kind::Router, named) => Bytes::copy_from_slice(named),
        };
        let mut peers = self.peers();
        if self.kind == Kind::Router && peers.iter().any(|p| p.identity == identity) {
            return Err(format!(
                "identity \"{}\" is in use by another connection",
                identity.escape_ascii()
            ));
        }
        peers.push(Peer {
            id,
            addr: addr.to_string(),
            identity: identity.clone(),
            outbox,
            subscriptions: Subscriptions::default(),
            dropping: false,
        });
        Ok(identity)
    }

    /// Removes the peer `id` (its connection closed).
    pub(super) fn unregister(&self, id: u64) {
        self.peers().retain(|p| p.id != id);
    }

    /// Runs `f` on the subscriptions of peer `id`.
    pub(super) fn subscriptions<T>(
        &self,
        id: u64,
        f: impl FnOnce(&mut Subscriptions) -> T,
    ) -> Option<T> {
        self.peers()
            .iter_mut()
            .find(|p| p.id == id)
            .map(|p| f(&mut p.subscriptions))
    }

    /// Counts `bytes` more against the socket's budget; false when that goes over it (the
    /// bytes are counted either way, and must be released).
    pub(super) fn hold(&self, bytes: usize) -> bool {
        self.held.fetch_add(bytes, Ordering::SeqCst) + bytes <= self.bounds.budget
    }

    /// Releases `bytes` counted by [`Shared::hold`].
    pub(super) fn release(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::SeqCst);
    }

    /// Hands a ROUTER's message received on connection `id` (identity first) to the kernel,
    /// waiting while the kernel is behind (the peer's TCP window then fills, slowing it
    /// down). The `held` bytes it counts in the budget are released when the kernel takes it.
    pub(super) fn deliver(&self, id: u64, frames: Vec<Bytes>, held: usize) {
        match &self.incoming {
            Some(incoming) => {
                let received = Received {
                    frames,
                    from: PeerId(id),
                };
                // Fails only once the kernel is shutting down and receives nothing more.
                if incoming.send((received, held)).is_err() {
                    self.release(held);
                }
            }
            None => self.release(held),
        }
    }

    /// Waits until every peer's outbox is written, or `timeout` passes.
    pub(super) fn flush(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && !self.peers().iter().all(|p| p.outbox.is_empty()) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
