//! Who keeps a connection slot when a socket is full. A newcomer is always admitted; when
//! the socket already serves [`MAX_CONNECTIONS`](super::MAX_CONNECTIONS) connections
//! (handshakes included), one of them is closed to make room, chosen so that peers which
//! only hold slots cannot keep a legitimate client out:
//!
//! 1. connections not vouched for ([`Admission::vouch`]) go first; a vouched connection
//!    goes only when every connection of the socket is vouched for. On shell, control and
//!    stdin the kernel vouches for a connection that delivered a correctly signed message,
//!    so a peer without the key cannot close one; on IOPub (no signatures) a connection is
//!    vouched for once it subscribes, on the heartbeat once it pings, so peers that only
//!    hold slots (handshake, then silence) give way to a client's subscriber and
//!    heartbeat, even when they reconnect as libzmq sockets do;
//! 2. among those, the connections from the source with the most of them (an IPv4 address,
//!    or the /64 network of an IPv6 address, which one host usually owns whole), so a peer
//!    reconnecting from one address only ever closes its own connections while it holds
//!    more than anyone else;
//! 3. among those, the one heard from least recently (a logical clock ticks on every
//!    connection and every read, [`Activity::touch`]): of idle peers the oldest, and a
//!    heartbeat client pinging every second outlasts peers that stay silent.
//!
//! Sans I/O: the caller closes the connection it is handed back.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// When a connection was last heard from, on its socket's logical clock (later is larger).
#[derive(Clone)]
pub(super) struct Activity {
    clock: Arc<AtomicU64>,
    heard: Arc<AtomicU64>,
}

impl Activity {
    /// The connection was heard from now.
    pub(super) fn touch(&self) {
        let now = self.clock.fetch_add(1, Ordering::SeqCst);
        self.heard.store(now, Ordering::SeqCst);
    }

    fn heard(&self) -> u64 {
        self.heard.load(Ordering::SeqCst)
    }
}

/// A connection closed to make room, with what the log line about it says.
pub(super) struct Evicted<H> {
    /// The peer's address.
    pub(super) addr: SocketAddr,
    /// Whether the kernel had vouched for it (every connection of the socket was vouched).
    pub(super) vouched: bool,
    /// How many candidates its source had (see the module docs, rule 2).
    pub(super) from_source: usize,
    /// What closes it.
    pub(super) handle: H,
}

struct Entry<H> {
    id: u64,
    addr: SocketAddr,
    activity: Activity,
    vouched: bool,
    handle: H,
}

/// The open connections of one socket, each with a handle `H` that closes it.
pub(super) struct Admission<H> {
    cap: usize,
    clock: Arc<AtomicU64>,
    entries: Vec<Entry<H>>,
}

impl<H> Admission<H> {
    /// An empty table for at most `cap` connections.
    pub(super) fn new(cap: usize) -> Self {
        Self {
            cap,
            clock: Arc::default(),
            entries: Vec::new(),
        }
    }

    /// Admits connection `id` from `addr`: its activity (heard from now, for its connection
    /// to [`Activity::touch`]) and, when the socket was full, the connection that made room,
    /// removed from the table for the caller to close.
    pub(super) fn admit(
        &mut self,
        id: u64,
        addr: SocketAddr,
        handle: H,
    ) -> (Activity, Option<Evicted<H>>) {
        let evicted = if self.entries.len() >= self.cap {
            self.victim().map(|(index, from_source)| {
                let entry = self.entries.remove(index);
                Evicted {
                    addr: entry.addr,
                    vouched: entry.vouched,
                    from_source,
                    handle: entry.handle,
                }
            })
        } else {
            None
        };
        let activity = Activity {
            clock: self.clock.clone(),
            heard: Arc::default(),
        };
        activity.touch();
        self.entries.push(Entry {
            id,
            addr,
            activity: activity.clone(),
            vouched: false,
            handle,
        });
        (activity, evicted)
    }

    /// Connection `id` delivered a correctly signed message (nothing if it is gone).
    pub(super) fn vouch(&mut self, id: u64) {
        if let Some(entry) = self.entries.iter_mut().find(|e| e.id == id) {
            entry.vouched = true;
        }
    }

    /// Connection `id` closed (nothing if it was evicted before).
    pub(super) fn remove(&mut self, id: u64) {
        self.entries.retain(|e| e.id != id);
    }

    /// The index of the connection to close for a newcomer and how many candidates its
    /// source has (the module docs' rules); `None` only for a table of capacity 0.
    fn victim(&self) -> Option<(usize, usize)> {
        let unvouched = self.entries.iter().any(|e| !e.vouched);
        let candidates: Vec<(usize, &Entry<H>)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !(unvouched && e.vouched))
            .collect();
        let from_source = |ip: IpAddr| {
            candidates
                .iter()
                .filter(|(_, e)| source(e.addr.ip()) == source(ip))
                .count()
        };
        candidates
            .iter()
            .map(|&(index, e)| (index, e, from_source(e.addr.ip())))
            // Most candidates from its source, then heard from least recently.
            .max_by_key(|&(_, e, count)| (count, std::cmp::Reverse(e.activity.heard())))
            .map(|(index, _, count)| (index, count))
    }
}

