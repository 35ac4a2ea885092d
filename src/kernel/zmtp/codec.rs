//! The ZMTP 3.x wire format without I/O: a [`Decoder`] fed whatever bytes arrive, in chunks of
//! any size, that validates the greeting, the NULL handshake and every frame, and yields
//! [`Event`]s; and the encoders of what the kernel sends (greeting, commands, messages).
//!
//! The decoder never allocates from a length the peer claims: a frame's declared size is
//! checked against the [`Limits`] when its header arrives, and its body grows only as its
//! bytes do, so the memory a peer can make it hold is what it actually sent, and at most
//! about one message's limit.

use bytes::Bytes;

use super::ZmtpError;

/// The length of a ZMTP 3 greeting.
pub const GREETING_LEN: usize = 64;

/// Frame flag: more frames of this message follow.
const MORE: u8 = 0x01;
/// Frame flag: the size is 8 octets (network order) instead of one.
const LONG: u8 = 0x02;
/// Frame flag: the frame is a command.
const COMMAND: u8 = 0x04;
/// The flag bits ZMTP reserves; they must be zero.
const RESERVED: u8 = !(MORE | LONG | COMMAND);

/// The security mechanism, as the greeting spells it (null-padded to 20 octets).
const MECHANISM: &[u8; 20] = b"NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// The longest PING context ZMTP allows.
const MAX_PING_CONTEXT: usize = 16;

/// What a peer may send on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of one message: the sum of its frames' bodies (so also of one frame).
    pub max_message: usize,
    /// The most frames of one message.
    pub max_frames: usize,
    /// The most bytes of one command's body (READY with its properties, SUBSCRIBE, ...).
    pub max_command: usize,
}

/// Connection metadata from the peer's READY command: case-insensitive property names
/// (`Socket-Type`, `Identity`, ...) and their binary values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    properties: Vec<(String, Bytes)>,
}

impl Metadata {
    /// The value of property `name` (compared case-insensitively), if the peer sent it.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

/// Something a peer sent, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The peer's READY command: the NULL handshake is complete on its side.
    Ready(Metadata),
    /// A whole message: all its frames, in order (at least one).
    Message(Vec<Bytes>),
    /// A PING command (ZMTP 3.1): answer with [`pong`] carrying this context.
    Ping(Bytes),
    /// A SUBSCRIBE command (ZMTP 3.1) with its topic prefix.
    Subscribe(Bytes),
    /// A CANCEL command (ZMTP 3.1) with its topic prefix.
    Cancel(Bytes),
}

/// Where the decoder is in the connection's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading the peer's 64-octet greeting.
    Greeting,
    /// Waiting for the peer's READY (or ERROR) command.
    Handshake,
    /// Messages and commands.
    Traffic,
}

/// Where the decoder is inside a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// The next octet is a frame's flags.
    Flags,
    /// Reading the size field (`need` octets, `have` so far into `size`).
    Size { flags: u8, need: usize, have: usize },
    /// Reading a body of `len` octets into `buf`.
    Body { flags: u8, len: usize },
}

/// The incremental ZMTP 3.x decoder of one connection (the side that accepts it: NULL
/// mechanism, the peer as client).
///
/// After [`Decoder::decode`] returns an error the connection must be closed; further input
/// only returns that error again.
#[derive(Debug)]
pub struct Decoder {
    limits: Limits,
    phase: Phase,
    step: Step,
    /// The size field being read.
    size: [u8; 8],
    /// The greeting or the body of the frame being read.
    buf: Vec<u8>,
    /// The frames of the message being assembled, and their total length.
    frames: Vec<Bytes>,
    message_bytes: usize,
    failed: Option<ZmtpError>,
}

