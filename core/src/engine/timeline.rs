//! Every customer's timeline in one store owned by the engine.
//!
//! A profile holds only a [`Span`] (where its events are and how many: 8 bytes); the events
//! live in blocks of fixed capacities carved from 640 KB chunks. A block's capacity follows from
//! its timeline's length ([`Span::capacity`]): 4 events, then each class a quarter larger (at
//! least 3 more: 4, 7, 10, 13, 16, 20, 25...), the growth policy with the least slack for the
//! short timelines most customers have. A timeline that outgrows its block moves to a block of
//! the next class, and the old block goes on its class's free list, where the next timeline
//! growing into that class takes it.
//!
//! Against a heap allocation per timeline this saves its 16-byte header per customer, a call
//! into the allocator per move, and a cache line per append (the length is in the profile, so
//! the tail's address is known without reading the block); and the engine's memory is not
//! returned to the system and asked for again while it ingests.
//!
//! ```text
//! chunk 0: [c1: 4 events][c2: 7 events, 5 used][free 4][c3: 4, 1 used]...
//! ```

use super::profile::Event;
use crate::error::{Error, Result};

/// Events per chunk (a block's address is `chunk << CHUNK_BITS | position`).
const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Classes up to this capacity are carved from shared chunks; a larger block gets a chunk of
/// its own, of exactly its capacity, freed with it.
const SHARED_MAX: u32 = (CHUNK / 4) as u32;

/// Block capacities per class: 4, then a quarter more (at least 3), and last `u32::MAX`.
const CAPS: [u32; CLASSES] = caps();
const CLASSES: usize = 93;

const fn caps() -> [u32; CLASSES] {
    let mut caps = [0u32; CLASSES];
    let mut c: u64 = 4;
    let mut i = 0;
    while i < CLASSES {
        caps[i] = if c > u32::MAX as u64 {
            u32::MAX
        } else {
            c as u32
        };
        let step = if c / 4 > 3 { c / 4 } else { 3 };
        c += step;
        i += 1;
    }
    caps
}

const _: () = assert!(
    CAPS[CLASSES - 1] == u32::MAX && CAPS[CLASSES - 2] < u32::MAX,
    "the classes cover every length a span can hold, the last one just"
);

/// The class of the block holding `len` events (`len` > 0): the first whose capacity is at
/// least `len`. A table answers for the lengths most timelines have (every append asks).
#[inline]
fn class_of(len: u32) -> usize {
    match SMALL_CLASS.get(len as usize) {
        Some(&c) => c as usize,
        None => CAPS.partition_point(|&c| c < len),
    }
}

/// `class_of` for lengths below 256.
const SMALL_CLASS: [u8; 256] = small_classes();

const fn small_classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let (mut len, mut class) = (1, 0);
    while len < 256 {
        while CAPS[class] < len as u32 {
            class += 1;
        }
        t[len] = class as u8;
        len += 1;
    }
    t
}

/// Where a timeline's events are in the store and how many there are. An empty timeline has
/// no block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    at: u32,
    len: u32,
}

impl Span {
    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// The capacity of the span's block (0 without one).
    #[inline]
    pub fn capacity(&self) -> usize {
        if self.len == 0 {
            0
        } else {
            CAPS[class_of(self.len)] as usize
        }
    }
}

/// The store.
#[derive(Debug, Default)]
pub(crate) struct Timelines {
    /// Shared chunks (`CHUNK` events, filled up to their length) and own chunks of large
    /// blocks (emptied when their block is freed).
    chunks: Vec<Vec<Event>>,
    /// Per class, the addresses of free blocks.
    free: Vec<Vec<u32>>,
    /// Emptied own chunks, for the next large block.
    free_chunks: Vec<u32>,
    /// The shared chunk new blocks are carved from, if any.
    open: Option<u32>,
}

impl Timelines {
    /// A timeline's events.
    #[inline]
    pub fn get(&self, s: Span) -> &[Event] {
        if s.len == 0 {
            return &[];
        }
        let pos = (s.at as usize) & (CHUNK - 1);
        &self.chunks[(s.at >> CHUNK_BITS) as usize][pos..pos + s.len as usize]
    }

    /// A timeline's events, to change in place.
    #[inline]
    fn get_mut(&mut self, s: Span) -> &mut [Event] {
        if s.len == 0 {
            return &mut [];
        }
        let pos = (s.at as usize) & (CHUNK - 1);
        &mut self.chunks[(s.at >> CHUNK_BITS) as usize][pos..pos + s.len as usize]
    }

