//! Aggregated paths: distinct channel sequences with their conversions, value and nulls.

use crate::error::{Error, Location, Result};
use hashbrown::{HashMap, HashTable};

/// Distinct paths with totals per path, in the order they first appeared in the input (the log's
/// order, customers by key then time, or the rows of aggregated paths). Channel codes are the
/// ranks of the channel names. Every pass over the paths follows this order, so float sums are
/// reproducible and memory is read sequentially.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathSet {
    /// Channel names, sorted; a code indexes this.
    pub channels: Vec<String>,
    /// Arenas of codes (one per block of the input): `arenas[b].0[arenas[b].1[j]..arenas[b].1[j + 1]]`.
    arenas: Vec<(Vec<u32>, Vec<usize>)>,
    /// Path `i` is path `refs[i].1` of arena `refs[i].0`.
    refs: Vec<(u32, u32)>,
    /// Conversions per path.
    pub conversions: Vec<f64>,
    /// Conversion value per path.
    pub value: Vec<f64>,
    /// Null journeys per path.
    pub nulls: Vec<f64>,
}

impl PathSet {
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    pub fn path(&self, i: usize) -> &[u32] {
        let (b, j) = self.refs[i];
        let (codes, starts) = &self.arenas[b as usize];
        &codes[starts[j as usize]..starts[j as usize + 1]]
    }

    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    pub fn total_value(&self) -> f64 {
        self.value.iter().sum()
    }
}

/// A portable 64-bit hash of a code sequence (the same on every platform and build).
pub(crate) fn path_hash(codes: &[u32]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64, x: u64| {
        let p = u128::from(h ^ x) * u128::from(K);
        (p as u64) ^ ((p >> 64) as u64)
    };
    let mut h = codes.len() as u64;
    let mut pairs = codes.chunks_exact(2);
    for pair in &mut pairs {
        h = mix(h, u64::from(pair[0]) | (u64::from(pair[1]) << 32));
    }
    if let [last] = pairs.remainder() {
        h = mix(h, u64::from(*last) | (1 << 63));
    }
    mix(h, 0x243F_6A88_85A3_08D3)
}

/// Collects paths (codes of some dictionary), merging identical ones. The hash table uses
/// [`path_hash`], kept per distinct path so that builders can be merged without rehashing.
pub(crate) struct PathSetBuilder {
    table: HashTable<u32>,
    hashes: Vec<u64>,
    codes: Vec<u32>,
    starts: Vec<usize>,
    conversions: Vec<f64>,
    value: Vec<f64>,
    nulls: Vec<f64>,
}

impl PathSetBuilder {
    /// A builder expecting about this many codes in all.
    pub fn with_capacity(codes: usize) -> Self {
        PathSetBuilder {
            table: HashTable::new(),
            hashes: Vec::new(),
            codes: Vec::with_capacity(codes),
            starts: vec![0],
            conversions: Vec::new(),
            value: Vec::new(),
            nulls: Vec::new(),
        }
    }

    /// Adds `path` (non-empty) with these totals.
    pub fn add(&mut self, path: &[u32], conversions: f64, value: f64, nulls: f64) {
        debug_assert!(!path.is_empty());
        let hash = path_hash(path);
        let (codes, starts) = (&self.codes, &self.starts);
        let slice = |i: u32| &codes[starts[i as usize]..starts[i as usize + 1]];
        let id = match self.table.find(hash, |&i| slice(i) == path) {
            Some(&i) => i as usize,
            None => {
                let i = self.conversions.len();
                self.codes.extend_from_slice(path);
                self.starts.push(self.codes.len());
                self.hashes.push(hash);
                self.conversions.push(0.0);
                self.value.push(0.0);
                self.nulls.push(0.0);
                let hashes = &self.hashes;
                self.table
                    .insert_unique(hash, i as u32, |&j| hashes[j as usize]);
                i
            }
        };
        self.conversions[id] += conversions;
        self.value[id] += value;
        self.nulls[id] += nulls;
    }

    fn path(&self, i: usize) -> &[u32] {
        &self.codes[self.starts[i]..self.starts[i + 1]]
    }

    /// The paths, codes renumbered to the ranks (by name) of the codes used. `names[code]` is
    /// the name of an input code. Returns the set and, per input code, its new code
    /// (`u32::MAX` when unused).
    pub fn finish(self, names: &[&str]) -> (PathSet, Vec<u32>) {
        merge(vec![self], names)
    }
}

