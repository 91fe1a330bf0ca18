//! Row-wise reductions over a row-major `(rows × cols)` matrix, and column sums.

use super::{max, sum, sum_map2};
use crate::elementwise::math;
use rayon::prelude::*;

/// Matrices with at least this many elements run their rows on rayon.
const PARALLEL_ELEMS: usize = 1 << 16;

/// Panics unless `x` is a whole number of rows and `out` has one entry per row.
fn check(name: &str, x: usize, cols: usize, out: usize, per_row: usize) {
    assert!(cols > 0, "{name}: cols must be positive");
    assert!(
        x.is_multiple_of(cols),
        "{name}: length {x} is not a multiple of cols = {cols}"
    );
    assert_eq!(
        out,
        x / cols * per_row,
        "{name}: output length {out} for {} rows",
        x / cols
    );
}

/// Runs `f(row, out_row)` on every row (in parallel for large matrices; rows are
/// independent, so the result does not depend on it).
fn rows_map<F: Fn(&[f32], &mut [f32]) + Sync>(
    x: &[f32],
    cols: usize,
    out: &mut [f32],
    per_row: usize,
    f: F,
) {
    if x.len() >= PARALLEL_ELEMS {
        x.par_chunks(cols)
            .zip(out.par_chunks_mut(per_row))
            .for_each(|(r, o)| f(r, o));
    } else {
        x.chunks(cols)
            .zip(out.chunks_mut(per_row))
            .for_each(|(r, o)| f(r, o));
    }
}

/// `out[i] = Σ_j x[i, j]` (overwrites; fixed order).
pub fn row_sum(x: &[f32], cols: usize, out: &mut [f32]) {
    check("row_sum", x.len(), cols, out.len(), 1);
    rows_map(x, cols, out, 1, |r, o| o[0] = sum(r));
}

/// `out[i] = max_j x[i, j]` (overwrites; NaN if the row has a NaN).
pub fn row_max(x: &[f32], cols: usize, out: &mut [f32]) {
    check("row_max", x.len(), cols, out.len(), 1);
    rows_map(x, cols, out, 1, |r, o| o[0] = max(r));
}

/// log Σ_j e^{x_j} of one row, shifted by its max: exact for ±∞ maxima.
#[inline]
fn logsumexp(r: &[f32]) -> f32 {
    let m = max(r);
    if !m.is_finite() {
        // −∞: every entry is −∞ (log 0); +∞ or NaN propagate.
        return m;
    }
    m + math::ln(sum_map2(
        r,
        r,
        #[inline(always)]
        |v, _| math::exp(v - m),
    ))
}

/// `out[i] = log Σ_j exp(x[i, j])`, computed as `m + log Σ exp(x − m)` with m the row max.
pub fn row_logsumexp(x: &[f32], cols: usize, out: &mut [f32]) {
    check("row_logsumexp", x.len(), cols, out.len(), 1);
    rows_map(x, cols, out, 1, |r, o| o[0] = logsumexp(r));
}

/// `y[i, :] = softmax(x[i, :]) = exp(x − m) / Σ exp(x − m)` (overwrites).
pub fn row_softmax(x: &[f32], cols: usize, y: &mut [f32]) {
    check("row_softmax", x.len(), cols, y.len(), cols);
    rows_map(x, cols, y, cols, |r, o| {
        let m = max(r);
        crate::elementwise::dispatch::map_serial(
            r,
            o,
            #[inline(always)]
            |v| math::exp(v - m),
        );
        let s = sum(o);
        o.iter_mut().for_each(|v| *v /= s);
    });
}

/// `y[i, :] = x[i, :] − logsumexp(x[i, :])` (overwrites): never `log(softmax)`.
pub fn row_log_softmax(x: &[f32], cols: usize, y: &mut [f32]) {
    check("row_log_softmax", x.len(), cols, y.len(), cols);
    rows_map(x, cols, y, cols, |r, o| {
        let l = logsumexp(r);
        o.iter_mut().zip(r).for_each(|(o, &v)| *o = v - l);
    });
}

