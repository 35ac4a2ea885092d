//! The kernel's session thread: owns the [`Session`] and answers the shell requests that need
//! it (execute, complete, inspect, is_complete, history), one at a time and in order, handing
//! every reply and broadcast to the kernel's [`Sink`].
//!
//! A request whose content the handler reads must have a JSON object as content (and an
//! `execute_request` a string `code`); otherwise the reply is an error (`BadRequest`) and
//! nothing runs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::wire::{Headers, Message, json_kind};
use crate::interrupt::Interrupt;
use crate::script::{ErrorKind, Session, catalog::Catalog, complete, input};

/// Which socket a message leaves by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// Replies to shell requests.
    Shell,
    /// Broadcasts: status, streams, displays, results, errors.
    IoPub,
}

/// Where the kernel's messages leave: signed and queued on their channel's socket (never
/// blocking).
pub type Sink = Arc<dyn Fn(Channel, &Message) + Send + Sync>;

/// How long printed text may wait before it is sent: lines printed within this time travel
/// in one `stream` message (as in ipykernel), so a loop printing thousands of lines sends a
/// few messages rather than thousands (which a front end cannot take in before the kernel's
/// outgoing queue, like ZeroMQ's high-water mark, starts dropping them).
pub const STREAM_INTERVAL: Duration = Duration::from_millis(100);

/// Printed text beyond which the gathered lines are sent at once.
const STREAM_MAX_BYTES: usize = 1 << 20;

/// Sends the kernel's messages, tagging broadcasts with the request being served.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Inner>,
}

/// What the clones of a [`Publisher`] share.
struct Inner {
    headers: Arc<Headers>,
    out: Sink,
    /// The request whose outputs are being produced (the parent of every broadcast).
    current: Mutex<Option<Message>>,
    /// Progress bars already shown (later redraws update them in place).
    bars: Mutex<std::collections::HashSet<u64>>,
    /// Printed text not sent yet, and when its first line was printed.
    pending: Mutex<(String, Option<Instant>)>,
}

impl Publisher {
    /// A publisher sending to `out`. A background thread sends printed text that has waited
    /// [`STREAM_INTERVAL`] (it ends with the last clone of the publisher).
    pub fn new(headers: Arc<Headers>, out: Sink) -> Self {
        let inner = Arc::new(Inner {
            headers,
            out,
            current: Mutex::new(None),
            bars: Mutex::default(),
            pending: Mutex::new((String::new(), None)),
        });
        let weak = Arc::downgrade(&inner);
        let _ = std::thread::Builder::new()
            .name("bumplab-stream".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(STREAM_INTERVAL / 2);
                    let Some(inner) = weak.upgrade() else {
                        return;
                    };
                    let publisher = Publisher { inner };
                    if publisher
                        .pending_since()
                        .is_some_and(|t| t.elapsed() >= STREAM_INTERVAL)
                    {
                        publisher.flush_stream();
                    }
                }
            });
        Self { inner }
    }

    fn send(&self, channel: Channel, message: Message) {
        (self.inner.out)(channel, &message);
    }

    fn pending_since(&self) -> Option<Instant> {
        self.inner
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
    }

    /// Sends the printed text gathered so far as one `stream` message.
    pub fn flush_stream(&self) {
        let text = {
            let mut pending = self.inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.1 = None;
            std::mem::take(&mut pending.0)
        };
        if !text.is_empty() {
            self.send_broadcast(
                "stream",
                self.current().as_ref(),
                json!({ "name": "stdout", "text": text }),
            );
        }
    }

    /// Makes `request` the parent of the broadcasts that follow (`None`: no request).
    fn set_current(&self, request: Option<Message>) {
        *self.inner.current.lock().unwrap_or_else(|e| e.into_inner()) = request;
    }

    fn current(&self) -> Option<Message> {
        self.inner
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn send_broadcast(&self, msg_type: &str, parent: Option<&Message>, content: Value) {
        let topic = bytes::Bytes::from(format!("kernel.bumplab.{msg_type}"));
        let message = self
            .inner
            .headers
            .message(msg_type, parent, vec![topic], content);
        self.send(Channel::IoPub, message);
    }

    /// Broadcasts `msg_type` on IOPub with `parent` as its parent (after any printed text
    /// still waiting, so that outputs keep their order).
    pub fn broadcast(&self, msg_type: &str, parent: Option<&Message>, content: Value) {
        self.flush_stream();
        self.send_broadcast(msg_type, parent, content);
    }

    /// Broadcasts on behalf of the request being served.
    fn broadcast_current(&self, msg_type: &str, content: Value) {
        self.broadcast(msg_type, self.current().as_ref(), content);
    }

    /// Replies `msg_type` to `request` on the shell channel (after the printed text).
    pub fn reply(&self, msg_type: &str, request: &Message, content: Value) {
        self.flush_stream();
        self.send(
            Channel::Shell,
            self.inner.headers.reply(msg_type, request, content),
        );
    }

    /// The kernel's `busy` / `idle` status for `parent`.
    pub fn status(&self, state: &str, parent: Option<&Message>) {
        self.broadcast("status", parent, json!({ "execution_state": state }));
    }

    /// Text the running cell printed: gathered, and sent within [`STREAM_INTERVAL`], before
    /// any other output, or once a megabyte has gathered.
    pub fn stream(&self, text: &str) {
        let full = {
            let mut pending = self.inner.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.0.push_str(text);
            pending.0.push('\n');
            pending.1.get_or_insert_with(Instant::now);
            pending.0.len() >= STREAM_MAX_BYTES
        };
        if full {
            self.flush_stream();
        }
    }

    /// A figure the running cell drew without a path.
    pub fn display(&self, mime: &str, bytes: &[u8]) {
        let data = if mime.starts_with("image/svg") {
            json!({ mime: String::from_utf8_lossy(bytes), "text/plain": "<figure>" })
        } else {
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            json!({ mime: encoded, "text/plain": "<figure>" })
        };
        self.broadcast_current(
            "display_data",
            json!({ "data": data, "metadata": {}, "transient": {} }),
        );
    }

    /// A progress bar's line under the running cell: shown once (`display_data` with a
    /// display id), then updated in place (`update_display_data`); cleared when `line` is
    /// `None` (the bar is finished).
    pub fn progress(&self, id: u64, line: Option<&str>) {
        let display_id = format!("bumplab-progress-{}-{id}", std::process::id());
        let first = self
            .inner
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id);
        if first && line.is_none() {
            return;
        }
        let content = json!({
            "data": { "text/plain": line.unwrap_or("") },
            "metadata": {},
            "transient": { "display_id": display_id },
        });
        let msg_type = if first {
            "display_data"
        } else {
            "update_display_data"
        };
        self.broadcast_current(msg_type, content);
    }
}

