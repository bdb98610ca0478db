//! Hash slots: which of Redis Cluster's 16384 slots a key belongs to.
//!
//! A key's slot is CRC16 (the XMODEM variant Redis uses) of the key, modulo 16384 — or of its *hash tag*: the
//! bytes between the first `{` and the first `}` after it, when there is at least one byte between them. Keys that
//! share a tag (`user:{42}:name`, `user:{42}:email`) share a slot, so multi-key commands, transactions and scripts
//! can use them together.

use crc::{CRC_16_XMODEM, Crc};

/// How many hash slots a Redis Cluster has.
pub const SLOTS: u16 = 16384;

const CRC16: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);

/// The part of `key` that is hashed: its hash tag when it has one, else the whole key (as Redis's `keyHashSlot`).
///
/// ```
/// use redkit_cluster::hash_tag;
///
/// assert_eq!(hash_tag(b"user:{42}:name"), b"42");
/// assert_eq!(hash_tag(b"plain"), b"plain");
/// assert_eq!(hash_tag(b"empty:{}:tag"), b"empty:{}:tag"); // `{}` is no tag: the whole key is hashed
/// assert_eq!(hash_tag(b"{a}{b}"), b"a"); // only the first tag counts
/// ```
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{')
        && let Some(len) = key[open + 1..].iter().position(|&b| b == b'}')
        && len > 0
    {
        return &key[open + 1..open + 1 + len];
    }
    key
}

/// The hash slot of `key` (what `CLUSTER KEYSLOT key` answers).
///
/// ```
/// use redkit_cluster::key_slot;
///
/// assert_eq!(key_slot(b"foo"), 12182);
/// assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"{user1000}.followers"));
/// ```
pub fn key_slot(key: &[u8]) -> u16 {
    CRC16.checksum(hash_tag(key)) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis() {
        // Values from `CLUSTER KEYSLOT` on redis-server 7.0.
        for (key, slot) in [
            (&b"foo"[..], 12182),
            (b"bar", 5061),
            (b"", 0),
            (b"{user1000}.following", 3443),
            (b"key:{}", 11982),
            (b"{}key", 14961),
            (b"a{b}c", 3300),
            (b"{", 4092),
            (b"}{", 12793),
            (b"{}{x}", 3257),
            (b"x}y{z}", 8157),
            (b"{{a}}", 10276),
        ] {
            assert_eq!(key_slot(key), slot, "{}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn tags_follow_keyhashslot() {
        assert_eq!(hash_tag(b"{}{x}"), b"{}{x}");
        assert_eq!(hash_tag(b"x{y"), b"x{y");
        assert_eq!(hash_tag(b"x}y{z}"), b"z");
        assert_eq!(hash_tag(b"{{a}}"), b"{a");
    }
}
