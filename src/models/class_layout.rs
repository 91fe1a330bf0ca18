//! Model classes versus dataset classes for the semi-unsupervised models
//! (SSVAE, GM-DGM), and their split prior p(y).
//!
//! The L labelled dataset classes map to model classes 0..L−1 in increasing
//! dataset-class order; `extra` further model classes L..K−1 (K = L + extra)
//! stand for whatever the unlabelled data holds besides (Willetts et al.'s
//! "extra classes"; the never-labelled dataset classes are among them).
//!
//! Split prior: half the mass on the labelled classes, split by their
//! labelled frequency, and half uniformly on the extra ones; all of it on the
//! labelled classes when there are no extra ones, and uniform over the extra
//! ones when nothing is labelled. (Willetts et al. give each labelled class
//! its share of the full class set and spread the rest over the hidden and
//! added classes; with half the classes hidden that is the same half/half
//! split.)

use super::{Batch, EpochContext};
use crate::autograd::{ParamId, ParamStore};
use crate::train::TrainConfig;
use crate::{data, Error, Result};

/// Which dataset class each model class stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassLayout {
    /// The labelled dataset classes, increasing: model class i is `labelled[i]`.
    pub labelled: Vec<u32>,
    /// Model classes with no dataset class (after the labelled ones).
    pub extra: usize,
}

impl ClassLayout {
    /// A layout; K = `labelled.len() + extra` must be at least 1.
    pub fn new(mut labelled: Vec<u32>, extra: usize) -> Result<Self> {
        labelled.sort_unstable();
        labelled.dedup();
        if labelled.is_empty() && extra == 0 {
            return Err(Error::Usage(
                "no labelled classes and --extra-classes 0: the model would have no class \
                 (give --extra-classes N for unsupervised runs)"
                    .into(),
            ));
        }
        Ok(ClassLayout { labelled, extra })
    }

    /// The layout a training configuration implies for a dataset with
    /// `dataset_classes` classes: no labels (`--labels 0`, no label flags, or
    /// a zero fraction) → no labelled classes; `--label-fraction` with
    /// `--labelled-classes` → those; otherwise the `--classes` filter if given,
    /// else every dataset class.
    pub fn from_config(config: &TrainConfig, dataset_classes: usize) -> Result<Self> {
        let labelled = if Self::unlabelled_config(config) {
            Vec::new()
        } else if let (Some(_), Some(set)) = (config.label_fraction, &config.labelled_classes) {
            data::parse_class_set(set)?
        } else if let Some(set) = &config.classes {
            data::parse_class_set(set)?
        } else {
            (0..dataset_classes as u32).collect()
        };
        if let Some(c) = labelled.iter().find(|&&c| c as usize >= dataset_classes) {
            return Err(Error::Usage(format!(
                "class {c} does not exist (classes are 0..{})",
                dataset_classes.saturating_sub(1)
            )));
        }
        Self::new(labelled, config.extra_classes)
    }

    /// Whether a configuration labels nothing (`--labels 0`, no label flags,
    /// or a zero fraction).
    pub fn unlabelled_config(config: &TrainConfig) -> bool {
        match (config.labels_per_class, config.label_fraction) {
            (_, Some(f)) => f <= 0.0,
            (Some(n), None) => n == 0,
            (None, None) => true,
        }
    }

    /// Checks what [`ClassLayout::from_config`] needs without the dataset:
    /// an unsupervised run needs `--extra-classes` (its K).
    pub fn check_config(config: &TrainConfig) -> Result<()> {
        if Self::unlabelled_config(config) && config.extra_classes == 0 {
            return Self::new(Vec::new(), 0).map(|_| ());
        }
        Ok(())
    }

    /// Number of model classes K.
    pub fn classes(&self) -> usize {
        self.labelled.len() + self.extra
    }

    /// The model class of a labelled dataset class.
    pub fn model_class(&self, dataset_class: usize) -> Option<usize> {
        self.labelled
            .iter()
            .position(|&c| c as usize == dataset_class)
    }

    /// For each model class, the dataset class it stands for (`None`: extra).
    pub fn dataset_classes(&self) -> Vec<Option<u32>> {
        let mut out: Vec<Option<u32>> = self.labelled.iter().map(|&c| Some(c)).collect();
        out.extend(std::iter::repeat_n(None, self.extra));
        out
    }

