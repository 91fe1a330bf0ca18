//! Finite-difference gradient checking, used by the tests of every op and
//! model.
//!
//! The checked function may return any shape: it is reduced to the scalar
//! L = Σ rᵢ·outᵢ with a fixed random projection r (so every output element
//! matters), accumulated in f64. The analytic gradient comes from
//! `backward_with(out, r)`; the numerical one from central differences
//! (L(x + ε) − L(x − ε)) / 2ε, one element at a time. Both inputs and
//! trainable parameters of the store are checked.

use rand_distr::{Distribution, StandardNormal};

use super::{ParamStore, Tape, Var};
use crate::tensor::Tensor;

/// Tolerances: an element passes when |analytic − numeric| ≤ atol + rtol·max(|a|, |n|).
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Step of the central difference.
    pub eps: f32,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for Tolerance {
    /// ε = 1e-3 with f32 arithmetic gives numerical derivatives good to about
    /// 1e-4·|L|/ε·f32::EPSILON ≈ 1e-3 relative: hence rtol 1e-2, atol 2e-3.
    fn default() -> Self {
        Tolerance {
            eps: 1e-3,
            atol: 2e-3,
            rtol: 1e-2,
        }
    }
}

/// The worst disagreement found.
#[derive(Clone, Debug)]
pub struct Report {
    /// Number of elements compared.
    pub checked: usize,
    /// Largest |analytic − numeric| / (atol + rtol·max(|a|, |n|)); ≤ 1 passes.
    pub worst_ratio: f64,
    /// Where the worst element is: `input 0 [12]` or `param enc.weight [3]`.
    pub worst_at: String,
    /// Analytic value there.
    pub analytic: f64,
    /// Numerical value there.
    pub numeric: f64,
}

impl Report {
    /// True when every element is within tolerance.
    pub fn passed(&self) -> bool {
        self.worst_ratio <= 1.0
    }
}

fn projected(
    store: &ParamStore,
    inputs: &[Tensor],
    r: &Tensor,
    f: &dyn Fn(&mut Tape, &[Var]) -> Var,
) -> f64 {
    let mut tape = Tape::new(store);
    let vars: Vec<Var> = inputs.iter().map(|t| tape.input(t.clone())).collect();
    let out = f(&mut tape, &vars);
    tape.value(out)
        .data()
        .iter()
        .zip(r.data())
        .map(|(&o, &w)| o as f64 * w as f64)
        .sum()
}

/// Checks the gradients of `f` with respect to `inputs` and to every
/// trainable parameter of `store`.
pub fn check(
    store: &ParamStore,
    inputs: &[Tensor],
    tol: Tolerance,
    f: &dyn Fn(&mut Tape, &[Var]) -> Var,
) -> Report {
    // Analytic gradients.
    let mut tape = Tape::new(store);
    let vars: Vec<Var> = inputs.iter().map(|t| tape.input(t.clone())).collect();
    let out = f(&mut tape, &vars);
    let mut rng = crate::rng::stream(0, "gradcheck");
    let shape = tape.shape(out).to_vec();
    let n: usize = shape.iter().product();
    let r = Tensor::new(
        &shape,
        (0..n).map(|_| StandardNormal.sample(&mut rng)).collect(),
    );
    let grads = tape.backward_with(out, r.clone()).expect("backward");
    let mut report = Report {
        checked: 0,
        worst_ratio: 0.0,
        worst_at: String::new(),
        analytic: 0.0,
        numeric: 0.0,
    };
    let mut record = |at: String, a: f64, num: f64| {
        let ratio = (a - num).abs() / (tol.atol + tol.rtol * a.abs().max(num.abs()));
        report.checked += 1;
        if ratio > report.worst_ratio {
            report.worst_ratio = ratio;
            report.worst_at = at;
            report.analytic = a;
            report.numeric = num;
        }
    };
    let eps = tol.eps as f64;
    for (i, v) in vars.iter().enumerate() {
        let analytic = grads
            .input(*v)
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(inputs[i].shape()));
        for j in 0..inputs[i].len() {
            let mut plus = inputs.to_vec();
            plus[i].data_mut()[j] += tol.eps;
            let mut minus = inputs.to_vec();
            minus[i].data_mut()[j] -= tol.eps;
            let num =
                (projected(store, &plus, &r, f) - projected(store, &minus, &r, f)) / (2.0 * eps);
            record(format!("input {i} [{j}]"), analytic.data()[j] as f64, num);
        }
    }
    for (id, p) in store.iter() {
        if !p.trainable {
            continue;
        }
        let analytic = grads
            .param(id)
            .cloned()
            .unwrap_or_else(|| Tensor::zeros(p.value.shape()));
        for j in 0..p.value.len() {
            let mut s = store.clone();
            s.get_mut(id).value.data_mut()[j] += tol.eps;
            let lp = projected(&s, inputs, &r, f);
            s.get_mut(id).value.data_mut()[j] -= 2.0 * tol.eps;
            let lm = projected(&s, inputs, &r, f);
            record(
                format!("param {} [{j}]", p.name),
                analytic.data()[j] as f64,
                (lp - lm) / (2.0 * eps),
            );
        }
    }
    report
}

