//! A small ZMTP 3.x transport (rfc.zeromq.org 23/ZMTP and 37/ZMTP) with exactly what a
//! Jupyter kernel needs: listening sockets that jupyter_client's libzmq sockets connect to,
//! the NULL security mechanism, and the socket types
//!
//! - [`RouterSocket`] (shell, control, stdin): each received message is prefixed with the
//!   sending peer's identity (its READY `Identity`, or a generated one); a sent message is
//!   routed to the peer its first frame names;
//! - [`PubSocket`] (IOPub): sends each message to the peers with a subscription that
//!   prefixes its first frame (ZMTP 3.1 SUBSCRIBE/CANCEL commands and ZMTP 3.0 `\x01topic` /
//!   `\x00topic` messages both count);
//! - [`RepSocket`] (heartbeat): echoes every message to its sender.
//!
//! Every connection has a thread that reads and a thread that writes (`connection.rs`); the
//! wire format lives in [`codec`], sans I/O.
//!
//! # Limits
//!
//! What a peer can make the kernel hold or do is bounded, before and after the handshake:
//!
//! - a message is at most [`MAX_MESSAGE`] bytes (64 MiB) and [`MAX_FRAMES`] frames on the
//!   shell, control and stdin channels, [`MAX_SMALL_MESSAGE`] (64 KiB) on IOPub and the
//!   heartbeat; a command at most [`MAX_COMMAND`] bytes (64 KiB). A frame's declared size is
//!   checked when its header arrives and buffers grow only as bytes do, so a peer claiming a
//!   huge frame is disconnected at once;
//! - a bad greeting (signature, version below 3, a mechanism other than NULL, as-server set),
//!   a malformed or misplaced command, or a limit broken closes that connection with one log
//!   line on stderr (lines of one kind limited per window, see the kernel's `log.rs`); a
//!   peer of the wrong socket type, or a ROUTER peer whose identity is in use or reserved,
//!   gets an ERROR command first;
//! - a peer must finish the greeting and READY within [`HANDSHAKE_TIMEOUT`] (10 s), and one
//!   that stops for [`STALL_TIMEOUT`] (30 s) in the middle of a message is dropped;
//! - each socket serves at most [`MAX_CONNECTIONS`] (32) connections at a time, handshakes
//!   included. A newcomer is always admitted: when the socket is full, one connection is
//!   closed to make room (`admission.rs`): one not vouched for (on shell, control and stdin:
//!   that never delivered a correctly signed message, [`RouterSocket::vouch`]; on IOPub:
//!   that never subscribed; on the heartbeat: that never pinged), from the address holding
//!   the most of those, heard from least recently. So peers that only hold slots cannot
//!   keep a client out, a peer without the key cannot close a connection that sent a signed
//!   message, and a peer reconnecting from one address closes only its own connections
//!   while it holds more than any other address. Connections closed this way
//!   and not yet finished count too: beyond 64 connection threads, newcomers are refused;
//! - the peers of one socket together hold at most [`SOCKET_BUDGET`] (256 MiB) in messages
//!   not yet received in full or not yet taken by the kernel; the connection that would go
//!   over it is closed (so 32 peers each sending almost 64 MiB cannot add up);
//! - a peer that does not read gets at most [`QUEUE_MESSAGES`] messages (1000) or
//!   [`QUEUE_BYTES`] bytes (256 MiB; [`ECHO_QUEUE_BYTES`], 1 MiB, on the heartbeat) queued,
//!   beyond which messages to it are dropped, as at a ZeroMQ high-water mark: the kernel
//!   never waits for a slow peer;
//! - a subscriber holds at most [`MAX_SUBSCRIPTIONS`] subscriptions of
//!   [`MAX_SUBSCRIPTION_BYTES`] bytes in all.

mod admission;
pub mod codec;
mod connection;
mod shared;
mod socket;
mod subscriptions;

use std::time::Duration;

pub use codec::{Decoder, Event, Limits, Metadata};
pub use shared::{PeerId, Received};
pub use socket::{PubSocket, RepSocket, RouterSocket};

/// The most bytes of one message on the shell, control and stdin channels.
pub const MAX_MESSAGE: usize = 64 << 20;
/// The most bytes of one message on IOPub (subscriptions) and the heartbeat (pings).
pub const MAX_SMALL_MESSAGE: usize = 64 << 10;
/// The most frames of one message.
pub const MAX_FRAMES: usize = 1024;
/// The most bytes of one command's body.
pub const MAX_COMMAND: usize = 64 << 10;
/// The time a peer has to send its greeting and READY command.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a peer may stay silent in the middle of a message.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// The most connections one socket serves at a time.
pub const MAX_CONNECTIONS: usize = 32;
/// The most messages queued for one peer.
pub const QUEUE_MESSAGES: usize = 1000;
/// The most bytes queued for one peer (a single larger message is still sent alone).
pub const QUEUE_BYTES: usize = 256 << 20;
/// The most bytes of echoes queued for one heartbeat peer (a REQ waits for each one).
pub const ECHO_QUEUE_BYTES: usize = 1 << 20;
/// The most bytes of unfinished or undelivered messages one socket holds for all its peers.
pub const SOCKET_BUDGET: usize = 256 << 20;
/// The most distinct subscriptions of one subscriber.
pub const MAX_SUBSCRIPTIONS: usize = 1024;
/// The most bytes of one subscriber's subscriptions together.
pub const MAX_SUBSCRIPTION_BYTES: usize = 64 << 10;

/// Why a connection was refused or closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ZmtpError {
    /// The first 64 octets are not an acceptable ZMTP 3 greeting.
    #[error("bad greeting: {0}")]
    Greeting(String),
    /// The NULL handshake went wrong (no READY, a message before it, a second one).
    #[error("bad handshake: {0}")]
    Handshake(String),
    /// A frame's flags are invalid or it is misplaced.
    #[error("bad frame: {0}")]
    Frame(String),
    /// A command is malformed.
    #[error("bad command: {0}")]
    Command(String),
    /// A frame, message, command or subscription set over its limit.
    #[error("over the limit: {0}")]
    TooLarge(String),
    /// The peer sent an ERROR command.
    #[error("the peer reported an error: {0}")]
    PeerError(String),
    /// The kernel refused the peer (socket type, identity); an ERROR command told it why.
    #[error("refused: {0}")]
    Refused(String),
    /// The peer took too long (handshake) or stopped in the middle of a message.
    #[error("timed out: {0}")]
    Timeout(String),
}
