//! Aggregated paths: distinct channel sequences with their conversions, value and nulls.

use crate::error::{Error, Location, Result};
use hashbrown::{HashMap, HashTable};

/// Distinct paths in canonical order, with totals per path. Channel codes are the ranks of the
/// channel names; the canonical order is by [`path_hash`] of the codes, then by the codes, so
/// it depends only on the paths themselves (not on input order, hasher seeds or platform).
#[derive(Debug, Clone, Default)]
pub(crate) struct PathSet {
    /// Channel names, sorted; a code indexes this.
    pub channels: Vec<String>,
    /// The paths' channel codes, in an arena (not in canonical order).
    codes: Vec<u32>,
    /// Path `i` is `codes[spans[i].0..spans[i].1]`.
    spans: Vec<(usize, usize)>,
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
        let (a, b) = self.spans[i];
        &self.codes[a..b]
    }

    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    pub fn total_value(&self) -> f64 {
        self.value.iter().sum()
    }
}

/// A portable 64-bit hash of a code sequence (the same on every platform and build): the
/// canonical order of distinct paths.
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
        self.add_hashed(path_hash(path), path, conversions, value, nulls);
    }

    /// [`add`](Self::add) with `hash = path_hash(path)` already computed.
    fn add_hashed(&mut self, hash: u64, path: &[u32], conversions: f64, value: f64, nulls: f64) {
        debug_assert!(!path.is_empty());
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

    /// Number of codes held.
    pub fn code_count(&self) -> usize {
        self.codes.len()
    }

    /// Adds every path of `other`, in the order `other` first saw them.
    pub fn absorb(&mut self, other: &PathSetBuilder) {
        for i in 0..other.conversions.len() {
            self.add_hashed(
                other.hashes[i],
                &other.codes[other.starts[i]..other.starts[i + 1]],
                other.conversions[i],
                other.value[i],
                other.nulls[i],
            );
        }
    }

    /// The paths, with codes renumbered to the ranks (by name) of the codes used, in canonical
    /// order. `names[code]` is the name of an input code. Returns the set and, per input code,
    /// its new code (`u32::MAX` when unused).
    pub fn finish(self, names: &[&str]) -> (PathSet, Vec<u32>) {
        drop(self.table);
        let mut used = vec![false; names.len()];
        for &c in &self.codes {
            used[c as usize] = true;
        }
        let mut order: Vec<u32> = (0..names.len() as u32)
            .filter(|&c| used[c as usize])
            .collect();
        order.sort_by(|&a, &b| names[a as usize].cmp(names[b as usize]));
        let mut remap = vec![u32::MAX; names.len()];
        for (rank, &c) in order.iter().enumerate() {
            remap[c as usize] = rank as u32;
        }
        let mut codes = self.codes;
        let starts = self.starts;
        let n = self.conversions.len();
        let mut hashes = self.hashes;
        if remap
            .iter()
            .enumerate()
            .any(|(c, &r)| r != c as u32 && r != u32::MAX)
        {
            for c in &mut codes {
                *c = remap[*c as usize];
            }
            for (i, h) in hashes.iter_mut().enumerate() {
                *h = path_hash(&codes[starts[i]..starts[i + 1]]);
            }
        }
        let path = |i: usize| &codes[starts[i]..starts[i + 1]];
        let mut keys: Vec<(u64, u32)> = (0..n).map(|i| (hashes[i], i as u32)).collect();
        keys.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| path(a.1 as usize).cmp(path(b.1 as usize)))
        });
        let spans = keys
            .iter()
            .map(|&(_, i)| (starts[i as usize], starts[i as usize + 1]))
            .collect();
        let pick = |v: &[f64]| keys.iter().map(|&(_, i)| v[i as usize]).collect();
        let set = PathSet {
            channels: order
                .iter()
                .map(|&c| names[c as usize].to_string())
                .collect(),
            spans,
            conversions: pick(&self.conversions),
            value: pick(&self.value),
            nulls: pick(&self.nulls),
            codes,
        };
        (set, remap)
    }
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
    /// The rows of `set`, sorted by path (channel by channel, by name).
    pub(crate) fn from_set(set: &PathSet, separator: &str) -> PathTable {
        let mut rows: Vec<usize> = (0..set.len()).collect();
        rows.sort_unstable_by(|&a, &b| set.path(a).cmp(set.path(b)));
        let mut out = PathTable::default();
        for &i in &rows {
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
    fn merges_identical_paths_and_sorts_by_name() {
        let set = parse(
            &["b > a", "a", " b>a ", "c > a"],
            &[1.0, 2.0, 3.0, 0.0],
            Some(&[10.0, 20.0, 30.0, 0.0]),
            Some(&[0.0, 1.0, 1.0, 0.0]),
            ">",
        )
        .unwrap();
        // "c > a" has no journeys: its channel `c` is not listed.
        assert_eq!(set.channels, ["a", "b"]);
        assert_eq!(set.len(), 2);
        let a = (0..2).find(|&i| set.path(i) == [0]).unwrap();
        let ba = (0..2).find(|&i| set.path(i) == [1, 0]).unwrap();
        assert_eq!((set.conversions[a], set.conversions[ba]), (2.0, 4.0));
        assert_eq!((set.value[a], set.value[ba]), (20.0, 40.0));
        assert_eq!((set.nulls[a], set.nulls[ba]), (1.0, 1.0));
        // The order does not depend on the input order.
        let again = parse(
            &["c > a", " b>a ", "a", "b > a"],
            &[0.0, 3.0, 2.0, 1.0],
            None,
            Some(&[0.0, 1.0, 1.0, 0.0]),
            ">",
        )
        .unwrap();
        assert_eq!(again.path(a), [0]);
        let table = PathTable::from_set(&set, " > ");
        assert_eq!(table.path, ["a", "b > a"]);
        assert_eq!(table.total_conversions, [2.0, 4.0]);
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
