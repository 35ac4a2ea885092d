//! One accepted connection: the greeting and NULL handshake under a deadline, then this
//! thread reads and decodes while a second thread writes the peer's outbox.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;
use std::time::Instant;

use bytes::Bytes;

use super::ZmtpError;
use super::admission::Activity;
use super::codec::{self, Decoder, Event, Metadata};
use super::shared::{Kind, Outbox, Shared};

/// Bytes read from the socket at a time.
const READ_CHUNK: usize = 64 << 10;

/// Why a connection ended early.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The peer broke the protocol or a limit, or was refused.
    #[error(transparent)]
    Protocol(#[from] ZmtpError),
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Failure {
    /// What the log line about it is about (lines of one kind are limited together).
    fn kind(&self) -> &'static str {
        match self {
            Failure::Protocol(ZmtpError::Greeting(_)) => "bad greetings",
            Failure::Protocol(ZmtpError::Handshake(_)) => "bad handshakes",
            Failure::Protocol(ZmtpError::Frame(_)) => "bad frames",
            Failure::Protocol(ZmtpError::Command(_)) => "bad commands",
            Failure::Protocol(ZmtpError::TooLarge(_)) => "limits broken",
            Failure::Protocol(ZmtpError::PeerError(_)) => "errors from peers",
            Failure::Protocol(ZmtpError::Refused(_)) => "refused peers",
            Failure::Protocol(ZmtpError::Timeout(_)) => "timeouts",
            Failure::Io(_) => "socket errors",
        }
    }
}

/// The peer, once its READY was accepted.
struct Registered {
    identity: Bytes,
    outbox: Outbox,
    writer: JoinHandle<()>,
}

/// Serves the connection `id` of the socket `shared` on `stream` until it closes, telling
/// `activity` whenever it reads; problems are logged in one line.
pub(super) fn serve(stream: TcpStream, shared: &Shared, id: u64, activity: &Activity) {
    let addr = stream
        .peer_addr()
        .map_or_else(|_| "a peer".to_string(), |a| a.to_string());
    let mut connection = Connection {
        decoder: Decoder::new(shared.kind.limits()),
        stream,
        shared,
        id,
        activity,
        addr,
        peer: None,
        vouched: false,
        held: 0,
    };
    let result = connection.run();
    connection.close();
    match result {
        // A peer that goes away is no news, whenever it does.
        Ok(()) => {}
        Err(Failure::Io(err)) if is_disconnect(&err) => {}
        Err(err) => shared.log(
            err.kind(),
            &format!("{}: {err}; connection closed", connection.addr),
        ),
    }
}

/// Whether `err` only says that the peer closed or reset the connection.
fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

struct Connection<'a> {
    stream: TcpStream,
    shared: &'a Shared,
    /// The connection's id in its socket.
    id: u64,
    /// When it was last heard from, for the socket's admission of newcomers.
    activity: &'a Activity,
    addr: String,
    decoder: Decoder,
    peer: Option<Registered>,
    /// Whether the socket vouched for it already (IOPub: it subscribed; heartbeat: it
    /// pinged; on a ROUTER the kernel vouches, after a signed message).
    vouched: bool,
    /// Bytes this connection counts in the socket's budget: its decoder's buffers and the
    /// messages decoded but not yet handled.
    held: usize,
}

