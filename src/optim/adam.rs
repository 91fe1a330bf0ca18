//! Adam (Kingma & Ba) with bias correction and optional decoupled-free L2
//! weight decay (added to the gradient, as PyTorch's `Adam(weight_decay)`):
//! g ← g + λθ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
//! θ ← θ − lr·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).

use rayon::prelude::*;
use sparselabel_kernels::elementwise::{adam_update, AdamStep};

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

/// One parallel chunk of (weights, gradient), first moment, second moment.
type Chunks<'a> = (((&'a mut [f32], &'a [f32]), &'a mut [f32]), &'a mut [f32]);

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
    /// Zero moments for every trainable entry of `store` (entries frozen
    /// later keep theirs, so checkpoints stay loadable).
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
        for ((_, p), (m, v)) in store
            .iter_mut()
            .zip(self.m.iter_mut().zip(self.v.iter_mut()))
        {
            // Frozen parameters (trainable cleared after construction) keep
            // their moments but are not moved.
            if !p.trainable || m.is_empty() {
                continue;
            }
            let grad = p.grad.data();
            let s = AdamStep {
                beta1: c.beta1,
                beta2: c.beta2,
                eps: c.eps,
                weight_decay: c.weight_decay,
                step,
                inv_sqrt_bc2,
            };
            let update = |(((w, g), m), v): Chunks| adam_update(w, g, m, v, s);
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
            if !m.is_empty() {
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
            if !self.m[i].is_empty() {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two Adam steps on one parameter, against the formulas evaluated by
    /// hand in f64.
    #[test]
    fn matches_the_bias_corrected_update() {
        let mut store = ParamStore::new();
        let id = store.add("w", Tensor::new(&[2], vec![1.0, -2.0]));
        let cfg = AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
        };
        let mut opt = Adam::new(&store, cfg);
        let grads = [[0.5f64, -1.0], [0.25, 2.0]];
        let (mut w, mut m, mut v) = ([1.0f64, -2.0], [0.0f64; 2], [0.0f64; 2]);
        for (t, g) in grads.iter().enumerate() {
            store.get_mut(id).grad = Tensor::new(&[2], g.iter().map(|&x| x as f32).collect());
            opt.step(&mut store, 0.01);
            for i in 0..2 {
                let gi = g[i] + 0.1 * w[i];
                m[i] = 0.9 * m[i] + 0.1 * gi;
                v[i] = 0.999 * v[i] + 0.001 * gi * gi;
                let mh = m[i] / (1.0 - 0.9f64.powi(t as i32 + 1));
                let vh = v[i] / (1.0 - 0.999f64.powi(t as i32 + 1));
                w[i] -= 0.01 * mh / (vh.sqrt() + 1e-8);
            }
            for (i, (&got, &want)) in store.value(id).data().iter().zip(&w).enumerate() {
                assert!(
                    (got as f64 - want).abs() < 1e-6,
                    "step {t} element {i}: {got} vs {want}"
                );
            }
        }
        assert_eq!(opt.steps(), 2);
    }

    #[test]
    fn state_round_trips() {
        let mut store = ParamStore::new();
        let id = store.add("w", Tensor::new(&[3], vec![1.0, 2.0, 3.0]));
        let mut opt = Adam::new(&store, AdamConfig::default());
        store.get_mut(id).grad = Tensor::new(&[3], vec![0.1, 0.2, 0.3]);
        opt.step(&mut store, 0.1);
        let state = opt.state(&store);
        let mut other = Adam::new(&store, AdamConfig::default());
        other.load_state(&store, &state, opt.steps()).unwrap();
        let mut s2 = store.clone();
        opt.step(&mut store, 0.1);
        other.step(&mut s2, 0.1);
        assert_eq!(store.value(id), s2.value(id));
        assert!(
            other.load_state(&store, &state[..1], 1).is_err(),
            "missing v is refused"
        );
    }

    /// Large tensors take the parallel path: same result with 1 and 2 threads.
    #[test]
    fn parallel_update_is_thread_count_independent() {
        let run = || {
            let mut store = ParamStore::new();
            let n = 5 * CHUNK + 17;
            let id = store.add(
                "w",
                Tensor::new(&[n], (0..n).map(|i| (i % 13) as f32 * 0.1).collect()),
            );
            store.get_mut(id).grad = Tensor::new(
                &[n],
                (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.01).collect(),
            );
            let mut opt = Adam::new(&store, AdamConfig::default());
            opt.step(&mut store, 1e-3);
            store.value(id).clone()
        };
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(run);
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(run);
        assert_eq!(one, two);
    }
}