impl Decoder {
    /// A decoder for a new connection, enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            phase: Phase::Greeting,
            step: Step::Flags,
            size: [0; 8],
            buf: Vec::new(),
            frames: Vec::new(),
            message_bytes: 0,
            failed: None,
        }
    }

    /// Decodes `input` (the next bytes from the peer), appending what it completes to
    /// `events`. An error means the peer broke the protocol or a limit: close the connection.
    pub fn decode(&mut self, mut input: &[u8], events: &mut Vec<Event>) -> Result<(), ZmtpError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        while !input.is_empty() {
            let used = match self.step(input, events) {
                Ok(used) => used,
                Err(err) => {
                    self.failed = Some(err.clone());
                    return Err(err);
                }
            };
            input = &input[used..];
        }
        Ok(())
    }

    /// Memory held for input not yet handed out as events: the capacity of the partial
    /// greeting's or frame's buffer plus the bodies of the message's completed frames. Since
    /// buffers grow only with the bytes that arrive, this is at most twice what was fed (plus
    /// a few bytes), and about twice `max_message` at most.
    pub fn buffered(&self) -> usize {
        self.buf.capacity() + self.message_bytes
    }

    /// Whether the handshake is done and no message or frame is half received.
    pub fn between_messages(&self) -> bool {
        self.phase == Phase::Traffic && self.step == Step::Flags && self.frames.is_empty()
    }

    /// Consumes a prefix of `input` (at least one octet), returning its length.
    fn step(&mut self, input: &[u8], events: &mut Vec<Event>) -> Result<usize, ZmtpError> {
        if self.phase == Phase::Greeting {
            return self.greeting(input);
        }
        match self.step {
            Step::Flags => {
                self.flags(input[0])?;
                Ok(1)
            }
            Step::Size { flags, need, have } => {
                let take = (need - have).min(input.len());
                self.size[have..have + take].copy_from_slice(&input[..take]);
                if have + take == need {
                    let len = if need == 1 {
                        u64::from(self.size[0])
                    } else {
                        u64::from_be_bytes(self.size)
                    };
                    self.begin_body(flags, len, events)?;
                } else {
                    self.step = Step::Size {
                        flags,
                        need,
                        have: have + take,
                    };
                }
                Ok(take)
            }
            Step::Body { flags, len } => {
                let take = (len - self.buf.len()).min(input.len());
                self.buf.extend_from_slice(&input[..take]);
                if self.buf.len() == len {
                    self.end_body(flags, events)?;
                }
                Ok(take)
            }
        }
    }

    /// Takes greeting octets, checking each field as soon as it is complete.
    fn greeting(&mut self, input: &[u8]) -> Result<usize, ZmtpError> {
        let start = self.buf.len();
        let take = (GREETING_LEN - start).min(input.len());
        self.buf.extend_from_slice(&input[..take]);
        let g = &self.buf;
        let bad = |problem: String| Err(ZmtpError::Greeting(problem));
        if start == 0 && g[0] != 0xff {
            return bad(format!(
                "it starts with {:#04x}, not 0xff (not a ZMTP peer)",
                g[0]
            ));
        }
        if start <= 9 && g.len() > 9 && g[9] != 0x7f {
            return bad(format!(
                "signature octet 9 is {:#04x}, not 0x7f (a ZMTP 1.0 peer?)",
                g[9]
            ));
        }
        if start <= 10 && g.len() > 10 && g[10] < 3 {
            return bad(format!(
                "ZMTP version {}.x; this kernel speaks 3.0 and later",
                g[10]
            ));
        }
        if start < 32 && g.len() >= 32 && g[12..32] != MECHANISM[..] {
            let name: Vec<u8> = g[12..32].iter().copied().filter(|&b| b != 0).collect();
            return bad(format!(
                "security mechanism \"{}\"; this kernel offers only NULL",
                name.escape_ascii()
            ));
        }
        if start <= 32 && g.len() > 32 && g[32] != 0 {
            return bad(format!(
                "as-server is {}; the NULL mechanism needs 0 (the kernel is the server)",
                g[32]
            ));
        }
        if g.len() == GREETING_LEN {
            self.buf = Vec::new();
            self.phase = Phase::Handshake;
        }
        Ok(take)
    }

    /// A frame's flags octet.
    fn flags(&mut self, flags: u8) -> Result<(), ZmtpError> {
        if flags & RESERVED != 0 {
            return Err(ZmtpError::Frame(format!(
                "flags {flags:#04x} set reserved bits"
            )));
        }
        if flags & COMMAND != 0 {
            if flags & MORE != 0 {
                return Err(ZmtpError::Frame("a command frame with MORE set".into()));
            }
            if !self.frames.is_empty() {
                return Err(ZmtpError::Frame(
                    "a command inside a multipart message".into(),
                ));
            }
        } else if self.phase == Phase::Handshake {
            return Err(ZmtpError::Handshake(
                "a message before the READY command".into(),
            ));
        }
        let need = if flags & LONG != 0 { 8 } else { 1 };
        self.step = Step::Size {
            flags,
            need,
            have: 0,
        };
        Ok(())
    }

    /// Checks a frame's declared length against the limits before reading its body.
    fn begin_body(
        &mut self,
        flags: u8,
        len: u64,
        events: &mut Vec<Event>,
    ) -> Result<(), ZmtpError> {
        let len = if flags & COMMAND != 0 {
            if len > self.limits.max_command as u64 {
                return Err(ZmtpError::TooLarge(format!(
                    "a command of {len} bytes (the limit is {})",
                    self.limits.max_command
                )));
            }
            len as usize
        } else {
            if self.frames.len() >= self.limits.max_frames {
                return Err(ZmtpError::TooLarge(format!(
                    "a message of more than {} frames",
                    self.limits.max_frames
                )));
            }
            let room = self.limits.max_message - self.message_bytes;
            if len > room as u64 {
                return Err(self.message_too_large(len));
            }
            len as usize
        };
        self.step = Step::Body { flags, len };
        if len == 0 {
            self.end_body(flags, events)?;
        }
        Ok(())
    }

    /// The error for a frame of `len` bytes that does not fit in the message's limit.
    fn message_too_large(&self, len: u64) -> ZmtpError {
        let limit = self.limits.max_message;
        ZmtpError::TooLarge(match self.message_bytes {
            0 => format!("a message frame of {len} bytes (the limit is {limit})"),
            before => format!(
                "a message frame of {len} bytes after {before} bytes of its message \
                 (the limit is {limit} per message)"
            ),
        })
    }

    /// A frame's body is complete: a command, or a message frame.
    fn end_body(&mut self, flags: u8, events: &mut Vec<Event>) -> Result<(), ZmtpError> {
        let body = std::mem::take(&mut self.buf);
        self.step = Step::Flags;
        if flags & COMMAND != 0 {
            return self.command(&body, events);
        }
        self.message_bytes += body.len();
        self.frames.push(Bytes::from(body));
        if flags & MORE == 0 {
            self.message_bytes = 0;
            events.push(Event::Message(std::mem::take(&mut self.frames)));
        }
        Ok(())
    }

    /// A command frame's body: `name-size name data`.
    fn command(&mut self, body: &[u8], events: &mut Vec<Event>) -> Result<(), ZmtpError> {
        let (name, data) = split_command(body)?;
        match (self.phase, name) {
            (_, b"ERROR") => Err(ZmtpError::PeerError(error_reason(data)?)),
            (Phase::Handshake, b"READY") => {
                self.phase = Phase::Traffic;
                events.push(Event::Ready(parse_metadata(data)?));
                Ok(())
            }
            (Phase::Handshake, other) => Err(ZmtpError::Handshake(format!(
                "a {} command before READY",
                other.escape_ascii()
            ))),
            (_, b"READY") => Err(ZmtpError::Handshake("a second READY command".into())),
            (_, b"PING") => {
                if data.len() < 2 || data.len() > 2 + MAX_PING_CONTEXT {
                    return Err(ZmtpError::Command(format!(
                        "PING with {} octets of TTL and context (2 to {} allowed)",
                        data.len(),
                        2 + MAX_PING_CONTEXT
                    )));
                }
                events.push(Event::Ping(Bytes::copy_from_slice(&data[2..])));
                Ok(())
            }
            (_, b"SUBSCRIBE") => {
                events.push(Event::Subscribe(Bytes::copy_from_slice(data)));
                Ok(())
            }
            (_, b"CANCEL") => {
                events.push(Event::Cancel(Bytes::copy_from_slice(data)));
                Ok(())
            }
            // PONG needs no answer; other well-formed commands belong to extensions this
            // kernel does not use, and ZMTP lets a peer ignore them.
            _ => Ok(()),
        }
    }
}