/// The session side of the kernel.
pub struct Executor {
    session: Session,
    publisher: Publisher,
    execution_count: u64,
}

impl Executor {
    /// A fresh session whose prints, figures and progress bars go to `publisher`.
    pub fn new(publisher: Publisher) -> Self {
        let (text, figures, bars) = (publisher.clone(), publisher.clone(), publisher.clone());
        crate::progress::set_sink(Some(Arc::new(move |id, line: Option<&str>| {
            bars.progress(id, line)
        })));
        let session = Session::with_sinks(
            Arc::new(move |t: &str| text.stream(t)),
            Some(Arc::new(move |mime: &str, bytes: &[u8]| {
                figures.display(mime, bytes)
            })),
        );
        Self {
            session,
            publisher,
            execution_count: 0,
        }
    }

    /// The session's interrupt flag (the control channel triggers it).
    pub fn interrupt(&self) -> Interrupt {
        self.session.interrupt()
    }

    /// Serves one shell request, between `busy` and `idle`.
    pub fn handle(&mut self, request: Message) {
        self.publisher.status("busy", Some(&request));
        self.publisher.set_current(Some(request.clone()));
        let (reply_type, content) = match request.msg_type() {
            "execute_request" => ("execute_reply", self.execute(&request.content)),
            "complete_request" => ("complete_reply", self.complete(&request.content)),
            "inspect_request" => ("inspect_reply", self.inspect(&request.content)),
            "is_complete_request" => ("is_complete_reply", is_complete(&request.content)),
            "history_request" => ("history_reply", json!({ "status": "ok", "history": [] })),
            "comm_info_request" => ("comm_info_reply", json!({ "status": "ok", "comms": {} })),
            "kernel_info_request" => ("kernel_info_reply", kernel_info()),
            other => {
                super::log::line(
                    "shell",
                    "ignored requests",
                    &format!("ignoring an unknown request '{other}'"),
                );
                ("", Value::Null)
            }
        };
        if !reply_type.is_empty() {
            self.publisher.reply(reply_type, &request, content);
        }
        self.publisher.set_current(None);
        self.publisher.status("idle", Some(&request));
    }

