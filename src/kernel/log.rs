//! The kernel's log on stderr: one line per event (`bumplab kernel: SOURCE: TEXT`), limited
//! so that no peer can flood it, by sending wrongly signed messages as fast as it can or by
//! reconnecting with bad greetings.
//!
//! Lines are limited per source (the channel) and kind (what they are about, e.g. "dropped
//! messages"): at most [`LINES_PER_WINDOW`] in a window; the lines beyond are left out and
//! counted, and one summary line (`... and K more lines about KIND in the last Ns`) follows
//! when the window ends. A window lasts [`FIRST_WINDOW`] and doubles, up to
//! [`LONGEST_WINDOW`], while lines of its kind keep overflowing it, so even a flood lasting
//! days writes a few lines an hour. A line is cut to [`MAX_LINE`] characters, since it may
//! quote what a peer sent.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The most lines of one source and kind written in one window.
const LINES_PER_WINDOW: u64 = 10;
/// The length of a window after a quiet spell.
const FIRST_WINDOW: Duration = Duration::from_secs(1);
/// The longest window (that of a flood lasting more than about ten minutes).
const LONGEST_WINDOW: Duration = Duration::from_secs(600);
/// The most characters of one line's text.
const MAX_LINE: usize = 1000;

/// Writes `bumplab kernel: {source}: {text}` (`bumplab kernel: {text}` for an empty source)
/// on stderr, unless lines of this `kind` from `source` are over their limit (module docs).
/// `kind` is a plural noun phrase, named in the summary of the lines left out.
pub(crate) fn line(source: &'static str, kind: &'static str, text: &str) {
    let log = LOG.get_or_init(Log::default);
    let mut limiter = log.lock();
    match limiter.offer((source, kind), Instant::now()) {
        Verdict::Write(summary) => {
            if let Some(summary) = summary {
                eprintln!("{summary}");
            }
            eprintln!("{}", prefixed(source, &cut(text)));
        }
        Verdict::LeaveOut { first } => {
            drop(limiter);
            if first {
                log.summarise_later();
            }
        }
    }
}

/// The process's log, its flusher started on the first line left out.
static LOG: OnceLock<Log> = OnceLock::new();

#[derive(Default)]
struct Log {
    limiter: Mutex<Limiter>,
    /// Wakes the flusher when a window starts leaving lines out.
    pending: Condvar,
    flusher: OnceLock<()>,
}

impl Log {
    fn lock(&self) -> MutexGuard<'_, Limiter> {
        self.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes sure the summary is written when its window ends, even if no line follows.
    fn summarise_later(&'static self) {
        self.flusher.get_or_init(|| {
            // Without the thread, a summary is written before the next line of its kind.
            let _ = std::thread::Builder::new()
                .name("bumplab-log".into())
                .spawn(move || self.flush_loop());
        });
        self.pending.notify_one();
    }