/// `dx[i, :] += y ⊙ (dy − Σ_j dy_j·y_j)` for `y = softmax(x)` (accumulates).
pub fn row_softmax_backward(y: &[f32], dy: &[f32], cols: usize, dx: &mut [f32]) {
    check("row_softmax_backward", y.len(), cols, dx.len(), cols);
    assert_eq!(
        dy.len(),
        y.len(),
        "row_softmax_backward: dy length differs from y"
    );
    let rows = y.len() / cols;
    let f = |((yr, gr), dr): ((&[f32], &[f32]), &mut [f32])| {
        let s = super::dot(gr, yr);
        for ((d, &yv), &g) in dr.iter_mut().zip(yr).zip(gr) {
            *d += yv * (g - s);
        }
    };
    if rows * cols >= PARALLEL_ELEMS {
        y.par_chunks(cols)
            .zip(dy.par_chunks(cols))
            .zip(dx.par_chunks_mut(cols))
            .for_each(f);
    } else {
        y.chunks(cols)
            .zip(dy.chunks(cols))
            .zip(dx.chunks_mut(cols))
            .for_each(f);
    }
}

/// `dx[i, :] += dy − exp(y)·Σ_j dy_j` for `y = log_softmax(x)` (accumulates).
pub fn row_log_softmax_backward(y: &[f32], dy: &[f32], cols: usize, dx: &mut [f32]) {
    check("row_log_softmax_backward", y.len(), cols, dx.len(), cols);
    assert_eq!(
        dy.len(),
        y.len(),
        "row_log_softmax_backward: dy length differs from y"
    );
    let rows = y.len() / cols;
    let f = |((yr, gr), dr): ((&[f32], &[f32]), &mut [f32])| {
        let s = sum(gr);
        for ((d, &yv), &g) in dr.iter_mut().zip(yr).zip(gr) {
            *d += g - math::exp(yv) * s;
        }
    };
    if rows * cols >= PARALLEL_ELEMS {
        y.par_chunks(cols)
            .zip(dy.par_chunks(cols))
            .zip(dx.par_chunks_mut(cols))
            .for_each(f);
    } else {
        y.chunks(cols)
            .zip(dy.chunks(cols))
            .zip(dx.chunks_mut(cols))
            .for_each(f);
    }
}

/// `out[j] += Σ_i x[i, j]` (bias gradients). Rows are added in order into a zeroed
/// accumulator in blocks of 64 rows whose partial sums are then added in order: a fixed
/// order, independent of threads. Large inputs run strips of columns in parallel; each
/// column's sum is the same sequence of additions either way.
pub fn col_sum_accumulate(x: &[f32], cols: usize, out: &mut [f32]) {
    assert!(cols > 0, "col_sum_accumulate: cols must be positive");
    assert!(
        x.len().is_multiple_of(cols),
        "col_sum_accumulate: length {} is not a multiple of cols = {cols}",
        x.len()
    );
    assert_eq!(
        out.len(),
        cols,
        "col_sum_accumulate: out length {} != cols {cols}",
        out.len()
    );
    /// Columns per parallel strip.
    const STRIP: usize = 512;
    if x.len() >= 1 << 16 && cols >= 2 * STRIP {
        use rayon::prelude::*;
        out.par_chunks_mut(STRIP)
            .enumerate()
            .for_each(|(t, strip)| col_sum_strip(x, cols, t * STRIP, strip));
    } else {
        col_sum_strip(x, cols, 0, out);
    }
}

/// [`col_sum_accumulate`] for columns `j0..j0 + out.len()`.
fn col_sum_strip(x: &[f32], cols: usize, j0: usize, out: &mut [f32]) {
    let width = out.len();
    let mut total = vec![0.0f32; width];
    let mut part = vec![0.0f32; width];
    for block in x.chunks(64 * cols) {
        part.fill(0.0);
        for row in block.chunks_exact(cols) {
            part.iter_mut()
                .zip(&row[j0..j0 + width])
                .for_each(|(p, &v)| *p += v);
        }
        total.iter_mut().zip(&part).for_each(|(t, &p)| *t += p);
    }
    out.iter_mut().zip(&total).for_each(|(o, &t)| *o += t);
}