    /// The address of the place after a timeline's last event, where the next one goes: to ask
    /// the cache for (dangling for an empty span: only ever prefetched).
    #[inline]
    pub fn tail_addr(&self, s: Span) -> *const Event {
        let pos = (s.at as usize) & (CHUNK - 1);
        match self.chunks.get((s.at >> CHUNK_BITS) as usize) {
            Some(c) => c.as_ptr().wrapping_add(pos + s.len as usize),
            None => std::ptr::null(),
        }
    }

    /// Asks the cache for what appending to timeline `s` will touch: the place after its last
    /// event, or, when its block is full, the whole block (up to 8 lines) and the block it will
    /// move to (the top of the next class's free list, or the open chunk's end).
    #[inline]
    pub fn warm_append(&self, s: Span) {
        let tail = self.tail_addr(s);
        if s.len() < s.capacity() || s.len == 0 {
            // The last event (read for the lateness check) and the new one's end: two lines
            // when the tail is near a line's edge (one in three for 10-byte events).
            super::warm::prefetch(tail.wrapping_sub(1));
            super::warm::prefetch(tail.cast::<u8>().wrapping_add(size_of::<Event>() - 1));
            return;
        }
        let bytes = s.len() * size_of::<Event>();
        let start = tail.cast::<u8>().wrapping_sub(bytes);
        for off in (0..bytes.min(8 * 64)).step_by(64) {
            super::warm::prefetch(start.wrapping_add(off));
        }
        let next = class_of(s.len + 1);
        let to = match self.free.get(next).and_then(|f| f.last()) {
            Some(&at) => self.tail_addr(Span { at, len: 0 }),
            None => self
                .open
                .and_then(|c| self.chunks.get(c as usize))
                .map_or(std::ptr::null(), |c| c.as_ptr().wrapping_add(c.len())),
        };
        super::warm::prefetch(to);
    }

    /// Appends an event.
    #[inline]
    pub fn push(&mut self, s: &mut Span, e: Event) -> Result<()> {
        if s.len as usize == s.capacity() {
            self.grow(s)?;
        }
        s.len += 1;
        *self.get_mut(*s).last_mut().expect("not empty") = e;
        Ok(())
    }

    /// Inserts an event at `pos` (at most the length).
    pub fn insert(&mut self, s: &mut Span, pos: usize, e: Event) -> Result<()> {
        assert!(pos <= s.len(), "insert position in range");
        self.push(s, e)?;
        self.get_mut(*s)[pos..].rotate_right(1);
        Ok(())
    }

    /// Replaces a timeline's events, freeing its block.
    pub fn set(&mut self, s: &mut Span, events: &[Event]) -> Result<()> {
        let len = u32::try_from(events.len()).map_err(|_| too_long())?;
        let mut new = Span::default();
        if len > 0 {
            new = Span {
                at: self.alloc(class_of(len))?,
                len,
            };
            self.get_mut(new).copy_from_slice(events);
        }
        self.free(std::mem::replace(s, new), false);
        Ok(())
    }

    /// Frees a timeline's block (zeroing its events first when `zero`: an erased customer's
    /// events do not stay in memory). The span is left empty.
    pub fn free(&mut self, s: Span, zero: bool) {
        if s.len == 0 {
            return;
        }
        if zero {
            self.get_mut(s).fill(Event::ZERO);
        }
        let class = class_of(s.len);
        if CAPS[class] > SHARED_MAX {
            let chunk = s.at >> CHUNK_BITS;
            self.chunks[chunk as usize] = Vec::new();
            self.free_chunks.push(chunk);
        } else {
            self.free_list(class).push(s.at);
        }
    }

    /// Moves a full timeline to a block of the next class.
    #[cold]
    fn grow(&mut self, s: &mut Span) -> Result<()> {
        let len = s.len.checked_add(1).ok_or_else(too_long)?;
        let at = self.alloc(class_of(len))?;
        let old = *s;
        *s = Span { at, len: old.len };
        if old.len > 0 {
            let (from, to) = (old.at as usize, at as usize);
            let n = old.len as usize;
            let (fc, fp) = (from >> CHUNK_BITS, from & (CHUNK - 1));
            let (tc, tp) = (to >> CHUNK_BITS, to & (CHUNK - 1));
            if fc == tc {
                self.chunks[fc].copy_within(fp..fp + n, tp);
            } else {
                let (src, dst) = two_mut(&mut self.chunks, fc, tc);
                dst[tp..tp + n].copy_from_slice(&src[fp..fp + n]);
            }
            self.free(old, false);
        }
        Ok(())
    }

