//! The parameter store: named tensors that persist across steps, their
//! accumulated gradients, and non-trainable buffers (batch-norm running
//! statistics).

use std::collections::BTreeMap;

use super::Gradients;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Index of a parameter (or buffer) in a [`ParamStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParamId(pub usize);

/// One stored tensor: trainable parameters have a gradient, buffers do not.
#[derive(Clone, Debug)]
pub struct Param {
    /// Unique dotted name, e.g. `encoder.0.weight` (the checkpoint key).
    pub name: String,
    /// Current value.
    pub value: Tensor,
    /// Gradient accumulated since the last `zero_grad` (empty for buffers).
    pub grad: Tensor,
    /// False for buffers such as running means, which the optimiser skips.
    pub trainable: bool,
}

/// All parameters and buffers of a model, in creation order.
#[derive(Clone, Debug, Default)]
pub struct ParamStore {
    params: Vec<Param>,
    by_name: BTreeMap<String, ParamId>,
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a trainable parameter; names must be unique.
    pub fn add(&mut self, name: &str, value: Tensor) -> ParamId {
        self.insert(name, value, true)
    }

    /// Adds a non-trainable buffer (no gradient, skipped by optimisers).
    pub fn add_buffer(&mut self, name: &str, value: Tensor) -> ParamId {
        self.insert(name, value, false)
    }

    fn insert(&mut self, name: &str, value: Tensor, trainable: bool) -> ParamId {
        assert!(
            !self.by_name.contains_key(name),
            "duplicate parameter name {name}"
        );
        let id = ParamId(self.params.len());
        let grad = if trainable {
            Tensor::zeros(value.shape())
        } else {
            Tensor::zeros(&[0])
        };
        self.params.push(Param {
            name: name.to_string(),
            value,
            grad,
            trainable,
        });
        self.by_name.insert(name.to_string(), id);
        id
    }

    /// Number of entries (parameters and buffers).
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// True when the store is empty.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Number of trainable scalars.
    pub fn num_trainable(&self) -> usize {
        self.params
            .iter()
            .filter(|p| p.trainable)
            .map(|p| p.value.len())
            .sum()
    }

    /// The entry with this id.
    pub fn get(&self, id: ParamId) -> &Param {
        &self.params[id.0]
    }

    /// The entry with this id, mutable.
    pub fn get_mut(&mut self, id: ParamId) -> &mut Param {
        &mut self.params[id.0]
    }

    /// The value of an entry.
    pub fn value(&self, id: ParamId) -> &Tensor {
        &self.params[id.0].value
    }

    /// Looks an entry up by name.
    pub fn id(&self, name: &str) -> Option<ParamId> {
        self.by_name.get(name).copied()
    }

    /// All entries in creation order.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &Param)> {
        self.params.iter().enumerate().map(|(i, p)| (ParamId(i), p))
    }

    /// All entries in creation order, mutable.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ParamId, &mut Param)> {
        self.params
            .iter_mut()
            .enumerate()
            .map(|(i, p)| (ParamId(i), p))
    }

    /// Sets every gradient to zero.
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.grad.data_mut().fill(0.0);
        }
    }

    /// Adds a step's parameter gradients into the stored ones and applies its
    /// buffer updates (e.g. batch-norm running statistics).
    pub fn accumulate(&mut self, grads: &Gradients) {
        for (id, g) in grads.params() {
            let p = &mut self.params[id.0];
            debug_assert!(p.trainable);
            for (a, b) in p.grad.data_mut().iter_mut().zip(g.data()) {
                *a += *b;
            }
        }
        for (id, v) in grads.buffer_updates() {
            self.params[id.0].value = v.clone();
        }
    }

    /// Makes a step's gradients the stored ones and applies its buffer
    /// updates: the same as `zero_grad` then `accumulate`, but the gradient
    /// buffers move in instead of being added to zeros (two passes over
    /// every parameter fewer per step).
    pub fn set_grads(&mut self, grads: Gradients) {
        let (params, buffers) = grads.into_params_and_buffers();
        let mut received = vec![false; self.params.len()];
        for (id, g) in params {
            let p = &mut self.params[id.0];
            debug_assert!(p.trainable);
            assert_eq!(p.grad.shape(), g.shape(), "gradient shape of {}", p.name);
            p.grad = g;
            received[id.0] = true;
        }
        for (p, got) in self.params.iter_mut().zip(received) {
            if !got {
                p.grad.data_mut().fill(0.0);
            }
        }
        for (id, v) in buffers {
            self.params[id.0].value = v;
        }
    }

    /// Replaces a value after checking that the shape matches.
    pub fn set_value(&mut self, id: ParamId, value: Tensor) -> Result<()> {
        let p = &mut self.params[id.0];
        if p.value.shape() != value.shape() {
            return Err(Error::Other(format!(
                "parameter {}: shape {:?} expected, got {:?}",
                p.name,
                p.value.shape(),
                value.shape()
            )));
        }
        p.value = value;
        Ok(())
    }
}
