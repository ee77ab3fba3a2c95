//! The order-k Markov chain over aggregated paths, its exact absorption probabilities and the
//! removal effects (see the `attribution` module docs for the definitions).

use super::paths::PathSet;
use super::{MarkovDetails, StateTransition};
use crate::analytics::absorbing::solve_linear;
use hashbrown::{HashMap, HashTable};
use std::hash::BuildHasher;

/// A fitted chain. Transient states are `0` = `(start)` and `1..n` = path states; the absorbing
/// states `(conversion)` and `(null)` are kept as per-state probabilities.
pub(crate) struct Chain {
    order: usize,
    /// Number of transient states, `(start)` included.
    n: usize,
    /// Channels of each transient state (`(start)` has none): `state_codes[state_starts[s]..]`.
    state_codes: Vec<u32>,
    state_starts: Vec<usize>,
    /// Transitions between transient states, CSR by `from`, sorted by `to`.
    row_starts: Vec<usize>,
    to: Vec<u32>,
    prob: Vec<f64>,
    /// Per transient state: probability of `→ (conversion)` and `→ (null)`.
    p_conv: Vec<f64>,
    p_null: Vec<f64>,
    /// Per transient state: mean value of the conversions that left from it.
    mean_value: Vec<f64>,
    n_channels: usize,
}

/// Interns order-k windows (slices of channel codes) as state ids.
struct States {
    hasher: foldhash::fast::RandomState,
    table: HashTable<u32>,
    codes: Vec<u32>,
    starts: Vec<usize>,
}

impl States {
    fn id(&mut self, window: &[u32]) -> u32 {
        let hash = self.hasher.hash_one(window);
        let (codes, starts) = (&self.codes, &self.starts);
        let slice = |i: u32| &codes[starts[i as usize]..starts[i as usize + 1]];
        if let Some(&i) = self.table.find(hash, |&i| slice(i) == window) {
            return i;
        }
        let i = (self.starts.len() - 1) as u32;
        self.codes.extend_from_slice(window);
        self.starts.push(self.codes.len());
        let (codes, starts, hasher) = (&self.codes, &self.starts, &self.hasher);
        self.table.insert_unique(hash, i, |&j| {
            hasher.hash_one(&codes[starts[j as usize]..starts[j as usize + 1]])
        });
        i
    }

    fn get(&self, i: u32) -> &[u32] {
        &self.codes[self.starts[i as usize]..self.starts[i as usize + 1]]
    }
}

/// Fills `seq` with the state sequence of `path` at this order (windows, consecutive repeats
/// merged); `id` maps a window to its state.
fn walk(path: &[u32], order: usize, mut id: impl FnMut(&[u32]) -> u32, seq: &mut Vec<u32>) {
    seq.clear();
    let mut push = |s: u32| {
        if seq.last() != Some(&s) {
            seq.push(s);
        }
    };
    if path.len() <= order {
        push(id(path));
    } else {
        for w in path.windows(order) {
            push(id(w));
        }
    }
}

/// Transition counts: a dense matrix when the chain is small, a hash map otherwise.
enum Counter {
    /// `m[from * cols + to]`.
    Dense {
        cols: usize,
        m: Vec<f64>,
    },
    Sparse(HashMap<(u32, u32), f64, foldhash::fast::RandomState>),
}

impl Counter {
    /// For `n` transient states (targets: `n` transient plus `(conversion)` and `(null)`);
    /// dense up to `dense_limit` cells.
    fn new(n: usize, dense_limit: usize) -> Counter {
        let cols = n + 2;
        if n.saturating_mul(cols) <= dense_limit {
            Counter::Dense {
                cols,
                m: vec![0.0; n * cols],
            }
        } else {
            Counter::Sparse(HashMap::default())
        }
    }

    fn add(&mut self, from: u32, to: u32, w: f64) {
        match self {
            Counter::Dense { cols, m } => m[from as usize * *cols + to as usize] += w,
            Counter::Sparse(map) => *map.entry((from, to)).or_insert(0.0) += w,
        }
    }

    /// The non-zero counts, sorted by `(from, to)`.
    fn entries(self) -> Vec<((u32, u32), f64)> {
        match self {
            Counter::Dense { cols, m } => m
                .iter()
                .enumerate()
                .filter(|(_, &c)| c != 0.0)
                .map(|(k, &c)| (((k / cols) as u32, (k % cols) as u32), c))
                .collect(),
            Counter::Sparse(map) => {
                let mut e: Vec<((u32, u32), f64)> = map.into_iter().collect();
                e.sort_unstable_by_key(|e| e.0);
                e
            }
        }
    }
}

impl Chain {
    /// Fits the chain of this order to the paths (maximum likelihood: counts normalised).
    pub fn fit(set: &PathSet, order: usize) -> Chain {
        Self::fit_counting(set, order, 1 << 20)
    }

