//! A rectifier (ReLU, leaky ReLU) applied inside a layer's own node.
//!
//! y = z for z ≥ 0 and slope·z below. Its derivative is read off the output
//! (y > 0 exactly when z > 0, for 0 ≤ slope < 1), so `linear` and `conv2d`
//! apply it to their result in place and need no separate activation node:
//! one pass and one buffer fewer in each direction. Values and gradients equal
//! those of the layer followed by `ops::relu` / `ops::leaky_relu` (tested).

use rayon::prelude::*;
use sparselabel_kernels::elementwise as ew;

use crate::ops::activation::{PAR_CHUNK, PAR_MIN};
use crate::tensor::Tensor;

/// A rectifier applied to a layer's own output (slope 0: ReLU; 0 < slope < 1:
/// leaky ReLU).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rectifier {
    /// Slope below zero, in [0, 1).
    pub slope: f32,
}

impl Rectifier {
    /// y ← rect(y), on the calling thread (the same formulas as `ops::relu` and
    /// `ops::leaky_relu`).
    pub(crate) fn forward(self, y: &mut [f32]) {
        if self.slope == 0.0 {
            ew::relu_forward_in_place(y);
        } else {
            ew::leaky_relu_forward_in_place(y, self.slope);
        }
    }

    /// [`Rectifier::forward`] in parallel chunks for large y.
    pub(crate) fn forward_par(self, y: &mut [f32]) {
        if y.len() >= PAR_MIN {
            y.par_chunks_mut(PAR_CHUNK).for_each(|c| self.forward(c));
        } else {
            self.forward(y);
        }
    }

    /// g ← g·rect'(z) from the output y (parallel for large g).
    pub(crate) fn mask(self, y: &[f32], g: &mut [f32]) {
        if self.slope == 0.0 {
            ew::relu_backward_in_place(y, y, g);
        } else {
            ew::leaky_relu_backward_in_place(y, self.slope, y, g);
        }
    }
}

/// A rectified layer's backward: `inner` (the layer's own backward) gets
/// g·rect'(z), in a copy of g; without a rectifier it gets g itself.
pub(crate) fn rectified_backward(
    act: Option<Rectifier>,
    out: &Tensor,
    g: &Tensor,
    inner: impl FnOnce(&Tensor),
) {
    match act {
        None => inner(g),
        Some(act) => {
            let mut gz = g.clone();
            act.mask(out.data(), gz.data_mut());
            inner(&gz);
        }
    }
}

/// [`rectified_backward`] with g handed over: rect'(z) is applied over g's own
/// buffer. Without a rectifier g is returned untouched, for the plain backward.
pub(crate) fn rectified_backward_owned(
    act: Option<Rectifier>,
    out: &Tensor,
    mut g: Tensor,
    inner: impl FnOnce(&Tensor),
) -> Option<Tensor> {
    let Some(act) = act else {
        return Some(g);
    };
    act.mask(out.data(), g.data_mut());
    inner(&g);
    None
}
