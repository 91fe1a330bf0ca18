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
