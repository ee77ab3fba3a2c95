//! A growable array in fixed pages, for the engine's profile slots.
//!
//! Growing never moves what is stored: a `Vec` of a million 64-byte profiles would copy 64 MB
//! into fresh memory each time it doubles (7% of ingest at 1M customers, most of it the
//! system zeroing the new pages) and hold up to twice what it needs; pages of 4,096 slots
//! (256 KB) cost one more load per access, of a small table that stays in cache.

use std::ops::{Index, IndexMut};

const PAGE_BITS: u32 = 12;
const PAGE: usize = 1 << PAGE_BITS;

#[derive(Debug)]
pub(crate) struct Paged<T> {
    pages: Vec<Box<[T]>>,
    len: usize,
}

impl<T> Default for Paged<T> {
    fn default() -> Self {
        Paged {
            pages: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Default> Paged<T> {
    /// Appends an element.
    pub fn push(&mut self, x: T) {
        if self.len == self.capacity() {
            self.pages.push((0..PAGE).map(|_| T::default()).collect());
        }
        let i = self.len;
        self.len += 1;
        self[i] = x;
    }
}

impl<T> Paged<T> {
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Elements the pages hold.
    pub fn capacity(&self) -> usize {
        self.pages.len() * PAGE
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.capacity() * size_of::<T>() + self.pages.capacity() * size_of::<Box<[T]>>()
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&T> {
        if i < self.len {
            Some(&self.pages[i >> PAGE_BITS][i & (PAGE - 1)])
        } else {
            None
        }
    }

    /// The address of element `i`, to ask the cache for (null past the end: only ever
    /// prefetched).
    #[inline]
    pub fn addr(&self, i: usize) -> *const T {
        match self.pages.get(i >> PAGE_BITS) {
            Some(p) => p.as_ptr().wrapping_add(i & (PAGE - 1)),
            None => std::ptr::null(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.pages.iter().flat_map(|p| p.iter()).take(self.len)
    }
}

impl<T> Index<usize> for Paged<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        assert!(i < self.len, "index {i} out of range (length {})", self.len);
        &self.pages[i >> PAGE_BITS][i & (PAGE - 1)]
    }
}

impl<T> IndexMut<usize> for Paged<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        assert!(i < self.len, "index {i} out of range (length {})", self.len);
        &mut self.pages[i >> PAGE_BITS][i & (PAGE - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_vec_across_pages() {
        let mut p: Paged<Option<u32>> = Paged::default();
        let mut v = Vec::new();
        for i in 0..(3 * PAGE + 5) as u32 {
            p.push(Some(i));
            v.push(Some(i));
        }
        p[PAGE] = None;
        v[PAGE] = None;
        assert_eq!(p.len(), v.len());
        assert_eq!(p.capacity(), 4 * PAGE);
        assert!(p.iter().eq(v.iter()));
        assert_eq!(p.get(2 * PAGE + 1), Some(&Some(2 * PAGE as u32 + 1)));
        assert_eq!(p.get(v.len()), None);
        assert_eq!(p.addr(PAGE + 3), &p[PAGE + 3] as *const _);
        assert!(p.addr(10 * PAGE).is_null());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn indexing_past_the_length_panics() {
        let mut p: Paged<u8> = Paged::default();
        p.push(1);
        let _ = p[1];
    }
}
