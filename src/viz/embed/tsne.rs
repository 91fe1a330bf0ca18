//! Exact t-SNE (van der Maaten & Hinton 2008) to two dimensions.
//!
//! Input affinities p_{j|i} ∝ exp(−β_i‖x_i − x_j‖²) with β_i found by
//! bisection so each row's perplexity matches; P = (P + Pᵀ)/2n. Output
//! affinities q_ij ∝ (1 + ‖y_i − y_j‖²)⁻¹. The gradient of KL(P‖Q) is
//! ∂C/∂y_i = 4 Σ_j (p_ij − q_ij)(1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j), minimised
//! by gradient descent with momentum (0.5, then 0.8) and per-coordinate
//! gains, with early exaggeration (×12) for the first quarter of the
//! iterations (at most 250).
//!
//! Cost: O(n²) time per iteration and O(n²) memory (P as f32: 100 MB at
//! n = 5,000). Meant for up to ~2,000 points (a few seconds); 5,000 points
//! work but take tens of seconds for 1,000 iterations on 2 cores. Subsample
//! larger sets, and reduce inputs with more than ~100 dimensions by PCA
//! first (distances cost O(n²·dim)).
//!
//! Deterministic given the seed, and independent of the rayon thread count:
//! rows are computed independently and the normaliser Z is summed over rows
//! in index order.

use rand::RngExt;
use rayon::prelude::*;

/// Largest `n` accepted; beyond it the dense P alone would exceed 400 MB.
pub const TSNE_MAX_POINTS: usize = 10_000;

const EXAGGERATION: f32 = 12.0;
const LANES: usize = 8;

/// Embeds the rows of the row-major `n` × `dim` matrix `x` in two dimensions
/// by exact t-SNE with the given `perplexity` (clamped to (n − 1)/3; 30 is
/// usual) and number of gradient `iterations` (1,000 is usual). The start is
/// drawn from `crate::rng::stream(seed, "tsne")`, so a seed gives the same
/// embedding bit for bit.
///
/// # Panics
/// When `x.len() != n * dim` or `n > TSNE_MAX_POINTS` (caller bugs:
/// subsample first).
pub fn tsne_2d(
    x: &[f32],
    n: usize,
    dim: usize,
    perplexity: f32,
    iterations: usize,
    seed: u64,
) -> Vec<[f32; 2]> {
    assert_eq!(
        x.len(),
        n * dim,
        "tsne_2d: x has {} values, not n·dim = {}",
        x.len(),
        n * dim
    );
    assert!(
        n <= TSNE_MAX_POINTS,
        "tsne_2d: {n} points; subsample to ≤ {TSNE_MAX_POINTS}"
    );
    if n < 2 {
        return vec![[0.0, 0.0]; n];
    }
    let perplexity = (perplexity as f64).clamp(1.0, ((n - 1) as f64 / 3.0).max(1.0));
    let p = joint_affinities(x, n, dim, perplexity);

    let mut rng = crate::rng::stream(seed, "tsne");
    let mut y = vec![[0f32; 2]; n];
    for yi in y.iter_mut() {
        *yi = [1e-4 * gaussian(&mut rng), 1e-4 * gaussian(&mut rng)];
    }
    let lr = (n as f32 / EXAGGERATION / 4.0).max(50.0);
    let early = (iterations / 4).min(250);
    let mut update = vec![[0f32; 2]; n];
    let mut gains = vec![[1f32; 2]; n];
    for it in 0..iterations {
        let (exaggeration, momentum) = if it < early {
            (EXAGGERATION, 0.5)
        } else {
            (1.0, 0.8)
        };
        let grad = gradient(&p, &y, exaggeration);
        for i in 0..n {
            for k in 0..2 {
                let g = grad[i][k];
                let gain = &mut gains[i][k];
                *gain = if (g > 0.0) != (update[i][k] > 0.0) {
                    *gain + 0.2
                } else {
                    (*gain * 0.8).max(0.01)
                };
                update[i][k] = momentum * update[i][k] - lr * *gain * g;
                y[i][k] += update[i][k];
            }
        }
        recentre(&mut y);
    }
    y
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut crate::rng::StreamRng) -> f32 {
    let u1 = rng.random::<f64>().max(1e-300);
    let u2 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

fn recentre(y: &mut [[f32; 2]]) {
    let n = y.len() as f64;
    let mx = y.iter().map(|v| v[0] as f64).sum::<f64>() / n;
    let my = y.iter().map(|v| v[1] as f64).sum::<f64>() / n;
    for v in y.iter_mut() {
        v[0] -= mx as f32;
        v[1] -= my as f32;
    }
}

/// The symmetric joint affinities P (`n` × `n`, row-major, f32, zero
/// diagonal, summing to 1).
fn joint_affinities(x: &[f32], n: usize, dim: usize, perplexity: f64) -> Vec<f32> {
    let target = perplexity.ln();
    let mut p = vec![0f32; n * n];
    p.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        let xi = &x[i * dim..(i + 1) * dim];
        let d: Vec<f64> = (0..n)
            .map(|j| {
                let xj = &x[j * dim..(j + 1) * dim];
                xi.iter()
                    .zip(xj)
                    .map(|(&a, &b)| (a as f64 - b as f64).powi(2))
                    .sum()
            })
            .collect();
        let cond = conditional_row(&d, i, target);
        for (o, c) in row.iter_mut().zip(cond) {
            *o = c as f32;
        }
    });
    let scale = 1.0 / (2.0 * n as f32);
    for i in 0..n {
        for j in i + 1..n {
            let s = (p[i * n + j] + p[j * n + i]) * scale;
            p[i * n + j] = s;
            p[j * n + i] = s;
        }
    }
    p
}

