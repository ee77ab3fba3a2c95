//! The floor under ingest: what this machine gives for the least work any engine that keeps
//! per-customer state must do per touchpoint, on the same touchpoints in the same order as
//! `bench-ingest` (1M customers, 10M touchpoints of the `ecommerce` workload, sorted by time).
//! No journey logic at all; each step adds one piece of the unavoidable work:
//! 1. `lookup`: find the customer's id in a hash table of all customers, inserting it on first
//!    sight (an open-addressing table of `(hash, id, text offset)` slots, the key text in one
//!    arena, compared on a hash match);
//! 2. `+ profile`: read and write a 64-byte record of the customer (last time, stage, count);
//! 3. `+ timeline`: append the 10-byte event to the customer's own growing list.
//!
//! 4. `parse JSON`: read each JSON line into borrowed fields (serde_json, the parser the engine
//!    uses), times left as text, with no checks, no names resolved and no state: the bound for JSON-lines ingest.
//! 5. `parse + 1-3`: both in one loop, pipelined as above, lines parsed 16 ahead: the least a
//!    JSON-lines engine that keeps per-customer state does, with no journey logic (times are
//!    not parsed; the line's position stands in for its time).
//!
//! Last, what the machine itself gives: `random lines` follows chains of pointers through 1 GiB
//! (one cache line per step, in a random cyclic order), one chain at a time and 16 at once.
//! One chain measures the latency of a line from memory; 16 chains come near the most lines
//! one core can have in flight. At a million customers each touchpoint needs several such lines
//! (key slot, key record, profile, timeline, stage history), which bounds ingest whatever the
//! code does.
//!
//! Steps 1 to 3 run plainly (one touchpoint after the other) and pipelined: the slot of the touchpoint
//! 16 rows ahead is prefetched, the key text, record and timeline header of the one 8 ahead, and
//! the timeline's tail of the one 4 ahead (`_mm_prefetch`), which is about the most one core can
//! overlap. The figures bound what `bench-ingest` can reach on a machine.
//!
//! `cargo run --release -p jornada-benches --bin bench-floor -- [customers] [touchpoints] [runs]`

use jornada_benches::{ecommerce, to_json_lines};
use serde::Deserialize;
use std::hash::BuildHasher;
use std::time::Instant;

/// The harness runs on mimalloc, tuned as jornada's programs and extension modules do
/// ([`jornada_alloc`]; feature `mimalloc`, on by default; `--no-default-features` measures the
/// system allocator).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOC: jornada_alloc::MiMalloc = jornada_alloc::MiMalloc;

#[derive(Clone, Copy, Default)]
#[repr(align(64))]
struct Record {
    last_at: i64,
    stage: u16,
    events: u32,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    hash: u64,
    id: u32,
    off: u32,
}

#[derive(Clone, Copy, PartialEq)]
enum Work {
    Lookup,
    Profile,
    Timeline,
}

struct Customers {
    slots: Vec<Slot>,
    mask: usize,
    /// Key texts, each after a length byte.
    arena: Vec<u8>,
    len: usize,
    hasher: foldhash::fast::FixedState,
    records: Vec<Record>,
    timelines: Vec<Vec<[u8; 10]>>,
}

impl Customers {
    fn new(capacity: usize) -> Self {
        let n = (capacity * 8 / 7).next_power_of_two().max(16);
        Customers {
            slots: vec![Slot::default(); n],
            mask: n - 1,
            arena: Vec::new(),
            len: 0,
            hasher: foldhash::fast::FixedState::with_seed(7),
            records: Vec::new(),
            timelines: Vec::new(),
        }
    }

    #[inline]
    fn hash(&self, key: &str) -> u64 {
        // 0 marks an empty slot.
        self.hasher.hash_one(key) | 1
    }

    #[inline]
    fn text(&self, off: u32) -> &[u8] {
        let off = off as usize;
        let n = self.arena[off] as usize;
        &self.arena[off + 1..off + 1 + n]
    }

