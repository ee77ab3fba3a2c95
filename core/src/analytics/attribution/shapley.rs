//! Shapley values over channel coalitions (see the `attribution` module docs and
//! [`ShapleyGame`]).

use super::markov::Chain;
use super::paths::PathSet;
use super::{ShapleyDetails, ShapleyGame, ShapleyOptions};
use hashbrown::HashMap;

/// Credits conversions and value by the Shapley value of the configured game.
pub(crate) fn credit(
    set: &PathSet,
    options: &ShapleyOptions,
    conv: &mut [f64],
    value: &mut [f64],
) -> ShapleyDetails {
    match options.game {
        ShapleyGame::Subsets => {
            subsets(set, conv, value);
            ShapleyDetails {
                game: options.game,
                exact: true,
                samples: 0,
            }
        }
        ShapleyGame::Markov { order } => {
            let chain = Chain::fit(set, order);
            let n = set.channels.len();
            let none = vec![false; n];
            let (p, v) = chain.solve(&none);
            let (total_c, total_v) = (set.total_conversions(), set.total_value());
            // v(S): the chain with every channel outside S removed, scaled so that v(all)
            // is the total.
            let game = |removed: &[bool]| -> (f64, f64) {
                if removed.iter().all(|&r| r) {
                    return (0.0, 0.0);
                }
                let (ps, vs) = chain.solve(removed);
                (
                    if p > 0.0 { total_c * ps / p } else { 0.0 },
                    if v != 0.0 { total_v * vs / v } else { 0.0 },
                )
            };
            if n <= options.max_exact_channels {
                exact(n, game, conv, value);
                ShapleyDetails {
                    game: options.game,
                    exact: true,
                    samples: 0,
                }
            } else {
                sampled(n, options.samples, options.seed, game, conv, value);
                ShapleyDetails {
                    game: options.game,
                    exact: false,
                    samples: options.samples,
                }
            }
        }
    }
}

/// The subsets game's closed form: each path's conversions and value shared equally by its
/// distinct channels.
fn subsets(set: &PathSet, conv: &mut [f64], value: &mut [f64]) {
    let mut seen = vec![u32::MAX; set.channels.len()];
    let mut distinct: Vec<u32> = Vec::new();
    for i in 0..set.len() {
        let (c, v) = (set.conversions[i], set.value[i]);
        if c == 0.0 && v == 0.0 {
            continue;
        }
        distinct.clear();
        for &ch in set.path(i) {
            if seen[ch as usize] != i as u32 {
                seen[ch as usize] = i as u32;
                distinct.push(ch);
            }
        }
        let k = distinct.len() as f64;
        for &ch in &distinct {
            conv[ch as usize] += c / k;
            value[ch as usize] += v / k;
        }
    }
}

/// Exact Shapley values from all `2ⁿ` coalition values. `game(removed)` is the value of the
/// coalition of channels not removed.
pub(crate) fn exact(
    n: usize,
    game: impl Fn(&[bool]) -> (f64, f64),
    conv: &mut [f64],
    value: &mut [f64],
) {
    let full = 1usize << n;
    let mut removed = vec![false; n];
    let values: Vec<(f64, f64)> = (0..full)
        .map(|mask| {
            for (c, r) in removed.iter_mut().enumerate() {
                *r = mask & (1 << c) == 0;
            }
            game(&removed)
        })
        .collect();
    // weight[s] = s! (n - s - 1)! / n! = 1 / (n · C(n - 1, s)).
    let mut weight = vec![0.0; n.max(1)];
    let mut binom = 1.0f64;
    for (s, w) in weight.iter_mut().enumerate().take(n) {
        *w = 1.0 / (n as f64 * binom);
        binom = binom * (n - 1 - s) as f64 / (s + 1) as f64;
    }
    for i in 0..n {
        let bit = 1usize << i;
        let (mut pc, mut pv) = (0.0, 0.0);
        for mask in 0..full {
            if mask & bit == 0 {
                let w = weight[mask.count_ones() as usize];
                let (with, without) = (values[mask | bit], values[mask]);
                pc += w * (with.0 - without.0);
                pv += w * (with.1 - without.1);
            }
        }
        conv[i] = pc;
        value[i] = pv;
    }
}

/// SplitMix64: a small, seeded, portable generator (the same numbers on every platform).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (multiply-shift on 32 random bits; bias at most `n / 2³²`).
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

