//! sgemm / sgemm_strided against the naive f64-accumulating triple loop, over random
//! shapes (including 1s and odd sizes), every layout (row-major, column-major, gapped
//! strides), all four transpose combinations and α/β ≠ 0/1; plus determinism across
//! thread counts and the β = 0 / NaN contract.

use proptest::prelude::*;
use sparselabel_kernels::gemm::{plan, Split};
use sparselabel_kernels::{sgemm, sgemm_naive, sgemm_strided, sgemm_uninit, Transpose};

/// Deterministic pseudo-random fill in [-1, 1).
fn fill(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// Strides of an r×c matrix: 0 = row-major (with a gap of `pad`), 1 = column-major,
/// 2 = both strides > 1 (gapped). Returns (rs, cs, storage length).
fn layout(kind: u8, r: usize, c: usize, pad: usize) -> (usize, usize, usize) {
    let (rs, cs) = match kind {
        0 => (c + pad, 1),
        1 => (1, r + pad),
        _ => (2 * c + pad + 1, 2),
    };
    let len = if r == 0 || c == 0 {
        0
    } else {
        (r - 1) * rs + (c - 1) * cs + 1
    };
    (rs, cs, len)
}

/// Tolerance: f32 accumulation over k terms has error ≤ ~k·ε·Σ|a||b| (ε = 2^-24 ≈ 6e-8);
/// matrixmultiply's FMA kernel does better in practice. We allow 4·(k+2)·ε relative to the
/// magnitude M = |α|·Σ_p|a_ip·b_pj| + |β·c_ij|, which holds for any summation order.
#[allow(clippy::too_many_arguments)]
fn check(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    beta: f32,
    c0: &[f32],
    (rsc, csc): (usize, usize),
    got: &[f32],
) -> Result<(), String> {
    let mut want = c0.to_vec();
    sgemm_naive(
        m, n, k, alpha, a, rsa, csa, b, rsb, csb, beta, &mut want, rsc, csc,
    );
    let eps = f32::EPSILON as f64 / 2.0;
    for i in 0..m {
        for j in 0..n {
            let mut mag = 0.0f64;
            for p in 0..k {
                mag += (a[i * rsa + p * csa] as f64 * b[p * rsb + j * csb] as f64).abs();
            }
            let idx = i * rsc + j * csc;
            let prev = if beta == 0.0 {
                0.0
            } else {
                (beta as f64 * c0[idx] as f64).abs()
            };
            let tol = 4.0 * (k as f64 + 2.0) * eps * (alpha.abs() as f64 * mag + prev) + 1e-30;
            let d = (got[idx] as f64 - want[idx] as f64).abs();
            if d > tol || got[idx].is_nan() {
                return Err(format!(
                    "C[{i},{j}] = {} want {} (diff {d:e} > tol {tol:e}), m={m} n={n} k={k}",
                    got[idx], want[idx]
                ));
            }
        }
    }
    // Elements of C outside the matrix (gaps) must be untouched.
    let mut inside = vec![false; c0.len()];
    for i in 0..m {
        for j in 0..n {
            inside[i * rsc + j * csc] = true;
        }
    }
    for (idx, &flag) in inside.iter().enumerate() {
        if !flag && got[idx].to_bits() != c0[idx].to_bits() {
            return Err(format!("gap element {idx} of C was written"));
        }
    }
    Ok(())
}

fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![Just(1usize), 1usize..=9, 10usize..=40]
}

fn scalar() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), Just(1.0f32), Just(-0.5f32), -2.0f32..2.0]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn strided_matches_naive(
        m in dim(), n in dim(), k in dim(),
        la in 0u8..3, lb in 0u8..3, lc in 0u8..3, pad in 0usize..3,
        alpha in scalar(), beta in scalar(), seed in any::<u64>(),
    ) {
        let (rsa, csa, len_a) = layout(la, m, k, pad);
        let (rsb, csb, len_b) = layout(lb, k, n, pad);
        let (rsc, csc, len_c) = layout(lc, m, n, pad);
        let a = fill(len_a, seed);
        let b = fill(len_b, seed ^ 1);
        let c0 = fill(len_c, seed ^ 2);
        let mut c = c0.clone();
        sgemm_strided(m, n, k, alpha, &a, rsa, csa, &b, rsb, csb, beta, &mut c, rsc, csc);
        check(m, n, k, alpha, &a, (rsa, csa), &b, (rsb, csb), beta, &c0, (rsc, csc), &c)
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn transpose_combos_match_naive(
        m in dim(), n in dim(), k in dim(), ta in any::<bool>(), tb in any::<bool>(),
        pad in 0usize..3, alpha in scalar(), beta in scalar(), seed in any::<u64>(),
    ) {
        let ta = if ta { Transpose::Yes } else { Transpose::No };
        let tb = if tb { Transpose::Yes } else { Transpose::No };
        let (ar, ac) = if ta == Transpose::No { (m, k) } else { (k, m) };
        let (br, bc) = if tb == Transpose::No { (k, n) } else { (n, k) };
        let (lda, ldb, ldc) = (ac + pad, bc + pad, n + pad);
        let a = fill((ar - 1) * lda + ac, seed);
        let b = fill((br - 1) * ldb + bc, seed ^ 1);
        let c0 = fill((m - 1) * ldc + n, seed ^ 2);
        let mut c = c0.clone();
        sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut c, ldc);
        let sa = if ta == Transpose::No { (lda, 1) } else { (1, lda) };
        let sb = if tb == Transpose::No { (ldb, 1) } else { (1, ldb) };
        check(m, n, k, alpha, &a, sa, &b, sb, beta, &c0, (ldc, 1), &c)
            .map_err(TestCaseError::fail)?;
    }
}

