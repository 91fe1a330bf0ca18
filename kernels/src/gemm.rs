//! Single-precision GEMM on strided slices: `C ← α·op(A)·op(B) + β·C`.
//!
//! The packed, cache-blocked inner work is matrixmultiply's `sgemm` (it picks its
//! AVX-512 / FMA+AVX2 / AVX / SSE micro-kernel at run time). This module adds:
//!
//! * safe slice entry points that check every index the product will touch;
//! * parallelism over rayon by splitting the **output** into blocks of rows (or of
//!   columns when there are few rows and many columns). K is never split, so every
//!   element of C is computed by exactly the same sequence of operations whatever the
//!   number of threads;
//! * chunk boundaries that depend only on `(m, n, k)` ([`plan`]), never on the thread
//!   count, so results are bit-identical with 1 or 2 threads (tested).
//!
//! matrixmultiply's own `threading` feature stays off: nesting its pool inside rayon
//! would oversubscribe the cores.

use rayon::prelude::*;

use crate::scratch::{with_scratch, Slot};
use crate::transpose::transpose;

/// Whether an operand is used as stored (`No`) or transposed (`Yes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// op(X) = X.
    No,
    /// op(X) = Xᵀ.
    Yes,
}

/// Products with fewer multiply-adds than this (m·n·k) run on the calling thread.
pub const PARALLEL_THRESHOLD: usize = 1 << 18;

/// Products with at least this many multiply-adds get 4 chunks instead of 2 (and 8 from
/// 8× this): only for very large products is repacking the shared operand per chunk
/// negligible, and there the extra chunks balance the load when another process holds
/// a core. Chunk counts stay even so that two threads get equal shares.
const WORK_FOR_FOUR_CHUNKS: usize = 1 << 29;

/// Chunk sizes are multiples of this (matrixmultiply's widest micro-tile is 16×16), so
/// no chunk wastes a partial tile except the last.
const TILE: usize = 16;

/// How a product is cut into independent output blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One block: the whole product on the calling thread.
    None,
    /// Blocks of `usize` consecutive rows of C (the last may be shorter).
    Rows(usize),
    /// Blocks of `usize` consecutive columns of C (the last may be shorter).
    Cols(usize),
    /// Slices of `usize` consecutive inner indices (the last may be shorter), each
    /// product into its own buffer, summed in slice order: for a small C with a
    /// long inner dimension, where splitting C would make every thread pack all
    /// of the long operand that C's split does not cut.
    Depth(usize),
}

/// A C of at most this many elements with an inner dimension of at least
/// `DEPTH_MIN_K` is split along k (e.g. a batch of 100 times a 6272 → 256 layer).
const DEPTH_MAX_C: usize = 1 << 16;
/// See [`DEPTH_MAX_C`].
const DEPTH_MIN_K: usize = 2048;

/// The split used for an `m × n` output with inner dimension `k`.
///
/// A pure function of the shape: this is what makes the parallel product deterministic.
/// Measured on 2 cores (see `examples/gemm_tune.rs`): two equal chunks beat finer
/// splits for every shape up to ~512³, because each chunk repacks the operand it
/// shares with the others; rows are split when there are many of them (each chunk packs
/// all of B), columns when there are few rows (an MLP layer with a batch of 100 rows
/// and 500 outputs becomes two 100×256 blocks, and each thread packs only half of B).
pub fn plan(m: usize, n: usize, k: usize) -> Split {
    let work = m.saturating_mul(n).saturating_mul(k);
    if work < PARALLEL_THRESHOLD {
        return Split::None;
    }
    let want = if work < WORK_FOR_FOUR_CHUNKS {
        2
    } else if work < 8 * WORK_FOR_FOUR_CHUNKS {
        4
    } else {
        8
    };
    if m * n <= DEPTH_MAX_C && k >= DEPTH_MIN_K {
        // Slices of a multiple of 256 (matrixmultiply's k-block).
        return Split::Depth(k.div_ceil(want).next_multiple_of(256));
    }
    let (len, make): (usize, fn(usize) -> Split) =
        if m >= 256 || (m >= n && m >= 4 * TILE) || (n < 4 * TILE && m >= 2 * TILE) {
            (m, Split::Rows)
        } else if n >= 2 * TILE {
            (n, Split::Cols)
        } else {
            return Split::None;
        };
    let chunk = len.div_ceil(want).next_multiple_of(TILE);
    if chunk >= len {
        Split::None
    } else {
        make(chunk)
    }
}