    /// The slot holding `key`, or the empty slot where it goes.
    #[inline]
    fn probe(&self, h: u64, key: &str) -> usize {
        let mut i = h as usize & self.mask;
        loop {
            let s = self.slots[i];
            if s.hash == 0 || (s.hash == h && self.text(s.off) == key.as_bytes()) {
                return i;
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn find_or_insert(&mut self, h: u64, key: &str, work: Work) -> u32 {
        let i = self.probe(h, key);
        if self.slots[i].hash != 0 {
            return self.slots[i].id;
        }
        assert!(
            self.len < self.mask * 7 / 8 && key.len() < 256,
            "sized for the run"
        );
        let id = self.len as u32;
        self.len += 1;
        let off = self.arena.len() as u32;
        self.arena.push(key.len() as u8);
        self.arena.extend_from_slice(key.as_bytes());
        self.slots[i] = Slot { hash: h, id, off };
        if work != Work::Lookup {
            self.records.push(Record::default());
        }
        if work == Work::Timeline {
            self.timelines.push(Vec::new());
        }
        id
    }

    #[inline]
    fn touch(&mut self, id: u32, at: i64, kind: u16, work: Work) {
        if work == Work::Lookup {
            return;
        }
        let r = &mut self.records[id as usize];
        if at > r.last_at {
            r.last_at = at;
        }
        r.stage = r.stage.wrapping_add(kind) & 7;
        r.events += 1;
        if work == Work::Timeline {
            let mut e = [0u8; 10];
            e[..8].copy_from_slice(&at.to_le_bytes());
            e[8..].copy_from_slice(&kind.to_le_bytes());
            self.timelines[id as usize].push(e);
        }
    }

    #[inline]
    fn prefetch<T>(p: *const T) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is a hint; it reads nothing and cannot fault.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p as *const i8)
        };
    }

    /// Stage 1 (16 rows ahead): the slot.
    #[inline]
    fn prefetch_slot(&self, h: u64) {
        Self::prefetch(&self.slots[h as usize & self.mask]);
    }

    /// Stage 2 (8 rows ahead): with the slot cached, the key text, record and timeline header.
    #[inline]
    fn prefetch_customer(&self, h: u64, work: Work) {
        let s = self.slots[h as usize & self.mask];
        if s.hash == h {
            Self::prefetch(self.arena.as_ptr().wrapping_add(s.off as usize));
            if work != Work::Lookup {
                if let Some(r) = self.records.get(s.id as usize) {
                    Self::prefetch(r);
                }
            }
            if work == Work::Timeline {
                if let Some(t) = self.timelines.get(s.id as usize) {
                    Self::prefetch(t);
                }
            }
        }
    }

    /// Stage 3 (4 rows ahead): with the timeline header cached, the timeline's tail.
    #[inline]
    fn prefetch_tail(&self, h: u64) {
        let s = self.slots[h as usize & self.mask];
        if s.hash == h {
            if let Some(t) = self.timelines.get(s.id as usize) {
                Self::prefetch(t.as_ptr().wrapping_add(t.len()));
            }
        }
    }
}

fn run(rows: &[(&str, i64, u16)], customers: usize, work: Work, pipelined: bool) -> f64 {
    let mut c = Customers::new(customers);
    let t = Instant::now();
    let mut sum = 0u64;
    let mut hashes = [0u64; 16];
    if pipelined {
        for (i, (key, _, _)) in rows.iter().take(16).enumerate() {
            hashes[i] = c.hash(key);
        }
    }
    for (i, &(key, at, kind)) in rows.iter().enumerate() {
        let h = if pipelined {
            let h = hashes[i % 16];
            if let Some(&(k, _, _)) = rows.get(i + 16) {
                let h16 = c.hash(k);
                hashes[i % 16] = h16;
                c.prefetch_slot(h16);
            }
            if i + 8 < rows.len() {
                c.prefetch_customer(hashes[(i + 8) % 16], work);
            }
            if work == Work::Timeline && i + 4 < rows.len() {
                c.prefetch_tail(hashes[(i + 4) % 16]);
            }
            h
        } else {
            c.hash(key)
        };
        let id = c.find_or_insert(h, key, work);
        c.touch(id, at, kind, work);
        sum = sum.wrapping_add(id as u64);
    }
    std::hint::black_box(sum);
    std::hint::black_box(&c.timelines);
    t.elapsed().as_secs_f64()
}

/// A touchpoint's fields as the bench's JSON lines hold them, borrowed.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Line<'a> {
    customer_id: &'a str,
    channel: &'a str,
    kind: &'a str,
    /// RFC 3339 text, left unparsed (the engine parses it).
    at: &'a str,
    value: Option<f64>,
    properties: Option<serde::de::IgnoredAny>,
}

/// The non-empty lines of `json`, split as the engine splits them (memchr).
fn lines(json: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', json)
        .chain(std::iter::once(json.len()))
        .map(move |end| {
            let line = &json[start..end];
            start = end + 1;
            line
        })
        .filter(|l| !l.is_empty())
}

fn parse_json_lines(json: &[u8]) -> f64 {
    let t = Instant::now();
    let mut sum = 0i64;
    for line in lines(json) {
        let l: Line = serde_json::from_slice(line).expect("bench lines parse");
        sum = sum.wrapping_add((l.at.len() ^ l.customer_id.len()) as i64);
    }
    std::hint::black_box(sum);
    t.elapsed().as_secs_f64()
}