/// `sgemm_uninit` writes exactly what `sgemm` with β = 0 writes (bit for bit, so the
/// naive comparisons above cover it too), over every transpose, the parallel
/// shapes, and k = 0, whatever garbage the output held.
#[test]
fn uninit_output_equals_beta_zero() {
    let shapes = [
        (3, 4, 5),
        (1, 1, 1),
        (7, 5, 0),
        (100, 70, 60),
        (33, 300, 50),
        (257, 17, 80),
        (20, 30, 5000),
    ];
    for (si, &(m, n, k)) in shapes.iter().enumerate() {
        for (ta, tb) in [
            (Transpose::No, Transpose::No),
            (Transpose::Yes, Transpose::No),
            (Transpose::No, Transpose::Yes),
            (Transpose::Yes, Transpose::Yes),
        ] {
            let lda = if ta == Transpose::No { k } else { m };
            let ldb = if tb == Transpose::No { n } else { k };
            let a = fill(m * k, 21 + si as u64);
            let b = fill(k * n, 22);
            let mut want = vec![f32::NAN; m * n];
            sgemm(
                ta,
                tb,
                m,
                n,
                k,
                0.5,
                &a,
                lda.max(1),
                &b,
                ldb.max(1),
                0.0,
                &mut want,
                n,
            );
            let mut got = vec![std::mem::MaybeUninit::new(f32::NAN); m * n];
            sgemm_uninit(
                ta,
                tb,
                m,
                n,
                k,
                0.5,
                &a,
                lda.max(1),
                &b,
                ldb.max(1),
                &mut got,
            );
            // SAFETY: sgemm_uninit wrote every element (and they started initialised).
            let got: Vec<u32> = got
                .iter()
                .map(|v| unsafe { v.assume_init() }.to_bits())
                .collect();
            let want: Vec<u32> = want.iter().map(|v| v.to_bits()).collect();
            assert_eq!(got, want, "{m}x{n}x{k} {ta:?} {tb:?}");
        }
    }
}

/// Shapes large enough to take the parallel path (row and column splits), every layout.
#[test]
fn parallel_shapes_match_naive() {
    let shapes = [
        (100, 70, 60),
        (33, 300, 50),
        (130, 129, 31),
        (257, 17, 80),
        (1, 700, 400),
        (20, 30, 5000),
    ];
    for (si, &(m, n, k)) in shapes.iter().enumerate() {
        assert!(m * n * k >= sparselabel_kernels::gemm::PARALLEL_THRESHOLD || m == 1);
        for lc in 0..3u8 {
            let la = (si as u8 + lc) % 3;
            let lb = (si as u8 + 2 * lc) % 3;
            let (rsa, csa, len_a) = layout(la, m, k, 1);
            let (rsb, csb, len_b) = layout(lb, k, n, 0);
            let (rsc, csc, len_c) = layout(lc, m, n, 2);
            let a = fill(len_a, 11 + si as u64);
            let b = fill(len_b, 12);
            let c0 = fill(len_c, 13);
            let mut c = c0.clone();
            sgemm_strided(
                m, n, k, 0.75, &a, rsa, csa, &b, rsb, csb, -1.25, &mut c, rsc, csc,
            );
            check(
                m,
                n,
                k,
                0.75,
                &a,
                (rsa, csa),
                &b,
                (rsb, csb),
                -1.25,
                &c0,
                (rsc, csc),
                &c,
            )
            .unwrap_or_else(|e| panic!("layout {la}{lb}{lc}: {e}"));
        }
    }
}

#[test]
fn plan_depends_on_shape_only_and_splits_large_products() {
    assert_eq!(plan(8, 8, 8), Split::None);
    assert!(matches!(plan(100, 500, 784), Split::Cols(_)));
    assert!(matches!(plan(1000, 500, 500), Split::Rows(_)));
    assert!(matches!(plan(512, 512, 512), Split::Rows(256)));
}

