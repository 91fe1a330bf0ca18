//! Activations and their derivatives: relu, leaky_relu, elu, sigmoid, tanh, softplus.

// `#[inline(always)] |v| math::f(v)` closures are not redundant: passing `math::f`
// itself goes through an `Fn::call` shim that LLVM may not inline into the AVX2 build
// (measured: softplus 7x slower).
#![allow(clippy::redundant_closure)]

use super::dispatch::{grad, grad_in_place, map, map_in_place, same_len};
use super::math;

/// `y = max(x, 0)` (NaN propagates, as in PyTorch).
pub fn relu_forward(x: &[f32], y: &mut [f32]) {
    same_len("relu_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |x| if x < 0.0 { 0.0 } else { x },
    );
}

/// [`relu_forward`] over `y` itself, on the calling thread: for a layer that
/// applies its activation to its own output.
pub fn relu_forward_in_place(y: &mut [f32]) {
    map_in_place(
        y,
        #[inline(always)]
        |x| if x < 0.0 { 0.0 } else { x },
    );
}

/// The derivative of relu as a function of (x, y).
#[inline(always)]
fn relu_derivative() -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    |x, _| if x > 0.0 { 1.0 } else { 0.0 }
}

/// `dx += dy·[x > 0]` (derivative 0 at x = 0, as in PyTorch).
pub fn relu_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("relu_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(x, y, dy, dx, relu_derivative());
}

/// [`relu_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn relu_backward_in_place(x: &[f32], y: &[f32], g: &mut [f32]) {
    same_len("relu_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, relu_derivative());
}

/// `y = x` for x ≥ 0, `slope·x` below.
pub fn leaky_relu_forward(x: &[f32], slope: f32, y: &mut [f32]) {
    same_len("leaky_relu_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |x| if x < 0.0 { slope * x } else { x },
    );
}

/// [`leaky_relu_forward`] over `y` itself, on the calling thread.
pub fn leaky_relu_forward_in_place(y: &mut [f32], slope: f32) {
    map_in_place(
        y,
        #[inline(always)]
        |x| if x < 0.0 { slope * x } else { x },
    );
}

/// The derivative of leaky_relu as a function of (x, y).
#[inline(always)]
fn leaky_relu_derivative(slope: f32) -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    move |x, _| if x > 0.0 { 1.0 } else { slope }
}

/// `dx += dy·(x > 0 ? 1 : slope)`.
pub fn leaky_relu_backward(x: &[f32], slope: f32, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len(
        "leaky_relu_backward",
        &[x.len(), y.len(), dy.len(), dx.len()],
    );
    grad(x, y, dy, dx, leaky_relu_derivative(slope));
}

/// [`leaky_relu_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn leaky_relu_backward_in_place(x: &[f32], slope: f32, y: &[f32], g: &mut [f32]) {
    same_len("leaky_relu_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, leaky_relu_derivative(slope));
}

/// `y = x` for x > 0, `alpha·(e^x − 1)` otherwise (e^x − 1 via [`math::exp_m1`]).
pub fn elu_forward(x: &[f32], alpha: f32, y: &mut [f32]) {
    same_len("elu_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |x| if x > 0.0 { x } else { alpha * math::exp_m1(x) },
    );
}

/// The derivative of elu as a function of (x, y).
#[inline(always)]
fn elu_derivative(alpha: f32) -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    move |x, _| {
        let e = alpha * math::exp(x);
        if x > 0.0 {
            1.0
        } else {
            e
        }
    }
}

/// `dx += dy·(x > 0 ? 1 : alpha·e^x)`, from x (`y + alpha` would cancel for x ≪ 0).
pub fn elu_backward(x: &[f32], alpha: f32, y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("elu_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(x, y, dy, dx, elu_derivative(alpha));
}

/// [`elu_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn elu_backward_in_place(x: &[f32], alpha: f32, y: &[f32], g: &mut [f32]) {
    same_len("elu_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, elu_derivative(alpha));
}

/// `y = 1/(1 + e^−x)`, stable for any x (see [`math::sigmoid`]).
pub fn sigmoid_forward(x: &[f32], y: &mut [f32]) {
    same_len("sigmoid_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::sigmoid(v),
    );
}

/// The derivative of sigmoid as a function of (x, y).
#[inline(always)]
fn sigmoid_derivative() -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    |x, _| {
        let e = math::exp(-x.abs());
        let d = 1.0 + e;
        e / (d * d)
    }
}

/// `dx += dy·σ(x)(1 − σ(x))`, computed from x as `e/(1 + e)²` with `e = e^−|x|`: the
/// usual `y·(1 − y)` loses all relative accuracy in the tails (1 − y cancels).
pub fn sigmoid_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("sigmoid_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(x, y, dy, dx, sigmoid_derivative());
}

/// [`sigmoid_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn sigmoid_backward_in_place(x: &[f32], y: &[f32], g: &mut [f32]) {
    same_len("sigmoid_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, sigmoid_derivative());
}

/// `y = tanh x` (see [`math::tanh`]).
pub fn tanh_forward(x: &[f32], y: &mut [f32]) {
    same_len("tanh_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::tanh(v),
    );
}

/// The derivative of tanh as a function of (x, y).
#[inline(always)]
fn tanh_derivative() -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    |x, y| {
        let a = x.abs();
        let e = math::exp(-(a + a));
        let d = 1.0 + e;
        let tail = 4.0 * e / (d * d);
        if a < 0.625 {
            1.0 - y * y
        } else {
            tail
        }
    }
}

/// `dx += dy·(1 − tanh² x)`: `1 − y²` from the output for |x| < 0.625, and
/// `4e/(1 + e)²` with `e = e^−2|x|` above, where `1 − y²` would cancel.
pub fn tanh_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("tanh_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(x, y, dy, dx, tanh_derivative());
}

/// [`tanh_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn tanh_backward_in_place(x: &[f32], y: &[f32], g: &mut [f32]) {
    same_len("tanh_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, tanh_derivative());
}

/// `y = ln(1 + e^x) = max(x, 0) + ln(1 + e^−|x|)`: never overflows.
pub fn softplus_forward(x: &[f32], y: &mut [f32]) {
    same_len("softplus_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::softplus(v),
    );
}

/// The derivative of softplus as a function of (x, y).
#[inline(always)]
fn softplus_derivative() -> impl Fn(f32, f32) -> f32 + Copy + Send + Sync {
    #[inline(always)]
    |x, _| math::sigmoid(x)
}

/// `dx += dy·σ(x)`, with σ computed from x (accurate in both tails, unlike 1 − e^−y).
pub fn softplus_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("softplus_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(x, y, dy, dx, softplus_derivative());
}

/// [`softplus_backward`] into a fresh gradient, written over the output gradient:
/// `g ← g·f'(x)` (the first contribution, so nothing needs zeroing first).
pub fn softplus_backward_in_place(x: &[f32], y: &[f32], g: &mut [f32]) {
    same_len("softplus_backward_in_place", &[x.len(), y.len(), g.len()]);
    grad_in_place(x, y, g, softplus_derivative());
}