    fn execute(&mut self, content: &Value) -> Value {
        let fields = match request_fields("execute_request", content) {
            Ok(fields) => fields,
            Err(reply) => return self.with_count(reply),
        };
        let code = match fields.get("code") {
            Some(Value::String(code)) => code.as_str(),
            Some(other) => {
                return self.with_count(bad_request(format!(
                    "the code of execute_request is {}, not a string",
                    json_kind(other)
                )));
            }
            None => return self.with_count(bad_request("execute_request has no code".into())),
        };
        let silent = content["silent"].as_bool().unwrap_or(false);
        let store = content["store_history"].as_bool().unwrap_or(true) && !silent;
        if store {
            self.execution_count += 1;
        }
        let count = self.execution_count;
        if !silent {
            self.publisher.broadcast_current(
                "execute_input",
                json!({ "code": code, "execution_count": count }),
            );
        }
        let ok = json!({
            "status": "ok", "execution_count": count, "user_expressions": {}, "payload": [],
        });
        if code.trim().is_empty() {
            return ok;
        }
        match self.session.eval(&format!("In[{count}]"), code) {
            Ok(value) => {
                if !silent && !value.is_unit() && !code.trim_end().ends_with(';') {
                    let mut data = json!({ "text/plain": self.session.display(&value) });
                    if let Some(html) = self.session.html(&value) {
                        data["text/html"] = json!(html);
                    }
                    self.publisher.broadcast_current(
                        "execute_result",
                        json!({ "execution_count": count, "data": data, "metadata": {} }),
                    );
                }
                ok
            }
            Err(err) => {
                let ename = match err.kind {
                    ErrorKind::Syntax => "SyntaxError",
                    ErrorKind::Runtime => "RuntimeError",
                    ErrorKind::Interrupted => "Interrupted",
                    ErrorKind::Internal => "InternalError",
                };
                let error = json!({
                    "ename": ename,
                    "evalue": err.message,
                    "traceback": err.to_string().lines().collect::<Vec<_>>(),
                });
                if !silent {
                    self.publisher.broadcast_current("error", error.clone());
                }
                let mut reply = error;
                reply["status"] = json!("error");
                reply["execution_count"] = json!(count);
                reply
            }
        }
    }

    /// An error reply to an execute request with the current execution count.
    fn with_count(&self, mut reply: Value) -> Value {
        reply["execution_count"] = json!(self.execution_count);
        reply
    }

    fn complete(&self, content: &Value) -> Value {
        if let Err(reply) = request_fields("complete_request", content) {
            return reply;
        }
        let code = content["code"].as_str().unwrap_or("");
        let cursor = byte_offset(code, content["cursor_pos"].as_u64().unwrap_or(0) as usize);
        let found = complete::complete(
            self.catalog(),
            &self.session.completion_context(),
            code,
            cursor,
        );
        json!({
            "status": "ok",
            "matches": found.candidates,
            "cursor_start": char_offset(code, found.start),
            "cursor_end": char_offset(code, found.end),
            "metadata": {},
        })
    }

    fn inspect(&self, content: &Value) -> Value {
        if let Err(reply) = request_fields("inspect_request", content) {
            return reply;
        }
        let code = content["code"].as_str().unwrap_or("");
        let cursor = byte_offset(code, content["cursor_pos"].as_u64().unwrap_or(0) as usize);
        let name = complete::word_at(code, cursor);
        let text = self.catalog().help_text(name).or_else(|| {
            self.session
                .variables()
                .into_iter()
                .find(|v| v.name == name)
                .map(|v| format!("{}: {}\n{}", v.name, v.type_name, v.preview))
        });
        match text {
            Some(text) => json!({
                "status": "ok", "found": true, "data": { "text/plain": text }, "metadata": {},
            }),
            None => json!({ "status": "ok", "found": false, "data": {}, "metadata": {} }),
        }
    }

    fn catalog(&self) -> &Catalog {
        self.session.catalog()
    }
}

/// The `kernel_info_reply` content.
pub fn kernel_info() -> Value {
    json!({
        "status": "ok",
        "protocol_version": super::wire::PROTOCOL_VERSION,
        "implementation": "bumplab",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "rhai",
            "version": "1",
            "mimetype": "text/x-rhai",
            "file_extension": ".rhai",
            "pygments_lexer": "rust",
            "codemirror_mode": "rust",
        },
        "banner": format!(
            "bumplab {}: Rhai cells; help() lists the built-ins",
            env!("CARGO_PKG_VERSION")
        ),
        "help_links": [],
    })
}

