//! The machine's FP32 multiply-add throughput: the ceiling GEMM and conv figures are
//! compared against (the peer measured ~100 GFLOP/s per core on the project machine).
//!
//! Each thread runs 12 independent accumulator chains `a ← a·m + c` (enough to cover
//! FMA latency 4 × 2 pipes, as in the peer's `peak.c`): 8-lane AVX2 FMAs when the CPU
//! has them (2 FLOP per lane), otherwise 4-lane SSE multiply + add pairs.

use std::sync::Barrier;
use std::time::Instant;

/// Iterations per timed batch (each iteration is 12 vector operations).
const BATCH: u64 = 1 << 20;

/// Measures FP32 FMA throughput in GFLOP/s summed over `threads` threads running
/// concurrently for about `seconds` each.
///
/// # Panics
/// If `threads` is 0.
pub fn measure_fma_gflops(threads: usize, seconds: f64) -> f64 {
    assert!(threads > 0, "measure_fma_gflops: threads must be positive");
    let start = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let t0 = Instant::now();
                    let mut flops = 0.0;
                    loop {
                        flops += run_batch(BATCH);
                        let dt = t0.elapsed().as_secs_f64();
                        if dt >= seconds {
                            return flops / dt;
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum::<f64>() / 1e9
    })
}

/// Runs `iters` iterations on the best available unit; returns the FLOPs done.
fn run_batch(iters: u64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::elementwise::dispatch::has_avx2() {
            // SAFETY: the CPU supports avx2 and fma (checked just above).
            let r = unsafe { x86::fma_chains(iters) };
            std::hint::black_box(r);
            return iters as f64 * 12.0 * 8.0 * 2.0;
        }
        // SAFETY: SSE2 is part of the x86-64 baseline.
        let r = unsafe { x86::sse_chains(iters) };
        std::hint::black_box(r);
        iters as f64 * 12.0 * 4.0 * 2.0
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mut a = [0.0f32; 12];
        for _ in 0..iters {
            for v in a.iter_mut() {
                *v = *v * 0.999_999 + 1e-7;
            }
        }
        std::hint::black_box(a);
        iters as f64 * 12.0 * 2.0
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// 12 chains of 8-lane FMAs; returns a value depending on all of them.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn fma_chains(iters: u64) -> f32 {
        let m = _mm256_set1_ps(0.999_999);
        let c = _mm256_set1_ps(1e-7);
        let mut a = [_mm256_setzero_ps(); 12];
        for (i, v) in a.iter_mut().enumerate() {
            *v = _mm256_set1_ps(i as f32);
        }
        let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7, mut a8, mut a9, mut a10, mut a11] =
            a;
        for _ in 0..iters {
            a0 = _mm256_fmadd_ps(a0, m, c);
            a1 = _mm256_fmadd_ps(a1, m, c);
            a2 = _mm256_fmadd_ps(a2, m, c);
            a3 = _mm256_fmadd_ps(a3, m, c);
            a4 = _mm256_fmadd_ps(a4, m, c);
            a5 = _mm256_fmadd_ps(a5, m, c);
            a6 = _mm256_fmadd_ps(a6, m, c);
            a7 = _mm256_fmadd_ps(a7, m, c);
            a8 = _mm256_fmadd_ps(a8, m, c);
            a9 = _mm256_fmadd_ps(a9, m, c);
            a10 = _mm256_fmadd_ps(a10, m, c);
            a11 = _mm256_fmadd_ps(a11, m, c);
        }
        let s = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11]
            .into_iter()
            .fold(_mm256_setzero_ps(), |acc, v| _mm256_add_ps(acc, v));
        _mm_cvtss_f32(_mm256_castps256_ps128(s))
    }

    /// 12 chains of 4-lane multiply + add (SSE2 baseline).
    #[target_feature(enable = "sse2")]
    pub(super) fn sse_chains(iters: u64) -> f32 {
        let m = _mm_set1_ps(0.999_999);
        let c = _mm_set1_ps(1e-7);
        let mut a = [_mm_setzero_ps(); 12];
        for (i, v) in a.iter_mut().enumerate() {
            *v = _mm_set1_ps(i as f32);
        }
        for _ in 0..iters {
            for v in a.iter_mut() {
                *v = _mm_add_ps(_mm_mul_ps(*v, m), c);
            }
        }
        let s = a
            .into_iter()
            .fold(_mm_setzero_ps(), |acc, v| _mm_add_ps(acc, v));
        _mm_cvtss_f32(s)
    }
}
