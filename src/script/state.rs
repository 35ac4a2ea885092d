//! The state a session shares with its built-ins: seed sequence, interrupt flag, catalog and
//! output sink. Built-ins reach it through the engine's tag (see [`session_state`]).

use std::sync::{Arc, Mutex};

use rhai::{Dynamic, EvalAltResult, NativeCallContext};

use super::catalog::Catalog;
use crate::interrupt::Interrupt;
use crate::seed::SeedSequence;

/// Where `print`, `help` and other user-facing text goes: standard output in the CLI and the
/// REPL, the notebook cell in a kernel.
pub type Output = Arc<dyn Fn(&str) + Send + Sync>;

/// Where figures go when a plot call names no file: `(MIME type, bytes)`, e.g.
/// `("image/png", png)`. Only a notebook kernel has one; elsewhere a path is required.
pub type Display = Arc<dyn Fn(&str, &[u8]) + Send + Sync>;

/// An [`Output`] that writes each text as a line on standard output.
pub fn stdout_output() -> Output {
    Arc::new(|text: &str| println!("{text}"))
}

/// Session-wide state visible to built-ins.
pub struct SessionState {
    /// The session seed and the random streams derived from it.
    pub seeds: Mutex<SeedSequence>,
    /// Set by Ctrl-C; long-running built-ins poll it.
    pub interrupt: Interrupt,
    /// Names and documentation of every built-in.
    pub catalog: Arc<Catalog>,
    /// Where user-facing text goes.
    pub output: Output,
    /// Where figures without a file go (a notebook kernel's inline display), if anywhere.
    pub display: Option<Display>,
    /// Whether those figures are SVG (`inline_figures("svg")`) rather than PNG.
    pub inline_svg: std::sync::atomic::AtomicBool,
    /// Where new networks and their data live (`device("cuda")`); the CPU by default.
    pub device: Mutex<candle_core::Device>,
}

impl SessionState {
    /// Writes `text` to the session's output.
    pub fn print(&self, text: &str) {
        (self.output)(text);
    }

    /// The session's tensor device.
    pub fn device(&self) -> candle_core::Device {
        self.device
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Moves the session's later tensor work to `device`.
    pub fn set_device(&self, device: candle_core::Device) {
        *self.device.lock().unwrap_or_else(|e| e.into_inner()) = device;
    }

    /// The seed of a fresh random stream drawn from the session seed.
    pub fn next_stream(&self) -> u64 {
        self.seeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_stream()
    }
}

/// The engine tag wrapping the session state.
#[derive(Clone)]
pub(crate) struct StateTag(pub Arc<SessionState>);

/// The state of the session running the built-in called with `ctx`.
pub fn session_state(ctx: &NativeCallContext) -> Result<Arc<SessionState>, Box<EvalAltResult>> {
    ctx.tag()
        .and_then(|tag: &Dynamic| tag.read_lock::<StateTag>().map(|s| s.0.clone()))
        .ok_or_else(|| {
            Box::new(EvalAltResult::ErrorSystem(
                "bumplab built-in called outside a bumplab session".into(),
                "the engine has no session state".into(),
            ))
        })
}