    /// Writes each summary as its window ends, for ever.
    fn flush_loop(&self) {
        let mut limiter = self.lock();
        loop {
            let (summaries, next) = limiter.due(Instant::now());
            for summary in summaries {
                eprintln!("{summary}");
            }
            limiter = match next {
                Some(at) => {
                    let wait = at.saturating_duration_since(Instant::now());
                    let woken = self.pending.wait_timeout(limiter, wait);
                    woken.unwrap_or_else(|e| e.into_inner()).0
                }
                None => self
                    .pending
                    .wait(limiter)
                    .unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// A line's source and kind.
type Key = (&'static str, &'static str);

/// What to do with an offered line.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Write it, after the summary of its kind's previous window if there is one.
    Write(Option<String>),
    /// Leave it out; `first` when it is the first left out in its window.
    LeaveOut { first: bool },
}

/// The current window of one kind of line.
struct Window {
    start: Instant,
    length: Duration,
    written: u64,
    /// Lines left out and not yet summarised.
    left_out: u64,
    /// Whether the window left any line out (its successor is longer).
    overflowed: bool,
}

impl Window {
    fn new(start: Instant, length: Duration) -> Self {
        Self {
            start,
            length,
            written: 0,
            left_out: 0,
            overflowed: false,
        }
    }

    fn end(&self) -> Instant {
        self.start + self.length
    }

    /// The summary of the lines left out and not summarised yet, if any; they count as
    /// summarised from now on.
    fn summary(&mut self, (source, kind): Key) -> Option<String> {
        let left_out = std::mem::take(&mut self.left_out);
        (left_out > 0).then(|| {
            let text = format!(
                "... and {left_out} more lines about {kind} in the last {}s",
                self.length.as_secs()
            );
            prefixed(source, &text)
        })
    }
}

/// The windows of every source and kind of line (sans I/O: time is given).
#[derive(Default)]
struct Limiter {
    windows: HashMap<Key, Window>,
}

impl Limiter {
    /// Whether a line of `key` offered at `now` is written or left out.
    fn offer(&mut self, key: Key, now: Instant) -> Verdict {
        let window = self
            .windows
            .entry(key)
            .or_insert_with(|| Window::new(now, FIRST_WINDOW));
        let mut summary = None;
        if now >= window.end() {
            summary = window.summary(key);
            // A flood that goes on gets longer windows; a quiet spell starts afresh.
            let length = if window.overflowed && now < window.end() + window.length {
                (window.length * 2).min(LONGEST_WINDOW)
            } else {
                FIRST_WINDOW
            };
            *window = Window::new(now, length);
        }
        if window.written < LINES_PER_WINDOW {
            window.written += 1;
            Verdict::Write(summary)
        } else {
            window.left_out += 1;
            window.overflowed = true;
            Verdict::LeaveOut {
                first: window.left_out == 1,
            }
        }
    }

    /// The summaries of the windows that ended by `now` with lines left out, and when the
    /// next window with lines left out ends.
    fn due(&mut self, now: Instant) -> (Vec<String>, Option<Instant>) {
        let mut summaries = Vec::new();
        let mut next: Option<Instant> = None;
        for (&key, window) in &mut self.windows {
            if window.left_out == 0 {
                continue;
            }
            if now >= window.end() {
                summaries.extend(window.summary(key));
            } else {
                next = Some(next.map_or(window.end(), |n| n.min(window.end())));
            }
        }
        (summaries, next)
    }
}

/// The line as written: the kernel's prefix, the source (if any), the text.
fn prefixed(source: &str, text: &str) -> String {
    if source.is_empty() {
        format!("bumplab kernel: {text}")
    } else {
        format!("bumplab kernel: {source}: {text}")
    }
}

/// `text` cut to [`MAX_LINE`] characters (an ellipsis ends a cut line).
fn cut(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_LINE) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOOD: Key = ("shell", "dropped messages");

    /// Offers `n` lines of `key` at `now`: how many were written, and the summaries among
    /// them.
    fn offer(limiter: &mut Limiter, key: Key, now: Instant, n: u64) -> (u64, Vec<String>) {
        let mut written = 0;
        let mut summaries = Vec::new();
        for _ in 0..n {
            if let Verdict::Write(summary) = limiter.offer(key, now) {
                written += 1;
                summaries.extend(summary);
            }
        }
        (written, summaries)
    }

    #[test]
    fn a_flood_writes_a_few_lines_and_a_summary_per_window() {
        let mut limiter = Limiter::default();
        let t0 = Instant::now();
        assert_eq!(
            offer(&mut limiter, FLOOD, t0, 100_000),
            (LINES_PER_WINDOW, vec![])
        );
        // Other kinds and sources have their own windows.
        assert_eq!(
            offer(&mut limiter, ("control", "dropped messages"), t0, 3).0,
            3
        );
        assert_eq!(offer(&mut limiter, ("shell", "bad greetings"), t0, 3).0, 3);
        // The summary is due once the window ends.
        assert_eq!(
            limiter.due(t0 + Duration::from_millis(500)).0,
            Vec::<String>::new()
        );
        let (summaries, next) = limiter.due(t0 + FIRST_WINDOW);
        assert_eq!(
            summaries,
            [
                "bumplab kernel: shell: ... and 99990 more lines about dropped messages in the last 1s"
            ]
        );
        assert_eq!(next, None, "nothing more to summarise");
        // The flood goes on: the next window is twice as long, and its summary comes first
        // when a line follows it (if the flusher did not write it before).
        let t1 = t0 + FIRST_WINDOW;
        assert_eq!(offer(&mut limiter, FLOOD, t1, 500).0, LINES_PER_WINDOW);
        assert_eq!(
            limiter.due(t1 + FIRST_WINDOW).1,
            Some(t1 + 2 * FIRST_WINDOW)
        );
        let t2 = t1 + 2 * FIRST_WINDOW;
        let (written, summaries) = offer(&mut limiter, FLOOD, t2, 1);
        assert_eq!(written, 1);
        assert_eq!(
            summaries,
            ["bumplab kernel: shell: ... and 490 more lines about dropped messages in the last 2s"]
        );
    }

    #[test]
    fn windows_grow_while_a_flood_lasts_and_reset_after_a_quiet_spell() {
        let mut limiter = Limiter::default();
        let mut now = Instant::now();
        let mut written = 0;
        // A flood of 50 lines a second for a day.
        for _ in 0..86_400 {
            written += offer(&mut limiter, FLOOD, now, 50).0;
            now += Duration::from_secs(1);
        }
        let window = &limiter.windows[&FLOOD];
        assert_eq!(window.length, LONGEST_WINDOW);
        // Ten lines per window: ten windows growing to ten minutes, then six an hour.
        assert!(written < 200 * LINES_PER_WINDOW, "{written} lines written");
        // After a quiet spell as long as the last window, windows start short again.
        now += 2 * LONGEST_WINDOW;
        offer(&mut limiter, FLOOD, now, 1);
        assert_eq!(limiter.windows[&FLOOD].length, FIRST_WINDOW);
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "é".repeat(5000);
        let line = cut(&long);
        assert_eq!(line.chars().count(), MAX_LINE + 1);
        assert!(line.ends_with("é…"));
        assert_eq!(cut("short"), "short");
        assert_eq!(prefixed("", "x"), "bumplab kernel: x");
        assert_eq!(prefixed("iopub", "x"), "bumplab kernel: iopub: x");
    }
}
