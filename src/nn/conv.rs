//! Convolution layers (NCHW): `Conv2d` with weight (out, in, k, k) and
//! `ConvTranspose2d` with weight (in, out, k, k), as in PyTorch.

use super::{Activation, Init};
use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::ops;
use crate::ops::conv::ConvGeometry;
use crate::ops::conv_transpose::ConvTransposeGeometry;
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// A 2-D convolution layer.
#[derive(Clone, Copy, Debug)]
pub struct Conv2d {
    /// Weight (out, in, k, k).
    pub weight: ParamId,
    /// Bias (out), if any.
    pub bias: Option<ParamId>,
    /// Stride and padding.
    pub geometry: ConvGeometry,
}

impl Conv2d {
    /// Creates a square-kernel convolution; fan_in = in·k².
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        inp: usize,
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        init: Init,
        rng: &mut StreamRng,
    ) -> Self {
        let area = kernel * kernel;
        let w = init.tensor(&[out, inp, kernel, kernel], inp * area, out * area, rng);
        let weight = store.add(&format!("{name}.weight"), w);
        let bias = bias.then(|| store.add(&format!("{name}.bias"), Tensor::zeros(&[out])));
        Conv2d {
            weight,
            bias,
            geometry: ConvGeometry { stride, padding },
        }
    }

    /// Applies the layer to x: (N, in, H, W).
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        ops::conv2d(tape, x, w, b, self.geometry)
    }

    /// act(conv(x)): a rectifier is applied inside the convolution's node
    /// ([`ops::conv::conv2d_rectified`]), any other activation as its own node.
    pub fn forward_activated(&self, tape: &mut Tape, x: Var, act: Activation) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        match act.rectifier() {
            Some(r) => ops::conv::conv2d_rectified(tape, x, w, b, self.geometry, Some(r)),
            None => {
                let y = ops::conv2d(tape, x, w, b, self.geometry);
                act.apply(tape, y)
            }
        }
    }
}

/// A transposed 2-D convolution layer.
#[derive(Clone, Copy, Debug)]
pub struct ConvTranspose2d {
    /// Weight (in, out, k, k).
    pub weight: ParamId,
    /// Bias (out), if any.
    pub bias: Option<ParamId>,
    /// Stride, padding, output padding.
    pub geometry: ConvTransposeGeometry,
}

impl ConvTranspose2d {
    /// Creates a square-kernel transposed convolution; fan_in = out·k²
    /// (PyTorch's convention for transposed convolutions).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        inp: usize,
        out: usize,
        kernel: usize,
        geometry: ConvTransposeGeometry,
        bias: bool,
        init: Init,
        rng: &mut StreamRng,
    ) -> Self {
        let area = kernel * kernel;
        let w = init.tensor(&[inp, out, kernel, kernel], out * area, inp * area, rng);
        let weight = store.add(&format!("{name}.weight"), w);
        let bias = bias.then(|| store.add(&format!("{name}.bias"), Tensor::zeros(&[out])));
        ConvTranspose2d {
            weight,
            bias,
            geometry,
        }
    }

    /// Applies the layer to x: (N, in, H, W).
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        let w = tape.param(self.weight);
        let b = self.bias.map(|b| tape.param(b));
        ops::conv_transpose2d(tape, x, w, b, self.geometry)
    }
}
