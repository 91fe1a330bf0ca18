//! Dropping near-constant features (Willetts: training std ≤ 0.1), keeping
//! the mask to expand reconstructions back to full pictures.

use super::Dataset;

/// Which features of a `full_dim`-wide table are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureMask {
    /// Indices of the kept features, increasing.
    pub keep: Vec<usize>,
    /// Width of the unmasked table.
    pub full_dim: usize,
}

impl FeatureMask {
    /// Keeps the features whose population standard deviation over the `n`
    /// rows of `x` (`n × dim`) is strictly greater than `threshold`.
    pub fn from_std(x: &[f32], n: usize, dim: usize, threshold: f32) -> FeatureMask {
        let mut sum = vec![0f64; dim];
        let mut sq = vec![0f64; dim];
        for row in x.chunks_exact(dim.max(1)).take(n) {
            for ((s, q), &v) in sum.iter_mut().zip(sq.iter_mut()).zip(row) {
                *s += v as f64;
                *q += (v as f64) * (v as f64);
            }
        }
        let nf = n.max(1) as f64;
        let keep = (0..dim)
            .filter(|&j| {
                let mean = sum[j] / nf;
                let var = (sq[j] / nf - mean * mean).max(0.0);
                var.sqrt() > threshold as f64
            })
            .collect();
        FeatureMask {
            keep,
            full_dim: dim,
        }
    }

    /// The mask of a training set (see [`FeatureMask::from_std`]).
    pub fn from_dataset(train: &Dataset, threshold: f32) -> FeatureMask {
        Self::from_std(&train.x, train.n, train.dim, threshold)
    }

    /// Number of kept features.
    pub fn kept(&self) -> usize {
        self.keep.len()
    }

    /// The kept columns of the rows of `x` (`rows × full_dim`).
    pub fn apply(&self, x: &[f32]) -> Vec<f32> {
        let mut out = Vec::with_capacity(x.len() / self.full_dim.max(1) * self.keep.len());
        for row in x.chunks_exact(self.full_dim.max(1)) {
            out.extend(self.keep.iter().map(|&j| row[j]));
        }
        out
    }

    /// A copy of `ds` with only the kept features (no longer an image).
    pub fn apply_dataset(&self, ds: &Dataset) -> Dataset {
        Dataset {
            x: self.apply(&ds.x),
            dim: self.keep.len(),
            image_shape: None,
            ..ds.clone()
        }
    }

    /// Rows of kept features (`rows × kept`) expanded back to `full_dim`,
    /// with `fill` in the dropped positions (for pictures).
    pub fn expand(&self, x: &[f32], fill: f32) -> Vec<f32> {
        let k = self.keep.len().max(1);
        let rows = x.len() / k;
        let mut out = vec![fill; rows * self.full_dim];
        for (r, row) in x.chunks_exact(k).enumerate() {
            let dst = &mut out[r * self.full_dim..(r + 1) * self.full_dim];
            for (&j, &v) in self.keep.iter().zip(row) {
                dst[j] = v;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_constant_columns_and_expands_back() {
        // Column 0 constant, column 1 std 0.5, column 2 std 0.05.
        let x = vec![1.0, 0.0, 0.45, 1.0, 1.0, 0.55];
        let m = FeatureMask::from_std(&x, 2, 3, 0.1);
        assert_eq!(m.keep, vec![1]);
        let a = m.apply(&x);
        assert_eq!(a, vec![0.0, 1.0]);
        assert_eq!(m.expand(&a, -1.0), vec![-1.0, 0.0, -1.0, -1.0, 1.0, -1.0]);
    }
}