    /// [`fit`](Self::fit), counting transitions densely up to `dense_limit` matrix cells.
    fn fit_counting(set: &PathSet, order: usize, dense_limit: usize) -> Chain {
        let n_channels = set.channels.len();
        // Path states. Order 1: state = channel code + 1, no hashing, no stored sequences.
        let mut seqs: Vec<u32> = Vec::new();
        let mut seq_starts: Vec<usize> = vec![0];
        let (state_codes, state_starts, renumber) = if order == 1 {
            let codes: Vec<u32> = (0..n_channels as u32).collect();
            let starts: Vec<usize> = (0..=n_channels).collect();
            (codes, starts, Vec::new())
        } else {
            let mut states = States {
                hasher: foldhash::fast::RandomState::default(),
                table: HashTable::new(),
                codes: Vec::new(),
                starts: vec![0],
            };
            let mut seq = Vec::new();
            for i in 0..set.len() {
                walk(set.path(i), order, |w| states.id(w), &mut seq);
                seqs.extend_from_slice(&seq);
                seq_starts.push(seqs.len());
            }
            // Canonical state numbering: sorted by channel codes.
            let m = states.starts.len() - 1;
            let mut perm: Vec<u32> = (0..m as u32).collect();
            perm.sort_unstable_by(|&a, &b| states.get(a).cmp(states.get(b)));
            let mut renumber = vec![0u32; m];
            let mut codes = Vec::with_capacity(states.codes.len());
            let mut starts = vec![0];
            for (rank, &s) in perm.iter().enumerate() {
                renumber[s as usize] = rank as u32 + 1;
                codes.extend_from_slice(states.get(s));
                starts.push(codes.len());
            }
            (codes, starts, renumber)
        };
        let n = state_starts.len(); // path states + (start)
        let (conv_state, null_state) = (n as u32, n as u32 + 1);
        // Transition counts; transient ids shifted by one for (start). Every path adds its
        // weights in the paths' order, so the sums do not depend on the counter.
        let mut counts = Counter::new(n, dense_limit);
        let mut conv_count = vec![0.0; n];
        let mut value_sum = vec![0.0; n];
        for i in 0..set.len() {
            let (c, z) = (set.conversions[i], set.nulls[i]);
            let w = c + z;
            if w == 0.0 {
                continue;
            }
            let mut prev = 0u32;
            if order == 1 {
                for &ch in set.path(i) {
                    let s = ch + 1;
                    if s != prev {
                        counts.add(prev, s, w);
                        prev = s;
                    }
                }
            } else {
                for &s in &seqs[seq_starts[i]..seq_starts[i + 1]] {
                    let s = renumber[s as usize];
                    counts.add(prev, s, w);
                    prev = s;
                }
            }
            if c > 0.0 {
                counts.add(prev, conv_state, c);
                conv_count[prev as usize] += c;
                value_sum[prev as usize] += set.value[i];
            }
            if z > 0.0 {
                counts.add(prev, null_state, z);
            }
        }
        let entries = counts.entries();
        let mut out_total = vec![0.0; n];
        for &((from, _), c) in &entries {
            out_total[from as usize] += c;
        }
        let mut chain = Chain {
            order,
            n,
            state_codes,
            state_starts,
            row_starts: vec![0; n + 1],
            to: Vec::new(),
            prob: Vec::new(),
            p_conv: vec![0.0; n],
            p_null: vec![0.0; n],
            mean_value: vec![0.0; n],
            n_channels,
        };
        for &((from, to), c) in &entries {
            let p = c / out_total[from as usize];
            if to == conv_state {
                chain.p_conv[from as usize] = p;
            } else if to == null_state {
                chain.p_null[from as usize] = p;
            } else {
                chain.to.push(to);
                chain.prob.push(p);
                chain.row_starts[from as usize + 1] += 1;
            }
        }
        for s in 0..n {
            chain.row_starts[s + 1] += chain.row_starts[s];
            if conv_count[s] > 0.0 {
                chain.mean_value[s] = value_sum[s] / conv_count[s];
            }
        }
        chain
    }

    fn channels_of(&self, s: usize) -> &[u32] {
        if s == 0 {
            &[]
        } else {
            &self.state_codes[self.state_starts[s - 1]..self.state_starts[s]]
        }
    }

