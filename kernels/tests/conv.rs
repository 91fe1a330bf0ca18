//! conv2d / conv_transpose2d fast paths against the naive direct loops, over random
//! shapes (channels, sizes, kernels, strides, paddings, output paddings, dims of 1) and
//! the cases peers got wrong: C == H == W, stride 2 with padding, odd sizes, kernel ==
//! input (the 9×9 conv on a 9×9 input), Cin = 1, Cout = 1, and the catvae layers.
//! Also: backward-weight bit-identical with 1 and 2 threads.

use proptest::prelude::*;
use sparselabel_kernels::conv::*;

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

fn abs(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| x.abs()).collect()
}

/// Tolerance: each output is a sum of at most `terms` products; any f32 summation order
/// has error ≤ ~terms·ε·Σ|products|. `mag` is that Σ|products| (+ |initial value|),
/// obtained by running the naive kernel on absolute values. We allow 4·(terms+2)·ε·mag.
fn close(name: &str, got: &[f32], want: &[f32], mag: &[f32], terms: usize) -> Result<(), String> {
    let eps = f32::EPSILON as f64 / 2.0;
    for i in 0..want.len() {
        let tol = 4.0 * (terms as f64 + 2.0) * eps * mag[i] as f64 + 1e-30;
        let d = (got[i] as f64 - want[i] as f64).abs();
        // (a NaN difference fails too)
        if d > tol || d.is_nan() {
            return Err(format!(
                "{name}[{i}]: got {} want {} (diff {d:e} > {tol:e})",
                got[i], want[i]
            ));
        }
    }
    Ok(())
}

/// Checks forward, backward-data and backward-weight of a conv shape against naive.
fn check_conv(s: &Conv2dShape, seed: u64) -> Result<(), String> {
    s.validate()?;
    let (xl, yl) = (s.batch * s.in_image_len(), s.batch * s.out_image_len());
    let wl = s.out_channels * s.patch_len();
    let (x, w, b) = (
        fill(xl, seed),
        fill(wl, seed + 1),
        fill(s.out_channels, seed + 2),
    );
    let dy = fill(yl, seed + 3);
    let p = s.out_h() * s.out_w();

    let mut y = vec![f32::NAN; yl];
    let (mut want, mut mag) = (vec![0.0; yl], vec![0.0; yl]);
    conv2d_forward(s, &x, &w, Some(&b), &mut y);
    conv2d_forward_naive(s, &x, &w, Some(&b), &mut want);
    conv2d_forward_naive(s, &abs(&x), &abs(&w), Some(&abs(&b)), &mut mag);
    close("conv fwd", &y, &want, &mag, s.patch_len())?;

    let dx0 = fill(xl, seed + 4);
    let (mut dx, mut want, mut mag) = (dx0.clone(), dx0.clone(), abs(&dx0));
    conv2d_backward_data(s, &dy, &w, &mut dx);
    conv2d_backward_data_naive(s, &dy, &w, &mut want);
    conv2d_backward_data_naive(s, &abs(&dy), &abs(&w), &mut mag);
    close(
        "conv bwd-data",
        &dx,
        &want,
        &mag,
        s.out_channels * s.kernel_h * s.kernel_w,
    )?;

    let (dw0, db0) = (fill(wl, seed + 5), fill(s.out_channels, seed + 6));
    let (mut dw, mut db) = (dw0.clone(), db0.clone());
    let (mut want_w, mut want_b) = (dw0.clone(), db0.clone());
    let (mut mag_w, mut mag_b) = (abs(&dw0), abs(&db0));
    conv2d_backward_weight(s, &x, &dy, &mut dw, Some(&mut db));
    conv2d_backward_weight_naive(s, &x, &dy, &mut want_w, Some(&mut want_b));
    conv2d_backward_weight_naive(s, &abs(&x), &abs(&dy), &mut mag_w, Some(&mut mag_b));
    close("conv dw", &dw, &want_w, &mag_w, s.batch * p)?;
    close("conv db", &db, &want_b, &mag_b, s.batch * p)
}

