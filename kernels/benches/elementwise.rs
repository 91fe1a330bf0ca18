//! Element-wise and reduction throughput on 2^16 and 2^20 elements (Throughput::Elements).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sparselabel_kernels::elementwise as ew;
use sparselabel_kernels::reduce;
use std::time::Duration;

type Fwd = fn(&[f32], &mut [f32]);
type Bwd = fn(&[f32], &[f32], &[f32], &mut [f32]);

fn bench(c: &mut Criterion) {
    let fwds: &[(&str, Fwd)] = &[
        ("relu", ew::relu_forward),
        ("sigmoid", ew::sigmoid_forward),
        ("tanh", ew::tanh_forward),
        ("softplus", ew::softplus_forward),
        ("exp", ew::exp_forward),
        ("log", ew::log_forward),
        ("log1p", ew::log1p_forward),
        ("sqrt", ew::sqrt_forward),
    ];
    let bwds: &[(&str, Bwd)] = &[
        ("relu", ew::relu_backward),
        ("sigmoid", ew::sigmoid_backward),
        ("tanh", ew::tanh_backward),
        ("softplus", ew::softplus_backward),
    ];
    for n in [1usize << 16, 1 << 20] {
        let x: Vec<f32> = (0..n).map(|i| (i as f32 / n as f32 - 0.5) * 20.0).collect();
        let pos: Vec<f32> = x.iter().map(|v| v.abs() + 1e-3).collect();
        let mut y = vec![0.0f32; n];
        let mut dx = vec![0.0f32; n];
        let mut g = c.benchmark_group(format!("elementwise/{n}"));
        g.warm_up_time(Duration::from_millis(200));
        g.measurement_time(Duration::from_millis(600));
        g.throughput(Throughput::Elements(n as u64));
        for &(name, f) in fwds {
            let input = if name.starts_with("log") || name == "sqrt" {
                &pos
            } else {
                &x
            };
            g.bench_function(BenchmarkId::new(name, "fwd"), |b| {
                b.iter(|| f(input, &mut y))
            });
        }
        for &(name, f) in bwds {
            g.bench_function(BenchmarkId::new(name, "bwd"), |b| {
                b.iter(|| f(&x, &x, &x, &mut dx))
            });
        }
        g.bench_function("sum", |b| b.iter(|| reduce::sum(&x)));
        g.bench_function("max", |b| b.iter(|| reduce::max(&x)));
        g.bench_function("row_log_softmax/cols10", |b| {
            b.iter(|| reduce::row_log_softmax(&x, 10, &mut y))
        });
        g.bench_function("row_softmax/cols784", |b| {
            b.iter(|| reduce::row_softmax(&x[..n / 784 * 784], 784, &mut y[..n / 784 * 784]))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
