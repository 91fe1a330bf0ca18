//! Minimum-cost assignment (the Hungarian method with potentials, O(n²·m)
//! for an `n × m` matrix with `n ≤ m`), for rectangular matrices.

use crate::{Error, Result};

/// Pairs `(row, col)` minimising the total cost of a `rows × cols` row-major
/// matrix, one pair per row if `rows ≤ cols`, else one per column; sorted by
/// row. Exact for integer costs (below 2⁵³) and optimal up to rounding for
/// floats. NaN or infinite costs are an error.
pub fn hungarian(cost: &[f64], rows: usize, cols: usize) -> Result<Vec<(usize, usize)>> {
    if cost.len() != rows.saturating_mul(cols) {
        return Err(Error::Usage(format!(
            "cost matrix has {} entries, not {rows} × {cols}",
            cost.len()
        )));
    }
    if let Some(i) = cost.iter().position(|c| !c.is_finite()) {
        return Err(Error::Numerical(format!(
            "cost matrix entry ({}, {}) is {}",
            i / cols,
            i % cols,
            cost[i]
        )));
    }
    if rows == 0 || cols == 0 {
        return Ok(Vec::new());
    }
    let transpose = rows > cols;
    let (n, m) = if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    };
    // Shift costs to start at 0 to keep the potentials small.
    let lo = cost.iter().cloned().fold(f64::INFINITY, f64::min);
    let a = |i: usize, j: usize| -> f64 {
        let c = if transpose {
            cost[j * cols + i]
        } else {
            cost[i * cols + j]
        };
        c - lo
    };
    // 1-based potentials; p[j] = row matched to column j (0 = none).
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            if j1 == 0 || !delta.is_finite() {
                return Err(Error::Numerical(
                    "cost magnitudes too large for an exact assignment".into(),
                ));
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut pairs: Vec<(usize, usize)> = (1..=m)
        .filter(|&j| p[j] != 0)
        .map(|j| {
            if transpose {
                (j - 1, p[j] - 1)
            } else {
                (p[j] - 1, j - 1)
            }
        })
        .collect();
    pairs.sort_unstable();
    Ok(pairs)
}

/// Total cost of `pairs` in a row-major matrix with `cols` columns.
pub fn assignment_cost(cost: &[f64], cols: usize, pairs: &[(usize, usize)]) -> f64 {
    pairs.iter().map(|&(r, c)| cost[r * cols + c]).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        // Classic 3×3: optimum 5 (0→1, 1→0, 2→2).
        let c = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        let p = hungarian(&c, 3, 3).unwrap();
        assert_eq!(assignment_cost(&c, 3, &p), 5.0);
        // 2×3 and its transpose.
        let c = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0];
        let p = hungarian(&c, 2, 3).unwrap();
        assert_eq!(assignment_cost(&c, 3, &p), 4.0);
        let t = [1.0, 2.0, 2.0, 4.0, 3.0, 6.0];
        let p = hungarian(&t, 3, 2).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(assignment_cost(&t, 2, &p), 4.0);
        assert!(hungarian(&[f64::NAN], 1, 1).is_err());
        assert!(hungarian(&[], 0, 3).unwrap().is_empty());
    }
}
