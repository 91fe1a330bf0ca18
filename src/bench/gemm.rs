//! SGEMM throughput at the sizes of DESIGN.md §5: squares 128–2048 and the
//! MLP shapes of the paper models.

use serde_json::{json, Value};
use sparselabel_kernels::gemm::{sgemm, Transpose};

use super::median_seconds;

/// (label, M, K, N) of every measured product, B stored row-major (K × N).
pub const SHAPES: &[(&str, usize, usize, usize)] = &[
    ("square 128", 128, 128, 128),
    ("square 256", 256, 256, 256),
    ("square 512", 512, 512, 512),
    ("square 1024", 1024, 1024, 1024),
    ("square 2048", 2048, 2048, 2048),
    ("MLP fwd 100x784 @ 784x500", 100, 784, 500),
    ("MLP fwd 100x500 @ 500x500", 100, 500, 500),
    ("MLP fwd 100x500 @ 500x784", 100, 500, 784),
    ("MLP dW 784x100 @ 100x500", 784, 100, 500),
    ("MLP fwd 1000x500 @ 500x500", 1000, 500, 500),
    ("beta-VAE fwd 100x6272 @ 6272x256", 100, 6272, 256),
    ("beta-VAE fwd 100x256 @ 256x6272", 100, 256, 6272),
    ("beta-VAE dW 256x100 @ 100x6272", 256, 100, 6272),
];

/// (label, M, K, N) of products whose B is stored transposed (N × K): a linear
/// layer's forward x·Wᵀ with W in PyTorch's (out, in) layout.
pub const SHAPES_B_TRANSPOSED: &[(&str, usize, usize, usize)] = &[
    ("MLP fwd x.Wt 100x784 @ (500x784)t", 100, 784, 500),
    ("beta-VAE fwd x.Wt 100x6272 @ (256x6272)t", 100, 6272, 256),
    ("beta-VAE fwd x.Wt 100x256 @ (6272x256)t", 100, 256, 6272),
];

/// Measures every shape; `peak` (GFLOP/s of the machine at this thread
/// count) adds a `percent_of_peak` field.
pub fn run(peak: Option<f64>) -> Vec<Value> {
    let plain = SHAPES.iter().map(|s| (s, Transpose::No));
    let transposed = SHAPES_B_TRANSPOSED.iter().map(|s| (s, Transpose::Yes));
    plain
        .chain(transposed)
        .map(|(&(label, m, k, n), tb)| {
            let ldb = if tb == Transpose::No { n } else { k };
            let a: Vec<f32> = (0..m * k)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            let b: Vec<f32> = (0..k * n)
                .map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            let mut c = vec![0.0f32; m * n];
            let t = median_seconds(
                || {
                    sgemm(
                        Transpose::No,
                        tb,
                        m,
                        n,
                        k,
                        1.0,
                        &a,
                        k,
                        &b,
                        ldb,
                        0.0,
                        &mut c,
                        n,
                    )
                },
                2,
                7,
                0.1,
            );
            let gflops = 2.0 * (m * n * k) as f64 / t.median() / 1e9;
            json!({
                "bench": "gemm",
                "shape": label,
                "m": m, "k": k, "n": n,
                "b_transposed": tb == Transpose::Yes,
                "threads": rayon::current_num_threads(),
                "gflops": gflops,
                "percent_of_peak": peak.map(|p| 100.0 * gflops / p),
            })
        })
        .collect()
}
