//! Fuzzing the kernel's wire decoding (issue 18): the ZMTP decoder fed random and mutated
//! byte streams in chunks of random sizes, the Jupyter message decoder fed mutated frames,
//! and a live kernel fed mutated streams on each of its sockets. Nothing may panic or abort,
//! the decoder's buffers never exceed twice what it was fed (so it never allocates from a
//! length the peer claims) nor about twice a message's limit, and the kernel still serves
//! its session afterwards.
//!
//! Cases and seed: `BUMPLAB_FUZZ_CASES`, `BUMPLAB_FUZZ_SEED` (`tests/support/mutate.rs`).

#[path = "jupyter/kernel_client.rs"]
mod kernel_client;
#[path = "support/mutate.rs"]
mod mutate;

use bumplab::kernel::wire::Signer;
use bumplab::kernel::zmtp::{self, Decoder, Event, Limits, codec};
use bytes::Bytes;
use kernel_client::{Client, Kernel, Peer, command, greeting, message, ready};
use mutate::Mutator;
use serde_json::{Value, json};

/// Small limits, so that mutated lengths often cross them.
const SMALL: Limits = Limits {
    max_message: 600,
    max_frames: 8,
    max_command: 200,
};

/// The kernel's limits on the shell channel.
const SHELL: Limits = Limits {
    max_message: zmtp::MAX_MESSAGE,
    max_frames: zmtp::MAX_FRAMES,
    max_command: zmtp::MAX_COMMAND,
};

/// A signed Jupyter request as a DEALER sends it (empty routing part first).
fn jupyter_frames(client: &mut Client, msg_type: &str, content: Value) -> Vec<Vec<u8>> {
    client.request(msg_type, content).1
}

/// Valid connections of each peer kind: greeting, READY, then traffic.
fn seed_streams() -> Vec<Vec<u8>> {
    let mut client = Client::new();
    let request = jupyter_frames(&mut client, "kernel_info_request", json!({}));
    let request: Vec<&[u8]> = request.iter().map(Vec::as_slice).collect();
    let long = vec![b'z'; 300];
    vec![
        [
            greeting(3, 1),
            ready("DEALER", b"fuzz"),
            message(&request),
            command("PING", b"\x00\x01ctx"),
            message(&[b"a", &long, b""]),
        ]
        .concat(),
        [
            greeting(3, 0),
            ready("SUB", b""),
            message(&[b"\x01kernel."]),
            command("SUBSCRIBE", b""),
            command("CANCEL", b"x"),
            message(&[b"\x00kernel."]),
        ]
        .concat(),
        [greeting(3, 1), ready("REQ", b""), message(&[b"", b"ping"])].concat(),
        [greeting(3, 1), command("ERROR", b"\x07go away")].concat(),
    ]
}

/// Feeds `input` to a fresh decoder in chunks of random sizes, checking the memory bound
/// after every chunk; returns the events and whether the stream was accepted to its end.
fn feed(m: &mut Mutator, limits: Limits, input: &[u8]) -> (Vec<Event>, bool) {
    let mut decoder = Decoder::new(limits);
    let mut events = Vec::new();
    let (mut fed, mut rest) = (0, input);
    while !rest.is_empty() {
        let n = if m.below(2) == 0 {
            1 + m.below(rest.len().min(8))
        } else {
            1 + m.below(rest.len())
        };
        let (chunk, tail) = rest.split_at(n);
        fed += n;
        let result = decoder.decode(chunk, &mut events);
        assert!(
            decoder.buffered() <= 2 * fed + 16,
            "{} bytes buffered after {fed} fed",
            decoder.buffered()
        );
        assert!(decoder.buffered() <= 2 * (limits.max_message + codec::GREETING_LEN));
        if let Err(err) = result {
            // An error is final: the connection is closed, more input changes nothing.
            assert_eq!(decoder.decode(b"\x00", &mut Vec::new()), Err(err));
            return (events, false);
        }
        rest = tail;
    }
    (events, true)
}

