//! Transposed convolution (PyTorch `ConvTranspose2d`) as the adjoint of a convolution.
//!
//! With `a = s.adjoint()` (input (N, Cout, OH, OW), output (N, Cin, H, W), weight
//! (Cin, Cout, KH, KW) — the transposed conv's own weight layout):
//! * forward `y = convT(x)` is `a`'s backward-data applied to `x`;
//! * backward-data `dx += conv_a(dy)` is `a`'s forward (accumulating);
//! * backward-weight is `a`'s weight gradient with input `dy` and output gradient `x`.
//!
//! `output_padding < stride` guarantees that `a` maps OH back to exactly H.

use super::conv2d::{
    backward_data_into, channel_sums_accumulate, check_len, forward_into, weight_grad,
};
use super::Conv2dShape;
use super::ConvTranspose2dShape;

/// Validates `s` and returns its adjoint convolution.
fn adjoint(name: &str, s: &ConvTranspose2dShape) -> Conv2dShape {
    if let Err(e) = s.validate() {
        panic!("{name}: invalid shape {s:?}: {e}");
    }
    let a = s.adjoint();
    debug_assert_eq!((a.out_h(), a.out_w()), (s.in_h, s.in_w));
    a
}

/// `y (N, Cout, OH, OW) ← convT(x (N, Cin, H, W), w (Cin, Cout, KH, KW)) + bias (Cout)`.
/// **Overwrites** `y`.
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv_transpose2d_forward(
    s: &ConvTranspose2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    let name = "conv_transpose2d_forward";
    let a = adjoint(name, s);
    backward_data_into(&a, x, w, y, true, bias, name);
}

/// `dx (N, Cin, H, W) += ∂L/∂x` given `dy (N, Cout, OH, OW)`. **Accumulates**.
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv_transpose2d_backward_data(
    s: &ConvTranspose2dShape,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
) {
    let name = "conv_transpose2d_backward_data";
    let a = adjoint(name, s);
    forward_into(&a, dy, w, None, dx, 1.0, name);
}

/// `dw (Cin, Cout, KH, KW) += ∂L/∂w` and, if given, `db (Cout) += Σ dy` over N, OH, OW.
/// **Accumulates**, deterministically (fixed batch chunks, partial sums in order).
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv_transpose2d_backward_weight(
    s: &ConvTranspose2dShape,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
) {
    let name = "conv_transpose2d_backward_weight";
    let a = adjoint(name, s);
    let plane = s.out_h() * s.out_w();
    let w_len = s.in_channels * s.out_channels * s.kernel_h * s.kernel_w;
    check_len(
        name,
        "x",
        x.len(),
        s.batch * s.in_channels * s.in_h * s.in_w,
    );
    check_len(name, "dy", dy.len(), s.batch * s.out_channels * plane);
    check_len(name, "dw", dw.len(), w_len);
    if let Some(db) = db {
        check_len(name, "db", db.len(), s.out_channels);
        channel_sums_accumulate(dy, s.batch, s.out_channels, plane, db);
    }
    weight_grad(&a, dy, x, &mut dw[..w_len]);
}