/// The outcome of a directional-derivative check.
#[derive(Clone, Debug)]
pub struct Directional {
    /// Autodiff gradient · v, one entry per direction.
    pub analytic: Vec<f64>,
    /// (L(θ + εv) − L(θ − εv)) / 2ε, one entry per direction.
    pub numeric: Vec<f64>,
    /// Largest |analytic − numeric| / max(|analytic|, |numeric|, 1e-6).
    pub worst_relative: f64,
}

impl Directional {
    /// Panics (naming `name`) unless every direction agrees within `rel`:
    /// [`Directional::worst_relative`] < `rel`.
    pub fn assert_within(&self, name: &str, rel: f64) {
        assert!(
            self.worst_relative < rel,
            "{name}: autodiff {:?} vs central differences {:?}",
            self.analytic,
            self.numeric
        );
    }

    /// Panics unless |analytic − numeric| ≤ rel·max(|analytic|, |numeric|) + abs
    /// in every direction: for losses whose f32 rounding over 2ε is not small
    /// against the derivatives (`abs` about one ULP of the loss / 2ε).
    pub fn assert_within_abs(&self, name: &str, rel: f64, abs: f64) {
        for (a, n) in self.analytic.iter().zip(&self.numeric) {
            assert!(
                (a - n).abs() <= rel * a.abs().max(n.abs()) + abs,
                "{name}: autodiff {:?} vs central differences {:?}",
                self.analytic,
                self.numeric
            );
        }
    }

    /// Panics unless every directional derivative exceeds 1e-3 in size: a
    /// vanishing one would make the agreement checks vacuous.
    pub fn assert_informative(&self, name: &str) {
        assert!(
            self.analytic.iter().all(|a| a.abs() > 1e-3),
            "{name}: a vanishing directional derivative checks nothing: {:?}",
            self.analytic
        );
    }
}

/// Checks a whole model's scalar loss along random directions: for each of
/// `directions` draws of a unit-norm v over every trainable parameter, the
/// autodiff product ∇L·v is compared with a central difference of L along v.
/// Unlike [`check`], the cost is two forward passes per direction, so it runs
/// on full-width models; `eps` is the step along the unit vector v.
pub fn directional(
    store: &ParamStore,
    directions: usize,
    eps: f64,
    f: &dyn Fn(&mut Tape) -> Var,
) -> Directional {
    let loss_at = |s: &ParamStore| -> f64 {
        let mut tape = Tape::new(s);
        let out = f(&mut tape);
        tape.value(out).data().iter().map(|&v| v as f64).sum()
    };
    let mut tape = Tape::new(store);
    let out = f(&mut tape);
    let shape = tape.shape(out).to_vec();
    let grads = tape
        .backward_with(out, Tensor::full(&shape, 1.0))
        .expect("backward");
    let mut rng = crate::rng::stream(0, "gradcheck-direction");
    let mut result = Directional {
        analytic: Vec::new(),
        numeric: Vec::new(),
        worst_relative: 0.0,
    };
    for _ in 0..directions {
        let mut v: Vec<(super::ParamId, Vec<f64>)> = store
            .iter()
            .filter(|(_, p)| p.trainable)
            .map(|(id, p)| {
                let d = (0..p.value.len())
                    .map(|_| StandardNormal.sample(&mut rng))
                    .collect();
                (id, d)
            })
            .collect();
        let norm: f64 = v
            .iter()
            .flat_map(|(_, d)| d.iter())
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt();
        v.iter_mut()
            .for_each(|(_, d)| d.iter_mut().for_each(|x| *x /= norm));
        let mut analytic = 0.0;
        for (id, d) in &v {
            if let Some(g) = grads.param(*id) {
                analytic += g
                    .data()
                    .iter()
                    .zip(d)
                    .map(|(&g, x)| g as f64 * x)
                    .sum::<f64>();
            }
        }
        let shifted = |sign: f64| {
            let mut s = store.clone();
            for (id, d) in &v {
                let p = s.get_mut(*id);
                for (w, x) in p.value.data_mut().iter_mut().zip(d) {
                    *w = (*w as f64 + sign * eps * x) as f32;
                }
            }
            loss_at(&s)
        };
        let numeric = (shifted(1.0) - shifted(-1.0)) / (2.0 * eps);
        let rel = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-6);
        result.worst_relative = result.worst_relative.max(rel);
        result.analytic.push(analytic);
        result.numeric.push(numeric);
    }
    result
}
