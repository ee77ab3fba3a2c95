//! [`NameIndex`]: name → id lookup tuned for the handful of channels, kinds and identity kinds a
//! model declares, which the engine looks up for every touchpoint.

use hashbrown::HashMap;
use std::sync::Arc;

/// Name → id. Small sets (up to a few hundred names) use a collision-free table indexed by a
/// hash of the name's length and first and last bytes, so a lookup is one table read and one
/// comparison (cheaper than hashing the whole name); sets where no such table is found use a
/// hash map.
#[derive(Debug, Clone)]
pub(crate) struct NameIndex<T: Copy> {
    /// Slot → index into `entries` (`u16::MAX`: empty). Empty when the map is used.
    table: Vec<u16>,
    seed: u32,
    entries: Vec<(Arc<str>, T)>,
    map: HashMap<Arc<str>, T>,
}

#[inline]
fn slot(name: &[u8], seed: u32, mask: usize) -> usize {
    let (first, last) = match name {
        [] => (0, 0),
        [f, .., l] => (*f as u32, *l as u32),
        [f] => (*f as u32, *f as u32),
    };
    let x = (name.len() as u32)
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add(first.wrapping_mul(0x85EB_CA77))
        .wrapping_add(last.wrapping_mul(0xC2B2_AE3D))
        .wrapping_add(seed.wrapping_mul(0x27D4_EB2F));
    ((x ^ (x >> 15)).wrapping_mul(0x2C1B_3C6D) >> 16) as usize & mask
}

impl<T: Copy> NameIndex<T> {
    /// The id of `name`.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&T> {
        if self.table.is_empty() {
            return self.map.get(name);
        }
        let i = self.table[slot(name.as_bytes(), self.seed, self.table.len() - 1)];
        let (n, id) = self.entries.get(i as usize)?;
        crate::bytes::same(n.as_bytes(), name.as_bytes()).then_some(id)
    }
}

impl<T: Copy> From<HashMap<Arc<str>, T>> for NameIndex<T> {
    fn from(map: HashMap<Arc<str>, T>) -> Self {
        let entries: Vec<(Arc<str>, T)> = map.iter().map(|(n, &id)| (n.clone(), id)).collect();
        if entries.len() <= 512 {
            let size = (entries.len() * 4).next_power_of_two().max(8);
            'seeds: for seed in 0..64 {
                let mut table = vec![u16::MAX; size];
                for (i, (n, _)) in entries.iter().enumerate() {
                    let s = slot(n.as_bytes(), seed, size - 1);
                    if table[s] != u16::MAX {
                        continue 'seeds;
                    }
                    table[s] = i as u16;
                }
                return NameIndex {
                    table,
                    seed,
                    entries,
                    map,
                };
            }
        }
        NameIndex {
            table: Vec::new(),
            seed: 0,
            entries,
            map,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_exact_names_only_small_and_large() {
        for n in [3usize, 100, 2000] {
            let map: HashMap<Arc<str>, u16> = (0..n)
                .map(|i| {
                    (
                        Arc::from(format!("name_{i:03}_long_suffix").as_str()),
                        i as u16,
                    )
                })
                .collect();
            let ix = NameIndex::from(map);
            for i in 0..n {
                assert_eq!(
                    ix.get(&format!("name_{i:03}_long_suffix")),
                    Some(&(i as u16))
                );
            }
            assert_eq!(ix.get("name_000_long_suffiX"), None);
            assert_eq!(ix.get("name_000"), None);
            assert_eq!(ix.get(""), None);
        }
        let ix = NameIndex::from(HashMap::from_iter([
            (Arc::from("ab"), 1u8),
            (Arc::from(""), 2),
        ]));
        assert_eq!(ix.get(""), Some(&2));
        assert_eq!(ix.get("ab"), Some(&1));
        assert_eq!(ix.get("a"), None);
    }
}
