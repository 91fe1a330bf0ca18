//! 2-D convolution (cross-correlation, NCHW), via the kernels' im2col + GEMM.
//!
//! x: (N, C, H, W), w: (O, C, KH, KW), b: (O), y: (N, O, OH, OW) with
//! OH = (H + 2·pad − KH)/stride + 1.
//! y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q]·x[n,c,i·s+p−pad,j·s+q−pad].
//! Derivatives: ∂x = conv2d_backward_data(g, w) (a transposed convolution),
//! ∂w = Σ_n g ⋆ x (conv2d_backward_weight), ∂b = Σ_{n,i,j} g.

use sparselabel_kernels::conv::{
    conv2d_backward_data, conv2d_backward_weight, conv2d_forward, Conv2dShape,
};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::ops::rectifier::{rectified_backward, rectified_backward_owned, Rectifier};
use crate::tensor::Tensor;

/// Stride and zero padding of a convolution (same along both axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Step between output positions.
    pub stride: usize,
    /// Zeros added on each border.
    pub padding: usize,
}

/// A convolution node.
pub struct Conv2d {
    x: Var,
    w: Var,
    b: Option<Var>,
    shape: Conv2dShape,
    act: Option<Rectifier>,
}

pub(crate) fn parents3(buf: &mut [Var; 3], x: Var, w: Var, b: Option<Var>) -> &[Var] {
    *buf = [x, w, b.unwrap_or(w)];
    if b.is_some() {
        &buf[..]
    } else {
        &buf[..2]
    }
}

/// Convolves x: (N, C, H, W) with w: (O, C, KH, KW) plus optional bias (O).
pub fn conv2d(tape: &mut Tape, x: Var, w: Var, b: Option<Var>, geo: ConvGeometry) -> Var {
    conv2d_rectified(tape, x, w, b, geo, None)
}

/// [`conv2d`] followed by an optional rectifier on the output, in the same node
/// (see [`Rectifier`]).
pub fn conv2d_rectified(
    tape: &mut Tape,
    x: Var,
    w: Var,
    b: Option<Var>,
    geo: ConvGeometry,
    act: Option<Rectifier>,
) -> Var {
    let (xs, ws) = (tape.shape(x).to_vec(), tape.shape(w).to_vec());
    assert!(
        xs.len() == 4 && ws.len() == 4 && xs[1] == ws[1],
        "conv2d: input {xs:?} vs weight {ws:?}"
    );
    let shape = Conv2dShape {
        batch: xs[0],
        in_channels: xs[1],
        in_h: xs[2],
        in_w: xs[3],
        out_channels: ws[0],
        kernel_h: ws[2],
        kernel_w: ws[3],
        stride_h: geo.stride,
        stride_w: geo.stride,
        pad_h: geo.padding,
        pad_w: geo.padding,
    };
    if let Err(e) = shape.validate() {
        panic!("conv2d: {e}");
    }
    // conv2d_forward overwrites every element.
    let mut out = Tensor::for_overwrite(&[
        shape.batch,
        shape.out_channels,
        shape.out_h(),
        shape.out_w(),
    ]);
    let bias = b.map(|b| tape.value(b).data());
    conv2d_forward(
        &shape,
        tape.value(x).data(),
        tape.value(w).data(),
        bias,
        out.data_mut(),
    );
    if let Some(act) = act {
        act.forward_par(out.data_mut());
    }
    let mut buf = [x, w, w];
    let parents = parents3(&mut buf, x, w, b);
    let rec = Record {
        name: if act.is_some() {
            "conv2d_rect"
        } else {
            "conv2d"
        },
        parents,
        flops: shape.flops_forward(),
    };
    tape.push(rec, out, || {
        Op::Conv2d(Conv2d {
            x,
            w,
            b,
            shape,
            act,
        })
    })
}

impl Backward for Conv2d {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        rectified_backward(self.act, out, g, |g| self.conv_backward(vals, g, grads));
    }

    fn backward_owned(
        &self,
        vals: &Values,
        out: &Tensor,
        g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        rectified_backward_owned(self.act, out, g, |g| self.conv_backward(vals, g, grads))
    }
}

impl Conv2d {
    /// The gradients of the convolution given the gradient `g` at its output.
    fn conv_backward(&self, vals: &Values, g: &Tensor, grads: &mut Grads) {
        let (vx, vw) = (vals.get(self.x), vals.get(self.w));
        if let Some(gx) = grads.acc(self.x, vals) {
            conv2d_backward_data(&self.shape, g.data(), vw.data(), gx);
        }
        let (x, shape) = (vx.data(), &self.shape);
        weight_and_bias_grads(
            grads,
            self.w,
            self.b,
            vw.shape(),
            shape.out_channels,
            |gw, gb| conv2d_backward_weight(shape, x, g.data(), gw, Some(gb)),
        );
    }
}

/// Runs a kernel that computes ∂w and ∂b together into fresh buffers and
/// hands each to `grads` if wanted (shared by conv and transposed conv).
pub(crate) fn weight_and_bias_grads(
    grads: &mut Grads,
    w: Var,
    b: Option<Var>,
    w_shape: &[usize],
    out_channels: usize,
    kernel: impl FnOnce(&mut [f32], &mut [f32]),
) {
    let want_w = grads.wants(w);
    let want_b = b.map(|b| grads.wants(b)).unwrap_or(false);
    if !want_w && !want_b {
        return;
    }
    let mut gw = Tensor::zeros(w_shape);
    let mut gb = Tensor::zeros(&[out_channels]);
    kernel(gw.data_mut(), gb.data_mut());
    if want_w {
        grads.add(w, gw);
    }
    if let (Some(b), true) = (b, want_b) {
        grads.add(b, gb);
    }
}