/// p_{j|i} for the squared distances `d` from point `i`, with β found by
/// bisection so the row's entropy (nats) is `target` = ln(perplexity).
/// Distances are shifted by their minimum so exp never underflows entirely.
fn conditional_row(d: &[f64], i: usize, target: f64) -> Vec<f64> {
    let dmin = d
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, &v)| v)
        .fold(f64::INFINITY, f64::min);
    let (mut beta, mut lo, mut hi) = (1.0f64, 0.0f64, f64::INFINITY);
    let mut row = vec![0.0; d.len()];
    for _ in 0..200 {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (j, (&dj, r)) in d.iter().zip(row.iter_mut()).enumerate() {
            let shifted = dj - dmin;
            *r = if j == i { 0.0 } else { (-beta * shifted).exp() };
            sum += *r;
            weighted += shifted * *r;
        }
        let entropy = sum.ln() + beta * weighted / sum;
        let diff = entropy - target;
        if diff.abs() < 1e-5 {
            break;
        }
        if diff > 0.0 {
            lo = beta;
            beta = if hi.is_finite() {
                0.5 * (beta + hi)
            } else {
                beta * 2.0
            };
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
    }
    let sum: f64 = row.iter().sum();
    row.iter_mut().for_each(|r| *r /= sum);
    row
}

/// ∂KL/∂y for every point, with the attraction multiplied by `exaggeration`.
fn gradient(p: &[f32], y: &[[f32; 2]], exaggeration: f32) -> Vec<[f32; 2]> {
    let n = y.len();
    let ys: Vec<f32> = y.iter().map(|v| v[0]).collect();
    let yt: Vec<f32> = y.iter().map(|v| v[1]).collect();
    // Per row: attraction (x, y), unnormalised repulsion (x, y), row part of Z.
    let mut parts = vec![[0f32; 5]; n];
    parts
        .par_iter_mut()
        .enumerate()
        .with_min_len(16)
        .for_each(|(i, out)| {
            *out = row_forces(&p[i * n..(i + 1) * n], &ys, &yt, ys[i], yt[i]);
        });
    // Z excludes the j = i terms (each contributes exactly 1).
    let z: f64 = parts.iter().map(|r| r[4] as f64 - 1.0).sum();
    let inv_z = (1.0 / z.max(f64::MIN_POSITIVE)) as f32;
    parts
        .iter()
        .map(|r| {
            [
                4.0 * (exaggeration * r[0] - r[2] * inv_z),
                4.0 * (exaggeration * r[1] - r[3] * inv_z),
            ]
        })
        .collect()
}

/// Sums over j for one row: Σ p_ij w_ij d_ij, Σ w_ij² d_ij (both as x and y
/// parts) and Σ w_ij, where d_ij = y_i − y_j and w_ij = 1/(1 + ‖d_ij‖²).
/// Uses 256-bit vectors when the CPU has AVX; the arithmetic (no FMA, same
/// lanes, same order) and so the result is identical either way (a test
/// checks it).
fn row_forces(prow: &[f32], ys: &[f32], yt: &[f32], xi: f32, yi: f32) -> [f32; 5] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked on the line above.
        return unsafe { row_forces_avx(prow, ys, yt, xi, yi) };
    }
    row_forces_portable(prow, ys, yt, xi, yi)
}

