//! The listening sockets: an accept loop per socket (a full socket closes a connection to
//! admit a newcomer, `admission.rs`) and the sockets the kernel uses; what a socket shares
//! with its connections (peers, rules) is in `shared.rs`.

use std::io;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::codec;
use super::shared::{Bounds, Delivery, Kind, PeerId, Received, Shared};
use super::{MAX_CONNECTIONS, connection};

/// Received messages a ROUTER holds before its connections wait for the kernel to take them
/// (their bytes count in the socket's budget until taken).
const INCOMING_MESSAGES: usize = 16;

/// The most connection threads of one socket, those of connections closed to admit a
/// newcomer and not finished yet included; beyond it newcomers are refused until some end.
const MAX_THREADS: usize = 2 * MAX_CONNECTIONS;

/// A connection's thread: counted while it runs, its slot freed when it ends.
struct Open {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.shared.admission().remove(self.id);
        self.shared.threads.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Binds `host:port` and starts the accept loop of a socket of `kind`.
fn bind(
    kind: Kind,
    channel: &'static str,
    host: &str,
    port: u16,
    incoming: Option<SyncSender<Delivery>>,
) -> io::Result<Arc<Shared>> {
    let listener = TcpListener::bind((host, port))?;
    serve(listener, kind, channel, incoming, Bounds::default())
}

/// Starts the accept loop of a socket of `kind` on `listener`.
fn serve(
    listener: TcpListener,
    kind: Kind,
    channel: &'static str,
    incoming: Option<SyncSender<Delivery>>,
    bounds: Bounds,
) -> io::Result<Arc<Shared>> {
    let shared = Arc::new(Shared::new(kind, channel, bounds, incoming));
    let accepting = shared.clone();
    std::thread::Builder::new()
        .name(format!("zmtp-{channel}"))
        .spawn(move || accept_loop(&listener, &accepting))?;
    Ok(shared)
}

/// Accepts connections for ever, each served on its own thread (see [`admit`]), refusing
/// them only while [`MAX_THREADS`] connection threads are still running.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let (mut refusing, mut failing) = (false, false);
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                if !failing {
                    shared.log(
                        "failed accepts",
                        &format!("accepting a connection failed: {err}"),
                    );
                }
                failing = true;
                // Out of descriptors, say: give the open connections time to end.
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        failing = false;
        if shared.threads.load(Ordering::SeqCst) >= MAX_THREADS {
            if !refusing {
                shared.log(
                    "refused connections",
                    &format!(
                        "{MAX_THREADS} connections are still open or closing; refusing more \
                         until some have closed"
                    ),
                );
            }
            refusing = true;
            continue;
        }
        refusing = false;
        admit(shared, stream);
    }
}

/// Serves `stream` on a thread of its own; when the socket is full, first closes the
/// connection its admission table names (`admission.rs`).
fn admit(shared: &Arc<Shared>, stream: TcpStream) {
    // Either fails only when the peer is already gone or descriptors ran out.
    let (Ok(addr), Ok(handle)) = (stream.peer_addr(), stream.try_clone()) else {
        return;
    };
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let (activity, evicted) = shared.admission().admit(id, addr, handle);
    if let Some(evicted) = evicted {
        // Its thread sees the end of the stream and ends, freeing its peer's identity.
        let _ = evicted.handle.shutdown(Shutdown::Both);
        // What vouches for a connection on this socket.
        let proof = match shared.kind {
            Kind::Router => "sent a signed message",
            Kind::Pub => "subscribed",
            Kind::Rep => "sent a ping",
        };
        let why = if evicted.vouched {
            format!("every connection has {proof}; this one was heard from least recently")
        } else {
            format!(
                "of the {} connections from its address that never {proof}, the one heard \
                 from least recently",
                evicted.from_source
            )
        };
        shared.log(
            "connections closed for newcomers",
            &format!(
                "{MAX_CONNECTIONS} connections are open; to admit {addr}, closed {} ({why})",
                evicted.addr
            ),
        );
    }
    shared.threads.fetch_add(1, Ordering::SeqCst);
    let open = Open {
        shared: shared.clone(),
        id,
    };
    let spawned = std::thread::Builder::new()
        .name(format!("zmtp-{}-conn", shared.channel))
        .spawn(move || connection::serve(stream, &open.shared, open.id, &activity));
    if let Err(err) = spawned {
        shared.log(
            "failed accepts",
            &format!("cannot start a connection thread: {err}"),
        );
    }
}

