//! Adam (Kingma & Ba) with bias correction and optional decoupled-free L2
//! weight decay (added to the gradient, as PyTorch's `Adam(weight_decay)`):
//! g ← g + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
//! θ ← θ − lr·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).

use rayon::prelude::*;

use super::{find_state, Optimizer};
use crate::autograd::ParamStore;
use crate::tensor::Tensor;
use crate::Result;

/// Adam's hyper-parameters (learning rate comes from the schedule).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdamConfig {
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the denominator.
    pub eps: f32,
    /// L2 penalty added to the gradient.
    pub weight_decay: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

/// The Adam optimiser and its moments.
pub struct Adam {
    config: AdamConfig,
    m: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    t: u64,
}

/// Elements per parallel chunk: a fixed size, so the work split (and the
/// result, which is element-wise anyway) never depends on the thread count.
const CHUNK: usize = 1 << 14;

impl Adam {
    /// Zero moments for every entry of `store`.
    pub fn new(store: &ParamStore, config: AdamConfig) -> Self {
        let zeros = |trainable: bool, n: usize| if trainable { vec![0.0; n] } else { Vec::new() };
        let m = store
            .iter()
            .map(|(_, p)| zeros(p.trainable, p.value.len()))
            .collect();
        let v = store
            .iter()
            .map(|(_, p)| zeros(p.trainable, p.value.len()))
            .collect();
        Adam { config, m, v, t: 0 }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, store: &mut ParamStore, lr: f32) {
        self.t += 1;
        let c = self.config;
        let bc1 = 1.0 - (c.beta1 as f64).powi(self.t as i32);
        let bc2 = 1.0 - (c.beta2 as f64).powi(self.t as i32);
        let step = (lr as f64 / bc1) as f32;
        let inv_sqrt_bc2 = (1.0 / bc2.sqrt()) as f32;
        for ((id, p), (m, v)) in store
            .iter_mut()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            if !p.trainable {
                continue;
            }
            let _ = id;
            let grad = p.grad.data();
            let update = |(((w, g), m), v): (((&mut [f32], &[f32]), &mut [f32]), &mut [f32])| {
                for i in 0..w.len() {
                    let gi = g[i] + c.weight_decay * w[i];
                    m[i] = c.beta1 * m[i] + (1.0 - c.beta1) * gi;
                    v[i] = c.beta2 * v[i] + (1.0 - c.beta2) * gi * gi;
                    w[i] -= step * m[i] / (v[i].sqrt() * inv_sqrt_bc2 + c.eps);
                }
            };
            let w = p.value.data_mut();
            if w.len() >= 2 * CHUNK {
                w.par_chunks_mut(CHUNK)
                    .zip(grad.par_chunks(CHUNK))
                    .zip(m.par_chunks_mut(CHUNK))
                    .zip(v.par_chunks_mut(CHUNK))
                    .for_each(update);
            } else {
                update((((w, grad), m.as_mut_slice()), v.as_mut_slice()));
            }
        }
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn state(&self, store: &ParamStore) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for ((_, p), (m, v)) in store.iter().zip(self.m.iter().zip(&self.v)) {
            if p.trainable {
                out.push((
                    format!("adam.m.{}", p.name),
                    Tensor::new(p.value.shape(), m.clone()),
                ));
                out.push((
                    format!("adam.v.{}", p.name),
                    Tensor::new(p.value.shape(), v.clone()),
                ));
            }
        }
        out
    }

    fn load_state(
        &mut self,
        store: &ParamStore,
        state: &[(String, Tensor)],
        steps: u64,
    ) -> Result<()> {
        for (i, (_, p)) in store.iter().enumerate() {
            if p.trainable {
                self.m[i] = find_state(state, &format!("adam.m.{}", p.name), p.value.shape())?
                    .data()
                    .to_vec();
                self.v[i] = find_state(state, &format!("adam.v.{}", p.name), p.value.shape())?
                    .data()
                    .to_vec();
            }
        }
        self.t = steps;
        Ok(())
    }
}