/// Checks forward, backward-data and backward-weight of a transposed conv against naive.
fn check_convt(s: &ConvTranspose2dShape, seed: u64) -> Result<(), String> {
    s.validate()?;
    let xl = s.batch * s.in_channels * s.in_h * s.in_w;
    let yl = s.batch * s.out_channels * s.out_h() * s.out_w();
    let wl = s.in_channels * s.out_channels * s.kernel_h * s.kernel_w;
    let (x, w, b) = (
        fill(xl, seed),
        fill(wl, seed + 1),
        fill(s.out_channels, seed + 2),
    );
    let dy = fill(yl, seed + 3);
    let taps = s.kernel_h * s.kernel_w;

    let mut y = vec![f32::NAN; yl];
    let (mut want, mut mag) = (vec![0.0; yl], vec![0.0; yl]);
    conv_transpose2d_forward(s, &x, &w, Some(&b), &mut y);
    conv_transpose2d_forward_naive(s, &x, &w, Some(&b), &mut want);
    conv_transpose2d_forward_naive(s, &abs(&x), &abs(&w), Some(&abs(&b)), &mut mag);
    close("convT fwd", &y, &want, &mag, s.in_channels * taps)?;

    let dx0 = fill(xl, seed + 4);
    let (mut dx, mut want, mut mag) = (dx0.clone(), dx0.clone(), abs(&dx0));
    conv_transpose2d_backward_data(s, &dy, &w, &mut dx);
    conv_transpose2d_backward_data_naive(s, &dy, &w, &mut want);
    conv_transpose2d_backward_data_naive(s, &abs(&dy), &abs(&w), &mut mag);
    close("convT bwd-data", &dx, &want, &mag, s.out_channels * taps)?;

    let (dw0, db0) = (fill(wl, seed + 5), fill(s.out_channels, seed + 6));
    let (mut dw, mut db) = (dw0.clone(), db0.clone());
    let (mut want_w, mut want_b) = (dw0.clone(), db0.clone());
    let (mut mag_w, mut mag_b) = (abs(&dw0), abs(&db0));
    conv_transpose2d_backward_weight(s, &x, &dy, &mut dw, Some(&mut db));
    conv_transpose2d_backward_weight_naive(s, &x, &dy, &mut want_w, Some(&mut want_b));
    conv_transpose2d_backward_weight_naive(s, &abs(&x), &abs(&dy), &mut mag_w, Some(&mut mag_b));
    let terms = s.batch * s.out_h().max(s.in_h) * s.out_w().max(s.in_w);
    close("convT dw", &dw, &want_w, &mag_w, terms)?;
    close(
        "convT db",
        &db,
        &want_b,
        &mag_b,
        s.batch * s.out_h() * s.out_w(),
    )
}

#[allow(clippy::too_many_arguments)]
fn conv(
    n: usize,
    ci: usize,
    h: usize,
    w: usize,
    co: usize,
    k: (usize, usize),
    st: (usize, usize),
    pad: (usize, usize),
) -> Conv2dShape {
    Conv2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: w,
        out_channels: co,
        kernel_h: k.0,
        kernel_w: k.1,
        stride_h: st.0,
        stride_w: st.1,
        pad_h: pad.0,
        pad_w: pad.1,
    }
}

#[allow(clippy::too_many_arguments)]
fn convt(
    n: usize,
    ci: usize,
    h: usize,
    w: usize,
    co: usize,
    k: (usize, usize),
    st: (usize, usize),
    pad: (usize, usize),
    op: (usize, usize),
) -> ConvTranspose2dShape {
    ConvTranspose2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: w,
        out_channels: co,
        kernel_h: k.0,
        kernel_w: k.1,
        stride_h: st.0,
        stride_w: st.1,
        pad_h: pad.0,
        pad_w: pad.1,
        output_pad_h: op.0,
        output_pad_w: op.1,
    }
}

/// Random conv shapes: sizes 1..=9, kernels up to the padded input, strides 1..=3.
fn conv_shape() -> impl Strategy<Value = Conv2dShape> {
    (
        1usize..=3,
        1usize..=4,
        1usize..=9,
        1usize..=9,
        1usize..=4,
        0usize..=2,
        0usize..=2,
        1usize..=3,
        1usize..=3,
    )
        .prop_flat_map(|(n, ci, h, w, co, ph, pw, sh, sw)| {
            (1..=(h + 2 * ph).min(6), 1..=(w + 2 * pw).min(6))
                .prop_map(move |(kh, kw)| conv(n, ci, h, w, co, (kh, kw), (sh, sw), (ph, pw)))
        })
}

