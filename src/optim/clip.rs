//! Gradient clipping over the stored gradients.

use crate::autograd::ParamStore;

/// Global L2 norm of all trainable gradients (accumulated in f64, in
/// parameter order).
pub fn grad_norm(store: &ParamStore) -> f32 {
    let mut s = 0f64;
    for (_, p) in store.iter() {
        if p.trainable {
            s += p
                .grad
                .data()
                .iter()
                .map(|&g| (g as f64) * (g as f64))
                .sum::<f64>();
        }
    }
    s.sqrt() as f32
}

/// Scales all gradients so their global norm is at most `max_norm`; returns
/// the norm before clipping.
pub fn clip_grad_norm(store: &mut ParamStore, max_norm: f32) -> f32 {
    let norm = grad_norm(store);
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / (norm + 1e-6);
        for (_, p) in store.iter_mut() {
            if p.trainable {
                p.grad.data_mut().iter_mut().for_each(|g| *g *= scale);
            }
        }
    }
    norm
}

/// Clamps every gradient element into [−v, v].
pub fn clip_grad_value(store: &mut ParamStore, v: f32) {
    for (_, p) in store.iter_mut() {
        if p.trainable {
            p.grad
                .data_mut()
                .iter_mut()
                .for_each(|g| *g = g.clamp(-v, v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    #[test]
    fn norm_and_value_clipping() {
        let mut store = ParamStore::new();
        let a = store.add("a", Tensor::zeros(&[2]));
        let b = store.add("b", Tensor::zeros(&[1]));
        store.get_mut(a).grad = Tensor::new(&[2], vec![3.0, 0.0]);
        store.get_mut(b).grad = Tensor::new(&[1], vec![4.0]);
        assert!((grad_norm(&store) - 5.0).abs() < 1e-6);
        let before = clip_grad_norm(&mut store, 1.0);
        assert!((before - 5.0).abs() < 1e-6);
        assert!((grad_norm(&store) - 1.0).abs() < 1e-5);
        clip_grad_norm(&mut store, 10.0); // under the limit: unchanged
        assert!((grad_norm(&store) - 1.0).abs() < 1e-5);
        store.get_mut(b).grad = Tensor::new(&[1], vec![-7.0]);
        clip_grad_value(&mut store, 0.5);
        assert_eq!(store.get(b).grad.data(), &[-0.5]);
    }
}
