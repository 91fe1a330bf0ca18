//! Element-wise throughput: the dispatched slice maps (AVX2+FMA build when available)
//! against the same scalar functions mapped in baseline (SSE2) code.
use sparselabel_kernels::elementwise::{self as ew, math};
use std::time::Instant;

fn t(label: &str, n: usize, mut f: impl FnMut()) {
    f();
    let reps = 200;
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    let dt = t0.elapsed().as_secs_f64() / reps as f64;
    println!("{label:28} {:7.2} Gelem/s", n as f64 / dt / 1e9);
}

fn main() {
    let n = 1 << 16;
    let x: Vec<f32> = (0..n).map(|i| (i as f32 / n as f32 - 0.5) * 20.0).collect();
    let mut y = vec![0.0f32; n];
    let mut dx = vec![0.0f32; n];
    t("exp dispatched", n, || ew::exp_forward(&x, &mut y));
    t("exp baseline", n, || {
        y.iter_mut().zip(&x).for_each(|(y, &x)| *y = math::exp(x))
    });
    t("log dispatched", n, || ew::log_forward(&x, &mut y));
    t("log baseline", n, || {
        y.iter_mut().zip(&x).for_each(|(y, &x)| *y = math::ln(x))
    });
    t("tanh dispatched", n, || ew::tanh_forward(&x, &mut y));
    t("tanh baseline", n, || {
        y.iter_mut().zip(&x).for_each(|(y, &x)| *y = math::tanh(x))
    });
    t("sigmoid dispatched", n, || ew::sigmoid_forward(&x, &mut y));
    t("softplus dispatched", n, || {
        ew::softplus_forward(&x, &mut y)
    });
    t("softplus baseline", n, || {
        y.iter_mut()
            .zip(&x)
            .for_each(|(y, &x)| *y = math::softplus(x))
    });
    t("relu dispatched", n, || ew::relu_forward(&x, &mut y));
    t("relu backward", n, || {
        ew::relu_backward(&x, &x, &x, &mut dx)
    });
    t("softplus backward", n, || {
        ew::softplus_backward(&x, &x, &x, &mut dx)
    });
    t("std exp (libm)", n, || {
        y.iter_mut().zip(&x).for_each(|(y, &x)| *y = x.exp())
    });
}