/// A ROUTER socket: receives from any peer (the peer's identity first), sends to the peer
/// a message's first frame names.
#[derive(Clone)]
pub struct RouterSocket {
    shared: Arc<Shared>,
    incoming: Arc<Mutex<Receiver<Delivery>>>,
}

impl RouterSocket {
    /// Binds a ROUTER on `host:port` (`channel` names it in log lines).
    pub fn bind(channel: &'static str, host: &str, port: u16) -> io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel(INCOMING_MESSAGES);
        Ok(Self {
            shared: bind(Kind::Router, channel, host, port, Some(tx))?,
            incoming: Arc::new(Mutex::new(rx)),
        })
    }

    /// The next message from any peer (its identity, then its frames) and the connection it
    /// came on. Blocks until one arrives.
    pub fn recv(&self) -> Option<Received> {
        let incoming = self.incoming.lock().unwrap_or_else(|e| e.into_inner());
        let (received, held) = incoming.recv().ok()?;
        self.shared.release(held);
        Some(received)
    }

    /// Vouches for the connection `peer`: it delivered a correctly signed message, so it is
    /// closed to admit a newcomer only once every connection of this socket is vouched for
    /// (nothing if it has closed since).
    pub fn vouch(&self, peer: PeerId) {
        self.shared.vouch(peer.0);
    }

    /// Sends `frames[1..]` to the peer whose identity is `frames[0]`; dropped when no such
    /// peer is connected (it left) or its queue is full.
    pub fn send(&self, frames: &[Bytes]) {
        let Some((identity, message)) = frames.split_first() else {
            return;
        };
        if message.is_empty() {
            return;
        }
        let wire = codec::message(message);
        let mut peers = self.shared.peers();
        if let Some(peer) = peers.iter_mut().find(|p| p.identity == identity) {
            peer.offer(wire, self.shared.channel);
        }
    }

    /// Waits up to `timeout` for everything queued to be written.
    pub fn flush(&self, timeout: Duration) {
        self.shared.flush(timeout);
    }
}

/// A PUB socket: sends each message to the peers subscribed to a prefix of its first frame.
#[derive(Clone)]
pub struct PubSocket {
    shared: Arc<Shared>,
}

impl PubSocket {
    /// Binds a PUB on `host:port` (`channel` names it in log lines).
    pub fn bind(channel: &'static str, host: &str, port: u16) -> io::Result<Self> {
        Ok(Self {
            shared: bind(Kind::Pub, channel, host, port, None)?,
        })
    }

    /// Sends `frames` (the first is the topic) to every matching subscriber that keeps up.
    pub fn send(&self, frames: &[Bytes]) {
        let Some(topic) = frames.first() else {
            return;
        };
        let wire = codec::message(frames);
        let mut peers = self.shared.peers();
        for peer in peers.iter_mut().filter(|p| p.subscriptions.matches(topic)) {
            peer.offer(wire.clone(), self.shared.channel);
        }
    }

    /// Waits up to `timeout` for everything queued to be written.
    pub fn flush(&self, timeout: Duration) {
        self.shared.flush(timeout);
    }
}

/// A REP socket that answers every request with the request itself: the heartbeat.
pub struct RepSocket;

