//! A Jupyter kernel for Rhai cells: `bumplab kernel --connection-file F`.
//!
//! Jupyter starts the kernel with a connection file ([`connection`]) naming five ZeroMQ
//! sockets, bound here with the pure-Rust `zeromq` crate on a small tokio runtime:
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
//! Messages follow the wire protocol of [`wire`]. `bumplab kernel install` writes the
//! kernelspec ([`install`]).

mod connection;
pub mod executor;
pub mod install;
pub mod wire;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use zeromq::{PubSocket, RepSocket, RouterSocket, Socket, SocketRecv, SocketSend};

pub use connection::ConnectionInfo;
use executor::{Channel, Executor, Outgoing, Publisher};
use wire::{Headers, Message, Signer};

/// A failure that stops the kernel.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// Reading the connection file or another library failure.
    #[error(transparent)]
    Library(#[from] crate::Error),
    /// A socket could not be bound or failed.
    #[error("ZeroMQ: {0}")]
    Zmq(#[from] zeromq::ZmqError),
    /// A peer sent something that is not a valid Jupyter message.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The async runtime or the session thread could not start.
    #[error("cannot start the kernel: {0}")]
    Start(#[from] std::io::Error),
}

/// Runs the kernel described by `connection_file` until a shutdown request.
pub fn run(connection_file: &Path) -> Result<(), KernelError> {
    let info = ConnectionInfo::read(connection_file)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(info))
}

async fn serve(info: ConnectionInfo) -> Result<(), KernelError> {
    let signer = Signer::new(&info.key);
    let headers = Arc::new(Headers::new());

    let mut shell = RouterSocket::new();
    shell.bind(&info.endpoint(info.shell_port)).await?;
    let mut control = RouterSocket::new();
    control.bind(&info.endpoint(info.control_port)).await?;
    let mut stdin = RouterSocket::new();
    stdin.bind(&info.endpoint(info.stdin_port)).await?;
    let mut iopub = PubSocket::new();
    iopub.bind(&info.endpoint(info.iopub_port)).await?;
    let mut heartbeat = RepSocket::new();
    heartbeat.bind(&info.endpoint(info.hb_port)).await?;

    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Outgoing>();
    let publisher = Publisher::new(headers.clone(), out_tx);

    // The session thread: shell requests in, messages out through `out_tx`.
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

    tokio::spawn(async move {
        while let Ok(ping) = heartbeat.recv().await {
            if heartbeat.send(ping).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        // Held so that the socket stays bound; nothing is ever asked on stdin.
        while stdin.recv().await.is_ok() {}
    });

    let (mut shell_send, mut shell_recv) = shell.split();
    let shell_signer = signer.clone();
    tokio::spawn(async move {
        while let Ok(frames) = shell_recv.recv().await {
            match shell_signer.decode(frames) {
                Ok(request) => {
                    if request_tx.send(request).is_err() {
                        break;
                    }
                }
                Err(err) => eprintln!("bumplab kernel: shell: {err}"),
            }
        }
    });

    let out_signer = signer.clone();
    tokio::spawn(async move {
        while let Some((channel, message)) = out_rx.recv().await {
            let frames = out_signer.encode(&message);
            let sent = match channel {
                Channel::Shell => shell_send.send(frames).await,
                Channel::IoPub => iopub.send(frames).await,
            };
            if let Err(err) = sent {
                eprintln!("bumplab kernel: sending {}: {err}", message.msg_type());
            }
        }
    });

    // The control channel runs here, so that interrupt and shutdown are served at once.
    loop {
        let request = match signer.decode(control.recv().await?) {
            Ok(request) => request,
            Err(err) => {
                eprintln!("bumplab kernel: control: {err}");
                continue;
            }
        };
        let reply =
            |msg_type: &str, content| signer.encode(&headers.reply(msg_type, &request, content));
        match request.msg_type() {
            "interrupt_request" => {
                interrupt.trigger();
                control
                    .send(reply("interrupt_reply", json!({ "status": "ok" })))
                    .await?;
            }
            "kernel_info_request" => {
                control
                    .send(reply("kernel_info_reply", executor::kernel_info()))
                    .await?;
            }
            "shutdown_request" => {
                interrupt.trigger();
                let restart = request.content["restart"].as_bool().unwrap_or(false);
                control
                    .send(reply(
                        "shutdown_reply",
                        json!({ "status": "ok", "restart": restart }),
                    ))
                    .await?;
                publisher.status("dead", Some(&request));
                // Let the reply and the last broadcasts leave before the sockets close.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Ok(());
            }
            other => eprintln!("bumplab kernel: control: ignoring '{other}'"),
        }
    }
}
