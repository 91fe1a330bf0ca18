//! Normalised mutual information with arithmetic-mean normalisation
//! (scikit-learn's default): `NMI = I(U;V) / ((H(U) + H(V)) / 2)`.

use super::Contingency;
use crate::Result;

fn entropy(counts: &[u64], total: f64) -> f64 {
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.ln()
        })
        .sum()
}

/// NMI of a clustering against the true classes, in [0, 1]. As scikit-learn:
/// 1 when both labelings have a single (identical) value, 0 when the mutual
/// information is 0.
pub fn nmi(pred: &[u32], truth: &[u32]) -> Result<f64> {
    let t = Contingency::new(pred, truth)?;
    let (r, c) = (t.clusters.len(), t.classes.len());
    if (r == 1 && c == 1) || t.total == 0 {
        return Ok(1.0);
    }
    let n = t.total as f64;
    let (rs, cs) = (t.row_sums(), t.col_sums());
    let mut mi = 0.0;
    for (i, &ri) in rs.iter().enumerate() {
        for (j, &cj) in cs.iter().enumerate() {
            let nij = t.get(i, j);
            if nij > 0 {
                let nij = nij as f64;
                mi += nij / n * (n * nij / (ri as f64 * cj as f64)).ln();
            }
        }
    }
    let mi = mi.max(0.0);
    if mi == 0.0 {
        return Ok(0.0);
    }
    let norm = 0.5 * (entropy(&rs, n) + entropy(&cs, n));
    Ok((mi / norm.max(f64::EPSILON)).min(1.0))
}