/// Merges builders (blocks of one input, in order) into one [`PathSet`], exactly as if every
/// path had been added to a single builder, block after block: paths in order of first
/// appearance, each one's totals summed in block order. Paths are not copied: the set keeps
/// the blocks' arenas. See [`PathSetBuilder::finish`] for the codes.
pub(crate) fn merge(blocks: Vec<PathSetBuilder>, names: &[&str]) -> (PathSet, Vec<u32>) {
    let mut used = vec![false; names.len()];
    for b in &blocks {
        for &c in &b.codes {
            used[c as usize] = true;
        }
    }
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&c| used[c as usize])
        .collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(names[b as usize]));
    let mut remap = vec![u32::MAX; names.len()];
    for (rank, &c) in order.iter().enumerate() {
        remap[c as usize] = rank as u32;
    }
    let identity = remap
        .iter()
        .enumerate()
        .all(|(c, &r)| r == c as u32 || r == u32::MAX);
    let mut set = PathSet {
        channels: order
            .iter()
            .map(|&c| names[c as usize].to_string())
            .collect(),
        ..PathSet::default()
    };
    let mut table: HashTable<u32> = HashTable::new();
    let mut hashes: Vec<u64> = Vec::new();
    let single = blocks.len() == 1;
    for mut b in blocks {
        if !identity {
            for c in &mut b.codes {
                *c = remap[*c as usize];
            }
        }
        if single {
            // One block: its paths are already distinct and in order.
            set.refs = (0..b.conversions.len() as u32).map(|j| (0, j)).collect();
            set.conversions = b.conversions;
            set.value = b.value;
            set.nulls = b.nulls;
            set.arenas.push((b.codes, b.starts));
            break;
        }
        let bi = set.arenas.len() as u32;
        for i in 0..b.conversions.len() {
            let hash = b.hashes[i];
            let p = b.path(i);
            let (arenas, refs) = (&set.arenas, &set.refs);
            let found = table.find(hash, |&k| {
                let (a, j) = refs[k as usize];
                let (codes, starts) = if a == bi {
                    (&b.codes, &b.starts)
                } else {
                    let (codes, starts) = &arenas[a as usize];
                    (codes, starts)
                };
                &codes[starts[j as usize]..starts[j as usize + 1]] == p
            });
            let k = match found {
                Some(&k) => k as usize,
                None => {
                    let k = set.refs.len();
                    set.refs.push((bi, i as u32));
                    hashes.push(hash);
                    set.conversions.push(0.0);
                    set.value.push(0.0);
                    set.nulls.push(0.0);
                    table.insert_unique(hash, k as u32, |&j| hashes[j as usize]);
                    k
                }
            };
            set.conversions[k] += b.conversions[i];
            set.value[k] += b.value[i];
            set.nulls[k] += b.nulls[i];
        }
        set.arenas.push((b.codes, b.starts));
    }
    (set, remap)
}

/// Aggregated paths as ChannelAttribution takes them: one row per distinct path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathTable {
    /// Channel names joined by the separator.
    pub path: Vec<String>,
    /// Conversions after the path.
    pub total_conversions: Vec<f64>,
    /// Their total value.
    pub total_conversion_value: Vec<f64>,
    /// Journeys along the path that did not convert.
    pub total_null: Vec<f64>,
}

impl PathTable {
    /// The rows of `set`, in its order (first appearance).
    pub(crate) fn from_set(set: &PathSet, separator: &str) -> PathTable {
        let rows = 0..set.len();
        let mut out = PathTable::default();
        for i in rows {
            let names: Vec<&str> = set
                .path(i)
                .iter()
                .map(|&c| set.channels[c as usize].as_str())
                .collect();
            out.path.push(names.join(separator));
            out.total_conversions.push(set.conversions[i]);
            out.total_conversion_value.push(set.value[i]);
            out.total_null.push(set.nulls[i]);
        }
        out
    }
}

fn invalid(row: Option<usize>, field: &str, message: String) -> Error {
    Error::InvalidValue {
        loc: Location {
            index: row,
            line: None,
            field: field.into(),
        },
        message,
    }
}