impl Connection<'_> {
    /// Greets, then reads until the peer closes (`Ok`) or fails.
    fn run(&mut self) -> Result<(), Failure> {
        self.stream.set_nodelay(true)?;
        let bounds = self.shared.bounds;
        self.stream.set_write_timeout(Some(bounds.handshake))?;
        self.stream.write_all(&codec::greeting())?;
        let deadline = Instant::now() + bounds.handshake;
        let mut chunk = vec![0u8; READ_CHUNK];
        let mut events = Vec::new();
        loop {
            let timeout = if self.peer.is_some() {
                bounds.stall
            } else {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(ZmtpError::Timeout(format!(
                        "no greeting and READY within {:?}",
                        bounds.handshake
                    ))
                    .into());
                }
                left
            };
            self.stream.set_read_timeout(Some(timeout))?;
            let n = match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if self.peer.is_some() && !self.decoder.between_messages() {
                        return Err(ZmtpError::Timeout(format!(
                            "silent for {:?} in the middle of a message",
                            bounds.stall
                        ))
                        .into());
                    }
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            self.activity.touch();
            self.decoder.decode(&chunk[..n], &mut events)?;
            let messages: usize = events.iter().map(message_bytes).sum();
            self.hold(self.decoder.buffered() + messages)?;
            for event in events.drain(..) {
                let bytes = message_bytes(&event);
                self.handle(event, bytes)?;
                // Handled, or delivered to the kernel, which releases it when taking it.
                self.held -= bytes;
                if self.shared.kind != Kind::Router {
                    self.shared.release(bytes);
                }
            }
        }
    }

    /// Counts `bytes` in the socket's budget for this connection from now on.
    fn hold(&mut self, bytes: usize) -> Result<(), ZmtpError> {
        let within = if bytes >= self.held {
            self.shared.hold(bytes - self.held)
        } else {
            self.shared.release(self.held - bytes);
            true
        };
        self.held = bytes;
        if within {
            Ok(())
        } else {
            Err(ZmtpError::TooLarge(format!(
                "the {} socket's peers hold more than {} bytes of unfinished messages",
                self.shared.channel, self.shared.bounds.budget
            )))
        }
    }

    /// Acts on `event`; a ROUTER hands a message with its `bytes` (counted in the budget) to
    /// the kernel, which releases them when it takes the message.
    fn handle(&mut self, event: Event, bytes: usize) -> Result<(), Failure> {
        let Some(peer) = &self.peer else {
            // The decoder yields nothing but READY before the handshake.
            return match event {
                Event::Ready(metadata) => self.ready(&metadata),
                _ => Err(ZmtpError::Handshake("traffic before READY".into()).into()),
            };
        };
        match (self.shared.kind, event) {
            (_, Event::Ready(_)) => {
                return Err(ZmtpError::Handshake("a second READY command".into()).into());
            }
            (_, Event::Ping(context)) => {
                peer.outbox.push(Bytes::from(codec::pong(&context)));
            }
            (Kind::Router, Event::Message(frames)) => {
                let mut routed = Vec::with_capacity(frames.len() + 1);
                routed.push(peer.identity.clone());
                routed.extend(frames);
                self.shared.deliver(self.id, routed, bytes);
            }
            (Kind::Rep, Event::Message(frames)) => {
                peer.outbox.push(codec::message(&frames));
                self.vouch();
            }
            (Kind::Pub, Event::Message(frames)) => {
                self.subscriptions(|s| s.apply_message(&frames))?;
                if let [only] = &frames[..]
                    && only.first() == Some(&1)
                {
                    self.vouch();
                }
            }
            (Kind::Pub, Event::Subscribe(prefix)) => {
                self.subscriptions(|s| s.subscribe(&prefix))?;
                self.vouch();
            }
            (Kind::Pub, Event::Cancel(prefix)) => {
                self.subscriptions(|s| {
                    s.cancel(&prefix);
                    Ok(())
                })?;
            }
            // Subscriptions mean nothing to a ROUTER or REP.
            (Kind::Router | Kind::Rep, Event::Subscribe(_) | Event::Cancel(_)) => {}
        }
        Ok(())
    }

    /// The peer did what a client of this socket does (a ping, a subscription): from now on
    /// it is closed to admit a newcomer only once every connection is vouched for.
    fn vouch(&mut self) {
        if !std::mem::replace(&mut self.vouched, true) {
            self.shared.vouch(self.id);
        }
    }

    fn subscriptions(
        &self,
        f: impl FnOnce(&mut super::subscriptions::Subscriptions) -> Result<(), ZmtpError>,
    ) -> Result<(), ZmtpError> {
        self.shared.subscriptions(self.id, f).unwrap_or(Ok(()))
    }

    /// The peer's READY: check its socket type, register it, answer READY, start writing.
    fn ready(&mut self, metadata: &Metadata) -> Result<(), Failure> {
        let kind = self.shared.kind;
        let socket_type = metadata.get("Socket-Type").unwrap_or_default();
        if !kind.accepts(socket_type) {
            return self.refuse(format!(
                "a {} socket does not talk to a \"{}\" peer",
                kind.name(),
                socket_type.escape_ascii()
            ));
        }
        let identity = metadata.get("Identity").unwrap_or_default();
        let (outbox, queue) = Outbox::new(kind);
        let registered = self
            .shared
            .register(self.id, &self.addr, identity, outbox.clone());
        let identity = match registered {
            Ok(registered) => registered,
            Err(reason) => return self.refuse(reason),
        };
        // Registered before READY goes out, so a refusal (a taken identity) can still be an
        // ERROR; messages queued meanwhile wait for the writer, which starts after READY.
        let started = self.start_writer(kind, queue, outbox.counter());
        match started {
            Ok(writer) => {
                self.peer = Some(Registered {
                    identity,
                    outbox,
                    writer,
                });
                Ok(())
            }
            Err(err) => {
                self.shared.unregister(self.id);
                Err(err.into())
            }
        }
    }

    /// Sends READY, then hands the socket's writing side to a thread draining `queue`.
    fn start_writer(
        &mut self,
        kind: Kind,
        queue: Receiver<Bytes>,
        queued: Arc<AtomicUsize>,
    ) -> io::Result<JoinHandle<()>> {
        self.stream.write_all(&codec::ready(kind.name()))?;
        // From now on a peer that does not read only fills its outbox.
        self.stream.set_write_timeout(None)?;
        let stream = self.stream.try_clone()?;
        std::thread::Builder::new()
            .name(format!("zmtp-{}-write", self.shared.channel))
            .spawn(move || write_loop(stream, &queue, &queued))
    }

    /// Tells the peer why it is refused (an ERROR command) and ends the connection.
    fn refuse(&mut self, reason: String) -> Result<(), Failure> {
        // The peer may already be gone; the refusal is logged either way.
        let _ = self.stream.write_all(&codec::error(&reason));
        Err(ZmtpError::Refused(reason).into())
    }

    /// Unregisters the peer, releases its budget, closes the socket and waits for the writer.
    fn close(&mut self) {
        self.shared.release(std::mem::take(&mut self.held));
        let peer = self.peer.take();
        if peer.is_some() {
            self.shared.unregister(self.id);
        }
        // Also wakes a writer blocked on a peer that does not read.
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(Registered { outbox, writer, .. }) = peer {
            // The last sender goes, so an idle writer's queue ends too.
            drop(outbox);
            let _ = writer.join();
        }
    }
}

/// The bytes of `event` if it is a message.
fn message_bytes(event: &Event) -> usize {
    match event {
        Event::Message(frames) => frames.iter().map(Bytes::len).sum(),
        _ => 0,
    }
}

/// Writes queued messages in order until the queue closes or the socket fails.
fn write_loop(mut stream: TcpStream, queue: &Receiver<Bytes>, queued: &AtomicUsize) {
    for wire in queue.iter() {
        let result = stream.write_all(&wire);
        Outbox::written(queued, wire.len());
        if result.is_err() {
            let _ = stream.shutdown(Shutdown::Both);
            break;
        }
    }
    for wire in queue.try_iter() {
        Outbox::written(queued, wire.len());
    }
}
