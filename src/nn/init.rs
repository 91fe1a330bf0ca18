//! Parameter initialisers.
//!
//! With fan_in = inputs per output unit (× kernel area for convolutions) and
//! fan_out = outputs per input unit:
//! LeCun normal σ = √(1/fan_in); Glorot normal σ = √(2/(fan_in + fan_out));
//! Glorot uniform U(±√(6/(fan_in + fan_out))); He normal σ = √(2/fan_in);
//! He uniform U(±√(6/fan_in)); PyTorch's default Linear/Conv init
//! U(±1/√fan_in) (`TorchDefault`).

use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

use crate::rng::StreamRng;
use crate::tensor::Tensor;

/// How to draw a weight tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// N(0, 1/fan_in).
    LecunNormal,
    /// N(0, 2/(fan_in + fan_out)).
    GlorotNormal,
    /// U(±√(6/(fan_in + fan_out))).
    GlorotUniform,
    /// N(0, 2/fan_in).
    HeNormal,
    /// U(±√(6/fan_in)).
    HeUniform,
    /// U(±1/√fan_in), PyTorch's default for Linear and Conv layers.
    TorchDefault,
    /// N(0, σ²) with the given σ.
    Normal(f32),
    /// All zeros.
    Zeros,
}

impl Init {
    /// A tensor of `shape` drawn with the given fans.
    pub fn tensor(
        self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        rng: &mut StreamRng,
    ) -> Tensor {
        let n: usize = shape.iter().product();
        let (fi, fo) = (fan_in.max(1) as f32, fan_out.max(1) as f32);
        let normal = |sigma: f32, rng: &mut StreamRng| -> Vec<f32> {
            (0..n)
                .map(|_| {
                    let e: f32 = StandardNormal.sample(rng);
                    sigma * e
                })
                .collect()
        };
        let uniform = |a: f32, rng: &mut StreamRng| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * a)
                .collect()
        };
        let data = match self {
            Init::LecunNormal => normal((1.0 / fi).sqrt(), rng),
            Init::GlorotNormal => normal((2.0 / (fi + fo)).sqrt(), rng),
            Init::GlorotUniform => uniform((6.0 / (fi + fo)).sqrt(), rng),
            Init::HeNormal => normal((2.0 / fi).sqrt(), rng),
            Init::HeUniform => uniform((6.0 / fi).sqrt(), rng),
            Init::TorchDefault => uniform(1.0 / fi.sqrt(), rng),
            Init::Normal(s) => normal(s, rng),
            Init::Zeros => vec![0.0; n],
        };
        Tensor::new(shape, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_of(t: &Tensor) -> f64 {
        let n = t.len() as f64;
        let m: f64 = t.data().iter().map(|&v| v as f64).sum::<f64>() / n;
        (t.data()
            .iter()
            .map(|&v| (v as f64 - m).powi(2))
            .sum::<f64>()
            / n)
            .sqrt()
    }

    #[test]
    fn spreads_match_their_formulas() {
        let mut rng = crate::rng::stream(3, "init-test");
        let (fi, fo) = (400, 100);
        let cases = [
            (Init::LecunNormal, (1.0 / fi as f64).sqrt()),
            (Init::GlorotNormal, (2.0 / (fi + fo) as f64).sqrt()),
            (
                Init::GlorotUniform,
                (6.0 / (fi + fo) as f64).sqrt() / 3f64.sqrt(),
            ),
            (Init::HeNormal, (2.0 / fi as f64).sqrt()),
            (Init::HeUniform, (6.0 / fi as f64).sqrt() / 3f64.sqrt()),
            (Init::TorchDefault, 1.0 / (fi as f64).sqrt() / 3f64.sqrt()),
            (Init::Normal(0.05), 0.05),
        ];
        for (init, want) in cases {
            let t = init.tensor(&[fo, fi], fi, fo, &mut rng);
            let got = std_of(&t);
            assert!(
                (got / want - 1.0).abs() < 0.03,
                "{init:?}: std {got} vs {want}"
            );
        }
        assert!(Init::Zeros
            .tensor(&[3, 3], 3, 3, &mut rng)
            .data()
            .iter()
            .all(|&v| v == 0.0));
    }
}