impl RepSocket {
    /// Binds an echoing REP on `host:port` (`channel` names it in log lines); it serves
    /// until the process ends.
    pub fn bind(channel: &'static str, host: &str, port: u16) -> io::Result<()> {
        bind(Kind::Rep, channel, host, port, None).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::super::shared::Outbox;
    use super::super::{ECHO_QUEUE_BYTES, QUEUE_BYTES, QUEUE_MESSAGES, SOCKET_BUDGET};
    use super::*;

    #[test]
    fn socket_types_pair_as_zmtp_says() {
        assert!(Kind::Router.accepts(b"DEALER") && Kind::Router.accepts(b"REQ"));
        assert!(!Kind::Router.accepts(b"SUB") && !Kind::Router.accepts(b"dealer"));
        assert!(Kind::Pub.accepts(b"SUB") && Kind::Pub.accepts(b"XSUB"));
        assert!(!Kind::Pub.accepts(b"PUB"));
        assert!(Kind::Rep.accepts(b"REQ") && !Kind::Rep.accepts(b"ROUTER"));
        assert!(Kind::Pub.limits().max_message < Kind::Router.limits().max_message);
    }

    #[test]
    fn an_outbox_refuses_instead_of_blocking() {
        let (outbox, rx) = Outbox::new(Kind::Pub);
        for _ in 0..QUEUE_MESSAGES {
            assert!(outbox.push(Bytes::from_static(b"m")));
        }
        assert!(!outbox.push(Bytes::from_static(b"m")), "the queue is full");
        assert_eq!(outbox.counter().load(Ordering::SeqCst), QUEUE_MESSAGES);
        let first = rx.recv().unwrap();
        Outbox::written(&outbox.counter(), first.len());
        assert!(outbox.push(Bytes::from_static(b"m")));
        drop(rx);
        assert!(!outbox.push(Bytes::from_static(b"m")), "the writer is gone");

        // By bytes: one large message alone is queued, a second one is not.
        let (outbox, _rx) = Outbox::new(Kind::Pub);
        let big = Bytes::from(vec![0u8; QUEUE_BYTES]);
        assert!(outbox.push(big.clone()));
        assert!(!outbox.push(Bytes::from_static(b"m")));
        // Echoes to a heartbeat peer that does not read stop at 1 MiB.
        let (outbox, _rx) = Outbox::new(Kind::Rep);
        let ping = Bytes::from(vec![0u8; 64 << 10]);
        let queued = (0..100).filter(|_| outbox.push(ping.clone())).count();
        assert_eq!(queued, ECHO_QUEUE_BYTES / ping.len());
    }

    /// A REP serving on a local port with short timeouts, and a connected REQ client that
    /// completed the handshake.
    fn rep_and_client(bounds: Bounds) -> (Arc<Shared>, std::net::TcpStream) {
        use std::io::{Read, Write};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = serve(listener, Kind::Rep, "test", None, bounds).unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        client.write_all(&codec::greeting()).unwrap();
        client.write_all(&codec::ready("REQ")).unwrap();
        let mut theirs = vec![0u8; 64 + codec::ready("REP").len()];
        client.read_exact(&mut theirs).unwrap();
        assert_eq!(theirs[64..], codec::ready("REP"));
        (shared, client)
    }

    /// Reads until the server closes `client`; what came before.
    fn read_to_close(client: &mut std::net::TcpStream) -> Vec<u8> {
        use std::io::Read;
        let mut received = Vec::new();
        client
            .read_to_end(&mut received)
            .expect("closed by the server");
        received
    }

    #[test]
    fn an_idle_peer_stays_and_a_stalled_one_goes() {
        use std::io::{Read, Write};
        let short = Bounds {
            handshake: Duration::from_millis(300),
            stall: Duration::from_millis(100),
            budget: SOCKET_BUDGET,
        };
        let (_shared, mut client) = rep_and_client(short);
        // Idle between messages for several stall periods: still served (echoed).
        std::thread::sleep(Duration::from_millis(500));
        let ping = codec::message(&[Bytes::new(), Bytes::from_static(b"ping")]);
        client.write_all(&ping).unwrap();
        let mut echo = vec![0u8; ping.len()];
        client.read_exact(&mut echo).unwrap();
        assert_eq!(echo, ping);
        // Silent in the middle of a message: dropped.
        client.write_all(&[0x01, 5, b'a']).unwrap();
        assert!(read_to_close(&mut client).is_empty());

        // No handshake at all: dropped after the handshake timeout, greeting sent.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _shared = serve(listener, Kind::Rep, "test", None, short).unwrap();
        let mut silent = std::net::TcpStream::connect(addr).unwrap();
        silent
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        assert_eq!(read_to_close(&mut silent), codec::greeting());
    }

    /// A DEALER connected to `addr` that completed the handshake.
    fn dealer(addr: std::net::SocketAddr) -> TcpStream {
        use std::io::{Read, Write};
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(&codec::greeting()).unwrap();
        stream.write_all(&codec::ready("DEALER")).unwrap();
        let mut theirs = vec![0u8; 64 + codec::ready("ROUTER").len()];
        stream.read_exact(&mut theirs).unwrap();
        stream
    }

    #[test]
    fn a_full_router_closes_peers_it_did_not_vouch_for_to_admit_newcomers() {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(INCOMING_MESSAGES);
        let shared = serve(listener, Kind::Router, "test", Some(tx), Bounds::default()).unwrap();
        let router = RouterSocket {
            shared,
            incoming: Arc::new(Mutex::new(rx)),
        };
        let send = |stream: &mut TcpStream, body: &'static [u8]| {
            let wire = codec::message(&[Bytes::from_static(body)]);
            stream.write_all(&wire).unwrap();
        };
        // A peer whose message the kernel vouched for, and an older one it did not.
        let mut unvouched = dealer(addr);
        send(&mut unvouched, b"forged");
        assert_eq!(router.recv().unwrap().frames[1][..], *b"forged");
        let mut vouched = dealer(addr);
        send(&mut vouched, b"signed");
        let received = router.recv().unwrap();
        assert_eq!(received.frames[1][..], *b"signed");
        router.vouch(received.from);
        // Twice as many newcomers as the socket serves are all admitted...
        let newcomers: Vec<TcpStream> = (0..2 * MAX_CONNECTIONS).map(|_| dealer(addr)).collect();
        // ...by closing the others, never the peer vouched for.
        assert!(read_to_close(&mut unvouched).is_empty());
        send(&mut vouched, b"still here");
        assert_eq!(router.recv().unwrap().frames[1][..], *b"still here");
        drop(newcomers);
    }

