//! Stochastic gradient descent with (heavy-ball) momentum, as PyTorch:
//! b ← μb + g; θ ← θ − lr·b (plain SGD when μ = 0).

use super::{find_state, Optimizer};
use crate::autograd::ParamStore;
use crate::tensor::Tensor;
use crate::Result;

/// SGD with momentum.
pub struct Sgd {
    momentum: f32,
    velocity: Vec<Vec<f32>>,
    t: u64,
}

impl Sgd {
    /// Zero velocities for every trainable entry of `store`.
    pub fn new(store: &ParamStore, momentum: f32) -> Self {
        let velocity = store
            .iter()
            .map(|(_, p)| {
                if p.trainable {
                    vec![0.0; p.value.len()]
                } else {
                    Vec::new()
                }
            })
            .collect();
        Sgd {
            momentum,
            velocity,
            t: 0,
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, store: &mut ParamStore, lr: f32) {
        self.t += 1;
        for ((_, p), b) in store.iter_mut().zip(self.velocity.iter_mut()) {
            if !p.trainable {
                continue;
            }
            let (value, grad) = (&mut p.value, &p.grad);
            for ((w, &g), b) in value
                .data_mut()
                .iter_mut()
                .zip(grad.data())
                .zip(b.iter_mut())
            {
                *b = self.momentum * *b + g;
                *w -= lr * *b;
            }
        }
    }

    fn steps(&self) -> u64 {
        self.t
    }

    fn state(&self, store: &ParamStore) -> Vec<(String, Tensor)> {
        store
            .iter()
            .zip(&self.velocity)
            .filter(|((_, p), _)| p.trainable)
            .map(|((_, p), b)| {
                (
                    format!("sgd.velocity.{}", p.name),
                    Tensor::new(p.value.shape(), b.clone()),
                )
            })
            .collect()
    }

    fn load_state(
        &mut self,
        store: &ParamStore,
        state: &[(String, Tensor)],
        steps: u64,
    ) -> Result<()> {
        for (i, (_, p)) in store.iter().enumerate() {
            if p.trainable {
                let name = format!("sgd.velocity.{}", p.name);
                self.velocity[i] = find_state(state, &name, p.value.shape())?.data().to_vec();
            }
        }
        self.t = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_accumulates_like_pytorch() {
        let mut store = ParamStore::new();
        let id = store.add("w", Tensor::new(&[1], vec![1.0]));
        let mut opt = Sgd::new(&store, 0.9);
        for _ in 0..2 {
            store.get_mut(id).grad = Tensor::new(&[1], vec![1.0]);
            opt.step(&mut store, 0.1);
        }
        // b1 = 1, w = 0.9; b2 = 0.9 + 1 = 1.9, w = 0.9 − 0.19 = 0.71.
        assert!((store.value(id).data()[0] - 0.71).abs() < 1e-6);
    }
}
