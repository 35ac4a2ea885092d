//! The REPL driven through a real pseudo-terminal: a virtual terminal (vt100) renders what
//! bumplab draws and answers its cursor-position queries, as a terminal emulator would.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u16 = 60;
const COLS: u16 = 120;
const TIMEOUT: Duration = Duration::from_secs(20);

struct Terminal {
    writer: File,
    parser: Arc<Mutex<vt100::Parser>>,
    child: Child,
    _history_dir: Option<tempfile::TempDir>,
}

impl Terminal {
    fn open() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut terminal = Self::open_with_history(&dir.path().join("history.txt"));
        terminal._history_dir = Some(dir);
        terminal
    }

    fn open_with_history(history: &Path) -> Self {
        let (master, slave) = open_pty();
        let mut command = Command::new(env!("CARGO_BIN_EXE_bumplab"));
        command
            .env("BUMPLAB_HISTORY", history)
            .env("TERM", "xterm-256color")
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("bumplab starts");
        let parser = Arc::new(Mutex::new(vt100::Parser::new(
            ROWS.try_into().unwrap(),
            COLS.try_into().unwrap(),
            0,
        )));
        let mut reader = File::from(master.try_clone().unwrap());
        let mut responder = File::from(master.try_clone().unwrap());
        let screen = parser.clone();
        std::thread::spawn(move || {
            const QUERY: &[u8] = b"\x1b[6n";
            let mut pending = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                let mut parser = screen.lock().unwrap();
                while let Some(at) = pending.windows(QUERY.len()).position(|w| w == QUERY) {
                    parser.process(&pending[..at + QUERY.len()]);
                    pending.drain(..at + QUERY.len());
                    let (row, col) = parser.screen().cursor_position();
                    let _ = write!(responder, "\x1b[{};{}R", row + 1, col + 1);
                }
                let keep = pending.len().min(QUERY.len() - 1);
                let done = pending.len() - keep;
                parser.process(&pending[..done]);
                pending.drain(..done);
            }
        });
        let mut terminal = Terminal {
            writer: File::from(master),
            parser,
            child,
            _history_dir: None,
        };
        terminal.wait_for("the prompt", |rows| {
            rows.iter().any(|r| r.starts_with("bumplab>"))
        });
        terminal
    }

    fn rows(&self) -> Vec<String> {
        let parser = self.parser.lock().unwrap();
        parser
            .screen()
            .rows(0, COLS)
            .map(|r| r.trim_end().to_string())
            .collect()
    }

    fn count_rows(&self, wanted: &str) -> usize {
        self.rows().iter().filter(|r| r.as_str() == wanted).count()
    }

    fn wait_for(&mut self, what: &str, done: impl Fn(&[String]) -> bool) {
        let started = Instant::now();
        while started.elapsed() < TIMEOUT {
            if done(&self.rows()) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "timed out waiting for {what}; screen:\n{}",
            self.rows().join("\n")
        );
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(80));
    }

    /// Types `line`, presses Enter and waits until a new prompt has been drawn.
    fn enter(&mut self, line: &str) {
        let prompts = self.count_prompts();
        self.send(line);
        self.send("\r");
        self.wait_for(&format!("the prompt after {line:?}"), |rows| {
            rows.iter().filter(|r| r.starts_with("bumplab>")).count() > prompts
        });
    }

    fn count_prompts(&self) -> usize {
        self.rows()
            .iter()
            .filter(|r| r.starts_with("bumplab>"))
            .count()
    }

    /// Types `line` and Enter, then waits for an output row equal to `expected`.
    fn expect_output(&mut self, line: &str, expected: &str) {
        let before = self.count_rows(expected);
        self.enter(line);
        self.wait_for(&format!("{expected:?} after {line:?}"), |rows| {
            rows.iter().filter(|r| r.as_str() == expected).count() > before
        });
    }

    fn screen_contains(&self, text: &str) -> bool {
        self.rows().iter().any(|r| r.contains(text))
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let started = Instant::now();
        while started.elapsed() < TIMEOUT {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("bumplab did not exit; screen:\n{}", self.rows().join("\n"));
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn open_pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors we take ownership of.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

#[test]
fn scope_and_functions_persist_and_values_print() {
    let mut t = Terminal::open();
    t.enter("let x = 2;");
    t.expect_output("x * 21", "42");
    t.enter("fn f(a) { a + 1 }");
    t.expect_output("f(41)", "42");
    t.enter("let quiet = 12345;");
    assert!(
        !t.rows().iter().any(|r| r == "12345"),
        "a statement printed its value"
    );
    t.expect_output("quiet", "12345");
    t.send("\x04");
    assert!(t.wait_exit().success());
}

#[test]
fn unfinished_input_continues_on_the_next_line() {
    let mut t = Terminal::open();
    t.send("let v = [1,\r");
    t.wait_for("a continuation prompt", |rows| {
        rows.iter().any(|r| r.trim_start().starts_with("...>"))
    });
    t.send("2, 3];");
    t.enter("");
    t.expect_output("v.len()", "3");
    t.send("fn g(a) {\r");
    t.send("a * 2\r");
    t.enter("}");
    t.expect_output("g(21)", "42");
}

#[test]
fn errors_print_with_position_and_the_session_continues() {
    let mut t = Terminal::open();
    t.enter("let k = 7;");
    t.enter("k + nope");
    assert!(
        t.screen_contains("<repl>:1:5: Variable not found: nope"),
        "{}",
        t.rows().join("\n")
    );
    t.enter("let broken = 1 +;");
    assert!(t.screen_contains("<repl>:1:"), "{}", t.rows().join("\n"));
    t.expect_output("k", "7");
}

#[test]
fn tab_completes_builtins_variables_and_methods() {
    let mut t = Terminal::open();
    t.send("vers\t");
    t.wait_for("completion of version", |rows| {
        rows.iter().any(|r| r.contains("bumplab> version"))
    });
    t.expect_output("()", &format!("\"{}\"", env!("CARGO_PKG_VERSION")));
    t.enter("let efficiencies = [1, 2];");
    t.send("effic\t");
    t.wait_for("completion of a variable", |rows| {
        rows.iter().any(|r| r.contains("bumplab> efficiencies"))
    });
    t.send(".pu\t");
    t.wait_for("completion of a method", |rows| {
        rows.iter().any(|r| r.contains("efficiencies.push"))
    });
    t.enter("(3);");
    t.expect_output("efficiencies", "[1, 2, 3]");
}

#[test]
fn ctrl_c_interrupts_an_evaluation_and_clears_the_line() {
    let mut t = Terminal::open();
    t.enter("let x = 2;");
    t.send("loop {}\r");
    std::thread::sleep(Duration::from_millis(400));
    let started = Instant::now();
    t.send("\x03");
    t.wait_for("the interruption", |rows| {
        rows.iter().any(|r| r.contains("interrupted by the user"))
    });
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "Ctrl-C took {:?}",
        started.elapsed()
    );
    t.expect_output("x", "2");
    t.send("garbage that is never run");
    t.wait_for("the typed line", |rows| {
        rows.iter()
            .any(|r| r.ends_with("> garbage that is never run"))
    });
    t.send("\x03");
    t.wait_for("a fresh prompt", |rows| {
        rows.last().is_some_and(|r| r.is_empty())
            && rows
                .iter()
                .rev()
                .find(|r| !r.is_empty())
                .is_some_and(|r| r == "bumplab>")
    });
    t.expect_output("x + 1", "3");
    assert!(!t.screen_contains("Variable not found: garbage"));
    t.send("\x04");
    assert!(t.wait_exit().success());
}

#[test]
fn colon_commands_work() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("defs.rhai");
    std::fs::write(&script, "let loaded = 99;\nfn triple(v) { 3 * v }\n").unwrap();
    let saved = dir.path().join("saved.rhai");
    let mut t = Terminal::open();
    t.enter("let alpha = 1.5;");
    t.enter(":vars");
    assert!(
        t.rows()
            .iter()
            .any(|r| r.starts_with("alpha") && r.contains("f64") && r.ends_with("1.5")),
        "{}",
        t.rows().join("\n")
    );
    t.enter(&format!(":load {}", script.display()));
    t.expect_output("triple(loaded)", "297");
    t.enter(":time 6 * 7");
    assert!(t.screen_contains("time: "), "{}", t.rows().join("\n"));
    t.enter(&format!(":save {}", saved.display()));
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.contains("let alpha = 1.5;"), "{text}");
    t.enter(":help");
    assert!(t.screen_contains(":load FILE"));
    t.send(":quit\r");
    assert!(t.wait_exit().success());
}