/// Step 5: parse and apply, pipelined (see the module docs).
fn parse_and_apply<'a>(json: &'a [u8], customers: usize) -> f64 {
    let mut c = Customers::new(customers);
    let t = Instant::now();
    let mut lines =
        lines(json).map(|l| serde_json::from_slice::<Line<'a>>(l).expect("bench lines parse"));
    // Per line read ahead: its key, time, kind and the key's hash.
    type Ring<'a> = [(&'a str, i64, u16, u64); 16];
    let mut ring: Ring<'a> = [("", 0, 0, 0); 16];
    let mut read = 0usize;
    let mut read_one = |c: &Customers, ring: &mut Ring<'a>, read: &mut usize| {
        if let Some(l) = lines.next() {
            let h = c.hash(l.customer_id);
            c.prefetch_slot(h);
            ring[*read % 16] = (l.customer_id, *read as i64, l.kind.len() as u16, h);
            *read += 1;
        }
    };
    for _ in 0..16 {
        read_one(&c, &mut ring, &mut read);
    }
    let mut sum = 0u64;
    let mut i = 0;
    while i < read {
        let (key, at, kind, h) = ring[i % 16];
        if i + 8 < read {
            c.prefetch_customer(ring[(i + 8) % 16].3, Work::Timeline);
        }
        if i + 4 < read {
            c.prefetch_tail(ring[(i + 4) % 16].3);
        }
        let id = c.find_or_insert(h, key, Work::Timeline);
        c.touch(id, at, kind, Work::Timeline);
        sum = sum.wrapping_add(id as u64);
        read_one(&c, &mut ring, &mut read);
        i += 1;
    }
    std::hint::black_box(sum);
    std::hint::black_box(&c.timelines);
    t.elapsed().as_secs_f64()
}

/// Follows `chains` chains of pointers through `count` cache lines in a random cyclic order
/// for about 20M steps in all; nanoseconds per step of one chain, and million lines per second.
fn random_lines(count: usize, chains: usize) -> (f64, f64) {
    use rand::{Rng, SeedableRng};
    // One u64 per cache line (the rest of the line is padding): the next line's index.
    let mut next = vec![[0u64; 8]; count];
    let mut order: Vec<u32> = (0..count as u32).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for i in (1..count).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    for w in 0..count {
        next[order[w] as usize][0] = order[(w + 1) % count] as u64;
    }
    let mut at: Vec<u64> = (0..chains)
        .map(|c| order[c * count / chains] as u64)
        .collect();
    let steps = 20_000_000 / chains;
    let t = Instant::now();
    for _ in 0..steps {
        for p in at.iter_mut() {
            *p = next[*p as usize][0];
        }
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(&at);
    (
        secs / steps as f64 * 1e9,
        (steps * chains) as f64 / secs / 1e6,
    )
}

fn main() {
    #[cfg(feature = "mimalloc")]
    jornada_alloc::tune();
    let [customers, touchpoints, runs] = jornada_benches::sizes([1_000_000, 10_000_000, 3]);
    let tps = ecommerce(customers, touchpoints, 7);
    let rows: Vec<(&str, i64, u16)> = tps
        .iter()
        .map(|tp| (tp.keys[0].1.as_str(), tp.at.0, tp.kind.len() as u16))
        .collect();
    println!(
        "floor under ingest: {customers} customers, {} touchpoints, single thread, best of {runs}, M touchpoints/s",
        rows.len()
    );
    for (name, work) in [
        ("lookup", Work::Lookup),
        ("+ profile", Work::Profile),
        ("+ timeline", Work::Timeline),
    ] {
        let mut line = format!("  {name:<11}");
        for pipelined in [false, true] {
            let best = (0..runs)
                .map(|_| run(&rows, customers, work, pipelined))
                .fold(f64::MAX, f64::min);
            line += &format!(
                "  {}: {:>5.2}",
                if pipelined { "pipelined" } else { "plain" },
                rows.len() as f64 / best / 1e6
            );
        }
        println!("{line}");
    }
    let json = to_json_lines(&tps);
    let best = (0..runs)
        .map(|_| parse_json_lines(&json))
        .fold(f64::MAX, f64::min);
    println!(
        "  parse JSON   {:.2} ({:.0} MB/s)",
        rows.len() as f64 / best / 1e6,
        json.len() as f64 / best / 1e6
    );
    let best = (0..runs)
        .map(|_| parse_and_apply(&json, customers))
        .fold(f64::MAX, f64::min);
    println!(
        "  parse + 1-3  pipelined: {:.2} ({:.0} MB/s)",
        rows.len() as f64 / best / 1e6,
        json.len() as f64 / best / 1e6
    );
    drop(json);
    drop(rows);
    drop(tps);
    for chains in [1, 16] {
        let (ns, rate) = random_lines((1 << 30) / 64, chains);
        println!(
            "  random lines in 1 GiB, {chains:>2} chain{}: {ns:.0} ns per step, {rate:.0} M lines/s",
            if chains == 1 { " " } else { "s" }
        );
    }
}
