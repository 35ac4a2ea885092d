//! Deep scripts end in an error, never in a stack overflow.
//!
//! Rust cannot recover from a stack overflow: the process aborts and the REPL or kernel session
//! is lost. Rhai bounds function-call depth, but not everything that nests: `let s = "eval(s)";
//! eval(s)` recurses through `eval` without a call level, and each `import` of a module evaluates
//! it inside the importing script. So every evaluation runs on a thread of its own with a large
//! stack of known size ([`run`]), and the engine's progress hook, called on every script
//! operation, asks [`nearly_exhausted`]: once less than [`MARGIN`] of that stack is left the
//! script is stopped with [`TOO_DEEP`].

use std::cell::Cell;

/// Stack sizes tried for the evaluation thread, largest first (address space only: pages are
/// committed as they are used).
const STACK_SIZES: [usize; 3] = [256 << 20, 64 << 20, 16 << 20];

/// Stack kept free below the point where a script is stopped: room for the deepest built-in
/// (plotting, polars, training) called from the deepest script frame.
pub const MARGIN: usize = 8 << 20;

/// The message of a script stopped by the guard.
pub const TOO_DEEP: &str = "the script nests too deeply (recursion through eval, imports or \
                            functions used up the evaluation stack); look for an eval or \
                            import that calls itself";

/// The token with which the progress hook stops a script that nests too deeply (Rhai's
/// `ErrorTerminated` carries it; [`super::errors::ScriptError`] shows [`TOO_DEEP`]).
#[derive(Clone, Copy, Debug)]
pub struct TooDeep;

thread_local! {
    /// The stack address below which this evaluation thread counts as nearly exhausted.
    static LIMIT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// An address in the current stack frame (stacks grow downwards on every supported target).
#[inline(never)]
fn stack_pointer() -> usize {
    let marker = 0_u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

/// Runs `work` on a fresh thread with a large stack guarded by [`nearly_exhausted`], and
/// returns its result. Fails only when no such thread can be started.
pub fn run<T: Send>(work: impl FnOnce() -> T + Send) -> std::io::Result<T> {
    let mut work = Some(work);
    let mut last_error = None;
    for size in STACK_SIZES {
        let outcome = std::thread::scope(|scope| {
            let started = std::thread::Builder::new()
                .name("bumplab-eval".into())
                .stack_size(size)
                .spawn_scoped(scope, || {
                    let top = stack_pointer();
                    LIMIT.with(|l| l.set(Some(top.saturating_sub(size - MARGIN))));
                    let work = work.take().expect("the work runs once");
                    work()
                });
            started.map(|handle| handle.join())
        });
        match outcome {
            Ok(Ok(value)) => return Ok(value),
            // A panic escaping `work` is a bug in the caller's own catching; pass it on.
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.expect("at least one stack size is tried"))
}

/// Whether the current thread is an evaluation thread of [`run`] with less than [`MARGIN`]
/// of its stack left (always false on other threads).
pub fn nearly_exhausted() -> bool {
    LIMIT.with(|l| l.get().is_some_and(|limit| stack_pointer() < limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_until_exhausted(n: usize) -> usize {
        if nearly_exhausted() {
            return n;
        }
        let pad = std::hint::black_box([0_u8; 4096]);
        depth_until_exhausted(n + 1) + usize::from(pad[0])
    }

    #[test]
    fn deep_recursion_is_caught_before_the_stack_ends() {
        let depth = run(|| depth_until_exhausted(0)).unwrap();
        // About (256 MiB - 8 MiB) / 4 KiB frames: the guard fired, near its limit.
        assert!(depth > 10_000, "{depth}");
        assert!(!nearly_exhausted(), "other threads are never guarded");
    }

    #[test]
    fn results_come_back() {
        assert_eq!(run(|| 6 * 7).unwrap(), 42);
    }
}
