//! A session for hostile-input tests: quiet, holding `kept = 42`, with a check that a refused
//! input names its problem and leaves the session's variables in place.

use std::sync::Arc;

use bumplab::script::{ErrorKind, Session};

/// A quiet session holding `kept = 42`, after running `setup`.
pub fn session_with(setup: &str) -> Session {
    let mut s = Session::with_output(Arc::new(|_: &str| {}));
    let _ = s.eval("<setup>", "let kept = 42;").unwrap();
    let _ = s.eval("<setup>", setup).unwrap();
    s
}

/// Whether the session still holds `kept = 42`.
pub fn kept(s: &mut Session) -> bool {
    s.eval("<repl>", "kept").ok().and_then(|v| v.as_int().ok()) == Some(42)
}

/// Evaluates `code`, expecting an error whose message contains every one of `expected`; then
/// checks the session survived.
pub fn refused(s: &mut Session, code: &str, expected: &[&str]) -> String {
    let err = s.eval("<repl>", code).unwrap_err();
    let text = err.to_string();
    assert_ne!(err.kind, ErrorKind::Internal, "{code}: a panic: {text}");
    for e in expected {
        assert!(text.contains(e), "{code}: expected '{e}' in: {text}");
    }
    assert!(kept(s), "{code}: the session lost its variables");
    text
}
