//! GFLOP/s probe for sgemm and alternative output splits:
//! `cargo run --release --example gemm_tune -- THREADS [variants]`.
use rayon::prelude::*;
use sparselabel_kernels::{sgemm, Transpose};
use std::time::Instant;

#[derive(Clone, Copy)]
struct P(*mut f32);
unsafe impl Send for P {}
unsafe impl Sync for P {}

#[allow(clippy::too_many_arguments)]
/// Row-major product split into `parts` row blocks (rows=true) or column blocks.
fn split(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    rows: bool,
    chunk: usize,
) {
    let cp = P(c.as_mut_ptr());
    let len = if rows { m } else { n };
    (0..len.div_ceil(chunk)).into_par_iter().for_each(|t| {
        #[allow(clippy::redundant_locals)]
        let cp = cp; // capture the Send wrapper, not its field
        let s = t * chunk;
        let l = chunk.min(len - s);
        unsafe {
            if rows {
                matrixmultiply::sgemm(
                    l,
                    k,
                    n,
                    1.0,
                    a.as_ptr().add(s * k),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    cp.0.add(s * n),
                    n as isize,
                    1,
                );
            } else {
                matrixmultiply::sgemm(
                    m,
                    k,
                    l,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr().add(s),
                    n as isize,
                    1,
                    0.0,
                    cp.0.add(s),
                    n as isize,
                    1,
                );
            }
        }
    });
}

fn time(flops: f64, mut run: impl FnMut()) -> (f64, f64) {
    for _ in 0..3 {
        run();
    }
    let t0 = Instant::now();
    run();
    let dt = t0.elapsed().as_secs_f64();
    let inner = ((0.08 / dt) as usize).max(1);
    let mut samples = vec![];
    for _ in 0..9 {
        let t0 = Instant::now();
        for _ in 0..inner {
            run();
        }
        samples.push(flops / (t0.elapsed().as_secs_f64() / inner as f64) / 1e9);
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (samples[4], samples[8])
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(2);
    let variants: Vec<String> = std::env::args().skip(2).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let shapes = [
        (128, 128, 128),
        (256, 256, 256),
        (512, 512, 512),
        (1024, 1024, 1024),
        (100, 784, 500),
        (100, 500, 500),
        (100, 500, 784),
        (784, 100, 500),
        (1000, 500, 500),
    ];
    for &(m, k, n) in &shapes {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104729) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * n * k) as f64;
        pool.install(|| {
            let mut line = format!("{m}x{k}x{n} t{threads}");
            let (med, max) = time(flops, || {
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
                    &mut c,
                    n,
                )
            });
            line += &format!(
                " | ours {:?} {med:.1} ({max:.1})",
                sparselabel_kernels::gemm::plan(m, n, k)
            );
            for v in &variants {
                let (kind, chunk) = v.split_at(1);
                let chunk: usize = chunk.parse().unwrap();
                let (med, max) = match kind {
                    "r" => time(flops, || split(m, n, k, &a, &b, &mut c, true, chunk)),
                    "c" => time(flops, || split(m, n, k, &a, &b, &mut c, false, chunk)),
                    _ => time(flops, || split(m, n, k, &a, &b, &mut c, true, m)),
                };
                line += &format!(" | {v} {med:.1} ({max:.1})");
            }
            println!("{line}");
        });
    }
}