/// Splits a command body into its name (1 to 255 letters) and data.
fn split_command(body: &[u8]) -> Result<(&[u8], &[u8]), ZmtpError> {
    let Some((&size, rest)) = body.split_first() else {
        return Err(ZmtpError::Command("an empty command frame".into()));
    };
    let size = usize::from(size);
    if size == 0 || size > rest.len() {
        return Err(ZmtpError::Command(format!(
            "a command name of {size} octets in a body of {}",
            body.len()
        )));
    }
    let (name, data) = rest.split_at(size);
    if !name.iter().all(u8::is_ascii_alphabetic) {
        return Err(ZmtpError::Command(format!(
            "the command name \"{}\" is not letters only",
            name.escape_ascii()
        )));
    }
    Ok((name, data))
}

/// The properties of a READY command: `name-size name value-size(4) value`, repeated.
fn parse_metadata(mut data: &[u8]) -> Result<Metadata, ZmtpError> {
    let bad = |problem: String| Err(ZmtpError::Command(format!("READY: {problem}")));
    let mut metadata = Metadata::default();
    while let Some((&size, rest)) = data.split_first() {
        let size = usize::from(size);
        if size == 0 || size > rest.len() {
            return bad(format!(
                "a property name of {size} octets with {} left",
                rest.len()
            ));
        }
        let (name, rest) = rest.split_at(size);
        let valid = |b: &u8| b.is_ascii_alphanumeric() || b"-_.+".contains(b);
        if !name.iter().all(valid) {
            return bad(format!("the property name \"{}\"", name.escape_ascii()));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        if rest.len() < 4 {
            return bad(format!("property {name} without its value size"));
        }
        let (size, rest) = rest.split_at(4);
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        if size > rest.len() {
            return bad(format!(
                "property {name} claims {size} octets, {} are left",
                rest.len()
            ));
        }
        if metadata.get(&name).is_some() {
            return bad(format!("property {name} given twice"));
        }
        let (value, rest) = rest.split_at(size);
        metadata
            .properties
            .push((name, Bytes::copy_from_slice(value)));
        data = rest;
    }
    Ok(metadata)
}

/// The reason of an ERROR command (`size reason`), printable.
fn error_reason(data: &[u8]) -> Result<String, ZmtpError> {
    match data.split_first() {
        Some((&size, reason)) if usize::from(size) == reason.len() => {
            Ok(reason.escape_ascii().to_string())
        }
        _ => Err(ZmtpError::Command("a malformed ERROR command".into())),
    }
}

/// The kernel's greeting: ZMTP 3.1, NULL mechanism, as-server 0, zero padding and filler.
pub fn greeting() -> [u8; GREETING_LEN] {
    let mut g = [0u8; GREETING_LEN];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 1;
    g[12..32].copy_from_slice(MECHANISM);
    g
}

/// Appends one frame (flags, short or long size, body) to `out`.
fn push_frame(out: &mut Vec<u8>, flags: u8, body: &[u8]) {
    match u8::try_from(body.len()) {
        Ok(short) => out.extend_from_slice(&[flags, short]),
        Err(_) => {
            out.push(flags | LONG);
            out.extend_from_slice(&(body.len() as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(body);
}

/// A command frame `name` with `data`.
pub fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + name.len() + data.len());
    body.push(name.len() as u8);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    let mut out = Vec::with_capacity(body.len() + 9);
    push_frame(&mut out, COMMAND, &body);
    out
}

/// The READY command announcing `socket_type` (a ROUTER, PUB or REP sends no identity).
pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut data = Vec::new();
    data.push(11);
    data.extend_from_slice(b"Socket-Type");
    data.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    command("READY", &data)
}

/// The ERROR command refusing a peer, with `reason` cut to 255 printable octets.
pub fn error(reason: &str) -> Vec<u8> {
    let reason: Vec<u8> = reason
        .bytes()
        .filter(|b| b.is_ascii_graphic() || *b == b' ')
        .take(255)
        .collect();
    let mut data = vec![reason.len() as u8];
    data.extend_from_slice(&reason);
    command("ERROR", &data)
}

/// The PONG command answering a PING with `context`.
pub fn pong(context: &[u8]) -> Vec<u8> {
    command("PONG", context)
}

/// A message's frames on the wire (MORE on all but the last). No frames encode as one empty
/// frame, since a ZMTP message has at least one.
pub fn message(frames: &[Bytes]) -> Bytes {
    let mut out = Vec::with_capacity(frames.iter().map(|f| f.len() + 9).sum::<usize>().max(2));
    if frames.is_empty() {
        push_frame(&mut out, 0, &[]);
    }
    for (i, frame) in frames.iter().enumerate() {
        let flags = if i + 1 < frames.len() { MORE } else { 0 };
        push_frame(&mut out, flags, frame);
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_message: 1000,
        max_frames: 8,
        max_command: 300,
    };

    /// A client's greeting with `edit` applied.
    fn client_greeting(edit: impl FnOnce(&mut [u8; 64])) -> Vec<u8> {
        let mut g = greeting();
        g[1..9].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]); // libzmq's identity-size padding
        edit(&mut g);
        g.to_vec()
    }

    fn dealer_ready(identity: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        for (name, value) in [("Socket-Type", &b"DEALER"[..]), ("Identity", identity)] {
            data.push(name.len() as u8);
            data.extend_from_slice(name.as_bytes());
            data.extend_from_slice(&(value.len() as u32).to_be_bytes());
            data.extend_from_slice(value);
        }
        command("READY", &data)
    }

    /// Decodes `input` fed one octet at a time and all at once; both must agree.
    fn decode(input: &[u8]) -> Result<Vec<Event>, ZmtpError> {
        let mut whole = Vec::new();
        let all = Decoder::new(LIMITS)
            .decode(input, &mut whole)
            .map(|()| whole);
        let mut decoder = Decoder::new(LIMITS);
        let mut events = Vec::new();
        let mut bytewise = Ok(());
        for b in input {
            bytewise = decoder.decode(std::slice::from_ref(b), &mut events);
            if bytewise.is_err() {
                break;
            }
        }
        assert_eq!(
            all.clone().map(|_| ()),
            bytewise,
            "chunking changed the outcome"
        );
        if let Ok(all) = &all {
            assert_eq!(all, &events);
        }
        all
    }

    fn handshake() -> Vec<u8> {
        let mut input = client_greeting(|_| {});
        input.extend(dealer_ready(b"peer-1"));
        input
    }

    #[test]
    fn a_handshake_then_messages_and_commands() {
        let mut input = handshake();
        input.extend_from_slice(&message(&[
            Bytes::from_static(b"a"),
            Bytes::new(),
            Bytes::from(vec![7u8; 300]),
        ]));
        input.extend(command("PING", &[0, 10, b'c', b'x']));
        input.extend(command("SUBSCRIBE", b"kernel."));
        input.extend(command("CANCEL", b""));
        input.extend(command("PONG", b"cx"));
        input.extend(command("FUTURE", b"ignored"));
        input.extend_from_slice(&message(&[]));
        let events = decode(&input).unwrap();
        let Event::Ready(metadata) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(metadata.get("socket-type"), Some(&b"DEALER"[..]));
        assert_eq!(metadata.get("IDENTITY"), Some(&b"peer-1"[..]));
        assert_eq!(metadata.get("Resource"), None);
        assert_eq!(
            events[1..],
            [
                Event::Message(vec![
                    Bytes::from_static(b"a"),
                    Bytes::new(),
                    Bytes::from(vec![7u8; 300])
                ]),
                Event::Ping(Bytes::from_static(b"cx")),
                Event::Subscribe(Bytes::from_static(b"kernel.")),
                Event::Cancel(Bytes::new()),
                Event::Message(vec![Bytes::new()]),
            ]
        );
    }

    #[test]
    fn bad_greetings_are_refused_at_the_first_wrong_field() {
        // (offset, octets written there, expected error)
        let cases: [(usize, &[u8], &str); 6] = [
            (0, b"G", "not a ZMTP peer"),
            (9, b"\x7e", "ZMTP 1.0"),
            (10, b"\x02", "version 2.x"),
            (12, b"CURV", "\"CURV\""),
            (12, b"PLAIN", "\"PLAIN\""),
            (32, b"\x01", "as-server is 1"),
        ];
        for (at, octets, expected) in cases {
            let edit = |g: &mut [u8; 64]| g[at..at + octets.len()].copy_from_slice(octets);
            let err = decode(&client_greeting(edit)).unwrap_err();
            assert!(matches!(err, ZmtpError::Greeting(_)), "{err}");
            assert!(err.to_string().contains(expected), "{err}");
        }
        // Padding and filler carry no meaning and are not checked; a later version is fine.
        let mut lenient = client_greeting(|g| {
            g[10] = 4;
            g[40] = 9;
        });
        lenient.extend(dealer_ready(b""));
        assert!(matches!(decode(&lenient).unwrap()[0], Event::Ready(_)));
        // A wrong first octet is refused without waiting for the rest.
        let mut decoder = Decoder::new(LIMITS);
        assert!(decoder.decode(b"GET / HTTP/1.1", &mut Vec::new()).is_err());
    }

    #[test]
    fn claimed_lengths_are_checked_before_anything_is_read() {
        // The attack: a long frame claiming 2^62 bytes.
        let mut input = handshake();
        input.push(0x02);
        input.extend_from_slice(&(1u64 << 62).to_be_bytes());
        let err = decode(&input).unwrap_err();
        assert!(matches!(err, ZmtpError::TooLarge(_)), "{err}");
        // The same before the handshake, as a command.
        let mut input = client_greeting(|_| {});
        input.push(0x06);
        input.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(decode(&input), Err(ZmtpError::TooLarge(_))));
        // Frames that each fit but together exceed the message limit.
        let mut input = handshake();
        let big = Bytes::from(vec![1u8; 600]);
        input.extend_from_slice(&message(&[big.clone(), big]));
        assert!(
            decode(&input)
                .unwrap_err()
                .to_string()
                .contains("after 600 bytes")
        );
        // Too many frames.
        let mut input = handshake();
        input.extend_from_slice(&message(&vec![Bytes::new(); 9]));
        assert!(
            decode(&input)
                .unwrap_err()
                .to_string()
                .contains("more than 8 frames")
        );
    }

    #[test]
    fn the_decoder_holds_only_what_arrived() {
        let mut decoder = Decoder::new(LIMITS);
        let mut events = Vec::new();
        decoder.decode(&handshake(), &mut events).unwrap();
        assert!(decoder.between_messages());
        // A frame claiming 1000 bytes (the limit) holds nothing until its bytes come.
        decoder
            .decode(&[0x03, 0, 0, 0, 0, 0, 0, 0x03, 0xe8], &mut events)
            .unwrap();
        assert_eq!(decoder.buffered(), 0);
        assert!(!decoder.between_messages());
        for _ in 0..10 {
            decoder.decode(&[5u8; 10], &mut events).unwrap();
        }
        assert!(
            (100..=200).contains(&decoder.buffered()),
            "{}",
            decoder.buffered()
        );
        decoder.decode(&[5u8; 900], &mut events).unwrap();
        assert!((1000..=2000).contains(&decoder.buffered()));
        // The next frame would exceed the message limit.
        let err = decoder.decode(&[0x00, 1], &mut events).unwrap_err();
        assert!(matches!(err, ZmtpError::TooLarge(_)), "{err}");
        assert_eq!(decoder.decode(b"x", &mut events), Err(err));
    }

    #[test]
    fn the_handshake_is_enforced() {
        let greeting = client_greeting(|_| {});
        let with = |tail: &[u8]| {
            let mut input = greeting.clone();
            input.extend_from_slice(tail);
            decode(&input)
        };
        let err = with(&message(&[Bytes::from_static(b"hi")])).unwrap_err();
        assert!(err.to_string().contains("before the READY"), "{err}");
        let err = with(&command("PING", &[0, 0])).unwrap_err();
        assert!(
            err.to_string().contains("PING command before READY"),
            "{err}"
        );
        let err = with(&error("go away")).unwrap_err();
        assert_eq!(err, ZmtpError::PeerError("go away".into()));
        let mut twice = dealer_ready(b"");
        twice.extend(dealer_ready(b""));
        assert!(
            with(&twice)
                .unwrap_err()
                .to_string()
                .contains("second READY")
        );
    }

    #[test]
    fn malformed_commands_and_frames_are_errors() {
        let after_handshake = |tail: &[u8]| {
            let mut input = handshake();
            input.extend_from_slice(tail);
            decode(&input).unwrap_err()
        };
        for tail in [
            vec![0x04, 0],                   // empty command
            vec![0x04, 2, 9, b'A'],          // name longer than the body
            vec![0x04, 3, 2, b'A', b'1'],    // name not letters
            command("PING", &[0]),           // no TTL
            command("PING", &[0u8; 19]),     // context over 16 octets
            command("ERROR", &[5, b'a']),    // reason size mismatch
            vec![0x05, 0],                   // command with MORE
            vec![0x08, 0],                   // reserved bit
            vec![0x01, 1, b'a', 0x04, 1, 0], // command inside a message
        ] {
            let err = after_handshake(&tail);
            assert!(
                matches!(err, ZmtpError::Command(_) | ZmtpError::Frame(_)),
                "{tail:?}: {err}"
            );
        }
        // READY properties: bad name, short value size, value overrunning, duplicates.
        let ready = |data: &[u8]| {
            let mut input = client_greeting(|_| {});
            input.extend(command("READY", data));
            decode(&input).unwrap_err().to_string()
        };
        assert!(ready(&[0]).contains("property name of 0"));
        assert!(ready(&[2, b'a', b' ', 0, 0, 0, 0]).contains("property name"));
        assert!(ready(&[1, b'a', 0, 0]).contains("without its value size"));
        assert!(ready(&[1, b'a', 0x7f, 0xff, 0xff, 0xff, 1]).contains("claims 2147483647"));
        assert!(ready(&[1, b'a', 0, 0, 0, 0, 1, b'A', 0, 0, 0, 0]).contains("twice"));
    }

    #[test]
    fn encoders_write_short_and_long_frames() {
        assert_eq!(&greeting()[..12], b"\xff\0\0\0\0\0\0\0\0\x7f\x03\x01");
        assert_eq!(
            ready("PUB"),
            b"\x04\x19\x05READY\x0bSocket-Type\0\0\0\x03PUB"
        );
        assert_eq!(error("no\n entry"), b"\x04\x0f\x05ERROR\x08no entry");
        assert_eq!(pong(b"ab"), b"\x04\x07\x04PONGab");
        let long = Bytes::from(vec![b'x'; 256]);
        let wire = message(&[Bytes::from_static(b"id"), long]);
        assert_eq!(&wire[..4], b"\x01\x02id");
        assert_eq!(&wire[4..13], b"\x02\0\0\0\0\0\0\x01\x00");
        assert_eq!(wire.len(), 13 + 256);
        assert_eq!(&message(&[])[..], b"\x00\x00");
    }
}
