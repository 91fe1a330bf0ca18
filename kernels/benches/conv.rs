//! Convolution layers of the catvae (encoder convs, decoder transposed convs) and betavae
//! models at batch 100 and 200 on 1 and 2 threads: forward, backward-weight (+bias) and
//! backward-data, each alone. Throughput::Elements = FLOPs of the pass (2·MACs).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sparselabel_kernels::conv::*;
use std::time::Duration;

fn fill(n: usize, seed: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

fn conv(n: usize, ci: usize, co: usize, h: usize, k: usize, s: usize, p: usize) -> Conv2dShape {
    Conv2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: h,
        out_channels: co,
        kernel_h: k,
        kernel_w: k,
        stride_h: s,
        stride_w: s,
        pad_h: p,
        pad_w: p,
    }
}

fn convt(
    n: usize,
    ci: usize,
    co: usize,
    h: usize,
    k: usize,
    s: usize,
    p: usize,
) -> ConvTranspose2dShape {
    ConvTranspose2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: h,
        out_channels: co,
        kernel_h: k,
        kernel_w: k,
        stride_h: s,
        stride_w: s,
        pad_h: p,
        pad_w: p,
        output_pad_h: 0,
        output_pad_w: 0,
    }
}

fn bench(c: &mut Criterion) {
    for threads in [2usize, 1] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for batch in [100usize, 200] {
            let mut g = c.benchmark_group(format!("conv/{threads}t/b{batch}"));
            g.warm_up_time(Duration::from_millis(200));
            g.measurement_time(Duration::from_millis(800));
            g.sample_size(10);
            let convs = [
                ("catvae-enc1", conv(batch, 1, 16, 28, 6, 1, 0)),
                ("catvae-enc2", conv(batch, 16, 32, 23, 6, 1, 0)),
                ("catvae-enc3", conv(batch, 32, 64, 18, 4, 2, 1)),
                ("catvae-enc4", conv(batch, 64, 50, 9, 9, 1, 0)),
                ("betavae-enc", conv(batch, 1, 32, 28, 4, 2, 1)),
            ];
            for (name, s) in convs {
                let (x, w, b) = (
                    fill(batch * s.in_image_len(), 1),
                    fill(s.out_channels * s.patch_len(), 2),
                    fill(s.out_channels, 3),
                );
                let mut y = fill(batch * s.out_image_len(), 4);
                let (mut dx, mut dw, mut db) =
                    (vec![0.0; x.len()], vec![0.0; w.len()], vec![0.0; b.len()]);
                g.throughput(Throughput::Elements(s.flops_forward()));
                g.bench_function(BenchmarkId::new(name, "fwd"), |bch| {
                    bch.iter(|| pool.install(|| conv2d_forward(&s, &x, &w, Some(&b), &mut y)))
                });
                g.bench_function(BenchmarkId::new(name, "bwd-weight"), |bch| {
                    bch.iter(|| {
                        pool.install(|| conv2d_backward_weight(&s, &x, &y, &mut dw, Some(&mut db)))
                    })
                });
                g.bench_function(BenchmarkId::new(name, "bwd-data"), |bch| {
                    bch.iter(|| pool.install(|| conv2d_backward_data(&s, &y, &w, &mut dx)))
                });
            }
            let convts = [
                ("catvae-dec1", convt(batch, 50, 64, 1, 9, 1, 0)),
                ("catvae-dec2", convt(batch, 64, 32, 9, 4, 2, 1)),
                ("catvae-dec3", convt(batch, 32, 16, 18, 6, 1, 0)),
                ("catvae-dec4", convt(batch, 16, 1, 23, 6, 1, 0)),
                ("betavae-dec", convt(batch, 32, 1, 14, 4, 2, 1)),
            ];
            for (name, s) in convts {
                let xl = batch * s.in_channels * s.in_h * s.in_w;
                let wl = s.in_channels * s.out_channels * s.kernel_h * s.kernel_w;
                let (x, w, b) = (fill(xl, 1), fill(wl, 2), fill(s.out_channels, 3));
                let mut y = fill(batch * s.out_channels * s.out_h() * s.out_w(), 4);
                let (mut dx, mut dw, mut db) =
                    (vec![0.0; xl], vec![0.0; wl], vec![0.0; s.out_channels]);
                g.throughput(Throughput::Elements(s.flops_forward()));
                g.bench_function(BenchmarkId::new(name, "fwd"), |bch| {
                    bch.iter(|| {
                        pool.install(|| conv_transpose2d_forward(&s, &x, &w, Some(&b), &mut y))
                    })
                });
                g.bench_function(BenchmarkId::new(name, "bwd-weight"), |bch| {
                    bch.iter(|| {
                        pool.install(|| {
                            conv_transpose2d_backward_weight(&s, &x, &y, &mut dw, Some(&mut db))
                        })
                    })
                });
                g.bench_function(BenchmarkId::new(name, "bwd-data"), |bch| {
                    bch.iter(|| {
                        pool.install(|| conv_transpose2d_backward_data(&s, &y, &w, &mut dx))
                    })
                });
            }
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
