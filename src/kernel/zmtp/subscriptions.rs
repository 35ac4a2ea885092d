//! One subscriber's topic prefixes, as a PUB socket keeps them: counted (subscribing twice
//! takes two cancels), matched by prefix, bounded in number and size.

use std::collections::HashMap;

use super::{MAX_SUBSCRIPTION_BYTES, MAX_SUBSCRIPTIONS, ZmtpError};

/// The subscriptions of one peer.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// Prefix → how many times it was subscribed.
    prefixes: HashMap<Vec<u8>, usize>,
    /// Total length of the distinct prefixes.
    bytes: usize,
}

impl Subscriptions {
    /// Adds a subscription to `prefix`; an error when the peer holds too many.
    pub fn subscribe(&mut self, prefix: &[u8]) -> Result<(), ZmtpError> {
        if let Some(count) = self.prefixes.get_mut(prefix) {
            *count += 1;
            return Ok(());
        }
        if self.prefixes.len() >= MAX_SUBSCRIPTIONS
            || self.bytes + prefix.len() > MAX_SUBSCRIPTION_BYTES
        {
            return Err(ZmtpError::TooLarge(format!(
                "more than {MAX_SUBSCRIPTIONS} subscriptions or {MAX_SUBSCRIPTION_BYTES} bytes of them"
            )));
        }
        self.bytes += prefix.len();
        self.prefixes.insert(prefix.to_vec(), 1);
        Ok(())
    }

    /// Cancels one subscription to `prefix` (nothing when there is none).
    pub fn cancel(&mut self, prefix: &[u8]) {
        if let Some(count) = self.prefixes.get_mut(prefix) {
            *count -= 1;
            if *count == 0 {
                self.prefixes.remove(prefix);
                self.bytes -= prefix.len();
            }
        }
    }

    /// Whether a message whose first frame is `topic` goes to this peer.
    pub fn matches(&self, topic: &[u8]) -> bool {
        (0..=topic.len()).any(|n| self.prefixes.contains_key(&topic[..n]))
    }

    /// Applies a ZMTP 3.0 subscription message (`\x01prefix` subscribes, `\x00prefix`
    /// cancels); other messages from a subscriber mean nothing and are ignored.
    pub fn apply_message(&mut self, frames: &[bytes::Bytes]) -> Result<(), ZmtpError> {
        match frames {
            [only] => match only.split_first() {
                Some((1, prefix)) => self.subscribe(prefix),
                Some((0, prefix)) => {
                    self.cancel(prefix);
                    Ok(())
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn prefixes_match_and_count() {
        let mut subs = Subscriptions::default();
        assert!(!subs.matches(b"kernel.status"));
        subs.subscribe(b"kernel.").unwrap();
        subs.subscribe(b"kernel.").unwrap();
        assert!(subs.matches(b"kernel.status"));
        assert!(subs.matches(b"kernel."));
        assert!(!subs.matches(b"kern"));
        subs.cancel(b"kernel.");
        assert!(
            subs.matches(b"kernel.status"),
            "one of two subscriptions is left"
        );
        subs.cancel(b"kernel.");
        subs.cancel(b"never");
        assert!(!subs.matches(b"kernel.status"));
        subs.subscribe(b"").unwrap();
        assert!(subs.matches(b"anything") && subs.matches(b""));
    }

    #[test]
    fn zmtp_3_0_subscription_messages() {
        let mut subs = Subscriptions::default();
        subs.apply_message(&[Bytes::from_static(b"\x01abc")])
            .unwrap();
        assert!(subs.matches(b"abcd"));
        subs.apply_message(&[Bytes::from_static(b"\x02abd")])
            .unwrap();
        subs.apply_message(&[Bytes::from_static(b"\x01x"), Bytes::new()])
            .unwrap();
        assert!(!subs.matches(b"abd") && !subs.matches(b"x"));
        subs.apply_message(&[Bytes::from_static(b"\x00abc")])
            .unwrap();
        assert!(!subs.matches(b"abcd"));
    }

    #[test]
    fn a_subscriber_cannot_grow_without_bound() {
        let mut subs = Subscriptions::default();
        for i in 0..MAX_SUBSCRIPTIONS {
            subs.subscribe(format!("{i}").as_bytes()).unwrap();
        }
        subs.subscribe(b"0").unwrap();
        assert!(subs.subscribe(b"one more").is_err());
        let mut subs = Subscriptions::default();
        subs.subscribe(&vec![b'a'; MAX_SUBSCRIPTION_BYTES]).unwrap();
        assert!(subs.subscribe(b"b").is_err());
    }
}
