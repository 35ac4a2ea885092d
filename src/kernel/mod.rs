//! A Jupyter kernel for Rhai cells: `bumplab kernel --connection-file F`.
//!
//! Jupyter starts the kernel with a connection file ([`connection`]) naming five ZeroMQ
//! sockets, bound here with the kernel's own ZMTP 3 transport ([`zmtp`], std threads and
//! `std::net`):
//!
//! - **shell** (ROUTER): requests from the notebook, served in order by the session thread
//!   ([`executor`]), which owns the [`crate::script::Session`] so variables persist across
//!   cells exactly as in the REPL;
//! - **iopub** (PUB): status, `execute_input`, printed text, inline figures (`display_data`
//!   with `image/png`), results and errors (with the cell position, e.g. `In[3]:2:7`);
//! - **control** (ROUTER): `interrupt_request` (sets the session's interrupt flag, which stops
//!   a running training or pseudo-experiment loop; the session stays), `shutdown_request`,
//!   `kernel_info_request`; served at once even while a cell runs;
//! - **stdin** (ROUTER): bound but unused (cells cannot ask for input);
//! - **heartbeat** (REP): echoes every ping.
//!
//! Messages follow the wire protocol of [`wire`]: wrongly signed, replayed or malformed
//! messages are dropped with a line on stderr (lines of one kind are limited, with a summary
//! of those left out, so that no peer can flood the log). A connection that delivers a
//! correctly signed message is vouched for ([`zmtp::RouterSocket::vouch`]): when its socket
//! is full, peers without the key are closed to admit a newcomer, never it. Nothing a peer
//! sends can stop the kernel or keep a client out: the transport's limits (64 MiB per
//! message, a 10 s handshake, 32 connections per socket and who gives way for a newcomer,
//! bounded queues for slow peers) are listed in [`zmtp`]. `bumplab kernel install` writes
//! the kernelspec ([`install`]).

mod connection;
pub mod executor;
pub mod install;
mod log;
mod replay;
pub mod wire;
pub mod zmtp;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

pub use connection::ConnectionInfo;
use executor::{Channel, Executor, Publisher};
use wire::{Headers, Message, Signer};
use zmtp::{PubSocket, Received, RepSocket, RouterSocket};

/// How long a shutdown waits for its reply and the last broadcasts to be written.
const LINGER: Duration = Duration::from_secs(1);