/// [`row_forces_portable`] with explicit 8-wide AVX vectors: the same
/// operations in the same order per lane (no FMA), so the same bits.
///
/// # Safety
/// The CPU must support AVX, and `ys`, `yt` must be as long as `prow`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn row_forces_avx(prow: &[f32], ys: &[f32], yt: &[f32], xi: f32, yi: f32) -> [f32; 5] {
    use std::arch::x86_64::*;
    let n = prow.len();
    assert!(
        ys.len() == n && yt.len() == n,
        "row_forces: slice lengths differ"
    );
    let chunks = n / LANES;
    let one = _mm256_set1_ps(1.0);
    let (vx, vy) = (_mm256_set1_ps(xi), _mm256_set1_ps(yi));
    let (mut ax, mut ay) = (_mm256_setzero_ps(), _mm256_setzero_ps());
    let (mut rx, mut ry, mut z) = (
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
        _mm256_setzero_ps(),
    );
    for c in 0..chunks {
        let o = c * LANES;
        // SAFETY: o + LANES ≤ n, the length of all three slices (asserted).
        let p = _mm256_loadu_ps(prow.as_ptr().add(o));
        let s = _mm256_loadu_ps(ys.as_ptr().add(o));
        let t = _mm256_loadu_ps(yt.as_ptr().add(o));
        let dx = _mm256_sub_ps(vx, s);
        let dy = _mm256_sub_ps(vy, t);
        let d = _mm256_add_ps(
            _mm256_add_ps(one, _mm256_mul_ps(dx, dx)),
            _mm256_mul_ps(dy, dy),
        );
        let w = _mm256_div_ps(one, d);
        let pw = _mm256_mul_ps(p, w);
        let ww = _mm256_mul_ps(w, w);
        ax = _mm256_add_ps(ax, _mm256_mul_ps(pw, dx));
        ay = _mm256_add_ps(ay, _mm256_mul_ps(pw, dy));
        rx = _mm256_add_ps(rx, _mm256_mul_ps(ww, dx));
        ry = _mm256_add_ps(ry, _mm256_mul_ps(ww, dy));
        z = _mm256_add_ps(z, w);
    }
    let lanes = |v: __m256| {
        let mut a = [0f32; LANES];
        // SAFETY: `a` holds exactly 8 f32 (unaligned store).
        _mm256_storeu_ps(a.as_mut_ptr(), v);
        a.iter().sum::<f32>()
    };
    let mut out = [lanes(ax), lanes(ay), lanes(rx), lanes(ry), lanes(z)];
    for j in chunks * LANES..n {
        for (o, v) in out
            .iter_mut()
            .zip(pair_terms(prow[j], ys[j], yt[j], xi, yi))
        {
            *o += v;
        }
    }
    out
}

/// [`row_forces`] in `LANES` independent accumulators, so the loop vectorises.
#[inline(always)]
fn row_forces_portable(prow: &[f32], ys: &[f32], yt: &[f32], xi: f32, yi: f32) -> [f32; 5] {
    let (mut ax, mut ay) = ([0f32; LANES], [0f32; LANES]);
    let (mut rx, mut ry, mut z) = ([0f32; LANES], [0f32; LANES], [0f32; LANES]);
    let (pc, sc, tc) = (
        prow.chunks_exact(LANES),
        ys.chunks_exact(LANES),
        yt.chunks_exact(LANES),
    );
    let (pr, sr, tr) = (pc.remainder(), sc.remainder(), tc.remainder());
    for ((p, s), t) in pc.zip(sc).zip(tc) {
        let p: &[f32; LANES] = p.try_into().expect("exact chunk");
        let s: &[f32; LANES] = s.try_into().expect("exact chunk");
        let t: &[f32; LANES] = t.try_into().expect("exact chunk");
        for l in 0..LANES {
            let dx = xi - s[l];
            let dy = yi - t[l];
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            let pw = p[l] * w;
            let ww = w * w;
            ax[l] += pw * dx;
            ay[l] += pw * dy;
            rx[l] += ww * dx;
            ry[l] += ww * dy;
            z[l] += w;
        }
    }
    let mut out = [ax, ay, rx, ry, z].map(|a| a.iter().sum::<f32>());
    for ((&p, &s), &t) in pr.iter().zip(sr).zip(tr) {
        for (o, v) in out.iter_mut().zip(pair_terms(p, s, t, xi, yi)) {
            *o += v;
        }
    }
    out
}

