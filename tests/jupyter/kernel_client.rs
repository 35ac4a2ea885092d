//! A raw client for the kernel tests (`tests/kernel_*.rs`, `tests/fuzz_wire.rs`): starts
//! `bumplab kernel` on free ports and speaks ZMTP 3 and the Jupyter wire protocol over plain
//! `TcpStream`s, written here from the specs (not with the kernel's own codec), so a test can
//! send what no well-behaved client would.

#![allow(dead_code)] // each test file uses its own part of it

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bumplab::kernel::wire::Signer;
use serde_json::{Value, json};

/// The connection key of every test kernel.
pub const KEY: &str = "kernel-test-key";

/// How long a test waits for any one thing before it fails (a guard against hanging, not a
/// timing assertion).
const PATIENCE: Duration = Duration::from_secs(60);

/// A `bumplab kernel` process on five free local ports, killed when dropped.
pub struct Kernel {
    child: Child,
    dir: tempfile::TempDir,
    /// The shell port.
    pub shell: u16,
    /// The IOPub port.
    pub iopub: u16,
    /// The stdin port.
    pub stdin: u16,
    /// The control port.
    pub control: u16,
    /// The heartbeat port.
    pub hb: u16,
}

impl Kernel {
    /// Starts a kernel and waits until its heartbeat accepts connections (the last socket
    /// it binds).
    pub fn start() -> Kernel {
        let dir = tempfile::tempdir().unwrap();
        let listeners: Vec<TcpListener> = (0..5)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        drop(listeners);
        let file = dir.path().join("connection.json");
        let info = json!({
            "shell_port": ports[0], "iopub_port": ports[1], "stdin_port": ports[2],
            "control_port": ports[3], "hb_port": ports[4], "ip": "127.0.0.1",
            "key": KEY, "transport": "tcp", "signature_scheme": "hmac-sha256",
        });
        std::fs::write(&file, info.to_string()).unwrap();
        let log = File::create(dir.path().join("kernel.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_bumplab"))
            .args(["kernel", "--connection-file"])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut kernel = Kernel {
            child,
            dir,
            shell: ports[0],
            iopub: ports[1],
            stdin: ports[2],
            control: ports[3],
            hb: ports[4],
        };
        for _ in 0..600 {
            assert!(kernel.is_alive(), "the kernel exited:\n{}", kernel.log());
            if TcpStream::connect(("127.0.0.1", kernel.hb)).is_ok() {
                return kernel;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the kernel never listened:\n{}", kernel.log());
    }

    /// The connection file the kernel was started with (for a real Jupyter client).
    pub fn connection_file(&self) -> PathBuf {
        self.dir.path().join("connection.json")
    }

    /// What the kernel wrote on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("kernel.log")
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// A DEALER on the shell channel with a fresh identity.
    pub fn shell(&self) -> Peer {
        Peer::dealer(self.shell)
    }

    /// Asserts that the kernel is alive and serves shell and control as before: kernel_info
    /// on both, and a cell checking that the session still has `x == 42`.
    pub fn assert_still_serving(&mut self) {
        assert!(self.is_alive(), "the kernel died:\n{}", self.log());
        let mut client = Client::new();
        let mut shell = self.shell();
        let info = client.roundtrip(&mut shell, "kernel_info_request", json!({}));
        assert_eq!(info["content"]["implementation"], "bumplab", "{info}");
        let reply = client.execute(&mut shell, "if x != 42 { throw `x is ${x}`; }\nx");
        assert_eq!(reply["status"], "ok", "the session lost x: {reply}");
        let mut control = Peer::dealer(self.control);
        let info = client.roundtrip(&mut control, "kernel_info_request", json!({}));
        assert_eq!(info["content"]["status"], "ok", "{info}");
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A ZMTP 3 greeting with version `major.minor`, NULL mechanism, not as server.
pub fn greeting(major: u8, minor: u8) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = major;
    g[11] = minor;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// One frame: flags, a short or long size, the body.
pub fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if body.len() < 256 {
        out.extend_from_slice(&[flags, body.len() as u8]);
    } else {
        out.push(flags | 0x02);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// A command frame.
pub fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    frame(0x04, &body)
}

/// A READY command with `Socket-Type` and, when not empty, `Identity`.
pub fn ready(socket_type: &str, identity: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    let mut property = |name: &str, value: &[u8]| {
        data.push(name.len() as u8);
        data.extend_from_slice(name.as_bytes());
        data.extend_from_slice(&(value.len() as u32).to_be_bytes());
        data.extend_from_slice(value);
    };
    property("Socket-Type", socket_type.as_bytes());
    if !identity.is_empty() {
        property("Identity", identity);
    }
    command("READY", &data)
}

/// A message's frames on the wire.
pub fn message(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, body) in frames.iter().enumerate() {
        let more = u8::from(i + 1 < frames.len());
        out.extend(frame(more, body));
    }
    out
}

/// A raw TCP connection to one of the kernel's sockets.
pub struct Peer {
    stream: TcpStream,
}

impl Peer {
    /// A plain TCP connection, nothing sent yet.
    pub fn tcp(port: u16) -> Peer {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Peer { stream }
    }

    /// Connects as a ZMTP 3.1 `socket_type` peer with `identity`, completing the handshake.
    pub fn connect(port: u16, socket_type: &str, identity: &[u8]) -> Peer {
        Self::connect_version(port, 1, socket_type, identity)
    }

    /// As [`Peer::connect`], announcing ZMTP 3.`minor`.
    pub fn connect_version(port: u16, minor: u8, socket_type: &str, identity: &[u8]) -> Peer {
        Self::handshake(Peer::tcp(port), minor, socket_type, identity)
            .expect("the kernel closed the connection during the handshake")
    }

    /// A plain TCP connection from the local address `source` (any of 127.0.0.0/8, which
    /// Linux routes to the loopback interface): to the kernel, a peer on another host.
    #[cfg(target_os = "linux")]
    pub fn tcp_from(source: std::net::Ipv4Addr, port: u16) -> Peer {
        use std::net::Ipv4Addr;
        use std::os::fd::FromRawFd;
        let address = |ip: Ipv4Addr, port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let (from, to) = (address(source, 0), address(Ipv4Addr::LOCALHOST, port));
        // SAFETY: a new socket, owned by the stream from here on; the addresses outlive
        // the calls that read them, with their true length.
        let stream = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let stream = TcpStream::from_raw_fd(fd);
            let bound = libc::bind(fd, (&raw const from).cast(), len);
            assert_eq!(bound, 0, "bind: {}", std::io::Error::last_os_error());
            let connected = libc::connect(fd, (&raw const to).cast(), len);
            assert_eq!(connected, 0, "connect: {}", std::io::Error::last_os_error());
            stream
        };
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        Peer { stream }
    }

    /// As [`Peer::connect`], from the local address `source` ([`Peer::tcp_from`]).
    #[cfg(target_os = "linux")]
    pub fn connect_from(
        source: std::net::Ipv4Addr,
        port: u16,
        socket_type: &str,
        identity: &[u8],
    ) -> Peer {
        Self::handshake(Peer::tcp_from(source, port), 1, socket_type, identity)
            .expect("the kernel closed the connection during the handshake")
    }

    /// Greets and sends READY on `peer`; `None` if the kernel closes it instead.
    fn handshake(mut peer: Peer, minor: u8, socket_type: &str, identity: &[u8]) -> Option<Peer> {
        peer.send_raw(&greeting(3, minor));
        let mut theirs = [0u8; 64];
        peer.stream.read_exact(&mut theirs).ok()?;
        assert_eq!(theirs[..12], greeting(3, 1)[..12], "the kernel's greeting");
        peer.send_raw(&ready(socket_type, identity));
        let (flags, body) = peer.read_frame()?;
        assert_eq!(flags, 0x04);
        assert!(body.starts_with(b"\x05READY"), "{body:?}");
        Some(peer)
    }

    /// A DEALER with a fresh identity.
    pub fn dealer(port: u16) -> Peer {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let identity = format!("dealer-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        Peer::connect(port, "DEALER", identity.as_bytes())
    }

    /// Writes `bytes` as they are; errors (the kernel closed the connection) are ignored.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes);
    }

    /// Closes the sending side: the kernel reads what was sent, then the end of the stream.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
    }

    /// Sends a message of `frames`.
    pub fn send(&mut self, frames: &[&[u8]]) {
        self.send_raw(&message(frames));
    }

    /// The next frame: flags and body; `None` when the kernel closed the connection.
    pub fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut flags = [0u8; 1];
        self.stream.read_exact(&mut flags).ok()?;
        let len = if flags[0] & 0x02 != 0 {
            let mut size = [0u8; 8];
            self.stream.read_exact(&mut size).ok()?;
            u64::from_be_bytes(size) as usize
        } else {
            let mut size = [0u8; 1];
            self.stream.read_exact(&mut size).ok()?;
            usize::from(size[0])
        };
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).ok()?;
        Some((flags[0], body))
    }

    /// The next message (commands are skipped); `None` when the connection closed.
    pub fn recv(&mut self) -> Option<Vec<Vec<u8>>> {
        let mut frames = Vec::new();
        loop {
            let (flags, body) = self.read_frame()?;
            if flags & 0x04 != 0 {
                continue;
            }
            frames.push(body);
            if flags & 0x01 == 0 {
                return Some(frames);
            }
        }
    }

    /// The next command frame's body, skipping messages; `None` when the connection closed.
    pub fn recv_command(&mut self) -> Option<Vec<u8>> {
        loop {
            let (flags, body) = self.read_frame()?;
            if flags & 0x04 != 0 {
                return Some(body);
            }
        }
    }

    /// Reads until the kernel closes the connection, returning what came before (panics
    /// if it stays open longer than the tests' patience).
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut received = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return received,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!("the kernel kept the connection open for {PATIENCE:?}")
                }
                // A reset is the kernel closing with our bytes still unread.
                Err(_) => return received,
            }
        }
    }
}