    /// Probability of conversion and expected conversion value from `(start)` when every
    /// state containing a channel with `removed[channel]` leads to `(null)` instead.
    pub fn solve(&self, removed: &[bool]) -> (f64, f64) {
        let mut index = vec![u32::MAX; self.n];
        let mut kept: Vec<usize> = Vec::with_capacity(self.n);
        for (s, slot) in index.iter_mut().enumerate() {
            if self.channels_of(s).iter().all(|&c| !removed[c as usize]) {
                *slot = kept.len() as u32;
                kept.push(s);
            }
        }
        let l = kept.len();
        let mut a = vec![0.0; l * l];
        let mut b = vec![0.0; l * 2];
        for (x, &s) in kept.iter().enumerate() {
            a[x * l + x] = 1.0;
            for k in self.row_starts[s]..self.row_starts[s + 1] {
                let y = index[self.to[k] as usize];
                if y != u32::MAX {
                    a[x * l + y as usize] -= self.prob[k];
                }
            }
            b[x * 2] = self.p_conv[s];
            b[x * 2 + 1] = self.p_conv[s] * self.mean_value[s];
        }
        let x = solve_linear(a, l, b, 2)
            .expect("every state of a fitted chain reaches an absorbing state");
        (x[0], x[1])
    }

    /// Order 1 only: for every channel `c`, `(P₋c(conv), V₋c)` from one inverse of `I - Q`.
    /// With `N = (I - Q)⁻¹`, `x` the absorption probabilities (and `u` the expected values),
    /// a walk from `(start)` hits state `c` with probability `h = N[start][c] / N[c][c]`, and
    /// from there converts with probability `x[c]`: `P₋c = x[start] - h·x[c]`, `V₋c =
    /// u[start] - h·u[c]`.
    fn removals_order1(&self) -> Vec<(f64, f64)> {
        let n = self.n;
        let mut a = vec![0.0; n * n];
        for s in 0..n {
            a[s * n + s] = 1.0;
            for k in self.row_starts[s]..self.row_starts[s + 1] {
                a[s * n + self.to[k] as usize] -= self.prob[k];
            }
        }
        let mut id = vec![0.0; n * n];
        for s in 0..n {
            id[s * n + s] = 1.0;
        }
        let inv = solve_linear(a, n, id, n)
            .expect("every state of a fitted chain reaches an absorbing state");
        let mut x = vec![0.0; n];
        let mut u = vec![0.0; n];
        for s in 0..n {
            for t in 0..n {
                x[s] += inv[s * n + t] * self.p_conv[t];
                u[s] += inv[s * n + t] * self.p_conv[t] * self.mean_value[t];
            }
        }
        (0..self.n_channels)
            .map(|c| {
                let s = c + 1;
                let h = inv[s] / inv[s * n + s];
                (x[0] - h * x[s], u[0] - h * u[s])
            })
            .collect()
    }

