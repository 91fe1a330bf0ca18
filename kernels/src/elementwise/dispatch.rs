//! Slice maps compiled twice: for the baseline target (SSE2 on x86-64) and with
//! `avx2,fma` enabled, the latter chosen at run time when the CPU has both.
//!
//! The scalar bodies use no `mul_add`, so both versions perform the same IEEE operations
//! and give bit-identical results; the AVX2 build only processes 8 lanes instead of 4
//! (measured in `benches/elementwise.rs`: ~1.6–2× faster for exp-based maps, equal for
//! memory-bound ones like relu).

/// Whether the AVX2+FMA versions can run (cached by std after the first call).
#[inline(always)]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Panics unless every slice has the length of the first.
#[inline]
pub(crate) fn same_len(name: &str, lens: &[usize]) {
    assert!(
        lens.iter().all(|&l| l == lens[0]),
        "{name}: slice lengths differ: {lens:?}"
    );
}

#[inline(always)]
fn map_body<F: Fn(f32) -> f32>(x: &[f32], y: &mut [f32], f: F) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

#[inline(always)]
fn grad_body<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32], g: F) {
    for (((d, &x), &y), &gy) in dx.iter_mut().zip(x).zip(y).zip(dy) {
        *d += gy * g(x, y);
    }
}

#[inline(always)]
fn map_in_place_body<F: Fn(f32) -> f32>(y: &mut [f32], f: F) {
    for y in y.iter_mut() {
        *y = f(*y);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map_in_place_avx2<F: Fn(f32) -> f32>(y: &mut [f32], f: F) {
    map_in_place_body(y, f)
}

#[inline(always)]
fn grad_in_place_body<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], g: &mut [f32], d: F) {
    for ((g, &x), &y) in g.iter_mut().zip(x).zip(y) {
        *g *= d(x, y);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn grad_in_place_avx2<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], g: &mut [f32], d: F) {
    grad_in_place_body(x, y, g, d)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn map_avx2<F: Fn(f32) -> f32>(x: &[f32], y: &mut [f32], f: F) {
    map_body(x, y, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn grad_avx2<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32], g: F) {
    grad_body(x, y, dy, dx, g)
}

// The closures are passed by value (`Copy`), never as `&F`: calling through `&F` goes via
// an `Fn::call` forwarding shim that LLVM may leave un-inlined in the AVX2 build, which
// turns a vectorised map into a scalar call per element (measured 7-30x slower).

/// Slices at least this long are processed on rayon in chunks of [`CHUNK`] elements
/// (element-wise results do not depend on the chunking).
pub(crate) const PARALLEL_LEN: usize = 1 << 16;

/// Chunk length of the parallel maps.
const CHUNK: usize = 1 << 14;

/// `y[i] = f(x[i])`, in parallel chunks for long slices. Lengths must match (checked by
/// the callers).
#[inline(always)]
pub(crate) fn map<F: Fn(f32) -> f32 + Send + Sync + Copy>(x: &[f32], y: &mut [f32], f: F) {
    if x.len() >= PARALLEL_LEN {
        use rayon::prelude::*;
        x.par_chunks(CHUNK)
            .zip(y.par_chunks_mut(CHUNK))
            .for_each(move |(x, y)| map_serial(x, y, f));
    } else {
        map_serial(x, y, f)
    }
}

/// `dx[i] += dy[i]·g(x[i], y[i])`, in parallel chunks for long slices. Lengths must match
/// (checked by the callers).
#[inline(always)]
pub(crate) fn grad<F: Fn(f32, f32) -> f32 + Send + Sync + Copy>(
    x: &[f32],
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    g: F,
) {
    if x.len() >= PARALLEL_LEN {
        use rayon::prelude::*;
        x.par_chunks(CHUNK)
            .zip(y.par_chunks(CHUNK))
            .zip(dy.par_chunks(CHUNK))
            .zip(dx.par_chunks_mut(CHUNK))
            .for_each(move |(((x, y), dy), dx)| grad_serial(x, y, dy, dx, g));
    } else {
        grad_serial(x, y, dy, dx, g)
    }
}

/// `y[i] = f(x[i])` on the calling thread. Lengths must match (checked by the callers).
#[inline(always)]
pub(crate) fn map_serial<F: Fn(f32) -> f32>(x: &[f32], y: &mut [f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above), the only
        // requirement of calling a `target_feature(enable = "avx2,fma")` function.
        unsafe { map_avx2(x, y, f) };
        return;
    }
    map_body(x, y, f)
}

/// `dx[i] += dy[i]·g(x[i], y[i])` on the calling thread.
#[inline(always)]
fn grad_serial<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32], g: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        unsafe { grad_avx2(x, y, dy, dx, g) };
        return;
    }
    grad_body(x, y, dy, dx, g)
}

/// `g[i] ← g[i]·d(x[i], y[i])`, in parallel chunks for long slices: the input
/// gradient of an element-wise map written over its output gradient. Lengths must
/// match (checked by the callers).
#[inline(always)]
pub(crate) fn grad_in_place<F: Fn(f32, f32) -> f32 + Send + Sync + Copy>(
    x: &[f32],
    y: &[f32],
    g: &mut [f32],
    d: F,
) {
    if x.len() >= PARALLEL_LEN {
        use rayon::prelude::*;
        x.par_chunks(CHUNK)
            .zip(y.par_chunks(CHUNK))
            .zip(g.par_chunks_mut(CHUNK))
            .for_each(move |((x, y), g)| grad_in_place_serial(x, y, g, d));
    } else {
        grad_in_place_serial(x, y, g, d)
    }
}

/// `g[i] ← g[i]·d(x[i], y[i])` on the calling thread.
#[inline(always)]
fn grad_in_place_serial<F: Fn(f32, f32) -> f32>(x: &[f32], y: &[f32], g: &mut [f32], d: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        unsafe { grad_in_place_avx2(x, y, g, d) };
        return;
    }
    grad_in_place_body(x, y, g, d)
}

/// `y[i] ← f(y[i])` on the calling thread (callers split long slices themselves).
#[inline(always)]
pub(crate) fn map_in_place<F: Fn(f32) -> f32>(y: &mut [f32], f: F) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports avx2 and fma (checked just above).
        unsafe { map_in_place_avx2(y, f) };
        return;
    }
    map_in_place_body(y, f)
}