/// Row-major BLAS-like product: `C (m×n, leading dim ldc) ← α·op(A)·op(B) + β·C`,
/// where op(A) is m×k and op(B) is k×n.
///
/// `A` is stored row-major with leading dimension `lda`: as an m×k matrix if
/// `ta == No`, as a k×m matrix if `ta == Yes`. The same holds for `B` (k×n or n×k).
/// `β == 0` overwrites C (NaNs already in C are ignored).
///
/// # Panics
/// If a leading dimension is smaller than its row length, or a slice is too short for
/// the elements the product touches.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    beta: f32,
    c: &mut [f32],
    ldc: usize,
) {
    let ((rsa, csa), (rsb, csb)) = strides("sgemm", (ta, tb), (m, n, k), lda, ldb);
    assert!(ldc >= n, "sgemm: ldc = {ldc} < n = {n}");
    sgemm_strided(m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, ldc, 1);
}

/// The (row, column) strides of op(A) and op(B) stored row-major with leading
/// dimensions `lda`, `ldb`; panics (naming `name`) if a leading dimension is
/// shorter than its stored row.
fn strides(
    name: &str,
    (ta, tb): (Transpose, Transpose),
    (m, n, k): (usize, usize, usize),
    lda: usize,
    ldb: usize,
) -> ((usize, usize), (usize, usize)) {
    let (rsa, csa, a_cols) = match ta {
        Transpose::No => (lda, 1, k),
        Transpose::Yes => (1, lda, m),
    };
    let (rsb, csb, b_cols) = match tb {
        Transpose::No => (ldb, 1, n),
        Transpose::Yes => (1, ldb, k),
    };
    assert!(
        lda >= a_cols,
        "{name}: lda = {lda} < {a_cols} columns of stored A"
    );
    assert!(
        ldb >= b_cols,
        "{name}: ldb = {ldb} < {b_cols} columns of stored B"
    );
    ((rsa, csa), (rsb, csb))
}

/// Number of elements a `rows × cols` matrix with strides `(rs, cs)` spans (0 if empty).
fn span(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

/// [`check_lengths`] plus the rule of the fast paths: C's strides must not
/// make two output elements share a slot.
fn check_product(
    name: &str,
    (m, n, k): (usize, usize, usize),
    a: (usize, usize, usize),
    b: (usize, usize, usize),
    c: (usize, usize, usize),
) {
    check_lengths(name, m, n, k, a, b, c);
    let (rsc, csc) = (c.1, c.2);
    assert!(
        (m <= 1 || rsc > 0) && (n <= 1 || csc > 0),
        "{name}: C strides ({rsc}, {csc}) make output elements alias"
    );
}

/// Panics unless the three slices hold every element the product touches.
#[allow(clippy::too_many_arguments)]
fn check_lengths(
    name: &str,
    m: usize,
    n: usize,
    k: usize,
    a: (usize, usize, usize),
    b: (usize, usize, usize),
    c: (usize, usize, usize),
) {
    let need_a = span(m, k, a.1, a.2);
    let need_b = span(k, n, b.1, b.2);
    let need_c = span(m, n, c.1, c.2);
    assert!(
        a.0 >= need_a,
        "{name}: A has {} elements, the {m}x{k} operand with strides ({}, {}) needs {need_a}",
        a.0,
        a.1,
        a.2
    );
    assert!(
        b.0 >= need_b,
        "{name}: B has {} elements, the {k}x{n} operand with strides ({}, {}) needs {need_b}",
        b.0,
        b.1,
        b.2
    );
    assert!(
        c.0 >= need_c,
        "{name}: C has {} elements, the {m}x{n} output with strides ({}, {}) needs {need_c}",
        c.0,
        c.1,
        c.2
    );
}

/// Fully strided product: `C ← α·A·B + β·C` with A m×k, B k×n, C m×n, where element
/// `(i, j)` of C is `c[i*rsc + j*csc]` (likewise for A and B). Strides may be any
/// positive values (row-major, column-major, transposed views, gaps).
///
/// Output blocks run in parallel on rayon when the product is large and C's layout
/// guarantees that distinct `(i, j)` map to distinct elements; otherwise the product
/// runs on the calling thread. `β == 0` overwrites C.
///
/// # Panics
/// If a slice is too short for the elements the product touches, or `rsc`/`csc` is 0
/// while C has more than one row/column (C elements would alias).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_strided(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    check_product(
        "sgemm_strided",
        (m, n, k),
        (a.len(), rsa, csa),
        (b.len(), rsb, csb),
        (c.len(), rsc, csc),
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the lengths were checked above and `c` is uniquely borrowed for the call.
    unsafe {
        parallel_sgemm(
            m,
            n,
            k,
            alpha,
            a,
            rsa,
            csa,
            b,
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        )
    }
}

