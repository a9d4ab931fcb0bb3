//! The statistics of the report: a median with its confidence interval (throughput ratios),
//! and the pooled p99 ratio with a bootstrap interval over rounds (the p99 bar).

use crate::load::percentile;

/// The median of some numbers and a distribution-free 95 % confidence interval for it (the
/// order statistics at n/2 ∓ 0.98·√n); NaN when there are none.
pub fn median_ci(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if !n.is_multiple_of(2) {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let half = 0.98 * (n as f64).sqrt();
    let lo = ((n as f64 / 2.0 - half).floor().max(1.0) as usize).min(n) - 1;
    let hi = ((n as f64 / 2.0 + half).ceil() as usize + 1).clamp(1, n) - 1;
    (median, v[lo], v[hi])
}

/// The latencies of one round, in microseconds, each side's sorted:
/// `[generated, hand-written]`.
pub type RoundLatencies = [Vec<u32>; 2];

/// Resamples of the bootstrap behind [`pooled_p99_ratio`]'s interval.
const RESAMPLES: usize = 1000;

/// The p99 ratio generated / hand-written over all the requests of the rounds, each side's
/// latencies pooled (the p99 of the whole run, as a load generator reports it), with a 95 %
/// bootstrap interval: the rounds are drawn again with replacement, both sides of a round
/// together, [`RESAMPLES`] times, and the interval is the 2.5th and 97.5th percentiles of
/// the resamples' ratios. A slow spell of the machine that hits a few runs of one side
/// widens the interval as much as it moves the ratio. NaN when a side has no latencies.
pub fn pooled_p99_ratio(rounds: &[RoundLatencies]) -> (f64, f64, f64) {
    let all: Vec<usize> = (0..rounds.len()).collect();
    let ratio = |chosen: &[usize]| -> f64 {
        let side =
            |s: usize| -> Vec<&[u32]> { chosen.iter().map(|&r| rounds[r][s].as_slice()).collect() };
        let (g, h) = (
            pooled_percentile(&side(0), 99.0),
            pooled_percentile(&side(1), 99.0),
        );
        match (g, h) {
            (Some(g), Some(h)) if h > 0 => f64::from(g) / f64::from(h),
            _ => f64::NAN,
        }
    };
    let point = ratio(&all);
    if !point.is_finite() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    // A fixed seed: the same rounds give the same interval.
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ rounds.len() as u64;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut chosen = vec![0; rounds.len()];
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            for c in chosen.iter_mut() {
                *c = (next() % rounds.len() as u64) as usize;
            }
            ratio(&chosen)
        })
        .filter(|r| r.is_finite())
        .collect();
    if ratios.is_empty() {
        return (point, f64::NAN, f64::NAN);
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[(q * (ratios.len() - 1) as f64).round() as usize];
    (point, at(0.025), at(0.975))
}

/// The percentile `p` (0..=100) of the union of sorted runs of latencies, as
/// [`percentile`] would give it for the runs merged and sorted; `None` when all are empty.
/// Found by bisection on the latency, counting each run's part below it by binary search,
/// so that a bootstrap resample costs no merge.
pub fn pooled_percentile(runs: &[&[u32]], p: f64) -> Option<u32> {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n == 0 {
        return None;
    }
    let rank = (((p / 100.0) * n as f64).ceil() as usize).clamp(1, n);
    let at_most = |x: u32| -> usize { runs.iter().map(|r| r.partition_point(|&v| v <= x)).sum() };
    // The smallest latency `x` with at least `rank` latencies at or below it.
    let (mut lo, mut hi) = (0u32, runs.iter().filter_map(|r| r.last()).copied().max()?);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at_most(mid) >= rank {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    debug_assert!(runs.len() != 1 || Some(lo) == Some(percentile(runs[0], p)));
    Some(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pooled_percentile_is_the_percentile_of_the_runs_merged() {
        let runs: Vec<Vec<u32>> = vec![
            (1..=50).map(|i| i * 3).collect(),
            vec![],
            (1..=200).collect(),
            vec![7, 7, 7, 1000],
        ];
        let mut merged: Vec<u32> = runs.iter().flatten().copied().collect();
        merged.sort_unstable();
        let slices: Vec<&[u32]> = runs.iter().map(Vec::as_slice).collect();
        for p in [0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(
                pooled_percentile(&slices, p),
                Some(percentile(&merged, p)),
                "p{p}"
            );
        }
        assert_eq!(pooled_percentile(&[&[][..]], 99.0), None);
    }

    /// `n` rounds whose generated side is `factor` times the hand-written one's latencies,
    /// with a round-to-round spread of the machine.
    fn rounds(n: u32, factor: f64) -> Vec<RoundLatencies> {
        (0..n)
            .map(|r| {
                let machine = 1.0 + f64::from(r % 7) * 0.05;
                let side = |f: f64| -> Vec<u32> {
                    (1..=500u32)
                        .map(|i| (f64::from(i) * machine * f) as u32)
                        .collect()
                };
                [side(factor), side(1.0)]
            })
            .collect()
    }

    #[test]
    fn the_pooled_p99_ratio_finds_the_factor_and_its_interval_holds_it() {
        for factor in [0.8, 1.0, 1.2] {
            let (r, lo, hi) = pooled_p99_ratio(&rounds(60, factor));
            assert!((r - factor).abs() < 0.01, "{factor}: {r}");
            assert!(lo <= r && r <= hi, "{factor}: {lo}..{hi}");
            assert!(
                lo > factor - 0.05 && hi < factor + 0.05,
                "{factor}: {lo}..{hi}"
            );
        }
        // The same rounds give the same interval.
        assert_eq!(
            pooled_p99_ratio(&rounds(40, 1.1)),
            pooled_p99_ratio(&rounds(40, 1.1))
        );
    }

    #[test]
    fn a_slow_spell_of_one_side_widens_the_interval() {
        let calm = rounds(60, 1.0);
        let mut spell = calm.clone();
        // Three runs of the generated side ten times slower.
        for round in spell.iter_mut().take(3) {
            round[0].iter_mut().for_each(|l| *l *= 10);
        }
        let (_, lo, hi) = pooled_p99_ratio(&calm);
        let (_, slo, shi) = pooled_p99_ratio(&spell);
        assert!(shi - slo > 2.0 * (hi - lo), "{lo}..{hi} vs {slo}..{shi}");
        assert!(
            shi > 1.1,
            "the spell's interval reaches past the bar: {slo}..{shi}"
        );
    }

    #[test]
    fn no_latencies_no_ratio() {
        assert!(pooled_p99_ratio(&[]).0.is_nan());
        assert!(pooled_p99_ratio(&[[vec![], vec![1]]]).0.is_nan());
    }

    #[test]
    fn the_median_interval_of_a_known_sample() {
        let (m, lo, hi) = median_ci((1..=100).map(f64::from).collect());
        assert_eq!(m, 50.5);
        assert!(lo < m && m < hi);
        assert!(median_ci(vec![f64::NAN]).0.is_nan());
    }
}
