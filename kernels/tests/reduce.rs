//! Reductions against f64 naive twins on random data (lengths 0..5000, mixed
//! magnitudes), NaN/∞ handling, and the documented fixed summation order, re-implemented
//! here in plain scalar code and compared bit for bit.

use proptest::prelude::*;
use sparselabel_kernels::reduce::{self, naive};

const EPS: f64 = f32::EPSILON as f64 / 2.0;

/// Depth of the fixed tree for n elements: ≤ BLOCK/16 lane adds, 4 tree levels, and the
/// block recursion; the error of any fixed-order f32 sum is ≤ depth·ε·Σ|x|.
fn depth(n: usize) -> f64 {
    (reduce::BLOCK / 16) as f64 + 4.0 + ((n / reduce::BLOCK + 1) as f64).log2().ceil() + 2.0
}

fn vecs() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![-1.0f32..1.0, -1e4f32..1e4, -1e-3f32..1e-3],
        0..5000,
    )
}

fn maxes_naive(r: &[f32]) -> f64 {
    r.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b as f64))
}

/// The documented order, in plain scalar code.
fn reference_order(x: &[f32]) -> f32 {
    if x.len() > reduce::BLOCK {
        let mid = x.len().div_ceil(reduce::BLOCK) / 2 * reduce::BLOCK;
        return reference_order(&x[..mid]) + reference_order(&x[mid..]);
    }
    let mut acc = [0.0f32; 16];
    for (i, &v) in x.iter().enumerate() {
        acc[i % 16] += v;
    }
    let b: Vec<f32> = (0..8).map(|j| acc[j] + acc[j + 8]).collect();
    let c = [b[0] + b[4], b[1] + b[5], b[2] + b[6], b[3] + b[7]];
    (c[0] + c[2]) + (c[1] + c[3])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sum_dot_max_match_naive(x in vecs(), seed in any::<u32>()) {
        let y: Vec<f32> = x.iter().enumerate().map(|(i, v)| v * (((i as u32 ^ seed) % 7) as f32 - 3.0)).collect();
        let abs: f64 = x.iter().map(|v| v.abs() as f64).sum();
        let tol = depth(x.len()) * EPS * abs + 1e-30;
        prop_assert!((reduce::sum(&x) as f64 - naive::sum_naive(&x)).abs() <= tol);
        prop_assert_eq!(reduce::sum(&x).to_bits(), reference_order(&x).to_bits());
        let abs_dot: f64 = x.iter().zip(&y).map(|(a, b)| (*a as f64 * *b as f64).abs()).sum();
        let tol = (depth(x.len()) + 1.0) * EPS * abs_dot + 1e-30;
        prop_assert!((reduce::dot(&x, &y) as f64 - naive::dot_naive(&x, &y)).abs() <= tol);
        let abs_sq: f64 = x.iter().map(|v| (*v as f64).powi(2)).sum();
        prop_assert!((reduce::sum_sq(&x) as f64 - abs_sq).abs() <= (depth(x.len()) + 1.0) * EPS * abs_sq + 1e-30);
        let m = x.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        prop_assert_eq!(reduce::max(&x), m);
    }

    #[test]
    fn row_ops_match_naive(rows in 1usize..12, cols in 1usize..300, scale in prop_oneof![Just(1.0f32), Just(30.0f32), Just(1000.0f32)], seed in any::<u64>()) {
        let mut s = seed | 1;
        let x: Vec<f32> = (0..rows * cols).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale }).collect();
        let mut out = vec![0.0; rows];
        reduce::row_logsumexp(&x, cols, &mut out);
        let mut y = vec![0.0; rows * cols];
        let mut ly = vec![0.0; rows * cols];
        reduce::row_softmax(&x, cols, &mut y);
        reduce::row_log_softmax(&x, cols, &mut ly);
        let mut sums = vec![0.0; rows];
        reduce::row_sum(&x, cols, &mut sums);
        let mut maxes = vec![0.0; rows];
        reduce::row_max(&x, cols, &mut maxes);
        for i in 0..rows {
            let r = &x[i * cols..(i + 1) * cols];
            let l = naive::logsumexp_naive(r);
            // logsumexp = m + ln(S): a few ulps of each term
            prop_assert!((out[i] as f64 - l).abs() <= 4e-7 * (l.abs() + 1.0), "lse {} vs {}", out[i], l);
            let p = naive::softmax_naive(r);
            let m = maxes_naive(r);
            for j in 0..cols {
                // softmax: x − m is rounded (relative ε, which exp turns into an absolute
                // ε·|x − m| relative error of the result), exp (2 ulps), the sum, the division
                // (+ a few subnormal ulps for results below the normal range)
                let tol = p[j] * (1e-6 + 2.0 * EPS * (r[j] as f64 - m).abs()) + 1e-44;
                prop_assert!((y[i * cols + j] as f64 - p[j]).abs() <= tol, "softmax");
                let want = r[j] as f64 - l;
                prop_assert!((ly[i * cols + j] as f64 - want).abs() <= 4e-7 * (l.abs() + r[j].abs() as f64 + 1.0), "log_softmax");
            }
            let abs: f64 = r.iter().map(|v| v.abs() as f64).sum();
            prop_assert!((sums[i] as f64 - naive::sum_naive(r)).abs() <= depth(cols) * EPS * abs + 1e-30);
            prop_assert_eq!(maxes[i], r.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)));
        }
        let mut cs = vec![0.5f32; cols];
        reduce::col_sum_accumulate(&x, cols, &mut cs);
        let want = naive::col_sum_naive(&x, cols);
        for j in 0..cols {
            let abs: f64 = (0..rows).map(|i| x[i * cols + j].abs() as f64).sum::<f64>() + 0.5;
            prop_assert!((cs[j] as f64 - (want[j] + 0.5)).abs() <= (rows as f64 + 2.0) * EPS * abs);
        }
    }
}

