//! Reparameterised sampling: Gaussian z = μ + e^{lv/2}·ε and the
//! Gumbel-Softmax relaxation (soft, or straight-through hard one-hot).
//!
//! Gaussian: ∂μ = g, ∂lv = ½·g·e^{lv/2}·ε (ε ~ N(0, I) is a constant).
//! Gumbel-Softmax: y = softmax((l + γ)/τ), γ = −log(−log u), u ~ U(0, 1),
//! built from existing ops. Straight-through: the value is the one-hot of
//! argmax y, the gradient passes to y unchanged.

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// A reparameterised Gaussian sample node.
pub struct GaussianSample {
    mu: Var,
    logvar: Var,
    /// σ·ε, the part of z that depends on lv.
    noise: Vec<f32>,
}

/// z = μ + e^{lv/2}·ε with ε ~ N(0, I) drawn from `rng`.
pub fn gaussian_sample(tape: &mut Tape, mu: Var, logvar: Var, rng: &mut StreamRng) -> Var {
    let (vm, vl) = (tape.value(mu), tape.value(logvar));
    assert_eq!(
        vm.shape(),
        vl.shape(),
        "gaussian_sample: μ and log-variance shapes differ"
    );
    let noise: Vec<f32> = vl
        .data()
        .iter()
        .map(|&l| {
            let e: f32 = StandardNormal.sample(rng);
            (0.5 * l).exp() * e
        })
        .collect();
    let data = vm.data().iter().zip(&noise).map(|(m, n)| m + n).collect();
    let out = Tensor::new(vm.shape(), data);
    let flops = 4 * out.len() as u64;
    tape.push(
        Record {
            name: "gaussian_sample",
            parents: &[mu, logvar],
            flops,
        },
        out,
        || Op::GaussianSample(GaussianSample { mu, logvar, noise }),
    )
}

impl Backward for GaussianSample {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gm) = grads.acc(self.mu, vals) {
            sparselabel_kernels::elementwise::add_assign(gm, g.data());
        }
        if let Some(gl) = grads.acc(self.logvar, vals) {
            for ((d, &gv), &n) in gl.iter_mut().zip(g.data()).zip(&self.noise) {
                *d += 0.5 * gv * n;
            }
        }
    }
}

/// Standard Gumbel noise of the given shape: −log(−log u), u ~ U(0, 1).
pub fn gumbel_noise(shape: &[usize], rng: &mut StreamRng) -> Tensor {
    let n = shape.iter().product();
    let data = (0..n)
        .map(|_| {
            // u in (0, 1): avoid log(0) at both ends.
            let u: f32 = rng
                .random::<f32>()
                .clamp(f32::MIN_POSITIVE, 1.0 - f32::EPSILON);
            -(-u.ln()).ln()
        })
        .collect();
    Tensor::new(shape, data)
}

/// Gumbel-Softmax sample softmax((l + γ)/τ) over the last axis; with `hard`
/// the forward value is one-hot (straight-through gradient).
pub fn gumbel_softmax(
    tape: &mut Tape,
    logits: Var,
    tau: f32,
    hard: bool,
    rng: &mut StreamRng,
) -> Var {
    assert!(tau > 0.0, "gumbel_softmax: temperature must be positive");
    let noise = gumbel_noise(tape.shape(logits), rng);
    let noise = tape.constant(noise);
    let perturbed = super::add(tape, logits, noise);
    let scaled = super::mul_scalar(tape, perturbed, 1.0 / tau);
    let soft = super::softmax(tape, scaled);
    if hard {
        straight_through(tape, soft)
    } else {
        soft
    }
}

/// A straight-through node.
pub struct StraightThrough {
    x: Var,
}

/// One-hot of the row-wise argmax of x in the forward pass; identity in the
/// backward pass.
pub fn straight_through(tape: &mut Tape, x: Var) -> Var {
    let vx = tape.value(x);
    let (_, cols) = vx.rows_cols();
    let mut out = Tensor::zeros(vx.shape());
    for (xr, yr) in vx
        .data()
        .chunks_exact(cols)
        .zip(out.data_mut().chunks_exact_mut(cols))
    {
        let mut best = 0;
        for j in 1..cols {
            if xr[j] > xr[best] {
                best = j;
            }
        }
        yr[best] = 1.0;
    }
    tape.push(
        Record {
            name: "straight_through",
            parents: &[x],
            flops: 0,
        },
        out,
        || Op::StraightThrough(StraightThrough { x }),
    )
}

impl Backward for StraightThrough {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gx) = grads.acc(self.x, vals) {
            sparselabel_kernels::elementwise::add_assign(gx, g.data());
        }
    }
}