/// Random transposed-conv shapes, including output padding (< stride).
fn convt_shape() -> impl Strategy<Value = ConvTranspose2dShape> {
    (
        1usize..=3,
        1usize..=4,
        1usize..=7,
        1usize..=7,
        1usize..=4,
        1usize..=3,
        1usize..=3,
        1usize..=5,
        1usize..=5,
    )
        .prop_flat_map(|(n, ci, h, w, co, sh, sw, kh, kw)| {
            (0..=(kh / 2).min(2), 0..=(kw / 2).min(2), 0..sh, 0..sw).prop_map(
                move |(ph, pw, oph, opw)| {
                    convt(n, ci, h, w, co, (kh, kw), (sh, sw), (ph, pw), (oph, opw))
                },
            )
        })
        .prop_filter("valid", |s| s.validate().is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn conv_matches_naive(s in conv_shape(), seed in any::<u64>()) {
        check_conv(&s, seed).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
    }

    #[test]
    fn conv_transpose_matches_naive(s in convt_shape(), seed in any::<u64>()) {
        check_convt(&s, seed).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
    }
}

#[test]
fn named_conv_cases() {
    let cases = [
        ("C == H == W", conv(2, 5, 5, 5, 5, (3, 3), (1, 1), (1, 1))),
        (
            "C == H == W, 1x1",
            conv(2, 7, 7, 7, 3, (1, 1), (1, 1), (0, 0)),
        ),
        (
            "stride 2 pad 1",
            conv(3, 3, 8, 8, 4, (4, 4), (2, 2), (1, 1)),
        ),
        (
            "stride 2 pad 1 odd",
            conv(2, 2, 9, 7, 3, (3, 3), (2, 2), (1, 1)),
        ),
        (
            "kernel == input 9x9",
            conv(3, 4, 9, 9, 5, (9, 9), (1, 1), (0, 0)),
        ),
        (
            "kernel == input with pad",
            conv(2, 2, 5, 5, 3, (7, 7), (1, 1), (1, 1)),
        ),
        (
            "kernel == input non-square",
            conv(2, 3, 4, 6, 2, (4, 6), (2, 3), (0, 0)),
        ),
        ("Cin 1", conv(3, 1, 12, 11, 6, (6, 6), (1, 1), (0, 0))),
        ("Cout 1", conv(2, 6, 10, 10, 1, (3, 3), (1, 1), (1, 1))),
        ("1x1 strided", conv(2, 3, 7, 7, 4, (1, 1), (2, 2), (0, 0))),
        ("1x1 padded", conv(2, 3, 5, 5, 4, (1, 1), (1, 1), (1, 1))),
        (
            "catvae enc 1",
            conv(2, 1, 28, 28, 16, (6, 6), (1, 1), (0, 0)),
        ),
        (
            "catvae enc 3",
            conv(2, 32, 18, 18, 64, (4, 4), (2, 2), (1, 1)),
        ),
        (
            "catvae enc 4",
            conv(3, 64, 9, 9, 50, (9, 9), (1, 1), (0, 0)),
        ),
        (
            "betavae enc",
            conv(2, 1, 28, 28, 32, (4, 4), (2, 2), (1, 1)),
        ),
        (
            "parallel general",
            conv(12, 3, 14, 13, 8, (3, 3), (1, 1), (1, 1)),
        ),
        (
            "Cout 17 (dY transposed for the weight gradient), several images a group",
            conv(9, 2, 10, 10, 17, (3, 3), (1, 1), (1, 1)),
        ),
        (
            "32 channels, padded, 9 images (direct weight gradient over batch chunks)",
            conv(9, 3, 11, 10, 32, (3, 3), (1, 1), (1, 1)),
        ),
        (
            "48 channels, stride 2 pad 1 (direct weight gradient, 3 vectors)",
            conv(10, 2, 12, 12, 48, (4, 4), (2, 2), (1, 1)),
        ),
        (
            "16 channels, 50 taps: only tiles of 2 (stays on the im2col path)",
            conv(4, 2, 9, 9, 16, (5, 5), (1, 1), (2, 2)),
        ),
        (
            "128+ taps, 5 channels, 20 images (batch-lanes forward, a partial block)",
            conv(20, 16, 12, 11, 5, (3, 3), (1, 1), (1, 1)),
        ),
        (
            "128+ taps, no border, whole tiles, 20 images (batch-lanes layouts by transposes)",
            conv(20, 4, 11, 12, 5, (7, 7), (1, 1), (0, 0)),
        ),
        (
            "16 input channels, 576 taps, 18 images (batch-lanes data gradient, partial block)",
            conv(18, 16, 13, 12, 16, (6, 6), (1, 1), (0, 0)),
        ),
        (
            "20 input channels, stride 2 pad 1, 16 images (batch-lanes data gradient, 16 + 4)",
            conv(16, 20, 10, 9, 32, (4, 4), (2, 2), (1, 1)),
        ),
        (
            "parallel pointwise",
            conv(12, 16, 12, 12, 24, (1, 1), (1, 1), (0, 0)),
        ),
        (
            "parallel dense",
            conv(40, 16, 5, 5, 30, (5, 5), (1, 1), (0, 0)),
        ),
    ];
    for (i, (name, s)) in cases.iter().enumerate() {
        check_conv(s, 100 + i as u64).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn named_conv_transpose_cases() {
    let cases = [
        (
            "catvae dec 1 (1x1 -> 9x9)",
            convt(3, 50, 1, 1, 64, (9, 9), (1, 1), (0, 0), (0, 0)),
        ),
        (
            "catvae dec 2",
            convt(2, 64, 9, 9, 32, (4, 4), (2, 2), (1, 1), (0, 0)),
        ),
        (
            "adjoint with 128 taps, 18 images (its data gradient is a batch-lanes forward)",
            convt(18, 32, 6, 6, 8, (4, 4), (2, 2), (1, 1), (0, 0)),
        ),
        (
            "catvae dec 3, 17 images (its forward is a batch-lanes data gradient, with bias)",
            convt(17, 32, 9, 8, 16, (6, 6), (1, 1), (0, 0), (0, 0)),
        ),
        (
            "catvae dec 4 (Cout 1)",
            convt(2, 16, 23, 23, 1, (6, 6), (1, 1), (0, 0), (0, 0)),
        ),
        (
            "betavae dec",
            convt(2, 32, 14, 14, 1, (4, 4), (2, 2), (1, 1), (0, 0)),
        ),
        (
            "output padding",
            convt(2, 3, 5, 6, 4, (3, 3), (2, 2), (1, 1), (1, 1)),
        ),
        (
            "output padding stride 3",
            convt(2, 2, 4, 4, 3, (3, 2), (3, 3), (1, 0), (2, 1)),
        ),
        (
            "C == H == W",
            convt(2, 6, 6, 6, 6, (3, 3), (1, 1), (1, 1), (0, 0)),
        ),
        (
            "Cin 1",
            convt(2, 1, 7, 7, 5, (3, 3), (2, 2), (0, 0), (1, 1)),
        ),
        ("1x1", convt(2, 5, 6, 6, 3, (1, 1), (1, 1), (0, 0), (0, 0))),
        (
            "parallel",
            convt(12, 8, 9, 9, 6, (4, 4), (2, 2), (1, 1), (0, 0)),
        ),
    ];
    for (i, (name, s)) in cases.iter().enumerate() {
        check_convt(s, 200 + i as u64).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Weight gradients (summed over the batch) must be bit-identical with 1 and 2 threads.
#[test]
fn backward_weight_deterministic_across_thread_counts() {
    let s = conv(23, 16, 23, 23, 32, (6, 6), (1, 1), (0, 0));
    let t = convt(23, 64, 9, 9, 32, (4, 4), (2, 2), (1, 1), (0, 0));
    let x = fill(s.batch * s.in_image_len(), 1);
    let dy = fill(s.batch * s.out_image_len(), 2);
    let tx = fill(t.batch * 64 * 81, 3);
    let tdy = fill(t.batch * 32 * t.out_h() * t.out_w(), 4);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut dw = fill(s.out_channels * s.patch_len(), 5);
            let mut db = vec![0.5; s.out_channels];
            conv2d_backward_weight(&s, &x, &dy, &mut dw, Some(&mut db));
            let mut tdw = fill(64 * 32 * 16, 6);
            let mut tdb = vec![0.25; 32];
            conv_transpose2d_backward_weight(&t, &tx, &tdy, &mut tdw, Some(&mut tdb));
            [dw, db, tdw, tdb]
                .concat()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn shape_arithmetic() {
    let s = conv(200, 32, 18, 18, 64, (4, 4), (2, 2), (1, 1));
    assert_eq!((s.out_h(), s.out_w()), (9, 9));
    assert_eq!(s.flops_forward(), 2 * 200 * 64 * 81 * 32 * 16);
    let t = convt(200, 64, 9, 9, 32, (4, 4), (2, 2), (1, 1), (0, 0));
    assert_eq!((t.out_h(), t.out_w()), (18, 18));
    assert_eq!(
        t.adjoint(),
        conv(200, 32, 18, 18, 64, (4, 4), (2, 2), (1, 1))
    );
    assert!(convt(1, 1, 3, 3, 1, (3, 3), (2, 2), (0, 0), (2, 0))
        .validate()
        .is_err());
    assert!(conv(1, 1, 3, 3, 1, (6, 6), (1, 1), (1, 1))
        .validate()
        .is_err());
    assert!(conv(1, 0, 3, 3, 1, (1, 1), (1, 1), (0, 0))
        .validate()
        .is_err());
}

#[test]
#[should_panic(expected = "conv2d_forward: y has")]
fn short_output_panics() {
    let s = conv(1, 1, 4, 4, 1, (3, 3), (1, 1), (0, 0));
    conv2d_forward(&s, &[0.0; 16], &[0.0; 9], None, &mut [0.0; 3]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// `im2col` entries follow the definition, and `col2im` is its adjoint:
    /// ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
    #[test]
    fn im2col_definition_and_adjoint(s in conv_shape(), seed in any::<u64>()) {
        let s = Conv2dShape { batch: 1, ..s };
        let (k, p) = (s.patch_len(), s.out_h() * s.out_w());
        let x = fill(s.in_image_len(), seed);
        let mut cols = vec![f32::NAN; k * p];
        im2col(&s, &x, &mut cols);
        for ci in 0..s.in_channels {
            for kh in 0..s.kernel_h {
                for kw in 0..s.kernel_w {
                    for oh in 0..s.out_h() {
                        for ow in 0..s.out_w() {
                            let ih = (oh * s.stride_h + kh) as isize - s.pad_h as isize;
                            let iw = (ow * s.stride_w + kw) as isize - s.pad_w as isize;
                            let inside = ih >= 0 && iw >= 0 && (ih as usize) < s.in_h && (iw as usize) < s.in_w;
                            let want = if inside { x[(ci * s.in_h + ih as usize) * s.in_w + iw as usize] } else { 0.0 };
                            let row = (ci * s.kernel_h + kh) * s.kernel_w + kw;
                            prop_assert_eq!(cols[row * p + oh * s.out_w() + ow], want);
                        }
                    }
                }
            }
        }
        let c = fill(k * p, seed + 1);
        let mut back = vec![0.0; s.in_image_len()];
        col2im(&s, &c, &mut back);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| *a as f64 * *b as f64).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| *a as f64 * *b as f64).sum();
        let mag: f64 = cols.iter().zip(&c).map(|(a, b)| (*a as f64 * *b as f64).abs()).sum();
        prop_assert!((lhs - rhs).abs() <= 1e-6 * (mag + 1.0), "{lhs} vs {rhs}");
    }
}

#[test]
fn empty_batch_is_a_no_op() {
    let s = conv(0, 3, 5, 5, 2, (3, 3), (1, 1), (1, 1));
    let mut y: Vec<f32> = vec![];
    conv2d_forward(&s, &[], &[0.5; 54], None, &mut y);
    let mut dw = vec![1.0; 54];
    conv2d_backward_weight(&s, &[], &[], &mut dw, Some(&mut [2.0, 2.0]));
    assert!(dw.iter().all(|&v| v == 1.0));
    let t = convt(0, 3, 5, 5, 2, (3, 3), (2, 2), (1, 1), (1, 1));
    conv_transpose2d_forward(&t, &[], &[0.5; 54], Some(&[1.0, 1.0]), &mut y);
}