/// `C ← α·op(A)·op(B)` into uninitialised storage: C is `m × n`, dense and
/// row-major (leading dimension `n`); every element is written, none is read
/// (matrixmultiply reads C only when β ≠ 0). For outputs and fresh gradient
/// buffers, which would otherwise be zeroed first and then read back.
///
/// # Panics
/// As [`sgemm`], or if `c` holds fewer than `m·n` elements.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_uninit(
    ta: Transpose,
    tb: Transpose,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    lda: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [std::mem::MaybeUninit<f32>],
) {
    let ((rsa, csa), (rsb, csb)) = strides("sgemm_uninit", (ta, tb), (m, n, k), lda, ldb);
    check_product(
        "sgemm_uninit",
        (m, n, k),
        (a.len(), rsa, csa),
        (b.len(), rsb, csb),
        (c.len(), n, 1),
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // An empty sum; matrixmultiply would scale C by β, reading it.
        c[..m * n].fill(std::mem::MaybeUninit::new(0.0));
        return;
    }
    // SAFETY: the lengths were checked above; with β = 0 matrixmultiply only writes
    // C, so uninitialised elements are never read; `c` is uniquely borrowed.
    unsafe {
        parallel_sgemm(
            m,
            n,
            k,
            alpha,
            a,
            rsa,
            csa,
            b,
            rsb,
            csb,
            0.0,
            c.as_mut_ptr().cast(),
            n,
            1,
        )
    }
}

