//! Pointwise functions and their derivatives: exp, log, log1p, sqrt, square.

// `#[inline(always)] |v| math::f(v)` closures are not redundant: passing `math::f`
// itself goes through an `Fn::call` shim that LLVM may not inline into the AVX2 build
// (measured: softplus 7x slower).
#![allow(clippy::redundant_closure)]

use super::dispatch::{grad, map, same_len};
use super::math;

/// `y = e^x` (see [`math::exp`]).
pub fn exp_forward(x: &[f32], y: &mut [f32]) {
    same_len("exp_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::exp(v),
    );
}

/// `dx += dy·e^x`, using the forward output `y = e^x`.
pub fn exp_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("exp_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(
        x,
        y,
        dy,
        dx,
        #[inline(always)]
        |_, y| y,
    );
}

/// `y = ln x` (see [`math::ln`]; ln 0 = −∞, ln of a negative = NaN).
pub fn log_forward(x: &[f32], y: &mut [f32]) {
    same_len("log_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::ln(v),
    );
}

/// `dx += dy / x`.
pub fn log_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("log_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(
        x,
        y,
        dy,
        dx,
        #[inline(always)]
        |x, _| 1.0 / x,
    );
}

/// `y = ln(1 + x)`, accurate for tiny x (see [`math::ln_1p`]).
pub fn log1p_forward(x: &[f32], y: &mut [f32]) {
    same_len("log1p_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| math::ln_1p(v),
    );
}

/// `dx += dy / (1 + x)`.
pub fn log1p_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("log1p_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(
        x,
        y,
        dy,
        dx,
        #[inline(always)]
        |x, _| 1.0 / (1.0 + x),
    );
}

/// `y = √x` (IEEE, correctly rounded).
pub fn sqrt_forward(x: &[f32], y: &mut [f32]) {
    same_len("sqrt_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |v| f32::sqrt(v),
    );
}

/// `dx += dy / (2√x)`, using the forward output `y = √x`.
pub fn sqrt_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("sqrt_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(
        x,
        y,
        dy,
        dx,
        #[inline(always)]
        |_, y| 0.5 / y,
    );
}

/// `y = x²`.
pub fn square_forward(x: &[f32], y: &mut [f32]) {
    same_len("square_forward", &[x.len(), y.len()]);
    map(
        x,
        y,
        #[inline(always)]
        |x| x * x,
    );
}

/// `dx += dy·2x`.
pub fn square_backward(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
    same_len("square_backward", &[x.len(), y.len(), dy.len(), dx.len()]);
    grad(
        x,
        y,
        dy,
        dx,
        #[inline(always)]
        |x, _| x + x,
    );
}
