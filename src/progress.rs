//! Progress bars for long computations (pseudo-experiments, trainings).
//!
//! A [`Progress`] is shared by reference between worker threads; each reports the work it
//! finished with [`Progress::advance`]. The bar is drawn on standard error, only when standard
//! error is a terminal, only once the work has run for [`DELAY`] (short computations stay
//! silent), and at most every [`REFRESH`]. It is erased when the [`Progress`] is dropped, so
//! the printed result starts on a clean line. Front ends without a terminal (the Jupyter
//! kernel) route bars elsewhere with [`set_sink`], or switch them off with [`set_enabled`].

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long work runs before its bar appears.
pub const DELAY: Duration = Duration::from_millis(700);

/// The shortest time between two redraws.
pub const REFRESH: Duration = Duration::from_millis(150);

/// Width of the bar itself, in characters.
const BAR_WIDTH: usize = 30;

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Switches progress bars on or off for the whole process (on by default).
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Where bars go instead of standard error: called with the bar's id and its line on each
/// redraw, and with `None` once the bar is finished.
pub type ProgressSink = Arc<dyn Fn(u64, Option<&str>) + Send + Sync>;

static SINK: Mutex<Option<ProgressSink>> = Mutex::new(None);

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Sends every bar made from now on to `sink` (a notebook kernel shows them under the
/// running cell); `None` returns them to the terminal.
pub fn set_sink(sink: Option<ProgressSink>) {
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink;
}

/// A progress bar over `total` units of work.
pub struct Progress {
    label: String,
    total: u64,
    done: AtomicU64,
    started: Instant,
    visible: bool,
    /// Where it is drawn when not on the terminal, and its id there.
    sink: Option<(ProgressSink, u64)>,
    /// When the bar was last drawn; `None` until it first is.
    last_draw: Mutex<Option<Instant>>,
}

impl Progress {
    /// A bar labelled `label` (e.g. "pseudo-experiments") over `total` units.
    pub fn new(label: impl Into<String>, total: u64) -> Self {
        let enabled = ENABLED.load(Ordering::Relaxed);
        let sink = SINK
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|_| enabled)
            .map(|sink| (sink, NEXT_ID.fetch_add(1, Ordering::Relaxed)));
        Self {
            label: label.into(),
            total,
            done: AtomicU64::new(0),
            started: Instant::now(),
            visible: sink.is_some() || (enabled && std::io::stderr().is_terminal()),
            sink,
            last_draw: Mutex::new(None),
        }
    }

    /// A bar that counts but never draws: for work whose caller shows its own bar.
    pub fn hidden() -> Self {
        let mut bar = Self::new("", 0);
        bar.visible = false;
        bar
    }

    /// Records `n` more finished units and redraws the bar when it is due.
    pub fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if !self.visible {
            return;
        }
        let elapsed = self.started.elapsed();
        if elapsed < DELAY {
            return;
        }
        // A busy lock means another thread is drawing right now: skip this redraw.
        let Ok(mut last) = self.last_draw.try_lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < REFRESH) {
            return;
        }
        *last = Some(Instant::now());
        let line = render(&self.label, done.min(self.total), self.total, elapsed);
        if let Some((sink, id)) = &self.sink {
            sink(*id, Some(&line));
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
    }

    /// The units finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("label", &self.label)
            .field("total", &self.total)
            .field("done", &self.done())
            .field("visible", &self.visible)
            .finish()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let drawn = self
            .last_draw
            .get_mut()
            .map(|t| t.is_some())
            .unwrap_or(false);
        if let (true, Some((sink, id))) = (drawn, &self.sink) {
            sink(*id, None);
        } else if drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

/// One line of the bar: label, bar, percentage, counts, elapsed time and the estimated time
/// left, e.g. `pseudo-experiments [#########.....................] 31% 310000/1000000 1.2s, 2.7s left`.
pub fn render(label: &str, done: u64, total: u64, elapsed: Duration) -> String {
    let fraction = if total == 0 {
        1.0
    } else {
        done as f64 / total as f64
    };
    let filled = ((fraction * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH);
    let bar = format!("{}{}", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled));
    let seconds = elapsed.as_secs_f64();
    let left = if done > 0 && done < total {
        format!(
            ", {:.1}s left",
            seconds * (total - done) as f64 / done as f64
        )
    } else {
        String::new()
    };
    format!(
        "{label} [{bar}] {:3.0}% {done}/{total} {seconds:.1}s{left}",
        100.0 * fraction
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fraction_counts_and_time_left() {
        let line = render("pseudo-experiments", 250, 1000, Duration::from_secs(1));
        assert_eq!(
            line,
            "pseudo-experiments [########......................]  25% 250/1000 1.0s, 3.0s left"
        );
        let full = render("epochs", 10, 10, Duration::from_millis(2500));
        assert!(
            full.contains("[##############################] 100% 10/10 2.5s"),
            "{full}"
        );
        assert!(!full.contains("left"));
        assert!(render("empty", 0, 0, Duration::ZERO).contains("100%"));
    }

    #[test]
    fn counts_work_from_many_threads() {
        let progress = Progress::new("test", 4000);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..1000).for_each(|_| progress.advance(1)));
            }
        });
        assert_eq!(progress.done(), 4000);
    }

    #[test]
    fn a_sink_receives_the_bar_and_its_end() {
        type Seen = Arc<Mutex<Vec<(u64, Option<String>)>>>;
        let seen: Seen = Arc::default();
        let log = seen.clone();
        set_sink(Some(Arc::new(move |id, line: Option<&str>| {
            log.lock().unwrap().push((id, line.map(str::to_string)))
        })));
        let bar = Progress::new("sink-test", 10);
        set_sink(None);
        std::thread::sleep(DELAY + Duration::from_millis(50));
        bar.advance(5);
        drop(bar);
        let seen = seen.lock().unwrap();
        let ours: Vec<_> = seen
            .iter()
            .filter(|(_, l)| l.as_deref().is_none_or(|l| l.starts_with("sink-test")))
            .collect();
        let id = ours.first().expect("the bar was drawn").0;
        assert!(
            ours[0].1.as_deref().unwrap().contains(" 50% 5/10"),
            "{ours:?}"
        );
        assert!(
            ours.iter().any(|(i, l)| *i == id && l.is_none()),
            "{ours:?}"
        );
    }
}