/// The body of [`sgemm_strided`] after its checks: splits C into blocks for rayon
/// when the product is large and C's blocks are disjoint.
///
/// # Safety
/// `a`, `b` and `c` must hold every element the product touches (as checked by
/// [`check_product`]); nothing else may access C's elements during the call; C's
/// elements must be initialised unless β = 0.
#[allow(clippy::too_many_arguments)]
unsafe fn parallel_sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
) {
    // Distinct (i, j) are distinct elements when rows (or columns) occupy disjoint
    // address ranges; only then may blocks of C be written from several threads.
    let disjoint = rsc >= span(1, n, 0, csc) || csc >= span(m, 1, rsc, 0) || m == 1 || n == 1;
    let split = if disjoint { plan(m, n, k) } else { Split::None };
    let c_ptr = SendPtr(c);
    // SAFETY (for every call below): the lengths were checked above, so every element
    // `a[i*rsa + p*csa]`, `b[p*rsb + j*csb]`, `c[i*rsc + j*csc]` for i < m, p < k, j < n
    // is in bounds; strides fit in isize because the offsets are within slices.
    match split {
        // SAFETY: see the function's contract.
        Split::None => unsafe {
            raw_sgemm(
                m,
                n,
                k,
                alpha,
                a.as_ptr(),
                rsa,
                csa,
                b.as_ptr(),
                rsb,
                csb,
                beta,
                c_ptr.0,
                rsc,
                csc,
            )
        },
        Split::Rows(_) if Relayout::of(m, n, k, (rsa, csa), (rsb, csb)).b => {
            // Every row block would transpose all of B for itself: transpose it once,
            // shared by the blocks, which then multiply by a row-major B.
            with_scratch(Slot::GemmShared, k * n, |bt| {
                // Stored B is n rows of k values, `csb` apart (its span was checked).
                transpose_shared(&b[..(n - 1) * csb + k], n, k, csb, bt);
                // SAFETY: as the caller's contract, with B now the dense k × n `bt`.
                unsafe {
                    parallel_sgemm(
                        m, n, k, alpha, a, rsa, csa, &*bt, n, 1, beta, c_ptr.0, rsc, csc,
                    )
                }
            })
        }
        Split::Rows(chunk) => (0..m.div_ceil(chunk)).into_par_iter().for_each(|t| {
            let i0 = t * chunk;
            let rows = chunk.min(m - i0);
            // Rebinding makes the closure capture the whole `SendPtr` (Send), not its
            // raw-pointer field (edition-2021 disjoint capture).
            #[allow(clippy::redundant_locals)]
            let c_ptr = c_ptr;
            // SAFETY: rows i0..i0+rows of A and C are in bounds (checked above); the
            // row blocks of C are disjoint element sets (`disjoint` above), so no two
            // tasks write the same element, and nothing else accesses `c` meanwhile
            // (we hold its unique borrow until for_each returns).
            unsafe {
                raw_sgemm(
                    rows,
                    n,
                    k,
                    alpha,
                    a.as_ptr().add(i0 * rsa),
                    rsa,
                    csa,
                    b.as_ptr(),
                    rsb,
                    csb,
                    beta,
                    c_ptr.0.add(i0 * rsc),
                    rsc,
                    csc,
                )
            }
        }),
        Split::Depth(chunk) => {
            let parts: Vec<Vec<f32>> = (0..k.div_ceil(chunk))
                .into_par_iter()
                .map(|t| {
                    let p0 = t * chunk;
                    let depth = chunk.min(k - p0);
                    let mut part = vec![0f32; m * n];
                    // SAFETY: columns p0..p0+depth of A and rows p0..p0+depth of B are
                    // in bounds (checked by the caller); `part` is a dense m×n buffer
                    // owned by this task.
                    unsafe {
                        raw_sgemm(
                            m,
                            n,
                            depth,
                            1.0,
                            a.as_ptr().add(p0 * csa),
                            rsa,
                            csa,
                            b.as_ptr().add(p0 * rsb),
                            rsb,
                            csb,
                            0.0,
                            part.as_mut_ptr(),
                            n,
                            1,
                        )
                    };
                    part
                })
                .collect();
            for i in 0..m {
                for j in 0..n {
                    let sum = parts[1..]
                        .iter()
                        .fold(parts[0][i * n + j], |s, p| s + p[i * n + j]);
                    // SAFETY: (i, j) is in bounds (checked by the caller) and no task
                    // is running any more; C is read only when β ≠ 0 (initialised).
                    unsafe {
                        let cij = c_ptr.0.add(i * rsc + j * csc);
                        *cij = if beta == 0.0 {
                            alpha * sum
                        } else {
                            alpha * sum + beta * *cij
                        };
                    }
                }
            }
        }
        Split::Cols(chunk) => (0..n.div_ceil(chunk)).into_par_iter().for_each(|t| {
            let j0 = t * chunk;
            let cols = chunk.min(n - j0);
            // Rebinding makes the closure capture the whole `SendPtr` (Send), not its
            // raw-pointer field (edition-2021 disjoint capture).
            #[allow(clippy::redundant_locals)]
            let c_ptr = c_ptr;
            // SAFETY: as for rows: columns j0..j0+cols of B and C are in bounds and the
            // column blocks of C are disjoint element sets.
            unsafe {
                raw_sgemm(
                    m,
                    cols,
                    k,
                    alpha,
                    a.as_ptr(),
                    rsa,
                    csa,
                    b.as_ptr().add(j0 * csb),
                    rsb,
                    csb,
                    beta,
                    c_ptr.0.add(j0 * csc),
                    rsc,
                    csc,
                )
            }
        }),
    }
}

/// [`sgemm_strided`] on the calling thread only: for kernels that already run one
/// product per rayon task (e.g. a convolution parallel over images).
///
/// # Panics
/// As [`sgemm_strided`].
#[allow(clippy::too_many_arguments)]
pub fn sgemm_strided_serial(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    check_product(
        "sgemm_strided_serial",
        (m, n, k),
        (a.len(), rsa, csa),
        (b.len(), rsb, csb),
        (c.len(), rsc, csc),
    );
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the lengths were checked above, so every element the product touches is
    // in bounds; `c` is uniquely borrowed for the call and strides come from in-bounds
    // offsets (so they fit in isize).
    unsafe {
        raw_sgemm(
            m,
            n,
            k,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            rsc,
            csc,
        )
    }
}