#[test]
fn history_persists_and_ctrl_r_searches_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.txt");
    let mut first = Terminal::open_with_history(&file);
    first.enter("let marker_value = 31;");
    first.send("\x04");
    assert!(first.wait_exit().success());
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("let marker_value = 31;"), "{saved}");

    let mut second = Terminal::open_with_history(&file);
    second.send("\x12marker");
    second.wait_for("the history search", |rows| {
        rows.iter()
            .any(|r| r.contains("reverse-search") && r.contains("let marker_value = 31;"))
    });
    // Enter puts the match in the line for editing; a second Enter runs it.
    second.send("\r");
    second.wait_for("the recalled line", |rows| {
        rows.iter()
            .any(|r| r.starts_with("bumplab> let marker_value = 31;"))
    });
    second.enter("");
    second.expect_output("marker_value", "31");
}

#[test]
fn the_session_survives_hostile_input() {
    // Issue 18's cases through the real REPL: each is an error line, and the variables stay.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let mut t = Terminal::open();
    t.enter("let kept = 42;");
    let plot = format!(
        "hist_from_counts([0.0, 1.0, 2.0], [1e150, 1e-150]).plot(\"{}\", #{{ log_y: true }}); \"plotted\"",
        png.display()
    );
    let cases = [
        ("let s = \"eval(s)\"; eval(s)", "nests too deeply"),
        (
            "let b = \"x\"; loop { b += b; }",
            "Length of string too large",
        ),
        (
            "mlp(#{ inputs: 4, hidden: [1000000, 1000000] })",
            "of memory",
        ),
        (
            "bump_hunter(hist_from_counts([0.0, 1.0, 2.0], [1.0, 2.0]), hist_from_counts([0.0, 1.0, 2.0], [1.0, 2.0]), #{ npe: 0 })",
            "at least 1",
        ),
        (plot.as_str(), "\"plotted\""),
    ];
    for (line, expected) in cases {
        t.enter(line);
        t.wait_for(expected, |rows| rows.iter().any(|r| r.contains(expected)));
        t.expect_output("kept", "42");
    }
    // Ctrl-C in the middle of a training keeps a network that predicts.
    t.enter("let e = lhco_toy(#{ background: 3000, signal: 300 }); let m = mlp(#{ inputs: 2 });");
    t.send("m.fit(e, #{ features: [\"mj1\", \"dmj\"], epochs: 100000 });\r");
    std::thread::sleep(Duration::from_millis(600));
    t.send("\x03");
    t.wait_for("the interruption", |rows| {
        rows.iter().any(|r| r.contains("interrupted by the user"))
    });
    t.expect_output("m.predict(e).len()", "3300");
    t.expect_output("kept", "42");
    t.send("\x04");
    assert!(t.wait_exit().success());
}