    /// Dataset labels of labelled examples as model classes.
    ///
    /// Panics on a class outside the layout: the label regime only labels the
    /// layout's classes (the layout is derived from the same configuration).
    pub fn map_labels(&self, labels: &[usize]) -> Vec<usize> {
        labels
            .iter()
            .map(|&l| {
                self.model_class(l).unwrap_or_else(|| {
                    panic!("labelled example of class {l}, not a labelled class")
                })
            })
            .collect()
    }

    /// The split prior p(y) over the K model classes from the number of
    /// labelled examples of each dataset class (`counts[c]`, indexed by
    /// dataset class; a labelled class with none counts as one so that no
    /// class gets zero mass).
    pub fn split_prior(&self, counts: &[usize]) -> Vec<f64> {
        let l = self.labelled.len();
        let labelled_mass = match (l, self.extra) {
            (0, _) => 0.0,
            (_, 0) => 1.0,
            _ => 0.5,
        };
        let n: Vec<f64> = self
            .labelled
            .iter()
            .map(|&c| counts.get(c as usize).copied().unwrap_or(0).max(1) as f64)
            .collect();
        let total: f64 = n.iter().sum();
        let mut p: Vec<f64> = n.iter().map(|v| labelled_mass * v / total).collect();
        let extra_each = (1.0 - labelled_mass) / self.extra.max(1) as f64;
        p.extend(std::iter::repeat_n(extra_each, self.extra));
        p
    }

    /// −log p(y) of [`ClassLayout::split_prior`] as a (K, 1) table.
    pub fn neg_log_prior(&self, counts: &[usize]) -> crate::tensor::Tensor {
        let v: Vec<f32> = self
            .split_prior(counts)
            .iter()
            .map(|p| (-p.ln()) as f32)
            .collect();
        crate::tensor::Tensor::new(&[self.classes(), 1], v)
    }

    /// Labelled examples per dataset class among `labelled` indices of a
    /// split with `labels` (for [`ClassLayout::split_prior`]).
    pub fn count_labelled(
        labels: &[u32],
        labelled: &[usize],
        dataset_classes: usize,
    ) -> Vec<usize> {
        let mut counts = vec![0; dataset_classes];
        for &i in labelled {
            if let Some(c) = counts.get_mut(labels[i] as usize) {
                *c += 1;
            }
        }
        counts
    }

    /// The dataset class of each model class as a buffer value (−1: extra),
    /// kept in the parameter store so checkpoints carry the mapping.
    pub fn as_tensor(&self) -> crate::tensor::Tensor {
        let v = self
            .dataset_classes()
            .iter()
            .map(|c| c.map_or(-1.0, |c| c as f32))
            .collect();
        crate::tensor::Tensor::new(&[self.classes()], v)
    }
}

/// A model's class layout with its prior and mapping kept as buffers in the
/// parameter store (so checkpoints carry them).
#[derive(Clone, Debug)]
pub struct LayoutBuffers {
    /// The layout.
    pub layout: ClassLayout,
    /// −log p(y), (K, 1).
    pub neg_log_prior: ParamId,
    /// Dataset class of each model class (−1: extra), (K).
    pub dataset_class: ParamId,
}

impl LayoutBuffers {
    /// Adds the buffers under `prefix`; the prior starts with equal labelled
    /// frequencies until [`LayoutBuffers::refresh`] sees the labelled set.
    pub fn new(store: &mut ParamStore, prefix: &str, layout: ClassLayout) -> Self {
        let even = vec![
            1;
            layout
                .labelled
                .iter()
                .map(|&c| c as usize + 1)
                .max()
                .unwrap_or(0)
        ];
        let neg_log_prior = store.add_buffer(
            &format!("{prefix}.neg_log_prior"),
            layout.neg_log_prior(&even),
        );
        let dataset_class =
            store.add_buffer(&format!("{prefix}.dataset_class"), layout.as_tensor());
        LayoutBuffers {
            layout,
            neg_log_prior,
            dataset_class,
        }
    }

    /// Sets the split prior from the labelled examples' frequencies
    /// (idempotent: called before every epoch).
    pub fn refresh(&self, store: &mut ParamStore, ctx: &EpochContext<'_>) {
        if let Some(labels) = &ctx.train.labels {
            let counts = ClassLayout::count_labelled(labels, ctx.labelled, ctx.train.num_classes);
            store.get_mut(self.neg_log_prior).value = self.layout.neg_log_prior(&counts);
        }
    }

    /// The batch with its labels as model classes (the tensors are shared
    /// by cloning; a copy of a batch is small next to a step).
    pub fn model_batch(&self, batch: &Batch) -> Batch {
        Batch {
            labels: self.layout.map_labels(&batch.labels),
            ..batch.clone()
        }
    }
}