    fn free_list(&mut self, class: usize) -> &mut Vec<u32> {
        if self.free.len() <= class {
            self.free.resize_with(class + 1, Vec::new);
        }
        &mut self.free[class]
    }

    /// A block of `class`: a free one, else carved from the open shared chunk (or an own
    /// chunk, for a large class).
    fn alloc(&mut self, class: usize) -> Result<u32> {
        if let Some(at) = self.free.get_mut(class).and_then(Vec::pop) {
            return Ok(at);
        }
        let cap = CAPS[class] as usize;
        if CAPS[class] > SHARED_MAX {
            let block = vec![Event::ZERO; cap];
            let chunk = match self.free_chunks.pop() {
                Some(c) => {
                    self.chunks[c as usize] = block;
                    c
                }
                None => self.new_chunk(block)?,
            };
            return Ok(chunk << CHUNK_BITS);
        }
        let room = self
            .open
            .map_or(0, |c| CHUNK - self.chunks[c as usize].len());
        if room < cap {
            // The open chunk's rest becomes free blocks of the classes that fit.
            if let Some(c) = self.open {
                self.carve_rest(c);
            }
            let c = self.new_chunk(Vec::with_capacity(CHUNK))?;
            self.open = Some(c);
        }
        let c = self.open.expect("an open chunk");
        let chunk = &mut self.chunks[c as usize];
        let pos = chunk.len();
        chunk.resize(pos + cap, Event::ZERO);
        Ok(c << CHUNK_BITS | pos as u32)
    }

    /// Turns the unused end of shared chunk `c` into free blocks, largest classes first.
    fn carve_rest(&mut self, c: u32) {
        loop {
            let pos = self.chunks[c as usize].len();
            let rest = (CHUNK - pos) as u32;
            let class = CAPS.partition_point(|&cap| cap <= rest);
            if class == 0 {
                break;
            }
            let class = class - 1;
            self.chunks[c as usize].resize(pos + CAPS[class] as usize, Event::ZERO);
            self.free_list(class).push(c << CHUNK_BITS | pos as u32);
        }
    }

    fn new_chunk(&mut self, chunk: Vec<Event>) -> Result<u32> {
        let c = u32::try_from(self.chunks.len())
            .ok()
            .filter(|&c| c < 1 << (32 - CHUNK_BITS))
            .ok_or_else(|| Error::Capacity {
                message: "the timeline store is full (4 billion events)".into(),
            })?;
        self.chunks.push(chunk);
        Ok(c)
    }

    /// Bytes held: chunks, free lists and their tables.
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * size_of::<Event>() + size_of::<Vec<Event>>())
            .sum::<usize>()
            + self
                .free
                .iter()
                .map(|f| f.capacity() * 4 + size_of::<Vec<u32>>())
                .sum::<usize>()
            + self.free_chunks.capacity() * 4
    }
}

fn too_long() -> Error {
    Error::Capacity {
        message: "a timeline of 4 billion events".into(),
    }
}