/// Parses ChannelAttribution-style columns into a [`PathSet`]. See
/// [`attribute_paths`](super::attribute_paths).
pub(crate) fn parse<S: AsRef<str>>(
    paths: &[S],
    conversions: &[f64],
    value: Option<&[f64]>,
    nulls: Option<&[f64]>,
    separator: &str,
) -> Result<PathSet> {
    let n = paths.len();
    if separator.is_empty() {
        return Err(invalid(None, "separator", "the separator is empty".into()));
    }
    for (name, len) in [
        ("total_conversions", Some(conversions.len())),
        ("total_conversion_value", value.map(<[f64]>::len)),
        ("total_null", nulls.map(<[f64]>::len)),
    ] {
        if let Some(len) = len.filter(|&l| l != n) {
            return Err(invalid(
                None,
                name,
                format!("column has {len} rows, the path column has {n}"),
            ));
        }
    }
    let count = |col: &str, x: f64, row: usize| -> Result<f64> {
        if x.is_finite() && x >= 0.0 {
            Ok(x)
        } else {
            Err(invalid(
                Some(row),
                col,
                format!("{x} is not a non-negative number"),
            ))
        }
    };
    let mut names: Vec<&str> = Vec::new();
    let mut dict: HashMap<&str, u32> = HashMap::new();
    let mut builder = PathSetBuilder::with_capacity(0);
    let mut codes: Vec<u32> = Vec::new();
    for (row, p) in paths.iter().enumerate() {
        let conv = count("total_conversions", conversions[row], row)?;
        let null = match nulls {
            Some(v) => count("total_null", v[row], row)?,
            None => 0.0,
        };
        let val = match value {
            Some(v) if !v[row].is_finite() => {
                return Err(invalid(
                    Some(row),
                    "total_conversion_value",
                    format!("{} is not a finite number", v[row]),
                ))
            }
            Some(v) => v[row],
            None => 0.0,
        };
        if conv == 0.0 && val != 0.0 {
            return Err(invalid(
                Some(row),
                "total_conversion_value",
                "value on a path without conversions".into(),
            ));
        }
        codes.clear();
        for name in p.as_ref().split(separator) {
            let name = name.trim();
            if name.is_empty() {
                return Err(invalid(
                    Some(row),
                    "path",
                    format!("`{}` has an empty channel name", p.as_ref()),
                ));
            }
            let next = names.len() as u32;
            let code = *dict.entry(name).or_insert_with(|| {
                names.push(name);
                next
            });
            codes.push(code);
        }
        if conv > 0.0 || null > 0.0 {
            builder.add(&codes, conv, val, null);
        }
    }
    Ok(builder.finish(&names).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_identical_paths_in_order_of_first_appearance() {
        let set = parse(
            &["b > a", "a", " b>a ", "c > a"],
            &[1.0, 2.0, 3.0, 0.0],
            Some(&[10.0, 20.0, 30.0, 0.0]),
            Some(&[0.0, 1.0, 1.0, 0.0]),
            ">",
        )
        .unwrap();
        // "c > a" has no journeys: its channel `c` is not listed. Codes are name ranks.
        assert_eq!(set.channels, ["a", "b"]);
        assert_eq!(set.len(), 2);
        assert_eq!(set.path(0), [1, 0]);
        assert_eq!(set.path(1), [0]);
        assert_eq!(set.conversions, [4.0, 2.0]);
        assert_eq!(set.value, [40.0, 20.0]);
        assert_eq!(set.nulls, [1.0, 1.0]);
        let table = PathTable::from_set(&set, " > ");
        assert_eq!(table.path, ["b > a", "a"]);
        assert_eq!(table.total_conversions, [4.0, 2.0]);
    }

    #[test]
    fn merging_blocks_equals_one_builder() {
        let paths: [&[u32]; 6] = [&[3, 1], &[2], &[3, 1], &[1, 1, 2], &[2], &[3, 1]];
        let names = ["zz", "b", "a", "c"]; // code 0 unused; ranks: a=0, b=1, c=2
        let mut one = PathSetBuilder::with_capacity(0);
        let mut blocks = vec![
            PathSetBuilder::with_capacity(0),
            PathSetBuilder::with_capacity(0),
        ];
        for (i, p) in paths.iter().enumerate() {
            let v = i as f64 * 1.5;
            one.add(p, 1.0, v, 2.0);
            blocks[usize::from(i >= 3)].add(p, 1.0, v, 2.0);
        }
        let (a, remap_a) = one.finish(&names);
        let (b, remap_b) = merge(blocks, &names);
        assert_eq!(remap_a, [u32::MAX, 1, 0, 2]);
        assert_eq!(remap_a, remap_b);
        assert_eq!(a.channels, ["a", "b", "c"]);
        assert_eq!(a.len(), 3);
        assert_eq!(b.len(), 3);
        for i in 0..3 {
            assert_eq!(a.path(i), b.path(i));
        }
        assert_eq!(a.path(0), [2, 1]);
        assert_eq!(a.conversions, b.conversions);
        assert_eq!(a.value, b.value);
        assert_eq!(a.nulls, b.nulls);
        assert_eq!(a.conversions, [3.0, 2.0, 1.0]);
    }

    #[test]
    fn bad_input_names_row_and_column() {
        let err = parse(&["a", "a >> b"], &[1.0, 1.0], None, None, ">").unwrap_err();
        assert_eq!(err.code(), "invalid_value");
        assert!(err.to_string().contains("event 1, field `path`"), "{err}");
        let err = parse(&["a"], &[-1.0], None, None, ">").unwrap_err();
        assert!(err.to_string().contains("total_conversions"), "{err}");
        let err = parse(&["a"], &[1.0, 2.0], None, None, ">").unwrap_err();
        assert!(err.to_string().contains("2 rows"), "{err}");
        let err = parse(&["a"], &[0.0], Some(&[5.0]), None, ">").unwrap_err();
        assert!(err.to_string().contains("without conversions"), "{err}");
        let err = parse(&["a"], &[1.0], None, Some(&[f64::NAN]), ">").unwrap_err();
        assert!(err.to_string().contains("total_null"), "{err}");
        assert!(parse(&["a"], &[1.0], None, None, "").is_err());
    }
}