/// A raw output pointer that may cross to rayon workers; each worker writes only its
/// own block of C (see the SAFETY notes at the use sites).
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: the pointer is only dereferenced by matrixmultiply on disjoint blocks of C
// while the caller's `&mut [f32]` borrow is held, so sharing it is data-race free.
unsafe impl Send for SendPtr {}
// SAFETY: see `Send`; the wrapper is only copied, never written through concurrently at
// the same element.
unsafe impl Sync for SendPtr {}

/// `dst (c × r) = srcᵀ` for a row-major `src` (r × c, rows `ld` apart), in parallel
/// blocks of destination rows (source columns) when large: element moves only, so
/// the result does not depend on the split.
fn transpose_shared(src: &[f32], r: usize, c: usize, ld: usize, dst: &mut [f32]) {
    const COLS: usize = 128;
    if r * c < RELAYOUT_MIN * 8 {
        transpose(src, r, c, ld, dst);
        return;
    }
    dst[..r * c]
        .par_chunks_mut(COLS * r)
        .enumerate()
        .for_each(|(t, blk)| {
            let j0 = t * COLS;
            transpose(&src[j0..], r, blk.len() / r, ld, blk);
        });
}

/// matrixmultiply's sgemm with unsigned strides.
///
/// # Safety
/// * `a` must be valid for reads of `a[i*rsa + p*csa]` for all i < m, p < k;
/// * `b` must be valid for reads of `b[p*rsb + j*csb]` for all p < k, j < n;
/// * `c` must be valid for reads and writes of `c[i*rsc + j*csc]` for all i < m, j < n,
///   distinct (i, j) must address distinct elements, and no other thread may access
///   those elements during the call;
/// * every stride must fit in `isize` (true for strides of in-bounds slice offsets).
#[allow(clippy::too_many_arguments)]
unsafe fn raw_sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    rsb: usize,
    csb: usize,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
) {
    let plan = Relayout::of(m, n, k, (rsa, csa), (rsb, csb));
    if plan.a || plan.b {
        // SAFETY: forwarded from this function's contract.
        unsafe {
            relayout_sgemm(
                plan, m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc,
            )
        };
        return;
    }
    // SAFETY: forwarded from this function's contract; matrixmultiply reads exactly the
    // A and B elements listed there, and reads (unless β = 0) and writes exactly the C
    // elements listed there.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a,
            rsa as isize,
            csa as isize,
            b,
            rsb as isize,
            csb as isize,
            beta,
            c,
            rsc as isize,
            csc as isize,
        )
    }
}

/// Operands with at least this many elements are re-laid out when matrixmultiply would
/// gather them (see [`Relayout`]).
pub const RELAYOUT_MIN: usize = 1 << 15;

/// matrixmultiply's k-block for f32 (`S_KC`): the re-laid-out product runs one call per
/// k-block, so that each C element sees exactly the operations of a single call.
const KC: usize = 256;

/// Columns of B re-laid out at a time: a multiple of every micro-tile width (16) whose
/// KC × NB block (512 KiB) stays in a core's L2 between the transpose and the packing.
const NB: usize = 512;

/// Which operands of a product get re-laid out before matrixmultiply packs them.
///
/// matrixmultiply packs A in panels of 16 rows and B in panels of 16 columns, one
/// k-index at a time. That is a 16-element contiguous copy when A is column-major or B
/// row-major, but 16 scalar loads a row apart when A is row-major or B is stored
/// transposed: the `x·Wᵀ` of every linear layer's forward pass gathers both. Large such
/// operands are instead transposed block by block (8×8 register tiles) into scratch
/// buffers that stay in cache for the packing. The packed panels hold the same values in
/// the same order, and the k-blocks are matrixmultiply's own, so the result is
/// bit-identical to a direct call (tested). When the product is split into row blocks,
/// a gathered B is transposed once, in parallel, for all blocks (each block used to
/// transpose all of it). Measured on 2 threads (`beta_shapes`
/// example), batch 100 through 6272 → 256 → 6272: the forward products went from
/// 2.9–3.1 to 2.2–2.4 ms each; the β-VAE's training step gained 2–17 % (median of
/// six alternating runs about 3 %).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relayout {
    /// op(A) is row-major (rows `rsa` apart, unit column stride) and large.
    pub a: bool,
    /// op(B) is stored transposed (unit row stride, columns `csb` apart) and large.
    pub b: bool,
}