#[test]
fn softmax_backward_matches_finite_differences_formula() {
    let cols = 7;
    let x: Vec<f32> = (0..3 * cols)
        .map(|i| ((i * 37) % 11) as f32 * 0.3 - 1.5)
        .collect();
    let dy: Vec<f32> = (0..3 * cols)
        .map(|i| ((i * 13) % 5) as f32 * 0.2 - 0.4)
        .collect();
    let mut y = vec![0.0; x.len()];
    reduce::row_softmax(&x, cols, &mut y);
    let mut dx = vec![1.0; x.len()];
    reduce::row_softmax_backward(&y, &dy, cols, &mut dx);
    let mut ly = vec![0.0; x.len()];
    reduce::row_log_softmax(&x, cols, &mut ly);
    let mut ldx = vec![-1.0; x.len()];
    reduce::row_log_softmax_backward(&ly, &dy, cols, &mut ldx);
    for i in 0..3 {
        let r = &x[i * cols..(i + 1) * cols];
        let p = naive::softmax_naive(r);
        let g = &dy[i * cols..(i + 1) * cols];
        let s: f64 = p.iter().zip(g).map(|(a, b)| a * *b as f64).sum();
        let gs: f64 = g.iter().map(|&v| v as f64).sum();
        for j in 0..cols {
            // Jacobians: ∂softmax_j/∂x_k = p_j(δ_jk − p_k); ∂logsoftmax_j/∂x_k = δ_jk − p_k
            let want = 1.0 + p[j] * (g[j] as f64 - s);
            assert!((dx[i * cols + j] as f64 - want).abs() < 1e-6, "softmax bwd");
            let want = -1.0 + g[j] as f64 - p[j] * gs;
            assert!(
                (ldx[i * cols + j] as f64 - want).abs() < 1e-6,
                "log_softmax bwd"
            );
        }
    }
}

