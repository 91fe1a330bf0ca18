//! Transposed 2-D convolution (PyTorch's ConvTranspose2d, NCHW): the adjoint
//! of `conv2d` with respect to its input, used by decoders to upsample.
//!
//! x: (N, C, H, W), w: (C, O, KH, KW), b: (O), y: (N, O, OH, OW) with
//! OH = (H − 1)·stride − 2·pad + KH + output_padding.
//! Derivatives: ∂x = conv2d(g, w) (the forward convolution), ∂w the
//! correlation of x with g summed over the batch, ∂b = Σ_{n,i,j} g.

use sparselabel_kernels::conv::{
    conv_transpose2d_backward_data, conv_transpose2d_backward_weight, conv_transpose2d_forward,
    ConvTranspose2dShape,
};

use super::conv::{parents3, weight_and_bias_grads};
use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// Stride, padding and output padding of a transposed convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvTransposeGeometry {
    /// Upsampling step.
    pub stride: usize,
    /// Rows/columns cropped from each border of the full output.
    pub padding: usize,
    /// Extra rows/columns added at the bottom/right (< stride).
    pub output_padding: usize,
}

/// A transposed-convolution node.
pub struct ConvTranspose2d {
    x: Var,
    w: Var,
    b: Option<Var>,
    shape: ConvTranspose2dShape,
}

/// Transposed convolution of x: (N, C, H, W) with w: (C, O, KH, KW).
pub fn conv_transpose2d(
    tape: &mut Tape,
    x: Var,
    w: Var,
    b: Option<Var>,
    geo: ConvTransposeGeometry,
) -> Var {
    let (xs, ws) = (tape.shape(x).to_vec(), tape.shape(w).to_vec());
    assert!(
        xs.len() == 4 && ws.len() == 4 && xs[1] == ws[0],
        "conv_transpose2d: input {xs:?} vs weight {ws:?}"
    );
    let shape = ConvTranspose2dShape {
        batch: xs[0],
        in_channels: xs[1],
        in_h: xs[2],
        in_w: xs[3],
        out_channels: ws[1],
        kernel_h: ws[2],
        kernel_w: ws[3],
        stride_h: geo.stride,
        stride_w: geo.stride,
        pad_h: geo.padding,
        pad_w: geo.padding,
        output_pad_h: geo.output_padding,
        output_pad_w: geo.output_padding,
    };
    if let Err(e) = shape.validate() {
        panic!("conv_transpose2d: {e}");
    }
    let mut out = Tensor::zeros(&[
        shape.batch,
        shape.out_channels,
        shape.out_h(),
        shape.out_w(),
    ]);
    let bias = b.map(|b| tape.value(b).data());
    conv_transpose2d_forward(
        &shape,
        tape.value(x).data(),
        tape.value(w).data(),
        bias,
        out.data_mut(),
    );
    let mut buf = [x, w, w];
    let parents = parents3(&mut buf, x, w, b);
    let rec = Record {
        name: "conv_transpose2d",
        parents,
        flops: shape.flops_forward(),
    };
    tape.push(rec, out, || {
        Op::ConvTranspose2d(ConvTranspose2d { x, w, b, shape })
    })
}

impl Backward for ConvTranspose2d {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (vx, vw) = (vals.get(self.x), vals.get(self.w));
        if let Some(gx) = grads.acc(self.x, vals) {
            conv_transpose2d_backward_data(&self.shape, g.data(), vw.data(), gx);
        }
        let (x, shape) = (vx.data(), &self.shape);
        weight_and_bias_grads(
            grads,
            self.w,
            self.b,
            vw.shape(),
            shape.out_channels,
            |gw, gb| conv_transpose2d_backward_weight(shape, x, g.data(), gw, Some(gb)),
        );
    }
}
