//! The tape: an arena of nodes for one step.

use std::time::Instant;

use super::op::Op;
use super::params::{ParamId, ParamStore};
use super::trace::{OpTrace, Trace};
use crate::tensor::Tensor;

/// Handle to a node of a [`Tape`]: an index, cheap to copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Var(pub(crate) u32);

impl Var {
    /// The node's index in its tape.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What an op tells the tape about the node it pushes.
pub struct Record<'a> {
    /// The op's name, for traces and error messages.
    pub name: &'static str,
    /// The inputs the output depends on (differentiable or not).
    pub parents: &'a [Var],
    /// Floating-point operations of the forward pass (an estimate).
    pub flops: u64,
}

pub(crate) struct Node {
    pub(crate) op: Op,
    pub(crate) value: Tensor,
    pub(crate) requires_grad: bool,
    pub(crate) name: &'static str,
}

/// One step's computation graph; see the module documentation.
pub struct Tape<'p> {
    store: &'p ParamStore,
    pub(crate) nodes: Vec<Node>,
    param_vars: Vec<Option<Var>>,
    grad_enabled: bool,
    training: bool,
    trace: Option<Trace>,
    last_push: Option<Instant>,
    guard: bool,
    first_non_finite: Option<String>,
    pub(crate) buffer_updates: Vec<(ParamId, Tensor)>,
}

impl<'p> Tape<'p> {
    /// A tape that records gradients, in training mode (batch-norm uses batch
    /// statistics, dropout drops).
    pub fn new(store: &'p ParamStore) -> Self {
        Tape {
            store,
            nodes: Vec::with_capacity(256),
            param_vars: vec![None; store.len()],
            grad_enabled: true,
            training: true,
            trace: None,
            last_push: None,
            guard: false,
            first_non_finite: None,
            buffer_updates: Vec::new(),
        }
    }

    /// A tape for evaluation: records no gradient information, and layers run
    /// in inference mode (running statistics, no dropout).
    pub fn no_grad(store: &'p ParamStore) -> Self {
        let mut t = Self::new(store);
        t.grad_enabled = false;
        t.training = false;
        t
    }

    /// Switches training mode (batch-norm statistics, dropout) on or off.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// True in training mode.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// True when ops record what backward needs.
    pub fn grad_enabled(&self) -> bool {
        self.grad_enabled
    }

    /// Starts recording a per-op trace (name, shapes, FLOPs, time, statistics).
    pub fn enable_trace(&mut self) {
        self.trace = Some(Trace::default());
        self.last_push = Some(Instant::now());
    }

    /// The trace recorded so far, if tracing is on.
    pub fn trace(&self) -> Option<&Trace> {
        self.trace.as_ref()
    }

    pub(crate) fn trace_mut(&mut self) -> Option<&mut Trace> {
        self.trace.as_mut()
    }

    /// Takes the trace out of the tape.
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.trace.take()
    }

    /// Turns on the finiteness guard: the first op whose output holds NaN or
    /// Inf is remembered and reported by [`Tape::check_finite`] and `backward`.
    pub fn enable_finite_guard(&mut self) {
        self.guard = true;
    }

    /// Errors naming the first op whose output was not finite (guard on).
    pub fn check_finite(&self) -> crate::Result<()> {
        match &self.first_non_finite {
            Some(msg) => Err(crate::Error::Numerical(msg.clone())),
            None => Ok(()),
        }
    }

    /// The parameter store this tape reads.
    pub fn store(&self) -> &'p ParamStore {
        self.store
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A constant input: no gradient flows to it.
    pub fn constant(&mut self, value: Tensor) -> Var {
        self.push_leaf(value, false, "constant")
    }

    /// An input whose gradient [`Tape::backward`] reports (for gradient checks
    /// and for gradients with respect to data).
    pub fn input(&mut self, value: Tensor) -> Var {
        let req = self.grad_enabled;
        self.push_leaf(value, req, "input")
    }

    /// The leaf for a stored parameter (created once per tape, not copied).
    pub fn param(&mut self, id: ParamId) -> Var {
        if let Some(v) = self.param_vars[id.0] {
            return v;
        }
        let p = self.store.get(id);
        let req = self.grad_enabled && p.trainable;
        let v = Var(self.nodes.len() as u32);
        self.nodes.push(Node {
            op: Op::Param(id),
            value: Tensor::zeros(&[0]),
            requires_grad: req,
            name: "param",
        });
        self.param_vars[id.0] = Some(v);
        v
    }

    fn push_leaf(&mut self, value: Tensor, requires_grad: bool, name: &'static str) -> Var {
        let v = Var(self.nodes.len() as u32);
        self.nodes.push(Node {
            op: Op::Leaf,
            value,
            requires_grad,
            name,
        });
        if self.trace.is_some() {
            self.last_push = Some(Instant::now());
        }
        v
    }

    /// The value of a node.
    pub fn value(&self, v: Var) -> &Tensor {
        let n = &self.nodes[v.index()];
        match n.op {
            Op::Param(id) => self.store.value(id),
            _ => &n.value,
        }
    }

    /// The shape of a node's value.
    pub fn shape(&self, v: Var) -> &[usize] {
        self.value(v).shape()
    }

    /// True when gradients flow to this node.
    pub fn requires_grad(&self, v: Var) -> bool {
        self.nodes[v.index()].requires_grad
    }

    /// Pushes an op's output. `make_op` is only called when some parent needs
    /// a gradient, so ops save nothing for backward under `no_grad`.
    pub fn push(&mut self, rec: Record<'_>, value: Tensor, make_op: impl FnOnce() -> Op) -> Var {
        let requires_grad = self.grad_enabled
            && rec
                .parents
                .iter()
                .any(|p| self.nodes[p.index()].requires_grad);
        if self.guard && self.first_non_finite.is_none() && !value.all_finite() {
            let bad = value.data().iter().filter(|x| !x.is_finite()).count();
            self.first_non_finite = Some(format!(
                "op #{} '{}' produced {} non-finite value(s) in an output of shape {:?}",
                self.nodes.len(),
                rec.name,
                bad,
                value.shape()
            ));
        }
        if self.trace.is_some() {
            let now = Instant::now();
            let elapsed = self.last_push.map(|t| now - t).unwrap_or_default();
            let inputs = rec
                .parents
                .iter()
                .map(|p| self.shape(*p).to_vec())
                .collect();
            let rec_trace = OpTrace::forward(
                self.nodes.len(),
                rec.name,
                inputs,
                &value,
                rec.flops,
                elapsed,
            );
            if let Some(trace) = self.trace.as_mut() {
                trace.ops.push(rec_trace);
            }
            self.last_push = Some(Instant::now());
        }
        let op = if requires_grad { make_op() } else { Op::Leaf };
        let v = Var(self.nodes.len() as u32);
        self.nodes.push(Node {
            op,
            value,
            requires_grad,
            name: rec.name,
        });
        v
    }

    /// Records a new value for a buffer (e.g. a running mean), applied to the
    /// store by [`ParamStore::accumulate`] after the step.
    pub fn update_buffer(&mut self, id: ParamId, value: Tensor) {
        self.buffer_updates.push((id, value));
    }
}