#[test]
fn special_values() {
    assert_eq!(reduce::sum(&[]), 0.0);
    assert!(reduce::mean(&[]).is_nan());
    assert_eq!(reduce::max(&[]), f32::NEG_INFINITY);
    assert!(reduce::max(&[1.0, f32::NAN, 3.0]).is_nan());
    assert!(reduce::max(&[f32::NAN; 40]).is_nan());
    assert_eq!(reduce::max(&[1.0, f32::INFINITY]), f32::INFINITY);
    let mut out = [0.0; 3];
    reduce::row_logsumexp(
        &[
            f32::NEG_INFINITY,
            f32::NEG_INFINITY,
            1000.0,
            1000.0,
            f32::INFINITY,
            0.0,
        ],
        2,
        &mut out,
    );
    assert_eq!(out[0], f32::NEG_INFINITY);
    assert!((out[1] - (1000.0 + std::f32::consts::LN_2)).abs() < 1e-3);
    assert_eq!(out[2], f32::INFINITY);
    let mut y = [0.0; 3];
    reduce::row_softmax(&[-1000.0, 0.0, 1000.0], 3, &mut y);
    assert_eq!(y, [0.0, 0.0, 1.0]);
    reduce::row_log_softmax(&[-1000.0, 0.0, 1000.0], 3, &mut y);
    assert_eq!(y, [-2000.0, -1000.0, 0.0]);
}

#[test]
fn large_rows_parallel_path_deterministic() {
    let cols = 500;
    let x: Vec<f32> = (0..300 * cols)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0)
        .collect();
    let run = |t: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap();
        pool.install(|| {
            let mut y = vec![0.0; x.len()];
            reduce::row_log_softmax(&x, cols, &mut y);
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}

/// A matrix large enough for the parallel column strips: every column's sum is still
/// the documented sequence (blocks of 64 rows, partial sums added in order).
#[test]
fn col_sum_of_a_large_matrix_keeps_the_per_column_order() {
    let (rows, cols) = (150, 1500);
    let x: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7919) % 1009) as f32 * 0.013 - 6.5)
        .collect();
    let mut got = vec![0.25f32; cols];
    reduce::col_sum_accumulate(&x, cols, &mut got);
    for j in 0..cols {
        let mut total = 0.0f32;
        for b0 in (0..rows).step_by(64) {
            let mut part = 0.0f32;
            for i in b0..(b0 + 64).min(rows) {
                part += x[i * cols + j];
            }
            total += part;
        }
        assert_eq!(got[j].to_bits(), (0.25 + total).to_bits(), "column {j}");
    }
}

/// The documented order of the f64 lane sums, in plain scalar code: lane i mod 8, then
/// the fixed tree.
fn wide_reference(x: &[f32], f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    for i in 0..x.len() {
        acc[i % 8] += f(i);
    }
    ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]))
}

proptest! {
    /// The f64 lane sums follow their documented order bit for bit, and agree with a
    /// sequential f64 sum to within f64 rounding.
    #[test]
    fn wide_sums_follow_their_order_and_match_naive(x in vecs(), mu in -10.0f64..10.0) {
        let y: Vec<f32> = x.iter().map(|v| v * 0.5 - 0.25).collect();
        let sum = reduce::sum_f64(&x);
        prop_assert_eq!(sum.to_bits(), wide_reference(&x, |i| x[i] as f64).to_bits());
        let dev = reduce::sum_sq_dev_f64(&x, mu);
        let dev_ref = wide_reference(&x, |i| (x[i] as f64 - mu) * (x[i] as f64 - mu));
        prop_assert_eq!(dev.to_bits(), dev_ref.to_bits());
        let (s, d) = reduce::sum_and_dot_f64(&x, &y);
        prop_assert_eq!(s.to_bits(), sum.to_bits());
        prop_assert_eq!(d.to_bits(), wide_reference(&x, |i| (x[i] * y[i]) as f64).to_bits());
        let abs: f64 = x.iter().map(|&v| (v as f64).abs()).sum();
        prop_assert!((sum - naive::sum_naive(&x)).abs() <= 1e-12 * abs.max(1.0));
        let seq: f64 = x.iter().map(|&v| (v as f64 - mu).powi(2)).sum();
        prop_assert!((dev - seq).abs() <= 1e-12 * seq.max(1.0));
    }
}