/// The Jupyter side: signs requests, matches replies.
pub struct Client {
    signer: Signer,
    session: String,
    count: u64,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client session signing with [`KEY`].
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static SESSIONS: AtomicU64 = AtomicU64::new(1);
        Self {
            signer: Signer::new(KEY),
            session: format!("test-session-{}", SESSIONS.fetch_add(1, Ordering::Relaxed)),
            count: 0,
        }
    }

    /// The frames after a DEALER's (empty) routing part of a message with these JSON texts,
    /// signed.
    pub fn sign(&self, header: &str, parent: &str, metadata: &str, content: &str) -> Vec<Vec<u8>> {
        let signature = self.signer.sign([
            header.as_bytes(),
            parent.as_bytes(),
            metadata.as_bytes(),
            content.as_bytes(),
        ]);
        [b"<IDS|MSG>".to_vec(), signature.into_bytes()]
            .into_iter()
            .chain([header, parent, metadata, content].map(|p| p.as_bytes().to_vec()))
            .collect()
    }

    /// A fresh header of type `msg_type`.
    pub fn header(&mut self, msg_type: &str) -> Value {
        self.count += 1;
        json!({
            "msg_id": format!("{}-{}", self.session, self.count),
            "session": self.session,
            "username": "test",
            "date": "2026-01-01T00:00:00.000000Z",
            "msg_type": msg_type,
            "version": "5.3",
        })
    }

    /// A signed request of `msg_type` with `content`: its msg_id and frames.
    pub fn request(&mut self, msg_type: &str, content: Value) -> (String, Vec<Vec<u8>>) {
        let header = self.header(msg_type);
        let id = header["msg_id"].as_str().unwrap().to_string();
        let frames = self.sign(&header.to_string(), "{}", "{}", &content.to_string());
        (id, frames)
    }

    /// Sends `frames` on `peer` and returns the reply to `msg_id` (header, parent_header,
    /// content as one JSON object).
    pub fn reply_to(&self, peer: &mut Peer, msg_id: &str) -> Value {
        loop {
            let frames = peer.recv().expect("the kernel closed the connection");
            let message = parse(&frames);
            if message["parent_header"]["msg_id"] == msg_id {
                return message;
            }
        }
    }

    /// Sends a request and waits for its reply.
    pub fn roundtrip(&mut self, peer: &mut Peer, msg_type: &str, content: Value) -> Value {
        let (id, frames) = self.request(msg_type, content);
        send_frames(peer, &frames);
        self.reply_to(peer, &id)
    }

    /// Runs `code` and returns the execute_reply's content.
    pub fn execute(&mut self, peer: &mut Peer, code: &str) -> Value {
        let content = json!({ "code": code, "silent": false, "store_history": true,
            "user_expressions": {}, "allow_stdin": false });
        self.roundtrip(peer, "execute_request", content)["content"].clone()
    }
}

/// Sends a message given as owned frames.
pub fn send_frames(peer: &mut Peer, frames: &[Vec<u8>]) {
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    peer.send(&refs);
}

/// A received Jupyter message as `{topic, header, parent_header, content}` (the JSON parts
/// after `<IDS|MSG>`; `topic` is the frame before it, if any).
pub fn parse(frames: &[Vec<u8>]) -> Value {
    let split = frames
        .iter()
        .position(|f| f == b"<IDS|MSG>")
        .expect("a delimiter");
    let part = |i: usize| serde_json::from_slice::<Value>(&frames[split + i]).unwrap();
    let topic = split
        .checked_sub(1)
        .map(|i| String::from_utf8_lossy(&frames[i]).into_owned());
    json!({
        "topic": topic,
        "header": part(2),
        "parent_header": part(3),
        "content": part(5),
    })
}