impl Relayout {
    /// The plan for an m × n × k product with the given operand strides.
    pub fn of(
        m: usize,
        n: usize,
        k: usize,
        (rsa, csa): (usize, usize),
        (rsb, csb): (usize, usize),
    ) -> Relayout {
        let big = |r: usize, c: usize| r > 1 && c > 1 && r.saturating_mul(c) >= RELAYOUT_MIN;
        Relayout {
            a: csa == 1 && rsa > 1 && big(m, k),
            b: rsb == 1 && csb > 1 && big(k, n),
        }
    }
}

/// [`raw_sgemm`] with the operands flagged in `plan` transposed into per-thread scratch
/// buffers, one k-block (and, for B, one block of [`NB`] columns) at a time.
///
/// # Safety
/// As [`raw_sgemm`]; in addition `a` and `b` must each point into one slice holding the
/// whole span of the operand (true of every caller: offsets into checked slices).
#[allow(clippy::too_many_arguments)]
unsafe fn relayout_sgemm(
    plan: Relayout,
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    rsb: usize,
    csb: usize,
    beta: f32,
    c: *mut f32,
    rsc: usize,
    csc: usize,
) {
    let nb = if plan.b { NB } else { n };
    for p0 in (0..k).step_by(KC) {
        let kb = KC.min(k - p0);
        // Later k-blocks add to what the earlier ones wrote, as matrixmultiply does.
        let beta_p = if p0 == 0 { beta } else { 1.0 };
        // SAFETY: the span of columns p0..p0+kb of A lies inside A's span.
        let a_blk = unsafe { a.add(p0 * csa) };
        with_scratch(Slot::GemmA, if plan.a { m * kb } else { 0 }, |at| {
            let (a_blk, rsa, csa) = if plan.a {
                // SAFETY: rows 0..m of A, columns p0..p0+kb, rows `rsa` apart.
                let stored = unsafe { std::slice::from_raw_parts(a_blk, (m - 1) * rsa + kb) };
                // at (kb × m) = the block transposed: A column-major, rows 1 apart.
                transpose(stored, m, kb, rsa, at);
                (at.as_ptr(), 1, m)
            } else {
                (a_blk, rsa, csa)
            };
            for j0 in (0..n).step_by(nb) {
                let nj = nb.min(n - j0);
                // SAFETY: rows p0.. and columns j0.. of op(B) lie inside B's span.
                let b_blk = unsafe { b.add(p0 * rsb + j0 * csb) };
                with_scratch(Slot::GemmB, if plan.b { kb * nj } else { 0 }, |bt| {
                    let (b_blk, rsb, csb) = if plan.b {
                        // SAFETY: the stored block is nj rows (`csb` apart) of kb values.
                        let stored =
                            unsafe { std::slice::from_raw_parts(b_blk, (nj - 1) * csb + kb) };
                        // bt (kb × nj) = op(B)'s block row-major.
                        transpose(stored, nj, kb, csb, bt);
                        (bt.as_ptr(), nj, 1)
                    } else {
                        (b_blk, rsb, csb)
                    };
                    // SAFETY: every operand block is in bounds (above); C's columns
                    // j0..j0+nj are part of the caller's C. The re-laid-out operands
                    // are contiguous, so this call packs them directly.
                    unsafe {
                        raw_sgemm(
                            m,
                            nj,
                            kb,
                            alpha,
                            a_blk,
                            rsa,
                            csa,
                            b_blk,
                            rsb,
                            csb,
                            beta_p,
                            c.add(j0 * csc),
                            rsc,
                            csc,
                        )
                    }
                });
            }
        });
    }
}

/// Naive triple-loop reference with the same semantics as [`sgemm_strided`]
/// (f64 accumulation; `β == 0` overwrites C). Used by tests and as documentation.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_naive(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    rsb: usize,
    csb: usize,
    beta: f32,
    c: &mut [f32],
    rsc: usize,
    csc: usize,
) {
    check_lengths(
        "sgemm_naive",
        m,
        n,
        k,
        (a.len(), rsa, csa),
        (b.len(), rsb, csb),
        (c.len(), rsc, csc),
    );
    for i in 0..m {
        for j in 0..n {
            let mut acc = 0.0f64;
            for p in 0..k {
                acc += a[i * rsa + p * csa] as f64 * b[p * rsb + j * csb] as f64;
            }
            let ci = &mut c[i * rsc + j * csc];
            let prev = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * *ci as f64
            };
            *ci = (alpha as f64 * acc + prev) as f32;
        }
    }
}