/// A failure that stops the kernel.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// Reading the connection file or another library failure.
    #[error(transparent)]
    Library(#[from] crate::Error),
    /// A socket could not be bound.
    #[error("cannot bind the {channel} socket to {address}: {source}")]
    Bind {
        /// The channel (`shell`, `iopub`, ...).
        channel: &'static str,
        /// `host:port`.
        address: String,
        /// Why.
        source: std::io::Error,
    },
    /// A peer sent something that is not a valid Jupyter message.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The session thread could not start.
    #[error("cannot start the kernel: {0}")]
    Start(#[from] std::io::Error),
}

/// Runs the kernel described by `connection_file` until a shutdown request.
pub fn run(connection_file: &Path) -> Result<(), KernelError> {
    let info = ConnectionInfo::read(connection_file)?;
    let signer = Signer::new(&info.key);
    let headers = Arc::new(Headers::new());

    let host = info.host();
    let bound = |channel: &'static str, port: u16| {
        move |source| KernelError::Bind {
            channel,
            address: format!("{host}:{port}"),
            source,
        }
    };
    let shell = RouterSocket::bind("shell", host, info.shell_port)
        .map_err(bound("shell", info.shell_port))?;
    let control = RouterSocket::bind("control", host, info.control_port)
        .map_err(bound("control", info.control_port))?;
    let stdin = RouterSocket::bind("stdin", host, info.stdin_port)
        .map_err(bound("stdin", info.stdin_port))?;
    let iopub =
        PubSocket::bind("iopub", host, info.iopub_port).map_err(bound("iopub", info.iopub_port))?;
    RepSocket::bind("heartbeat", host, info.hb_port).map_err(bound("heartbeat", info.hb_port))?;

    let out_signer = signer.clone();
    let (out_shell, out_iopub) = (shell.clone(), iopub.clone());
    let publisher = Publisher::new(
        headers.clone(),
        Arc::new(move |channel, message: &Message| {
            let frames = out_signer.encode(message);
            match channel {
                Channel::Shell => out_shell.send(&frames),
                Channel::IoPub => out_iopub.send(&frames),
            }
        }),
    );

    // The session thread: shell requests in, messages out through the publisher.
    let (request_tx, request_rx) = std::sync::mpsc::channel::<Message>();
    let (interrupt_tx, interrupt_rx) = std::sync::mpsc::channel();
    let session_publisher = publisher.clone();
    std::thread::Builder::new()
        .name("bumplab-session".into())
        .spawn(move || {
            let mut executor = Executor::new(session_publisher);
            let _ = interrupt_tx.send(executor.interrupt());
            for request in request_rx {
                executor.handle(request);
            }
        })?;
    let interrupt = interrupt_rx
        .recv()
        .map_err(|_| KernelError::Protocol("the session thread did not start".into()))?;
    publisher.status("starting", None);

    let stdin_signer = signer.clone();
    std::thread::Builder::new()
        .name("bumplab-stdin".into())
        // Held so that the socket stays bound; nothing is ever asked on stdin, so what
        // arrives is only checked (a signed message vouches for its connection).
        .spawn(move || {
            while let Some(received) = stdin.recv() {
                verified(&stdin, &stdin_signer, "stdin", received);
            }
        })?;

    let shell_signer = signer.clone();
    std::thread::Builder::new()
        .name("bumplab-shell".into())
        .spawn(move || {
            while let Some(received) = shell.recv() {
                if let Some(request) = verified(&shell, &shell_signer, "shell", received)
                    && request_tx.send(request).is_err()
                {
                    break;
                }
            }
        })?;

    // The control channel runs here, so that interrupt and shutdown are served at once.
    while let Some(received) = control.recv() {
        let Some(request) = verified(&control, &signer, "control", received) else {
            continue;
        };
        let reply = |msg_type: &str, content| {
            control.send(&signer.encode(&headers.reply(msg_type, &request, content)));
        };
        match request.msg_type() {
            "interrupt_request" => {
                interrupt.trigger();
                reply("interrupt_reply", json!({ "status": "ok" }));
            }
            "kernel_info_request" => reply("kernel_info_reply", executor::kernel_info()),
            "shutdown_request" => {
                let fields = match executor::request_fields("shutdown_request", &request.content) {
                    Ok(fields) => fields,
                    Err(error) => {
                        reply("shutdown_reply", error);
                        continue;
                    }
                };
                interrupt.trigger();
                let restart = fields.get("restart").and_then(|r| r.as_bool());
                reply(
                    "shutdown_reply",
                    json!({ "status": "ok", "restart": restart.unwrap_or(false) }),
                );
                publisher.status("dead", Some(&request));
                // Let the reply and the last broadcasts leave before the process ends.
                control.flush(LINGER);
                iopub.flush(LINGER);
                return Ok(());
            }
            other => log::line(
                "control",
                "ignored requests",
                &format!("ignoring '{other}'"),
            ),
        }
    }
    Ok(())
}

/// The message `received` on the ROUTER `socket` if its signature is right and new and its
/// parts well formed ([`Signer::decode`]); its connection is then vouched for. Otherwise
/// it is dropped with a line in the log about `channel`.
fn verified(
    socket: &RouterSocket,
    signer: &Signer,
    channel: &'static str,
    received: Received,
) -> Option<Message> {
    match signer.decode(received.frames) {
        Ok(message) => {
            socket.vouch(received.from);
            Some(message)
        }
        Err(err) => {
            log::line(channel, "dropped messages", &format!("{err}; dropped"));
            None
        }
    }
}