/// The five summands of [`row_forces`] for one pair: affinity `p`, other
/// point (`s`, `t`), this point (`xi`, `yi`).
#[inline(always)]
fn pair_terms(p: f32, s: f32, t: f32, xi: f32, yi: f32) -> [f32; 5] {
    let dx = xi - s;
    let dy = yi - t;
    let w = 1.0 / (1.0 + dx * dx + dy * dy);
    let pw = p * w;
    let ww = w * w;
    [pw * dx, pw * dy, ww * dx, ww * dy, w]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_rows_hit_the_perplexity() {
        let d: Vec<f64> = (0..50).map(|j| (j as f64 * 0.37).powi(2)).collect();
        let row = conditional_row(&d, 0, 10f64.ln());
        assert_eq!(row[0], 0.0);
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let h: f64 = row.iter().filter(|&&r| r > 0.0).map(|&r| -r * r.ln()).sum();
        assert!((h.exp() - 10.0).abs() < 1e-3, "perplexity {}", h.exp());
    }

    #[test]
    fn joint_affinities_are_symmetric_and_normalised() {
        let x: Vec<f32> = (0..40).map(|k| ((k * 7919) % 23) as f32).collect();
        let p = joint_affinities(&x, 10, 4, 3.0);
        let total: f64 = p.iter().map(|&v| v as f64).sum();
        assert!((total - 1.0).abs() < 1e-5);
        for i in 0..10 {
            assert_eq!(p[i * 10 + i], 0.0);
            for j in 0..10 {
                assert_eq!(p[i * 10 + j], p[j * 10 + i]);
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences_of_the_kl() {
        let n = 6;
        let x: Vec<f32> = (0..n * 3).map(|k| ((k * 31) % 17) as f32 * 0.3).collect();
        let p = joint_affinities(&x, n, 3, 1.5);
        let y: Vec<[f32; 2]> = (0..n)
            .map(|i| [i as f32 * 0.4 - 1.0, ((i * 5) % 7) as f32 * 0.3])
            .collect();
        let kl = |y: &[[f64; 2]]| {
            let mut z = 0.0;
            for i in 0..n {
                for j in 0..n {
                    if i != j {
                        let d = (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2);
                        z += 1.0 / (1.0 + d);
                    }
                }
            }
            let mut c = 0.0;
            for i in 0..n {
                for j in 0..n {
                    let pij = p[i * n + j] as f64;
                    if i != j && pij > 0.0 {
                        let d = (y[i][0] - y[j][0]).powi(2) + (y[i][1] - y[j][1]).powi(2);
                        c += pij * (pij / (1.0 / (1.0 + d) / z)).ln();
                    }
                }
            }
            c
        };
        let g = gradient(&p, &y, 1.0);
        let y64: Vec<[f64; 2]> = y.iter().map(|v| [v[0] as f64, v[1] as f64]).collect();
        for i in 0..n {
            for k in 0..2 {
                let (mut a, mut b) = (y64.clone(), y64.clone());
                a[i][k] += 1e-5;
                b[i][k] -= 1e-5;
                let fd = (kl(&a) - kl(&b)) / 2e-5;
                assert!(
                    (fd - g[i][k] as f64).abs() < 1e-3,
                    "{i},{k}: {fd} vs {}",
                    g[i][k]
                );
            }
        }
    }

    #[test]
    fn vector_and_portable_forces_agree_bit_for_bit() {
        for n in [1usize, 7, 8, 29, 64] {
            let p: Vec<f32> = (0..n).map(|j| ((j * 37) % 11) as f32 / 97.0).collect();
            let s: Vec<f32> = (0..n).map(|j| ((j * 13) % 17) as f32 * 0.3 - 2.0).collect();
            let t: Vec<f32> = (0..n).map(|j| ((j * 7) % 19) as f32 * 0.2 - 1.5).collect();
            let want = row_forces_portable(&p, &s, &t, 0.25, -0.5);
            assert_eq!(row_forces(&p, &s, &t, 0.25, -0.5), want, "n = {n}");
        }
    }

    #[test]
    fn tiny_inputs_do_not_panic() {
        assert!(tsne_2d(&[], 0, 2, 30.0, 10, 1).is_empty());
        assert_eq!(tsne_2d(&[1.0, 2.0], 1, 2, 30.0, 10, 1), vec![[0.0, 0.0]]);
        assert_eq!(tsne_2d(&[1.0, 2.0, 3.0, 4.0], 2, 2, 30.0, 10, 1).len(), 2);
    }
}
