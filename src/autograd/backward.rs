//! The backward pass: reverse-index traversal, gradient slots, results.

use std::time::Instant;

use super::op::Op;
use super::params::{ParamId, ParamStore};
use super::tape::{Node, Tape, Var};
use super::trace::OpTrace;
use crate::tensor::Tensor;
use crate::{Error, Result};

/// Read access to the forward values of a tape during backward.
pub struct Values<'a> {
    nodes: &'a [Node],
    store: &'a ParamStore,
}

impl<'a> Values<'a> {
    /// The forward value of `v`.
    pub fn get(&self, v: Var) -> &'a Tensor {
        let n = &self.nodes[v.index()];
        match n.op {
            Op::Param(id) => self.store.value(id),
            _ => &n.value,
        }
    }
}

/// Gradient slots, one per node, allocated on first use.
pub struct Grads {
    slots: Vec<Option<Tensor>>,
    requires: Vec<bool>,
}

impl Grads {
    /// True when `v` takes a gradient.
    pub fn wants(&self, v: Var) -> bool {
        self.requires[v.index()]
    }

    /// True when `v` takes a gradient and none has been added yet: the first
    /// contribution may then be moved in with [`Grads::add`] instead of
    /// accumulated into zeros.
    pub fn is_fresh(&self, v: Var) -> bool {
        self.requires[v.index()] && self.slots[v.index()].is_none()
    }

    /// The gradient buffer of `v` to accumulate into (zeros on first use), or
    /// `None` when no gradient flows to `v`.
    pub fn acc(&mut self, v: Var, vals: &Values) -> Option<&mut [f32]> {
        if !self.requires[v.index()] {
            return None;
        }
        let slot = &mut self.slots[v.index()];
        if slot.is_none() {
            *slot = Some(Tensor::zeros(vals.get(v).shape()));
        }
        slot.as_mut().map(|t| t.data_mut())
    }

    /// Adds a whole gradient tensor for `v` (moved in without a copy when the
    /// slot is still empty). The shape must equal `v`'s.
    pub fn add(&mut self, v: Var, g: Tensor) {
        if !self.requires[v.index()] {
            return;
        }
        let slot = &mut self.slots[v.index()];
        match slot {
            None => *slot = Some(g),
            Some(t) => {
                debug_assert_eq!(t.shape(), g.shape());
                sparselabel_kernels::elementwise::add_assign(t.data_mut(), g.data());
            }
        }
    }
}

/// Tensors keyed by parameter (gradients or new buffer values).
pub type ParamTensors = Vec<(ParamId, Tensor)>;

/// What a backward pass produced: parameter gradients, gradients of
/// `Tape::input` leaves, and buffer updates recorded during the forward pass.
#[derive(Debug, Default)]
pub struct Gradients {
    params: Vec<(ParamId, Tensor)>,
    inputs: Vec<(Var, Tensor)>,
    buffers: Vec<(ParamId, Tensor)>,
}

impl Gradients {
    /// Takes the parameter gradients and the buffer updates out, by value.
    pub fn into_params_and_buffers(self) -> (ParamTensors, ParamTensors) {
        (self.params, self.buffers)
    }

    /// Gradients of the parameters that received one, in parameter order.
    pub fn params(&self) -> impl Iterator<Item = (ParamId, &Tensor)> {
        self.params.iter().map(|(i, t)| (*i, t))
    }

    /// The gradient of one parameter, if it received one.
    pub fn param(&self, id: ParamId) -> Option<&Tensor> {
        self.params.iter().find(|(i, _)| *i == id).map(|(_, t)| t)
    }

    /// The gradient of an input leaf, if it received one.
    pub fn input(&self, v: Var) -> Option<&Tensor> {
        self.inputs.iter().find(|(i, _)| *i == v).map(|(_, t)| t)
    }

    /// Buffer values recorded by the forward pass (e.g. running statistics).
    pub fn buffer_updates(&self) -> impl Iterator<Item = (ParamId, &Tensor)> {
        self.buffers.iter().map(|(i, t)| (*i, t))
    }
}

impl<'p> Tape<'p> {
    /// Backpropagates from a scalar `loss` (seed 1).
    pub fn backward(&mut self, loss: Var) -> Result<Gradients> {
        let n = self.value(loss).len();
        if n != 1 {
            return Err(Error::Other(format!(
                "backward needs a scalar loss, got shape {:?}",
                self.shape(loss)
            )));
        }
        let seed = Tensor::full(self.shape(loss), 1.0);
        self.backward_with(loss, seed)
    }

    /// Backpropagates from `out` with the given output gradient (same shape).
    pub fn backward_with(&mut self, out: Var, seed: Tensor) -> Result<Gradients> {
        self.check_finite()?;
        if seed.shape() != self.shape(out) {
            return Err(Error::Other(format!(
                "backward seed shape {:?} differs from output shape {:?}",
                seed.shape(),
                self.shape(out)
            )));
        }
        let count = out.index() + 1;
        let mut grads = Grads {
            slots: (0..count).map(|_| None).collect(),
            requires: self.nodes[..count]
                .iter()
                .map(|n| n.requires_grad)
                .collect(),
        };
        grads.add(out, seed);
        let mut result = Gradients {
            buffers: std::mem::take(&mut self.buffer_updates),
            ..Default::default()
        };
        let tracing = self.trace().is_some();
        let mut backward_traces = Vec::new();
        let vals = Values {
            nodes: &self.nodes,
            store: self.store(),
        };
        for i in (0..count).rev() {
            let Some(g) = grads.slots[i].take() else {
                continue;
            };
            let node = &self.nodes[i];
            match &node.op {
                Op::Param(id) => result.params.push((*id, g)),
                Op::Leaf => {
                    if node.requires_grad {
                        result.inputs.push((Var(i as u32), g));
                    }
                }
                op => {
                    // The record's statistics describe g before an op may reuse it.
                    let record = tracing.then(|| OpTrace::backward(i, node.name, &g));
                    let t0 = tracing.then(Instant::now);
                    if let Some(g) = op.backward_owned(&vals, &node.value, g, &mut grads) {
                        op.backward(&vals, &node.value, &g, &mut grads);
                    }
                    if let (Some(mut record), Some(t0)) = (record, t0) {
                        record.micros = t0.elapsed().as_secs_f64() * 1e6;
                        backward_traces.push(record);
                    }
                }
            }
        }
        result.params.sort_by_key(|(id, _)| *id);
        result.inputs.sort_by_key(|(v, _)| *v);
        if let Some(tr) = self.trace_mut() {
            tr.backward_ops.extend(backward_traces);
        }
        Ok(result)
    }
}
