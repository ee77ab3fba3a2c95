//! Identity keys: `(identity kind, value)` pairs interned in one byte arena and indexed by a
//! hash table, so each key costs a few dozen bytes and no allocation of its own.
//!
//! A key's record (owner and kind) sits in the arena just before its text, and a key's id is
//! the record's offset: a lookup reads the table and then one place in the arena, where the
//! record and the text to compare usually share a cache line (among a million customers
//! neither is in cache, so each line read is a wait).
//!
//! Erasing a key zeroes its text in the arena (nothing of an erased customer stays readable in
//! memory) and marks its record dead; the arena never shrinks.

use super::profile::KeyId;
use crate::error::{Error, Result};
use crate::model::IdentityId;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Bytes of a record: the owner (`u32`), then `live << 31 | kind << 22 | len` (`u32`), both
/// little-endian.
const REC: usize = 8;

/// Keys are shorter than 4 MiB (touchpoints allow 1 KiB; longer ones get a capacity error).
const MAX_LEN: usize = 1 << 22;

/// A key's record, as read from the arena.
#[derive(Clone, Copy, Debug)]
struct KeyRec {
    owner: u32,
    meta: u32,
}

impl KeyRec {
    #[inline]
    fn len(&self) -> usize {
        (self.meta & (MAX_LEN as u32 - 1)) as usize
    }
    #[inline]
    fn kind(&self) -> IdentityId {
        (self.meta >> 22) as IdentityId
    }
    #[inline]
    fn live(&self) -> bool {
        self.meta >> 31 != 0
    }
}

/// The key store.
#[derive(Debug, Default)]
pub(crate) struct KeyStore {
    /// Per key, its record then its text (UTF-8), back to back.
    arena: Vec<u8>,
    table: HashTable<KeyId>,
    hasher: foldhash::fast::RandomState,
}

#[inline]
fn u32_at(arena: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&arena[at..at + 4]);
    u32::from_le_bytes(b)
}

#[inline]
fn rec_at(arena: &[u8], id: KeyId) -> KeyRec {
    let at = id as usize;
    KeyRec {
        owner: u32_at(arena, at),
        meta: u32_at(arena, at + 4),
    }
}

/// The text bytes of key `id`, whose record is `r`.
#[inline]
fn bytes_at(arena: &[u8], id: KeyId, r: KeyRec) -> &[u8] {
    let at = id as usize + REC;
    &arena[at..at + r.len()]
}

impl KeyStore {
    fn hash(&self, kind: IdentityId, value: &[u8]) -> u64 {
        self.hasher.hash_one((kind, value))
    }

    #[inline]
    fn rec(&self, id: KeyId) -> KeyRec {
        rec_at(&self.arena, id)
    }

    /// The key with this kind and value.
    #[inline]
    pub fn find(&self, kind: IdentityId, value: &str) -> Option<KeyId> {
        let h = self.hash(kind, value.as_bytes());
        let arena = &self.arena;
        self.table
            .find(h, |&id| {
                let r = rec_at(arena, id);
                r.kind() == kind && bytes_at(arena, id, r) == value.as_bytes()
            })
            .copied()
    }

    /// Adds a key owned by profile `owner`; the caller checked it is not present.
    pub fn insert(&mut self, kind: IdentityId, value: &str, owner: u32) -> Result<KeyId> {
        if value.len() >= MAX_LEN {
            return Err(Error::Capacity {
                message: "identity key of 4 MiB or more".into(),
            });
        }
        let id = u32::try_from(self.arena.len())
            .ok()
            .filter(|o| o.checked_add((REC + value.len()) as u32).is_some())
            .ok_or_else(|| Error::Capacity {
                message: "identity key arena is full (4 GiB of keys)".into(),
            })?;
        let meta = 1 << 31 | (kind as u32) << 22 | value.len() as u32;
        self.arena.extend_from_slice(&owner.to_le_bytes());
        self.arena.extend_from_slice(&meta.to_le_bytes());
        self.arena.extend_from_slice(value.as_bytes());
        let h = self.hash(kind, value.as_bytes());
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table.insert_unique(h, id, |&k| {
            let r = rec_at(arena, k);
            hasher.hash_one((r.kind(), bytes_at(arena, k, r)))
        });
        Ok(id)
    }

    /// Removes a key, zeroing its text.
    pub fn remove(&mut self, id: KeyId) {
        let r = self.rec(id);
        if !r.live() {
            return;
        }
        let h = self.hash(r.kind(), bytes_at(&self.arena, id, r));
        if let Ok(entry) = self.table.find_entry(h, |&k| k == id) {
            entry.remove();
        }
        let at = id as usize + REC;
        self.arena[at..at + r.len()].fill(0);
        let meta = r.meta & !(1 << 31);
        self.arena[id as usize + 4..id as usize + REC].copy_from_slice(&meta.to_le_bytes());
    }

    pub fn kind(&self, id: KeyId) -> IdentityId {
        self.rec(id).kind()
    }

    pub fn value(&self, id: KeyId) -> &str {
        let r = self.rec(id);
        // Written from a `&str` (or zeroed, which is UTF-8 too): never fails.
        std::str::from_utf8(bytes_at(&self.arena, id, r)).unwrap_or_default()
    }

    pub fn owner(&self, id: KeyId) -> u32 {
        self.rec(id).owner
    }

    pub fn set_owner(&mut self, id: KeyId, owner: u32) {
        self.arena[id as usize..id as usize + 4].copy_from_slice(&owner.to_le_bytes());
    }

    /// Preference order of keys: identity kind order, then value.
    pub fn cmp(&self, a: KeyId, b: KeyId) -> std::cmp::Ordering {
        self.kind(a)
            .cmp(&self.kind(b))
            .then_with(|| self.value(a).cmp(self.value(b)))
    }

    /// Bytes held (arena and table).
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove() {
        let mut s = KeyStore::default();
        let a = s.insert(0, "c1", 7).unwrap();
        let b = s.insert(1, "c1", 8).unwrap();
        assert_eq!(s.find(0, "c1"), Some(a));
        assert_eq!(s.find(1, "c1"), Some(b));
        assert_eq!(s.owner(b), 8);
        s.set_owner(b, 5);
        assert_eq!(
            (s.owner(b), s.kind(b), s.value(b), s.find(1, "c1")),
            (5, 1, "c1", Some(b))
        );
        s.remove(a);
        assert_eq!(s.find(0, "c1"), None);
        assert_eq!(s.find(1, "c1"), Some(b));
        assert_eq!(s.value(a), "\0\0", "erased text is zeroed");
        let c = s.insert(0, "zz", 9).unwrap();
        assert_eq!((s.value(c), s.owner(c), s.kind(c)), ("zz", 9, 0));
        assert_eq!(s.find(0, "zz"), Some(c));
        for i in 0..10_000 {
            s.insert(2, &format!("k{i}"), i).unwrap();
        }
        assert_eq!(s.owner(s.find(2, "k4321").unwrap()), 4321);
        // Record and text side by side: each key costs 8 bytes plus its text in the arena.
        assert_eq!(
            s.arena.len(),
            (0..10_000)
                .map(|i| 8 + format!("k{i}").len())
                .sum::<usize>()
                + 3 * 10
        );
        let long = "x".repeat(MAX_LEN - 1);
        let l = s.insert(u8::MAX, &long, 1).unwrap();
        assert_eq!((s.kind(l), s.value(l).len()), (u8::MAX, MAX_LEN - 1));
        assert!(s.insert(3, &"y".repeat(MAX_LEN), 1).is_err());
        s.remove(l);
        assert_eq!(s.find(u8::MAX, &long), None);
    }
}
