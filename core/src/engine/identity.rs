//! Identity keys: `(identity kind, value)` pairs interned in one byte arena and indexed by a
//! hash table, so each key costs a few dozen bytes and no allocation of its own.
//!
//! Erasing a key zeroes its bytes in the arena (nothing of an erased customer stays readable in
//! memory) and frees its record for reuse.

use super::profile::KeyId;
use crate::error::{Error, Result};
use crate::model::IdentityId;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// A key's record, 12 bytes: where its text is, its length, kind and liveness, and the profile
/// that owns it.
#[derive(Clone, Copy, Debug)]
struct KeyRec {
    off: u32,
    owner: u32,
    /// `live << 31 | kind << 22 | len` (length below [`MAX_LEN`]).
    meta: u32,
}

/// Keys are shorter than 4 MiB (touchpoints allow 1 KiB; longer ones get a capacity error).
const MAX_LEN: usize = 1 << 22;

impl KeyRec {
    #[inline]
    fn len(&self) -> u32 {
        self.meta & (MAX_LEN as u32 - 1)
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
    /// Key values back to back (text, so reading one needs no UTF-8 validation).
    arena: String,
    recs: Vec<KeyRec>,
    free: Vec<KeyId>,
    table: HashTable<KeyId>,
    hasher: foldhash::fast::RandomState,
}

impl KeyStore {
    fn hash(&self, kind: IdentityId, value: &[u8]) -> u64 {
        self.hasher.hash_one((kind, value))
    }

    #[inline]
    fn bytes(&self, r: &KeyRec) -> &[u8] {
        // Byte slicing: no char-boundary checks on the lookup path.
        &self.arena.as_bytes()[r.off as usize..(r.off + r.len()) as usize]
    }

    #[inline]
    fn text(&self, r: &KeyRec) -> &str {
        &self.arena[r.off as usize..(r.off + r.len()) as usize]
    }

    /// The key with this kind and value.
    #[inline]
    pub fn find(&self, kind: IdentityId, value: &str) -> Option<KeyId> {
        let h = self.hash(kind, value.as_bytes());
        self.table
            .find(h, |&id| {
                let r = &self.recs[id as usize];
                r.kind() == kind && self.bytes(r) == value.as_bytes()
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
        let off = u32::try_from(self.arena.len())
            .ok()
            .filter(|o| o.checked_add(value.len() as u32).is_some())
            .ok_or_else(|| Error::Capacity {
                message: "identity key arena is full (4 GiB of key text)".into(),
            })?;
        self.arena.push_str(value);
        let rec = KeyRec {
            off,
            owner,
            meta: 1 << 31 | (kind as u32) << 22 | value.len() as u32,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.recs[id as usize] = rec;
                id
            }
            None => {
                self.recs.push(rec);
                (self.recs.len() - 1) as KeyId
            }
        };
        let h = self.hash(kind, value.as_bytes());
        let (recs, arena, hasher) = (&self.recs, &self.arena, &self.hasher);
        self.table.insert_unique(h, id, |&k| {
            let r = &recs[k as usize];
            hasher.hash_one((
                r.kind(),
                &arena.as_bytes()[r.off as usize..(r.off + r.len()) as usize],
            ))
        });
        Ok(id)
    }

    /// Removes a key, zeroing its text.
    pub fn remove(&mut self, id: KeyId) {
        let r = self.recs[id as usize];
        if !r.live() {
            return;
        }
        let h = self.hash(r.kind(), self.bytes(&r));
        if let Ok(entry) = self.table.find_entry(h, |&k| k == id) {
            entry.remove();
        }
        let zeros = "\0".repeat(r.len() as usize);
        self.arena
            .replace_range(r.off as usize..(r.off + r.len()) as usize, &zeros);
        self.recs[id as usize].meta &= !(1 << 31);
        self.free.push(id);
    }

    pub fn kind(&self, id: KeyId) -> IdentityId {
        self.recs[id as usize].kind()
    }

    pub fn value(&self, id: KeyId) -> &str {
        self.text(&self.recs[id as usize])
    }

    pub fn owner(&self, id: KeyId) -> u32 {
        self.recs[id as usize].owner
    }

    pub fn set_owner(&mut self, id: KeyId, owner: u32) {
        self.recs[id as usize].owner = owner;
    }

    /// Preference order of keys: identity kind order, then value.
    pub fn cmp(&self, a: KeyId, b: KeyId) -> std::cmp::Ordering {
        self.kind(a)
            .cmp(&self.kind(b))
            .then_with(|| self.value(a).cmp(self.value(b)))
    }

    /// Bytes held (arena, records, free list, table).
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.recs.capacity() * std::mem::size_of::<KeyRec>()
            + self.free.capacity() * 4
            + self.table.allocation_size()
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
        s.remove(a);
        assert_eq!(s.find(0, "c1"), None);
        assert_eq!(s.find(1, "c1"), Some(b));
        let c = s.insert(0, "zz", 9).unwrap();
        assert_eq!(c, a, "record reused");
        assert_eq!(s.value(c), "zz");
        for i in 0..10_000 {
            s.insert(2, &format!("k{i}"), i).unwrap();
        }
        assert_eq!(s.owner(s.find(2, "k4321").unwrap()), 4321);
        assert_eq!(std::mem::size_of::<KeyRec>(), 12);
        let long = "x".repeat(MAX_LEN - 1);
        let l = s.insert(u8::MAX, &long, 1).unwrap();
        assert_eq!((s.kind(l), s.value(l).len()), (u8::MAX, MAX_LEN - 1));
        assert!(s.insert(3, &"y".repeat(MAX_LEN), 1).is_err());
        s.remove(l);
        assert_eq!(s.find(u8::MAX, &long), None);
    }
}