/// The source a connection counts against: an IPv4 address (IPv4-mapped IPv6 included), or
/// the /64 network of an IPv6 address.
fn source(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    /// A table of `cap` and a helper admitting connection ids in order, returning the id of
    /// the connection evicted for each (the handle is the id).
    struct Table {
        admission: Admission<u64>,
        activities: Vec<(u64, Activity)>,
        next: u64,
    }

    impl Table {
        fn new(cap: usize) -> Self {
            Self {
                admission: Admission::new(cap),
                activities: Vec::new(),
                next: 0,
            }
        }

        /// Admits a connection from `ip`: its id and the id evicted for it.
        fn admit(&mut self, ip: &str) -> (u64, Option<u64>) {
            let id = self.next;
            self.next += 1;
            let (activity, evicted) = self.admission.admit(id, at(ip), id);
            self.activities.push((id, activity));
            (id, evicted.map(|e| e.handle))
        }

        fn touch(&self, id: u64) {
            self.activities
                .iter()
                .find(|(i, _)| *i == id)
                .unwrap()
                .1
                .touch();
        }
    }

    #[test]
    fn a_full_socket_closes_the_connection_heard_from_least_recently() {
        let mut table = Table::new(3);
        let ids: Vec<u64> = (0..3)
            .map(|_| table.admit("10.0.0.1"))
            .map(|a| a.0)
            .collect();
        assert!(
            ids.iter()
                .all(|&id| table.admission.entries.iter().any(|e| e.id == id))
        );
        // The oldest goes first, unless it was heard from since.
        table.touch(ids[0]);
        assert_eq!(table.admit("10.0.0.1").1, Some(ids[1]));
        assert_eq!(table.admit("10.0.0.1").1, Some(ids[2]));
        assert_eq!(table.admit("10.0.0.1").1, Some(ids[0]));
        assert_eq!(table.admission.entries.len(), 3);
        // A connection that closed frees its slot.
        let (newest, _) = table.admit("10.0.0.1");
        table.admission.remove(newest);
        assert_eq!(table.admit("10.0.0.1").1, None);
    }

    #[test]
    fn vouched_connections_outlast_any_number_of_newcomers() {
        let mut table = Table::new(4);
        let (client, _) = table.admit("127.0.0.1");
        table.admission.vouch(client);
        for _ in 0..1000 {
            let (_, evicted) = table.admit("127.0.0.1");
            assert_ne!(evicted, Some(client));
        }
        assert!(table.admission.entries.iter().any(|e| e.id == client));
        // Only when all are vouched for does the one heard from least recently go.
        let ids: Vec<u64> = table.admission.entries.iter().map(|e| e.id).collect();
        for &id in &ids {
            table.admission.vouch(id);
        }
        table.touch(ids[2]);
        table.touch(client);
        let (_, evicted) = table.admit("127.0.0.1");
        assert_eq!(evicted, Some(ids[1]));
    }

    #[test]
    fn the_source_with_the_most_connections_gives_way() {
        let mut table = Table::new(32);
        // A client's connection, then an attacker filling the rest from one address.
        let (client, _) = table.admit("192.168.1.5");
        for _ in 0..31 {
            assert_eq!(table.admit("203.0.113.9").1, None);
        }
        // Its client was heard from least recently, yet the attacker's reconnects only ever
        // close the attacker's own connections, and so do other newcomers'.
        for _ in 0..1000 {
            let (_, evicted) = table.admit("203.0.113.9");
            let evicted = evicted.unwrap();
            assert_ne!(evicted, client);
        }
        let (other, evicted) = table.admit("192.168.1.6");
        assert_ne!(evicted, Some(client));
        // With the attacker down to as few connections as the client has, the one heard
        // from least recently among the largest sources goes.
        let attackers: Vec<u64> = table
            .admission
            .entries
            .iter()
            .filter(|e| e.addr.ip().to_string() == "203.0.113.9")
            .map(|e| e.id)
            .collect();
        for id in &attackers[1..] {
            table.admission.remove(*id);
        }
        let mut full = table.admission.entries.len();
        while full < 32 {
            table.admit(&format!("198.51.100.{full}"));
            full += 1;
        }
        table.touch(attackers[0]);
        table.touch(other);
        assert_eq!(table.admit("198.51.100.200").1, Some(client));
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64_network() {
        let mut table = Table::new(3);
        let (client, _) = table.admit("2001:db8:1::1");
        table.admit("2001:db8:2::1");
        table.admit("2001:db8:2::ffff:2");
        // 2001:db8:2::/64 holds two connections, so it gives way, though the client is older.
        assert_eq!(table.admit("2001:db8:3::1").1, Some(client + 1));
        assert_eq!(
            source("::ffff:10.1.2.3".parse().unwrap()),
            "10.1.2.3".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            source("2001:db8:2::ffff:2".parse().unwrap()),
            "2001:db8:2::".parse::<IpAddr>().unwrap()
        );
    }
}
