//! The Jupyter wire protocol (messaging specification 5.3): a message as the frames of a
//! ZeroMQ multipart message, signed with HMAC-SHA256 over its four JSON parts.
//!
//! ```text
//! [identities...] "<IDS|MSG>" signature header parent_header metadata content [buffers...]
//! ```
//!
//! The signature is the lowercase hex HMAC of header, parent header, metadata and content in
//! that order, with the connection file's key; an empty key means unsigned messages (empty
//! signature).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use zeromq::ZmqMessage;

use super::KernelError;

/// The frame separating routing identities from the message.
const DELIMITER: &[u8] = b"<IDS|MSG>";

/// The messaging-protocol version this kernel speaks.
pub const PROTOCOL_VERSION: &str = "5.3";

/// A Jupyter message, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Routing identities (ROUTER peers) or the topic (IOPub).
    pub identities: Vec<Bytes>,
    /// `msg_id`, `session`, `username`, `date`, `msg_type`, `version`.
    pub header: Value,
    /// The header of the request this message answers (`{}` for none).
    pub parent_header: Value,
    /// Free-form metadata.
    pub metadata: Value,
    /// The message body; its shape depends on `msg_type`.
    pub content: Value,
}

impl Message {
    /// The message type, `""` when the header has none.
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }
}

/// Signs and verifies messages with the connection key.
#[derive(Clone)]
pub struct Signer {
    key: Option<Hmac<Sha256>>,
}

impl Signer {
    /// A signer for `key` (the connection file's `key`; empty for unsigned messages).
    pub fn new(key: &str) -> Self {
        let key = (!key.is_empty()).then(|| {
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
        });
        Self { key }
    }

    /// The hex signature of the four JSON parts.
    pub fn sign(&self, parts: [&[u8]; 4]) -> String {
        let Some(key) = &self.key else {
            return String::new();
        };
        let mut mac = key.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Decodes the frames of a received multipart message, checking its signature.
    pub fn decode(&self, message: ZmqMessage) -> Result<Message, KernelError> {
        let frames = message.into_vec();
        let split = frames
            .iter()
            .position(|f| f.as_ref() == DELIMITER)
            .ok_or_else(|| {
                KernelError::Protocol("a message without the <IDS|MSG> delimiter".into())
            })?;
        let parts = &frames[split + 1..];
        if parts.len() < 5 {
            return Err(KernelError::Protocol(format!(
                "a message with {} frames after the delimiter, expected at least 5",
                parts.len()
            )));
        }
        let expected = self.sign([&parts[1], &parts[2], &parts[3], &parts[4]]);
        if !constant_time_eq(expected.as_bytes(), &parts[0]) {
            return Err(KernelError::Protocol(
                "a message with a wrong signature".into(),
            ));
        }
        let json = |i: usize, what: &str| {
            serde_json::from_slice::<Value>(&parts[i])
                .map_err(|err| KernelError::Protocol(format!("the {what} is not JSON: {err}")))
        };
        Ok(Message {
            identities: frames[..split].to_vec(),
            header: json(1, "header")?,
            parent_header: json(2, "parent header")?,
            metadata: json(3, "metadata")?,
            content: json(4, "content")?,
        })
    }

    /// The frames of `message`, signed.
    pub fn encode(&self, message: &Message) -> ZmqMessage {
        let parts = [
            &message.header,
            &message.parent_header,
            &message.metadata,
            &message.content,
        ]
        .map(|v| serde_json::to_vec(v).expect("JSON values serialise"));
        let signature = self.sign([&parts[0], &parts[1], &parts[2], &parts[3]]);
        let mut frames: Vec<Bytes> = message.identities.clone();
        frames.push(Bytes::from_static(DELIMITER));
        frames.push(Bytes::from(signature));
        frames.extend(parts.into_iter().map(Bytes::from));
        ZmqMessage::try_from(frames).expect("a message has frames")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Makes the headers of the kernel's messages: a session id and a counter for unique message
/// ids.
pub struct Headers {
    session: String,
    counter: AtomicU64,
}

impl Headers {
    /// Headers for a kernel session with a fresh id (time and process id).
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            session: format!("{:016x}-{:08x}", nanos as u64, std::process::id()),
            counter: AtomicU64::new(0),
        }
    }

    /// A reply or broadcast of type `msg_type` to `parent` (whose header becomes the parent
    /// header), routed with `identities`.
    pub fn message(
        &self,
        msg_type: &str,
        parent: Option<&Message>,
        identities: Vec<Bytes>,
        content: Value,
    ) -> Message {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        Message {
            identities,
            header: json!({
                "msg_id": format!("{}-{n}", self.session),
                "session": self.session,
                "username": "bumplab",
                "date": iso8601(SystemTime::now()),
                "msg_type": msg_type,
                "version": PROTOCOL_VERSION,
            }),
            parent_header: parent.map_or_else(|| json!({}), |p| p.header.clone()),
            metadata: json!({}),
            content,
        }
    }

    /// The reply of type `msg_type` to the request `request`, routed back to its sender.
    pub fn reply(&self, msg_type: &str, request: &Message, content: Value) -> Message {
        self.message(msg_type, Some(request), request.identities.clone(), content)
    }
}

impl Default for Headers {
    fn default() -> Self {
        Self::new()
    }
}

/// `time` as an ISO 8601 UTC timestamp with microseconds (`2026-11-23T17:14:23.123456Z`).
pub fn iso8601(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_micros()
    )
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01 (Howard Hinnant's
/// algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn signatures_match_python_hmac() {
        // python3: h = hmac.new(b"secret", digestmod=hashlib.sha256); h.update each part in
        // turn; h.hexdigest()
        let signer = Signer::new("secret");
        assert_eq!(
            signer.sign([br#"{"a":1}"#, b"{}", b"{}", br#"{"b":2}"#]),
            "9b14d94617bffb278285cea390d9dc17e01ec3188dba313f9548021906557a7b"
        );
        assert!(Signer::new("").sign([b"a", b"b", b"c", b"d"]).is_empty());
    }

    #[test]
    fn encode_then_decode_round_trips_and_rejects_tampering() {
        let signer = Signer::new("k3y");
        let headers = Headers::new();
        let request = headers.message(
            "kernel_info_request",
            None,
            vec![Bytes::from("peer")],
            json!({}),
        );
        let reply = headers.reply("kernel_info_reply", &request, json!({"status": "ok"}));
        let frames = signer.encode(&reply);
        let decoded = signer.decode(frames.clone()).unwrap();
        assert_eq!(decoded, reply);
        assert_eq!(decoded.msg_type(), "kernel_info_reply");
        assert_eq!(decoded.parent_header["msg_type"], "kernel_info_request");
        assert_eq!(decoded.identities, vec![Bytes::from("peer")]);

        let mut tampered = frames.into_vec();
        let last = tampered.len() - 1;
        tampered[last] = Bytes::from(r#"{"status":"error"}"#);
        let err = signer
            .decode(ZmqMessage::try_from(tampered).unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("wrong signature"), "{err}");
        let err = Signer::new("other")
            .decode(signer.encode(&reply))
            .unwrap_err();
        assert!(err.to_string().contains("wrong signature"), "{err}");
    }

    #[test]
    fn timestamps_are_iso8601_utc() {
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        // 2000-02-29 12:34:56.000789 UTC is 951827696 s after the epoch.
        let t = UNIX_EPOCH + Duration::new(951_827_696, 789_000);
        assert_eq!(iso8601(t), "2000-02-29T12:34:56.000789Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_453_200);
        assert_eq!(iso8601(t), "2026-11-23T17:00:00.000000Z");
    }
}