    #[test]
    fn a_sockets_budget_bounds_what_all_its_peers_hold() {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(INCOMING_MESSAGES);
        let bounds = Bounds {
            budget: 10_000,
            ..Bounds::default()
        };
        let shared = serve(listener, Kind::Router, "test", Some(tx), bounds).unwrap();
        let router = RouterSocket {
            shared: shared.clone(),
            incoming: Arc::new(Mutex::new(rx)),
        };
        let dealer = || dealer(addr);
        let held = || shared.held.load(Ordering::SeqCst);
        // A received message counts until the kernel takes it.
        let mut a = dealer();
        a.write_all(&codec::message(&[Bytes::from(vec![1u8; 6000])]))
            .unwrap();
        while held() < 6000 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // Another peer's unfinished message would go over the budget: that peer is dropped.
        let mut b = dealer();
        b.write_all(&[0x02, 0, 0, 0, 0, 0, 0, 0x13, 0x88]).unwrap(); // 5000 bytes follow
        b.write_all(&[2u8; 4500]).unwrap();
        assert!(read_to_close(&mut b).is_empty());
        // Once the kernel took the first message, a peer may send as much again.
        assert_eq!(router.recv().unwrap().frames[1].len(), 6000);
        let mut c = dealer();
        c.write_all(&codec::message(&[Bytes::from(vec![3u8; 6000])]))
            .unwrap();
        assert_eq!(router.recv().unwrap().frames[1][..], [3u8; 6000]);
        assert_eq!(held(), 0, "everything taken is released");
        drop((a, c));
    }

    #[test]
    fn router_identities_are_unique_and_not_reserved() {
        let shared = bind(Kind::Router, "test", "127.0.0.1", 0, None).unwrap();
        let outbox = || Outbox::new(Kind::Router).0;
        let identity = shared.register(1, "a", b"alice", outbox()).unwrap();
        assert_eq!(identity, Bytes::from_static(b"alice"));
        let err = shared.register(2, "b", b"alice", outbox()).unwrap_err();
        assert!(err.contains("in use"), "{err}");
        assert!(
            shared
                .register(3, "c", b"\0x", outbox())
                .unwrap_err()
                .contains("reserved")
        );
        let generated = shared.register(4, "d", b"", outbox()).unwrap();
        assert_eq!(generated[..], [0, 0, 0, 0, 4]);
        shared.unregister(1);
        assert!(shared.register(5, "e", b"alice", outbox()).is_ok());
    }
}
