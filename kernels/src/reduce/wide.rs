//! Sums of f32 data carried in f64, for statistics that must stay accurate over
//! millions of values (batch-norm's per-channel mean, variance and gradient sums).
//!
//! Order: element `i` goes to lane `i mod 8` of eight f64 running sums, and the lanes
//! are combined in a fixed pairwise tree. The eight independent chains let the adds
//! overlap (a single f64 chain is bound by the add latency, ~1 element per 4 cycles);
//! no FMA is used, so every build gives the same bits.

/// Running sums per call.
const LANES: usize = 8;

/// Combines the lanes in a fixed pairwise tree.
#[inline(always)]
fn tree(a: [f64; LANES]) -> f64 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

/// Σ f(a[i], b[i]) over the lanes (`a` and `b` of equal length).
#[inline(always)]
fn lanes2<const M: usize>(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> [f64; M]) -> [f64; M] {
    let mut acc = [[0.0f64; LANES]; M];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for j in 0..LANES {
            let v = f(xa[j], xb[j]);
            for m in 0..M {
                acc[m][j] += v[m];
            }
        }
    }
    for j in 0..ra.len() {
        let v = f(ra[j], rb[j]);
        for m in 0..M {
            acc[m][j] += v[m];
        }
    }
    acc.map(tree)
}

/// Σ x in f64 (fixed lane order; 0 for an empty slice).
pub fn sum_f64(x: &[f32]) -> f64 {
    lanes2(x, x, |v, _| [v as f64])[0]
}

/// Σ (x − mu)² in f64 (fixed lane order).
pub fn sum_sq_dev_f64(x: &[f32], mu: f64) -> f64 {
    lanes2(x, x, |v, _| {
        let d = v as f64 - mu;
        [d * d]
    })[0]
}

/// (Σ a, Σ a·b) with each product rounded to f32 before it is summed in f64.
///
/// # Panics
/// If the lengths differ.
pub fn sum_and_dot_f64(a: &[f32], b: &[f32]) -> (f64, f64) {
    assert_eq!(a.len(), b.len(), "sum_and_dot_f64: slice lengths differ");
    let [s, d] = lanes2(a, b, |x, y| [x as f64, (x * y) as f64]);
    (s, d)
}
