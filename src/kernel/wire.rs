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
//!
//! A received message is accepted only if its signature is right and new (a replayed
//! message is refused, see `replay.rs`), its header is a JSON object with string
//! `msg_id` and `msg_type`, and its parent header and metadata are JSON objects. Its content
//! may be any JSON value here: the handlers answer a request whose content is not an object
//! with an error reply.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::KernelError;
use super::replay::DigestHistory;

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

/// Signs and verifies messages with the connection key; clones share the history of
/// accepted signatures, so a message accepted on one channel is a replay on any other.
#[derive(Clone)]
pub struct Signer {
    key: Option<Hmac<Sha256>>,
    history: Arc<Mutex<DigestHistory>>,
}

impl Signer {
    /// A signer for `key` (the connection file's `key`; empty for unsigned messages).
    pub fn new(key: &str) -> Self {
        let key = (!key.is_empty()).then(|| {
            Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
        });
        Self {
            key,
            history: Arc::default(),
        }
    }

    /// The HMAC of the four JSON parts; `None` without a key.
    fn mac(&self, parts: [&[u8]; 4]) -> Option<[u8; 32]> {
        let mut mac = self.key.clone()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac.finalize().into_bytes().into())
    }

    /// The hex signature of the four JSON parts (empty without a key).
    pub fn sign(&self, parts: [&[u8]; 4]) -> String {
        self.mac(parts).map_or_else(String::new, |mac| hex(&mac))
    }

    /// Decodes the frames of a received multipart message, checking its signature (right,
    /// and not seen before) and the shape of its JSON parts.
    pub fn decode(&self, frames: Vec<Bytes>) -> Result<Message, KernelError> {
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
        let mac = self.mac([&parts[1], &parts[2], &parts[3], &parts[4]]);
        let expected = mac.map_or_else(String::new, |mac| hex(&mac));
        if !constant_time_eq(expected.as_bytes(), &parts[0]) {
            return Err(KernelError::Protocol(
                "a message with a wrong signature".into(),
            ));
        }
        if let Some(mac) = mac {
            let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
            if !history.insert(mac) {
                return Err(KernelError::Protocol(
                    "a replayed message (its signature was accepted before)".into(),
                ));
            }
        }
        let json = |i: usize, what: &str| {
            serde_json::from_slice::<Value>(&parts[i])
                .map_err(|err| KernelError::Protocol(format!("the {what} is not JSON: {err}")))
        };
        let object = |i: usize, what: &str| {
            let value = json(i, what)?;
            if !value.is_object() {
                return Err(KernelError::Protocol(format!(
                    "the {what} is {}, not a JSON object",
                    json_kind(&value)
                )));
            }
            Ok(value)
        };
        let header = object(1, "header")?;
        for field in ["msg_id", "msg_type"] {
            if !header[field].is_string() {
                return Err(KernelError::Protocol(format!(
                    "the header's {field} is {}, not a string",
                    json_kind(&header[field])
                )));
            }
        }
        Ok(Message {
            identities: frames[..split].to_vec(),
            header,
            parent_header: object(2, "parent header")?,
            metadata: object(3, "metadata")?,
            content: json(4, "content")?,
        })
    }

    /// The frames of `message`, signed.
    pub fn encode(&self, message: &Message) -> Vec<Bytes> {
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
        frames
    }
}

/// What kind of JSON value `value` is, for error messages ("an array", "null").
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        let decoded = Signer::new("k3y").decode(frames.clone()).unwrap();
        assert_eq!(decoded, reply);
        assert_eq!(decoded.msg_type(), "kernel_info_reply");
        assert_eq!(decoded.parent_header["msg_type"], "kernel_info_request");
        assert_eq!(decoded.identities, vec![Bytes::from("peer")]);

        let mut tampered = frames;
        let last = tampered.len() - 1;
        tampered[last] = Bytes::from(r#"{"status":"error"}"#);
        let err = signer.decode(tampered).unwrap_err();
        assert!(err.to_string().contains("wrong signature"), "{err}");
        let err = Signer::new("other")
            .decode(signer.encode(&reply))
            .unwrap_err();
        assert!(err.to_string().contains("wrong signature"), "{err}");
    }

    /// The frames of a message with these JSON parts, signed by `signer`.
    fn signed(signer: &Signer, parts: [&str; 4]) -> Vec<Bytes> {
        let signature = signer.sign(parts.map(str::as_bytes));
        let mut frames = vec![Bytes::from("peer"), Bytes::from_static(DELIMITER)];
        frames.push(Bytes::from(signature));
        frames.extend(parts.map(|p| Bytes::from(p.to_string())));
        frames
    }

    #[test]
    fn a_replayed_message_is_refused_on_every_channel() {
        let shell = Signer::new("k3y");
        let control = shell.clone();
        let header = r#"{"msg_id":"1","msg_type":"execute_request"}"#;
        let frames = signed(&shell, [header, "{}", "{}", r#"{"code":"1"}"#]);
        assert!(shell.decode(frames.clone()).is_ok());
        let err = shell.decode(frames.clone()).unwrap_err().to_string();
        assert!(err.contains("replayed"), "{err}");
        let err = control.decode(frames).unwrap_err().to_string();
        assert!(err.contains("replayed"), "{err}");
        let other = r#"{"msg_id":"2","msg_type":"execute_request"}"#;
        assert!(
            shell
                .decode(signed(&shell, [other, "{}", "{}", "{}"]))
                .is_ok()
        );
        // Without a key there is nothing to tell a replay by.
        let unsigned = Signer::new("");
        let frames = signed(&unsigned, [header, "{}", "{}", "{}"]);
        assert!(unsigned.decode(frames.clone()).is_ok());
        assert!(unsigned.decode(frames).is_ok());
    }

    #[test]
    fn json_parts_must_have_the_protocols_shape() {
        let signer = Signer::new("k3y");
        let ok = r#"{"msg_id":"1","msg_type":"kernel_info_request"}"#;
        let cases = [
            (
                [r#"["msg_id","msg_type"]"#, "{}", "{}", "{}"],
                "header is an array",
            ),
            ([r#"{"msg_type":"x"}"#, "{}", "{}", "{}"], "msg_id is null"),
            (
                [r#"{"msg_id":1,"msg_type":"x"}"#, "{}", "{}", "{}"],
                "msg_id is a number",
            ),
            (
                [r#"{"msg_id":"1","msg_type":[]}"#, "{}", "{}", "{}"],
                "msg_type is an array",
            ),
            ([ok, "[]", "{}", "{}"], "parent header is an array"),
            ([ok, "{}", "null", "{}"], "metadata is null"),
            ([ok, "{}", "{}", "{"], "content is not JSON"),
        ];
        for (parts, expected) in cases {
            let err = signer
                .decode(signed(&signer, parts))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{parts:?}: {err}");
        }
        let message = signer
            .decode(signed(&signer, [ok, "{}", "{}", "null"]))
            .unwrap();
        assert!(
            message.content.is_null(),
            "content is checked by the handlers"
        );
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