#[test]
fn the_zmtp_decoder_survives_random_and_mutated_streams() {
    let seeds = seed_streams();
    let mut m = Mutator::new("zmtp_decoder");
    // The seeds themselves decode, so mutations start from real traffic.
    for (seed, expected) in seeds.iter().zip([4, 5, 2, 0]) {
        let (events, accepted) = feed(&mut m, SHELL, seed);
        assert_eq!(accepted, expected > 0, "{events:?}");
        assert_eq!(events.len(), expected, "{events:?}");
    }
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..mutate::cases() {
        let input = match m.below(5) {
            0 => m.random_bytes(300),
            1 => [greeting(3, 1), ready("DEALER", b""), m.random_bytes(300)].concat(),
            _ => {
                let seed = &seeds[m.below(seeds.len())];
                m.mutate(seed)
            }
        };
        let limits = if m.below(2) == 0 { SMALL } else { SHELL };
        let (events, ok) = feed(&mut m, limits, &input);
        if ok {
            accepted += 1
        } else {
            refused += 1
        }
        for event in events {
            if let Event::Message(frames) = event {
                assert!(!frames.is_empty() && frames.len() <= limits.max_frames);
                assert!(frames.iter().map(Bytes::len).sum::<usize>() <= limits.max_message);
            }
        }
    }
    // Both outcomes were exercised (a harness that only ever refuses tests little).
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn the_jupyter_message_decoder_survives_mutated_frames() {
    let mut client = Client::new();
    let signer = Signer::new(kernel_client::KEY);
    let mut m = Mutator::new("jupyter_decoder");
    let seed = {
        let mut frames = vec![b"peer".to_vec()];
        frames.extend(jupyter_frames(
            &mut client,
            "execute_request",
            json!({ "code": "1 + 1", "silent": false }),
        ));
        frames
    };
    let (mut accepted, mut refused) = (0, 0);
    for _ in 0..mutate::cases() {
        let mut frames = seed.clone();
        match m.below(4) {
            0 => {
                let drop = m.below(frames.len());
                frames.remove(drop);
            }
            1 => {
                let copy = frames[m.below(frames.len())].clone();
                frames.insert(m.below(frames.len() + 1), copy);
            }
            _ => {
                let i = m.below(frames.len());
                frames[i] = m.mutate(&frames[i]);
            }
        }
        // Re-signed half of the time, so mutated JSON reaches the shape checks.
        if frames.len() >= 7 && m.below(2) == 0 {
            let parts: Vec<String> = frames[3..7]
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            let signed = client.sign(&parts[0], &parts[1], &parts[2], &parts[3]);
            frames.splice(1.., signed);
        }
        match signer.decode(frames.into_iter().map(Bytes::from).collect()) {
            Ok(message) => {
                accepted += 1;
                assert!(message.header["msg_id"].is_string(), "{:?}", message.header);
                assert!(message.header["msg_type"].is_string());
                assert!(message.parent_header.is_object() && message.metadata.is_object());
            }
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn a_live_kernel_survives_mutated_streams_on_every_socket() {
    let mut kernel = Kernel::start();
    let mut client = Client::new();
    let reply = client.execute(&mut kernel.shell(), "let x = 42;");
    assert_eq!(reply["status"], "ok", "{reply}");
    let seeds = seed_streams();
    let ports = [
        (kernel.shell, &seeds[0]),
        (kernel.control, &seeds[0]),
        (kernel.stdin, &seeds[0]),
        (kernel.iopub, &seeds[1]),
        (kernel.hb, &seeds[2]),
    ];
    let mut m = Mutator::new("live_kernel");
    for _ in 0..(mutate::cases() / 8).max(50) {
        let (port, seed) = ports[m.below(ports.len())];
        let input = if m.below(8) == 0 {
            m.random_bytes(300)
        } else {
            m.mutate(seed)
        };
        let mut peer = Peer::tcp(port);
        peer.send_raw(&input);
        // Done sending: the kernel reads everything, then closes on the end of the stream
        // (or earlier, on an error).
        peer.shutdown_write();
        peer.read_to_close();
    }
    kernel.assert_still_serving();
}