    /// Removal effects, the chain's states and transition probabilities.
    pub fn details(&self, set: &PathSet) -> MarkovDetails {
        let none = vec![false; self.n_channels];
        let (p, v) = self.solve(&none);
        let removed: Vec<(f64, f64)> = if self.order == 1 && self.n_channels > 32 {
            self.removals_order1()
        } else {
            let mut mask = none;
            (0..self.n_channels)
                .map(|c| {
                    mask[c] = true;
                    let r = self.solve(&mask);
                    mask[c] = false;
                    r
                })
                .collect()
        };
        let effect = |base: f64, without: f64| {
            if base > 0.0 {
                (1.0 - without / base).clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        let removal_effects = removed.iter().map(|r| effect(p, r.0)).collect();
        let value_removal_effects = removed.iter().map(|r| effect(v, r.1)).collect();
        let mut states = Vec::with_capacity(self.n + 2);
        states.push("(start)".to_string());
        for s in 1..self.n {
            let names: Vec<&str> = self
                .channels_of(s)
                .iter()
                .map(|&c| set.channels[c as usize].as_str())
                .collect();
            states.push(names.join(" > "));
        }
        states.push("(conversion)".into());
        states.push("(null)".into());
        let mut transitions = Vec::with_capacity(self.to.len() + 2 * self.n);
        for s in 0..self.n {
            for k in self.row_starts[s]..self.row_starts[s + 1] {
                transitions.push(StateTransition {
                    from: s,
                    to: self.to[k] as usize,
                    probability: self.prob[k],
                });
            }
            for (to, p) in [(self.n, self.p_conv[s]), (self.n + 1, self.p_null[s])] {
                if p > 0.0 {
                    transitions.push(StateTransition {
                        from: s,
                        to,
                        probability: p,
                    });
                }
            }
        }
        MarkovDetails {
            order: self.order,
            conversion_probability: p,
            removal_effects,
            value_removal_effects,
            states,
            transitions,
        }
    }

    #[cfg(test)]
    pub fn removals_both_ways(&self) -> [Vec<(f64, f64)>; 2] {
        let mut mask = vec![false; self.n_channels];
        let generic = (0..self.n_channels)
            .map(|c| {
                mask[c] = true;
                let r = self.solve(&mask);
                mask[c] = false;
                r
            })
            .collect();
        [generic, self.removals_order1()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::paths::parse;
    use super::*;

    fn classic() -> PathSet {
        parse(
            &["C1 > C2 > C3", "C1", "C2 > C3"],
            &[1.0, 0.0, 0.0],
            Some(&[10.0, 0.0, 0.0]),
            Some(&[0.0, 1.0, 1.0]),
            ">",
        )
        .unwrap()
    }

    #[test]
    fn classic_example_by_hand() {
        // start → C1 2/3, C2 1/3; C1 → C2 1/2, null 1/2; C2 → C3 1; C3 → conv 1/2, null 1/2.
        // P(conv) = 2/3·1/2·1/2 + 1/3·1/2 = 1/3 (the observed rate, 1 of 3 journeys).
        // Without C1: 1/3·1/2 = 1/6 → RE 1/2; without C2 or C3: 0 → RE 1.
        let set = classic();
        let chain = Chain::fit(&set, 1);
        let d = chain.details(&set);
        assert!((d.conversion_probability - 1.0 / 3.0).abs() < 1e-15);
        let want = [0.5, 1.0, 1.0];
        for (got, want) in d.removal_effects.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{:?}", d.removal_effects);
        }
        // All value comes through C3's conversions: the value effects are the same.
        for (got, want) in d.value_removal_effects.iter().zip(want) {
            assert!((got - want).abs() < 1e-15);
        }
        assert_eq!(
            d.states,
            ["(start)", "C1", "C2", "C3", "(conversion)", "(null)"]
        );
        let t: Vec<(usize, usize, f64)> = d
            .transitions
            .iter()
            .map(|t| (t.from, t.to, t.probability))
            .collect();
        let third = 1.0 / 3.0;
        assert_eq!(
            t,
            [
                (0, 1, 2.0 * third),
                (0, 2, third),
                (1, 2, 0.5),
                (1, 5, 0.5),
                (2, 3, 1.0),
                (3, 4, 0.5),
                (3, 5, 0.5)
            ]
        );
    }

    #[test]
    fn order_two_states_are_windows() {
        // a > b > c converts: windows (a b), (b c). a > a > b: (a a), (a b). b: the short
        // path is its own state (b).
        let set = parse(
            &["a > b > c", "a > a > a > b", "b"],
            &[1.0, 0.0, 1.0],
            None,
            Some(&[0.0, 1.0, 1.0]),
            ">",
        )
        .unwrap();
        let chain = Chain::fit(&set, 2);
        let d = chain.details(&set);
        assert_eq!(
            d.states,
            [
                "(start)",
                "a > a",
                "a > b",
                "b",
                "b > c",
                "(conversion)",
                "(null)"
            ]
        );
        // (a a) is entered once (repeats merged), then (a b).
        assert!(d
            .transitions
            .iter()
            .any(|t| t.from == 1 && t.to == 2 && t.probability == 1.0));
        assert!(!d.transitions.iter().any(|t| t.from == t.to));
        // P(conv) = observed rate 2/4.
        assert!((d.conversion_probability - 0.5).abs() < 1e-15);
    }

    #[test]
    fn dense_and_sparse_counts_agree() {
        let set = parse(
            &["a > b > a > c", "b > c", "c > a", "a", "b > b > d > a", "d"],
            &[2.0, 1.0, 0.0, 1.0, 3.0, 0.0],
            Some(&[20.0, 5.0, 0.0, 1.0, 90.0, 0.0]),
            Some(&[1.0, 4.0, 2.0, 5.0, 0.0, 3.0]),
            ">",
        )
        .unwrap();
        for order in 1..4 {
            let dense = Chain::fit_counting(&set, order, usize::MAX).details(&set);
            let sparse = Chain::fit_counting(&set, order, 0).details(&set);
            assert_eq!(dense, sparse);
        }
    }

    #[test]
    fn order_one_shortcut_matches_the_generic_solve() {
        let set = parse(
            &["a > b > a > c", "b > c", "c > a", "a", "b > b > d > a", "d"],
            &[2.0, 1.0, 0.0, 1.0, 3.0, 0.0],
            Some(&[20.0, 5.0, 0.0, 1.0, 90.0, 0.0]),
            Some(&[1.0, 4.0, 2.0, 5.0, 0.0, 3.0]),
            ">",
        )
        .unwrap();
        let chain = Chain::fit(&set, 1);
        let [generic, shortcut] = chain.removals_both_ways();
        for (g, s) in generic.iter().zip(&shortcut) {
            assert!(
                (g.0 - s.0).abs() < 1e-13 && (g.1 - s.1).abs() < 1e-12,
                "{g:?} {s:?}"
            );
        }
    }
}