/// The same product inside 1- and 2-thread pools must be bit-identical.
#[test]
fn deterministic_across_thread_counts() {
    for &(m, n, k) in &[(300, 200, 150), (100, 500, 784), (64, 1000, 40)] {
        let a = fill(m * k, 1);
        let b = fill(k * n, 2);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut c = fill(m * n, 3);
            pool.install(|| {
                sgemm(
                    Transpose::No,
                    Transpose::Yes,
                    m,
                    n,
                    k,
                    1.5,
                    &a,
                    k,
                    &b_t(&b, k, n),
                    k,
                    0.5,
                    &mut c,
                    n,
                )
            });
            c.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(2), "shape {m}x{n}x{k}");
    }
}

/// Operands matrixmultiply would gather are re-laid out first (`gemm::Relayout`): the
/// product must be bit-identical to the one with the operand stored the other way, for
/// A and for B, on every split.
#[test]
fn relayout_is_bit_identical() {
    use sparselabel_kernels::gemm::Relayout;
    // Odd sizes (partial k-blocks and tiles), then Rows, Cols and Depth splits; every
    // operand above RELAYOUT_MIN. (A Split::None product runs the same per-block code.)
    // Row splits transpose a gathered B once for all blocks, in parallel column blocks
    // when it is large (600×700×500, with a partial block).
    let shapes = [
        (33, 45, 1001),
        (600, 300, 200),
        (600, 700, 500),
        (100, 6272, 400),
        (100, 256, 6272),
    ];
    let kinds: Vec<Split> = shapes.iter().map(|&(m, n, k)| plan(m, n, k)).collect();
    assert!(matches!(kinds[1], Split::Rows(_)));
    assert!(matches!(kinds[2], Split::Rows(_)));
    assert!(matches!(kinds[3], Split::Cols(_)));
    assert!(matches!(kinds[4], Split::Depth(_)));
    let bits = |c: &[f32]| c.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for &(m, n, k) in &shapes {
        let a = fill(m * k, 21);
        let b = fill(k * n, 22);
        let (at, bt) = (b_t(&a, m, k), b_t(&b, k, n));
        let c0 = fill(m * n, 23);
        let product = |ta, a: &[f32], lda, tb, b: &[f32], ldb| {
            let mut c = c0.clone();
            sgemm(ta, tb, m, n, k, 0.5, a, lda, b, ldb, 2.0, &mut c, n);
            c
        };
        let (no, yes) = (Transpose::No, Transpose::Yes);
        // Neither operand gathered: the direct call.
        assert_eq!(
            Relayout::of(m, n, k, (1, m), (n, 1)),
            Relayout { a: false, b: false }
        );
        let direct = product(yes, &at, m, no, &b, n);
        assert_eq!(
            Relayout::of(m, n, k, (k, 1), (1, k)),
            Relayout { a: true, b: true }
        );
        let both = product(no, &a, k, yes, &bt, k);
        let only_a = product(no, &a, k, no, &b, n);
        let only_b = product(yes, &at, m, yes, &bt, k);
        for (name, got) in [("A and B", &both), ("A", &only_a), ("B", &only_b)] {
            assert_eq!(bits(got), bits(&direct), "{m}x{n}x{k}: {name} re-laid out");
        }
        check(
            m,
            n,
            k,
            0.5,
            &a,
            (k, 1),
            &b,
            (n, 1),
            2.0,
            &c0,
            (n, 1),
            &both,
        )
        .unwrap_or_else(|e| panic!("{m}x{n}x{k}: {e}"));
    }
}

/// Transposes a k×n row-major matrix into n×k.
fn b_t(b: &[f32], k: usize, n: usize) -> Vec<f32> {
    let mut t = vec![0.0; k * n];
    for p in 0..k {
        for j in 0..n {
            t[j * k + p] = b[p * n + j];
        }
    }
    t
}

#[test]
fn beta_zero_ignores_nan_in_c() {
    for &(m, n, k) in &[(3, 4, 5), (120, 90, 70), (5, 6, 0)] {
        let a = fill(m * k, 4);
        let b = fill(k * n, 5);
        let mut c = vec![f32::NAN; m * n];
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
        );
        assert!(c.iter().all(|x| x.is_finite()), "shape {m}x{n}x{k}");
    }
}

#[test]
#[should_panic(expected = "B has")]
fn short_b_panics() {
    let a = vec![0.0; 6];
    let b = vec![0.0; 5];
    let mut c = vec![0.0; 4];
    sgemm(
        Transpose::No,
        Transpose::No,
        2,
        2,
        3,
        1.0,
        &a,
        3,
        &b,
        2,
        0.0,
        &mut c,
        2,
    );
}

#[test]
#[should_panic(expected = "lda")]
fn small_lda_panics() {
    let a = vec![0.0; 6];
    let b = vec![0.0; 6];
    let mut c = vec![0.0; 4];
    sgemm(
        Transpose::No,
        Transpose::No,
        2,
        2,
        3,
        1.0,
        &a,
        2,
        &b,
        2,
        0.0,
        &mut c,
        2,
    );
}