/// Two distinct elements of a slice, mutably.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    assert_ne!(a, b);
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(i: u32) -> Event {
        Event::new(1_000 + i as i64, (i % 7) as u16, (i % 3) as u8, 0)
    }

    #[test]
    fn classes_grow_by_a_quarter_at_least_three() {
        assert_eq!(CAPS[..10], [4, 7, 10, 13, 16, 20, 25, 31, 38, 47]);
        assert_eq!(
            (
                class_of(1),
                class_of(4),
                class_of(5),
                class_of(7),
                class_of(8)
            ),
            (0, 0, 1, 1, 2)
        );
        assert!(CAPS.windows(2).all(|w| w[1] > w[0]));
        // The table agrees with the search it stands in for.
        for len in 1..2_000u32 {
            assert_eq!(class_of(len), CAPS.partition_point(|&c| c < len), "{len}");
        }
    }

    /// Many timelines grown in an interleaved order, some replaced, inserted into and freed,
    /// against plain vectors; freed blocks are reused.
    #[test]
    fn timelines_match_vectors() {
        let mut t = Timelines::default();
        let mut spans = vec![Span::default(); 300];
        let mut model: Vec<Vec<Event>> = vec![Vec::new(); 300];
        let mut x: u64 = 3;
        for step in 0..60_000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Skewed: timeline 0 gets a third of the events.
            let i = if step % 3 == 0 {
                0
            } else {
                ((x >> 33) % 300) as usize
            };
            // Timeline 0 only grows, past a shared chunk's largest class.
            match if i == 0 { 99 } else { (x >> 20) % 50 } {
                0 => {
                    t.free(std::mem::take(&mut spans[i]), true);
                    model[i].clear();
                }
                1 => {
                    let pos = (x >> 40) as usize % (model[i].len() + 1);
                    t.insert(&mut spans[i], pos, ev(step)).unwrap();
                    model[i].insert(pos, ev(step));
                }
                2 => {
                    let events: Vec<Event> = model[i].iter().rev().copied().collect();
                    t.set(&mut spans[i], &events).unwrap();
                    model[i] = events;
                }
                _ => {
                    t.push(&mut spans[i], ev(step)).unwrap();
                    model[i].push(ev(step));
                }
            }
            if step % 1_000 == 0 {
                for (s, m) in spans.iter().zip(&model) {
                    assert_eq!(t.get(*s), &m[..]);
                    assert!(s.capacity() >= s.len());
                }
            }
        }
        assert!(
            model[0].len() > SHARED_MAX as usize,
            "one timeline has an own chunk"
        );
        for (s, m) in spans.iter().zip(&model) {
            assert_eq!(t.get(*s), &m[..]);
        }
        // Every block is either a live timeline's or on a free list: nothing leaks.
        let live: usize = spans
            .iter()
            .map(Span::capacity)
            .filter(|&c| c <= SHARED_MAX as usize)
            .sum();
        let free: usize = t
            .free
            .iter()
            .enumerate()
            .map(|(c, f)| f.len() * CAPS[c] as usize)
            .sum();
        let carved: usize = t
            .chunks
            .iter()
            .filter(|c| c.capacity() == CHUNK)
            .map(Vec::len)
            .sum();
        assert_eq!(live + free, carved);
    }

    #[test]
    fn a_freed_block_is_reused_and_zeroed() {
        let mut t = Timelines::default();
        let mut a = Span::default();
        for i in 0..5 {
            t.push(&mut a, ev(i)).unwrap();
        }
        let at = a.at;
        t.free(a, true);
        assert_eq!(t.chunks[0][at as usize..at as usize + 5], [Event::ZERO; 5]);
        let mut b = Span::default();
        for i in 0..6 {
            t.push(&mut b, ev(i)).unwrap();
        }
        assert_eq!(b.at, at, "the class-1 block freed is taken again");
    }

    #[test]
    fn a_large_block_has_a_chunk_of_its_own_reused_after_it() {
        let mut t = Timelines::default();
        let (mut a, mut b) = (Span::default(), Span::default());
        let n = SHARED_MAX + 1;
        for i in 0..n {
            t.push(&mut a, ev(i)).unwrap();
        }
        let own = (a.at >> CHUNK_BITS) as usize;
        assert_eq!(
            (a.at as usize & (CHUNK - 1), t.chunks[own].len()),
            (0, a.capacity())
        );
        t.set(&mut a, &[ev(1), ev(2)]).unwrap();
        assert_eq!(
            (t.get(a), t.chunks[own].capacity()),
            (&[ev(1), ev(2)][..], 0),
            "freed"
        );
        for i in 0..n {
            t.push(&mut b, ev(i)).unwrap();
        }
        assert_eq!(
            (b.at >> CHUNK_BITS) as usize,
            own,
            "the emptied chunk is taken again"
        );
        assert!(t.get(b).iter().copied().eq((0..n).map(ev)));
        assert_eq!(t.get(a), &[ev(1), ev(2)][..]);
    }

    /// `warm_append` only computes addresses (never reads out of bounds) whatever the state:
    /// empty, partly full, full with and without a free block to move to, a large block.
    #[test]
    fn warm_append_takes_any_span() {
        let mut t = Timelines::default();
        t.warm_append(Span::default());
        let (mut a, mut b) = (Span::default(), Span::default());
        for i in 0..(SHARED_MAX + 10) {
            t.push(&mut a, ev(i)).unwrap();
            t.warm_append(a);
            if i < 40 {
                t.push(&mut b, ev(i)).unwrap();
                t.warm_append(b);
            }
        }
        t.free(b, false);
        t.warm_append(b);
        t.warm_append(Span {
            at: u32::MAX,
            len: 4,
        });
    }
}
