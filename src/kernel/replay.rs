//! The signatures of recently accepted messages, so that a captured message sent again is
//! refused (jupyter_client's `digest_history`, bounded the same way).

use std::collections::{HashSet, VecDeque};

/// Signatures remembered; the oldest is forgotten first (jupyter_client keeps 2^16).
pub const HISTORY: usize = 1 << 16;

/// A bounded set of message signatures.
#[derive(Debug)]
pub struct DigestHistory {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
    capacity: usize,
}

impl DigestHistory {
    /// An empty history of at most `capacity` signatures (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `digest`; false when it is already there (the message is a replay).
    pub fn insert(&mut self, digest: [u8; 32]) -> bool {
        if !self.seen.insert(digest) {
            return false;
        }
        self.order.push_back(digest);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        true
    }
}

impl Default for DigestHistory {
    fn default() -> Self {
        Self::new(HISTORY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_is_accepted_once_and_the_oldest_forgotten_first() {
        let mut history = DigestHistory::new(2);
        assert!(history.insert([1; 32]));
        assert!(!history.insert([1; 32]));
        assert!(history.insert([2; 32]));
        assert!(history.insert([3; 32]));
        assert!(history.insert([1; 32]), "the oldest was forgotten");
        assert!(!history.insert([3; 32]));
        assert_eq!(history.seen.len(), 2);
    }
}
