//! Absorbing Markov chains, solved exactly (dense Gaussian elimination with partial pivoting).
//!
//! A chain has `n` transient states and `m` absorbing states. `q[i * n + j]` is the probability
//! of moving from transient state `i` to transient state `j`, `r[i * m + a]` from transient `i`
//! into absorbing state `a`. Rows of `[q | r]` sum to at most 1; any shortfall is probability of
//! leaving towards nothing (treated like an absorbing "elsewhere" state that is not reported).
//!
//! The absorption probabilities are `B = (I - Q)⁻¹ R`. States from which no absorbing state can
//! be reached get probability 0 (they are removed before solving, which keeps `I - Q`
//! invertible).
//!
//! ```
//! use jornada::analytics::absorbing::absorption_probabilities;
//! // Two transient states: 0 → 1 with 0.5, 0 → win with 0.5; 1 → 0 with 0.5, 1 → lose 0.5.
//! let q = [0.0, 0.5, 0.5, 0.0];
//! let r = [0.5, 0.0, 0.0, 0.5]; // columns: win, lose
//! let b = absorption_probabilities(&q, &r, 2, 2);
//! // From 0: win = 0.5 + 0.5·0.5·win(0) → win(0) = 2/3.
//! assert!((b[0] - 2.0 / 3.0).abs() < 1e-12);
//! assert!((b[2] - 1.0 / 3.0).abs() < 1e-12); // win from 1 = 0.5 · win(0)
//! ```

/// Solves `a · x = b` for `x`, where `a` is `n × n` and `b` is `n × k` (row-major). Returns
/// `None` when `a` is singular (a pivot below `1e-300` in magnitude).
pub fn solve_linear(mut a: Vec<f64>, n: usize, mut b: Vec<f64>, k: usize) -> Option<Vec<f64>> {
    assert_eq!(a.len(), n * n, "a must be n × n");
    assert_eq!(b.len(), n * k, "b must be n × k");
    for col in 0..n {
        let pivot =
            (col..n).max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))?;
        if a[pivot * n + col].abs() < 1e-300 {
            return None;
        }
        if pivot != col {
            for j in 0..n {
                a.swap(col * n + j, pivot * n + j);
            }
            for j in 0..k {
                b.swap(col * k + j, pivot * k + j);
            }
        }
        let p = a[col * n + col];
        for row in col + 1..n {
            let f = a[row * n + col] / p;
            if f == 0.0 {
                continue;
            }
            for j in col..n {
                a[row * n + j] -= f * a[col * n + j];
            }
            for j in 0..k {
                b[row * k + j] -= f * b[col * k + j];
            }
        }
    }
    for col in (0..n).rev() {
        let p = a[col * n + col];
        for j in 0..k {
            let mut s = b[col * k + j];
            for c in col + 1..n {
                s -= a[col * n + c] * b[c * k + j];
            }
            b[col * k + j] = s / p;
        }
    }
    Some(b)
}

/// The transient states from which some absorbing state can be reached with positive
/// probability.
pub fn can_absorb(q: &[f64], r: &[f64], n: usize, m: usize) -> Vec<bool> {
    let mut ok: Vec<bool> = (0..n)
        .map(|i| r[i * m..(i + 1) * m].iter().any(|&p| p > 0.0))
        .collect();
    loop {
        let mut changed = false;
        for i in 0..n {
            if !ok[i] && (0..n).any(|j| ok[j] && q[i * n + j] > 0.0) {
                ok[i] = true;
                changed = true;
            }
        }
        if !changed {
            return ok;
        }
    }
}

/// Absorption probabilities `B` (`n × m`, row-major): `B[i * m + a]` is the probability of
/// ending in absorbing state `a` when starting from transient state `i`. See the module docs.
pub fn absorption_probabilities(q: &[f64], r: &[f64], n: usize, m: usize) -> Vec<f64> {
    assert_eq!(q.len(), n * n, "q must be n × n");
    assert_eq!(r.len(), n * m, "r must be n × m");
    let ok = can_absorb(q, r, n, m);
    let live: Vec<usize> = (0..n).filter(|&i| ok[i]).collect();
    let l = live.len();
    let mut a = vec![0.0; l * l];
    let mut b = vec![0.0; l * m];
    for (x, &i) in live.iter().enumerate() {
        for (y, &j) in live.iter().enumerate() {
            a[x * l + y] = f64::from(u8::from(x == y)) - q[i * n + j];
        }
        b[x * m..(x + 1) * m].copy_from_slice(&r[i * m..(i + 1) * m]);
    }
    let sol = solve_linear(a, l, b, m).expect("I - Q restricted to absorbing states is invertible");
    let mut out = vec![0.0; n * m];
    for (x, &i) in live.iter().enumerate() {
        out[i * m..(i + 1) * m].copy_from_slice(&sol[x * m..(x + 1) * m]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_small_system() {
        // 2x + y = 5, x + 3y = 10 → x = 1, y = 3.
        let x = solve_linear(vec![2.0, 1.0, 1.0, 3.0], 2, vec![5.0, 10.0], 1).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 3.0).abs() < 1e-12);
        assert!(solve_linear(vec![1.0, 2.0, 2.0, 4.0], 2, vec![1.0, 1.0], 1).is_none());
    }

    #[test]
    fn gamblers_ruin_matches_the_closed_form() {
        // Fair gambler's ruin on 0..=4: from i, win (reach 4) with probability i/4.
        let n = 3; // transient states 1, 2, 3
        let mut q = vec![0.0; 9];
        let mut r = vec![0.0; 6]; // columns: reach 4, reach 0
        q[1] = 0.5; // 1 → 2
        r[1] = 0.5; // 1 → 0
        q[3] = 0.5; // 2 → 1
        q[5] = 0.5; // 2 → 3
        q[7] = 0.5; // 3 → 2
        r[4] = 0.5; // 3 → 4
        let b = absorption_probabilities(&q, &r, n, 2);
        for (i, want) in [0.25, 0.5, 0.75].iter().enumerate() {
            assert!((b[i * 2] - want).abs() < 1e-12, "{b:?}");
            assert!((b[i * 2] + b[i * 2 + 1] - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn trapped_states_get_zero() {
        // 0 → 1 or win; 1 loops on itself forever (cannot absorb).
        let q = [0.0, 0.5, 0.0, 1.0];
        let r = [0.5, 0.0];
        let b = absorption_probabilities(&q, &r, 2, 1);
        assert_eq!(b, [0.5, 0.0]);
    }
}
