//! Rule-based models: first touch, last touch, linear, position-based (on aggregated paths),
//! and the time-decay weights (computed while cutting a log, where times are known).

use super::paths::PathSet;
use super::AttributionModel;

/// Credits `conv`/`value` (per channel) by a path-only heuristic model.
pub(crate) fn credit(set: &PathSet, model: &AttributionModel, conv: &mut [f64], value: &mut [f64]) {
    let mut weights: Vec<f64> = Vec::new();
    for i in 0..set.len() {
        let (c, v) = (set.conversions[i], set.value[i]);
        if c == 0.0 && v == 0.0 {
            continue;
        }
        let path = set.path(i);
        let n = path.len();
        let mut give = |k: usize, w: f64| {
            let ch = path[k] as usize;
            conv[ch] += c * w;
            value[ch] += v * w;
        };
        match *model {
            AttributionModel::FirstTouch => give(0, 1.0),
            AttributionModel::LastTouch => give(n - 1, 1.0),
            AttributionModel::Linear => {
                let w = 1.0 / n as f64;
                for k in 0..n {
                    give(k, w);
                }
            }
            AttributionModel::PositionBased { first, last } => {
                position_weights(n, first, last, &mut weights);
                for (k, &w) in weights.iter().enumerate() {
                    give(k, w);
                }
            }
            _ => unreachable!("not a path heuristic"),
        }
    }
}

/// The position-based weights of an `n`-touch path (see the module docs of `attribution`).
pub(crate) fn position_weights(n: usize, first: f64, last: f64, out: &mut Vec<f64>) {
    out.clear();
    match n {
        0 => {}
        1 => out.push(1.0),
        2 => {
            let s = first + last;
            if s > 0.0 {
                out.extend([first / s, last / s]);
            } else {
                out.extend([0.5, 0.5]);
            }
        }
        _ => {
            let middle = (1.0 - first - last).max(0.0) / (n - 2) as f64;
            out.push(first);
            out.extend(std::iter::repeat_n(middle, n - 2));
            out.push(last);
        }
    }
}

/// Time-decay weights of touches at `times` for a conversion at `t ≥ max(times)`, normalised to
/// sum to 1: `2^(-(t - tᵢ) / half_life) / Σⱼ 2^(-(t - tⱼ) / half_life)`. The common factor
/// `2^(-(t - latest) / half_life)` cancels, so the weights are computed relative to the latest
/// touch (and long gaps never underflow every weight to zero); `t` is not needed.
pub(crate) fn decay_weights(times: &[i64], half_life_ms: i64, out: &mut Vec<f64>) {
    out.clear();
    let Some(&latest) = times.iter().max() else {
        return;
    };
    let h = half_life_ms as f64;
    let mut sum = 0.0;
    for &ti in times {
        let w = (-((latest - ti) as f64) / h).exp2();
        out.push(w);
        sum += w;
    }
    for w in out.iter_mut() {
        *w /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_weights_by_length() {
        let mut w = Vec::new();
        position_weights(1, 0.4, 0.4, &mut w);
        assert_eq!(w, [1.0]);
        position_weights(2, 0.4, 0.4, &mut w);
        assert_eq!(w, [0.5, 0.5]);
        position_weights(2, 0.3, 0.1, &mut w);
        assert!((w[0] - 0.75).abs() < 1e-15 && (w[1] - 0.25).abs() < 1e-15);
        position_weights(2, 0.0, 0.0, &mut w);
        assert_eq!(w, [0.5, 0.5]);
        position_weights(3, 0.4, 0.4, &mut w);
        assert!((w[1] - 0.2).abs() < 1e-15);
        position_weights(5, 0.4, 0.4, &mut w);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert!((w[2] - 0.2 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn decay_halves_per_half_life() {
        let mut w = Vec::new();
        // Touches 2 and 1 half-lives before the conversion: weights 1/4 and 1/2 → 1/3, 2/3.
        decay_weights(&[0, 10], 10, &mut w);
        assert!((w[0] - 1.0 / 3.0).abs() < 1e-15 && (w[1] - 2.0 / 3.0).abs() < 1e-15);
        // Very old touches do not underflow to 0/0.
        decay_weights(&[0, i64::MAX / 2], 1, &mut w);
        assert_eq!(w, [0.0, 1.0]);
        decay_weights(&[5, 5], 1, &mut w);
        assert_eq!(w, [0.5, 0.5]);
    }
}