/// Shapley values estimated from `samples` random channel orders: each order adds the channels
/// one by one and credits each with its marginal contribution; credits are averaged. Every
/// order's contributions sum to `v(all) - v(∅)`, so the estimate sums exactly to the total.
/// Coalition values are cached.
pub(crate) fn sampled(
    n: usize,
    samples: usize,
    seed: u64,
    game: impl Fn(&[bool]) -> (f64, f64),
    conv: &mut [f64],
    value: &mut [f64],
) {
    let mut rng = SplitMix64(seed);
    let mut cache: HashMap<Vec<bool>, (f64, f64)> = HashMap::new();
    let mut order: Vec<usize> = (0..n).collect();
    let (mut sc, mut sv) = (vec![0.0; n], vec![0.0; n]);
    for _ in 0..samples {
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut removed = vec![true; n];
        let mut prev = (0.0, 0.0);
        for &c in &order {
            removed[c] = false;
            let next = match cache.get(&removed) {
                Some(&v) => v,
                None => {
                    let v = game(&removed);
                    cache.insert(removed.clone(), v);
                    v
                }
            };
            sc[c] += next.0 - prev.0;
            sv[c] += next.1 - prev.1;
            prev = next;
        }
    }
    for c in 0..n {
        conv[c] = sc[c] / samples as f64;
        value[c] = sv[c] / samples as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::super::paths::parse;
    use super::*;

    /// A game given by coalition masks (bit c set: channel c in the coalition).
    fn by_mask(f: impl Fn(usize) -> f64) -> impl Fn(&[bool]) -> (f64, f64) {
        move |removed: &[bool]| {
            let mask = removed
                .iter()
                .enumerate()
                .filter(|(_, &r)| !r)
                .fold(0, |m, (c, _)| m | 1 << c);
            (f(mask), 2.0 * f(mask))
        }
    }

    #[test]
    fn exact_glove_game() {
        // Glove game: 0 holds a left glove, 1 and 2 right gloves; a pair is worth 1.
        // Known Shapley value: (2/3, 1/6, 1/6).
        let v = |m: usize| f64::from(u8::from(m & 1 != 0 && m & 6 != 0));
        let (mut c, mut val) = (vec![0.0; 3], vec![0.0; 3]);
        exact(3, by_mask(v), &mut c, &mut val);
        let want = [2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0];
        for i in 0..3 {
            assert!((c[i] - want[i]).abs() < 1e-15);
            assert!((val[i] - 2.0 * want[i]).abs() < 1e-15);
        }
    }

    #[test]
    fn sampling_is_efficient_seeded_and_close() {
        let v = |m: usize| f64::from(u8::from(m & 1 != 0 && m & 6 != 0));
        let (mut c, mut val) = (vec![0.0; 3], vec![0.0; 3]);
        sampled(3, 4000, 7, by_mask(v), &mut c, &mut val);
        assert!((c.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((c[0] - 2.0 / 3.0).abs() < 0.03, "{c:?}");
        let (mut c2, mut v2) = (vec![0.0; 3], vec![0.0; 3]);
        sampled(3, 4000, 7, by_mask(v), &mut c2, &mut v2);
        assert_eq!(c, c2);
    }

    #[test]
    fn markov_game_on_the_classic_example() {
        // v({C2,C3}) = 1/2 (C1 removed halves P(conv)), v(all) = 1, every other v = 0:
        // C1 = 1/3·(1 - 1/2) = 1/6; C2 = C3 = 1/6·(1/2 - 0) + 1/3·(1 - 0) = 5/12.
        let set = parse(
            &["C1 > C2 > C3", "C1", "C2 > C3"],
            &[1.0, 0.0, 0.0],
            None,
            Some(&[0.0, 1.0, 1.0]),
            ">",
        )
        .unwrap();
        let (mut c, mut v) = (vec![0.0; 3], vec![0.0; 3]);
        let options = ShapleyOptions {
            game: ShapleyGame::Markov { order: 1 },
            ..Default::default()
        };
        let d = credit(&set, &options, &mut c, &mut v);
        assert!(d.exact);
        let want = [1.0 / 6.0, 5.0 / 12.0, 5.0 / 12.0];
        for i in 0..3 {
            assert!((c[i] - want[i]).abs() < 1e-14, "{c:?}");
        }
    }
}
