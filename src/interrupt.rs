//! The session's interrupt flag.
//!
//! Ctrl-C sets the flag; the Rhai engine's progress hook and every long-running loop in the
//! library (training, pseudo-experiments) poll it and stop cleanly, so the user's session
//! survives the interruption.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// A shared, cheaply clonable interrupt flag.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A new, cleared flag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every computation polling this flag to stop.
    pub fn trigger(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Clears the flag before a new computation starts.
    pub fn clear(&self) {
        self.0.store(false, Ordering::SeqCst);
    }

    /// Whether an interruption has been requested.
    pub fn is_triggered(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Error::Interrupted)` once an interruption has been requested: the one-line poll
    /// for long loops (`interrupt.check()?`).
    pub fn check(&self) -> Result<()> {
        if self.is_triggered() {
            Err(Error::Interrupted)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Interrupt::new();
        let b = a.clone();
        assert!(a.check().is_ok());
        b.trigger();
        assert!(a.is_triggered());
        assert!(matches!(a.check(), Err(Error::Interrupted)));
        a.clear();
        assert!(!b.is_triggered());
    }
}