fn is_complete(content: &Value) -> Value {
    if let Err(reply) = request_fields("is_complete_request", content) {
        return reply;
    }
    let code = content["code"].as_str().unwrap_or("");
    if input::is_complete(code) {
        json!({ "status": "complete" })
    } else {
        json!({ "status": "incomplete", "indent": "    " })
    }
}

/// The content of a `msg_type` request as a JSON object, or the error reply saying it is not.
pub fn request_fields<'a>(
    msg_type: &str,
    content: &'a Value,
) -> Result<&'a Map<String, Value>, Value> {
    content.as_object().ok_or_else(|| {
        bad_request(format!(
            "the content of {msg_type} is {}, not a JSON object",
            json_kind(content)
        ))
    })
}

/// The content of an error reply to a request that cannot be served as sent.
pub fn bad_request(problem: String) -> Value {
    super::log::line("", "bad requests", &problem);
    json!({
        "status": "error",
        "ename": "BadRequest",
        "evalue": problem,
        "traceback": [format!("BadRequest: {problem}")],
    })
}

/// The byte offset of the `chars`-th character of `text` (Jupyter counts cursor positions
/// in Unicode code points).
fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices()
        .nth(chars)
        .map_or(text.len(), |(i, _)| i)
}

/// The number of characters before byte offset `byte` of `text`.
fn char_offset(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_without_an_object_content_get_an_error_reply() {
        let reply = request_fields("execute_request", &Value::Null).unwrap_err();
        assert_eq!(reply["status"], "error");
        assert_eq!(reply["ename"], "BadRequest");
        assert_eq!(
            reply["evalue"],
            "the content of execute_request is null, not a JSON object"
        );
        assert!(
            request_fields("x", &json!([1])).unwrap_err()["evalue"]
                .as_str()
                .unwrap()
                .contains("is an array")
        );
        assert!(request_fields("x", &json!({})).is_ok());
        let reply = is_complete(&json!("let a = 1;"));
        assert_eq!(reply["status"], "error", "{reply}");
        assert_eq!(
            is_complete(&json!({"code": "let a = 1;"}))["status"],
            "complete"
        );
    }

    /// The (type, stream text) of every message sent.
    type Record = Arc<Mutex<Vec<(String, String)>>>;

    /// A publisher whose messages are recorded.
    fn recording() -> (Publisher, Record) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let sink: Sink = Arc::new(move |_, m: &Message| {
            let text = m.content["text"].as_str().unwrap_or("").to_string();
            log.lock().unwrap().push((m.msg_type().to_string(), text));
        });
        (Publisher::new(Arc::new(Headers::new()), sink), seen)
    }

    #[test]
    fn printed_lines_travel_together_and_before_other_outputs() {
        // 20 000 prints were 20 000 messages; the front end fell behind, the outgoing queue
        // dropped the rest, the final "idle" with it, and the notebook waited forever.
        let (publisher, seen) = recording();
        for i in 0..20_000 {
            publisher.stream(&i.to_string());
        }
        publisher.status("idle", None);
        let seen = seen.lock().unwrap();
        let streams: Vec<&String> = seen
            .iter()
            .filter(|(t, _)| t == "stream")
            .map(|(_, text)| text)
            .collect();
        assert!(streams.len() <= 3, "{} stream messages", streams.len());
        let text: String = streams.into_iter().cloned().collect();
        let expected: String = (0..20_000).map(|i| format!("{i}\n")).collect();
        assert!(
            text == expected,
            "the printed text arrives whole and in order"
        );
        assert_eq!(
            seen.last().unwrap().0,
            "status",
            "the status comes after the text"
        );
    }

    #[test]
    fn a_lone_printed_line_is_sent_after_the_interval() {
        let (publisher, seen) = recording();
        publisher.stream("still working");
        let deadline = Instant::now() + 50 * STREAM_INTERVAL;
        while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(STREAM_INTERVAL / 4);
        }
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.as_slice(),
            [("stream".to_string(), "still working\n".to_string())]
        );
    }

    #[test]
    fn cursor_offsets_count_code_points() {
        let text = "let μ = 1; μ.";
        let byte = byte_offset(text, 13);
        assert_eq!(&text[byte..], "");
        assert_eq!(char_offset(text, byte), 13);
        assert_eq!(byte_offset(text, 5), "let μ".len());
    }
}
