//! The in-memory dataset every loader produces, and the three splits.

use std::path::PathBuf;

/// Label of an example without ground truth (e.g. the `unlabelled/` folder of
/// an image dataset). Metrics ignore such examples.
pub const UNKNOWN_LABEL: u32 = u32::MAX;

/// A fine → coarse class map, for image folders whose class folders nest
/// sub-class folders.
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseLabels {
    /// `fine_to_coarse[fine]` is the coarse class of fine class `fine`.
    pub fine_to_coarse: Vec<u32>,
    /// Names of the coarse classes.
    pub names: Vec<String>,
}

/// A table of `n` examples of `dim` features, with optional labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// A short human-readable name (dataset and split).
    pub name: String,
    /// Features, `n × dim`, row-major; images are scaled to [0, 1].
    pub x: Vec<f32>,
    /// Number of examples.
    pub n: usize,
    /// Number of features per example.
    pub dim: usize,
    /// `(channels, height, width)` when the examples are images.
    pub image_shape: Option<[usize; 3]>,
    /// Ground-truth labels in `0..num_classes`, or [`UNKNOWN_LABEL`].
    pub labels: Option<Vec<u32>>,
    /// Number of (fine) classes.
    pub num_classes: usize,
    /// One name per class.
    pub class_names: Vec<String>,
    /// The coarse classes, when the labels are fine sub-classes.
    pub coarse: Option<CoarseLabels>,
}

impl Dataset {
    /// The features of example `i` (panics if `i >= n`, a programming error).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// A new dataset holding the examples at `indices`, in that order
    /// (panics on an index `>= n`, a programming error).
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let mut x = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            x.extend_from_slice(self.row(i));
        }
        Dataset {
            name: self.name.clone(),
            x,
            n: indices.len(),
            dim: self.dim,
            image_shape: self.image_shape,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            num_classes: self.num_classes,
            class_names: self.class_names.clone(),
            coarse: self.coarse.clone(),
        }
    }

    /// Number of examples of each class (examples with [`UNKNOWN_LABEL`] are
    /// counted by [`Dataset::unknown_count`]); all zeros without labels.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.num_classes];
        if let Some(labels) = &self.labels {
            for &l in labels {
                if let Some(c) = counts.get_mut(l as usize) {
                    *c += 1;
                }
            }
        }
        counts
    }

    /// Number of examples without a ground-truth label.
    pub fn unknown_count(&self) -> usize {
        match &self.labels {
            Some(labels) => labels.iter().filter(|&&l| l == UNKNOWN_LABEL).count(),
            None => self.n,
        }
    }
}

/// A file a dataset was read from, for the run manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SourceFile {
    /// The path as given or found.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes (for a folder: of its sorted listing of
    /// relative paths and file digests), lowercase hex.
    pub sha256: String,
}

/// Train, validation and test splits of one dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    /// Examples to learn from (the labelled subset is drawn from these).
    pub train: Dataset,
    /// Examples for model selection; never the test set.
    pub validation: Dataset,
    /// Examples only ever evaluated.
    pub test: Dataset,
    /// The files read, with digests.
    pub sources: Vec<SourceFile>,
}
