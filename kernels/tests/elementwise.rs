//! Element-wise kernels against f64 `std` references over wide input sweeps (both signs,
//! 0, subnormals, tiny, huge, ±∞, NaN); derivatives against analytic f64 derivatives;
//! accumulation semantics; and bit-identity of the slice maps (AVX2 build when the CPU
//! has it) with the scalar baseline build of the same function.

use proptest::prelude::*;
use sparselabel_kernels::elementwise::{self as ew, math};

/// Inputs: ±(2^e · (1 + j/16)) for e in −149..128, plus special values and a dense grid.
fn sweep() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::MAX,
        -f32::MAX,
    ];
    for e in -149i32..128 {
        for j in 0..16 {
            let m = 1.0 + j as f64 / 16.0;
            let x = (m * 2f64.powi(e)) as f32;
            if x.is_finite() {
                v.push(x);
                v.push(-x);
            }
        }
    }
    for i in -20000..=20000 {
        v.push(i as f32 * 0.005);
    }
    v
}

/// Error of `got` against the exact `want`, in units of the f32 spacing at `want`
/// (subnormal spacing 2^-149 below the normal range).
fn ulps(got: f32, want: f64) -> f64 {
    if want.is_nan() {
        return if got.is_nan() { 0.0 } else { f64::INFINITY };
    }
    if want.is_infinite() || got.is_infinite() {
        return if got as f64 == want {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let w = want.abs().max(f32::MIN_POSITIVE as f64);
    let spacing = 2f64.powi(w.log2().floor() as i32 - 23).max(2f64.powi(-149));
    (got as f64 - want).abs() / spacing
}

/// Checks a forward map against an f64 reference: at most `max_ulps` where the exact
/// result is a finite f32 of magnitude ≥ `floor`, and absolute error ≤ `abs` below.
fn check_map(
    name: &str,
    fwd: fn(&[f32], &mut [f32]),
    scalar: fn(f32) -> f32,
    reference: fn(f64) -> f64,
    max_ulps: f64,
    floor: f64,
    abs: f64,
) {
    let x = sweep();
    let mut y = vec![0.0; x.len()];
    fwd(&x, &mut y);
    let mut worst = (0.0, 0.0f32);
    for (&xi, &yi) in x.iter().zip(&y) {
        assert_eq!(
            yi.to_bits(),
            scalar(xi).to_bits(),
            "{name}({xi}): slice map differs from scalar"
        );
        let r = reference(xi as f64);
        if r.is_finite() && r.abs() > f32::MAX as f64 {
            assert_eq!(
                yi,
                r.signum() as f32 * f32::INFINITY,
                "{name}({xi}) should overflow"
            );
            continue;
        }
        if r.is_finite() && r.abs() < floor {
            assert!(
                (yi as f64 - r).abs() <= abs,
                "{name}({xi}) = {yi}, want {r}"
            );
            continue;
        }
        let u = ulps(yi, r);
        if u > worst.0 {
            worst = (u, xi);
        }
    }
    assert!(
        worst.0 <= max_ulps,
        "{name}: {} ulps at x = {}",
        worst.0,
        worst.1
    );
}

#[test]
fn exp_within_2_ulps() {
    // ≤ 2 ulps means relative error ≤ 2·2^-23 ≈ 2.4e-7 on normal outputs.
    check_map("exp", ew::exp_forward, math::exp, f64::exp, 2.0, 0.0, 0.0);
}

#[test]
fn log_within_2_ulps() {
    check_map("log", ew::log_forward, math::ln, f64::ln, 2.0, 0.0, 0.0);
}

#[test]
fn log1p_within_3_ulps() {
    check_map(
        "log1p",
        ew::log1p_forward,
        math::ln_1p,
        f64::ln_1p,
        3.0,
        0.0,
        0.0,
    );
}

#[test]
fn tanh_within_3_ulps() {
    check_map(
        "tanh",
        ew::tanh_forward,
        math::tanh,
        f64::tanh,
        3.0,
        0.0,
        0.0,
    );
}

fn sigmoid64(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

#[test]
fn sigmoid_within_3_ulps_and_never_overflows() {
    check_map(
        "sigmoid",
        ew::sigmoid_forward,
        math::sigmoid,
        sigmoid64,
        3.0,
        0.0,
        0.0,
    );
    let mut y = [0.0; 4];
    ew::sigmoid_forward(&[-100.0, 100.0, -1000.0, 1000.0], &mut y);
    assert_eq!(y, [sigmoid64(-100.0) as f32, 1.0, 0.0, 1.0]);
}

fn softplus64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[test]
fn softplus_within_3_ulps_and_stable() {
    check_map(
        "softplus",
        ew::softplus_forward,
        math::softplus,
        softplus64,
        3.0,
        0.0,
        0.0,
    );
    let mut y = [0.0; 2];
    ew::softplus_forward(&[1000.0, -1000.0], &mut y);
    assert_eq!(y, [1000.0, 0.0]);
}

#[test]
fn elu_within_3_ulps() {
    fn elu(x: &[f32], y: &mut [f32]) {
        ew::elu_forward(x, 1.0, y)
    }
    fn elu_s(x: f32) -> f32 {
        if x > 0.0 {
            x
        } else {
            math::exp_m1(x)
        }
    }
    check_map(
        "elu",
        elu,
        elu_s,
        |x| if x > 0.0 { x } else { x.exp_m1() },
        3.0,
        0.0,
        0.0,
    );
}

#[test]
fn exact_maps() {
    check_map(
        "sqrt",
        ew::sqrt_forward,
        f32::sqrt,
        f64::sqrt,
        0.5,
        0.0,
        0.0,
    );
    check_map(
        "square",
        ew::square_forward,
        |x| x * x,
        |x| x * x,
        0.5,
        0.0,
        0.0,
    );
    fn relu_s(x: f32) -> f32 {
        if x < 0.0 {
            0.0
        } else {
            x
        }
    }
    check_map(
        "relu",
        ew::relu_forward,
        relu_s,
        |x| if x < 0.0 { 0.0 } else { x },
        0.0,
        0.0,
        0.0,
    );
    let mut y = [0.0; 3];
    ew::leaky_relu_forward(&[-2.0, 3.0, f32::NAN], 0.1, &mut y);
    assert_eq!(&y[..2], &[-0.2, 3.0]);
    assert!(y[2].is_nan());
}

#[test]
fn special_values() {
    let mut y = [0.0; 6];
    ew::exp_forward(
        &[
            f32::NEG_INFINITY,
            f32::INFINITY,
            f32::NAN,
            0.0,
            -104.0,
            88.8,
        ],
        &mut y,
    );
    assert_eq!(y[0], 0.0);
    assert_eq!(y[1], f32::INFINITY);
    assert!(y[2].is_nan());
    assert_eq!(y[3], 1.0);
    assert_eq!(y[4], 0.0);
    assert_eq!(y[5], f32::INFINITY);
    ew::log_forward(&[0.0, -1.0, f32::INFINITY, f32::NAN, 1.0, 1e-45], &mut y);
    assert_eq!(y[0], f32::NEG_INFINITY);
    assert!(y[1].is_nan() && y[3].is_nan());
    assert_eq!(y[2], f32::INFINITY);
    assert_eq!(y[4], 0.0);
    assert!((y[5] as f64 - (1e-45f32 as f64).ln()).abs() < 1e-5);
    ew::log1p_forward(&[-1.0, 1e-30, -2.0, f32::INFINITY, 0.0, -0.0], &mut y);
    assert_eq!(y[0], f32::NEG_INFINITY);
    assert_eq!(y[1], 1e-30);
    assert!(y[2].is_nan());
    assert_eq!(y[3], f32::INFINITY);
    assert_eq!(y[4].to_bits(), 0.0f32.to_bits());
    assert_eq!(y[5].to_bits(), (-0.0f32).to_bits());
}

type Grad = fn(&[f32], &[f32], &[f32], &mut [f32]);
type Fwd = fn(&[f32], &mut [f32]);
/// A forward map, its f64 reference and its ulp bound.
type Case = (Fwd, fn(f64) -> f64, f64);

/// Backward kernels: `dx = dx0 + dy·f'(x)` against the analytic f64 derivative.
fn check_grad(
    name: &str,
    xs: &[f32],
    fwd: fn(&[f32], &mut [f32]),
    bwd: Grad,
    deriv: fn(f64) -> f64,
    rel: f64,
) {
    let mut y = vec![0.0; xs.len()];
    fwd(xs, &mut y);
    let dy: Vec<f32> = (0..xs.len()).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    let dx0: Vec<f32> = (0..xs.len()).map(|i| (i % 5) as f32 - 2.0).collect();
    let mut dx = dx0.clone();
    bwd(xs, &y, &dy, &mut dx);
    for i in 0..xs.len() {
        let g = dy[i] as f64 * deriv(xs[i] as f64);
        let want = dx0[i] as f64 + g;
        // the derivative's own error, then the rounding of the final add
        let tol = rel * g.abs() + 1.2e-7 * want.abs() + 1e-30;
        assert!(
            (dx[i] as f64 - want).abs() <= tol,
            "{name}'({}) : got {} want {want}",
            xs[i],
            dx[i]
        );
    }
}

#[test]
fn derivatives() {
    let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.05 + 0.013).collect();
    let pos: Vec<f32> = (1..=800).map(|i| i as f32 * 0.05).collect();
    let r = 4e-6; // a few ulps of each factor, the derivative's own rounding, the add
    check_grad(
        "relu",
        &xs,
        ew::relu_forward,
        ew::relu_backward,
        |x| if x > 0.0 { 1.0 } else { 0.0 },
        r,
    );
    check_grad(
        "sigmoid",
        &xs,
        ew::sigmoid_forward,
        ew::sigmoid_backward,
        |x| sigmoid64(x) * sigmoid64(-x),
        r,
    );
    check_grad(
        "tanh",
        &xs,
        ew::tanh_forward,
        ew::tanh_backward,
        |x| 1.0 / x.cosh().powi(2),
        r,
    );
    check_grad(
        "softplus",
        &xs,
        ew::softplus_forward,
        ew::softplus_backward,
        sigmoid64,
        r,
    );
    check_grad("exp", &xs, ew::exp_forward, ew::exp_backward, f64::exp, r);
    check_grad(
        "log",
        &pos,
        ew::log_forward,
        ew::log_backward,
        |x| 1.0 / x,
        r,
    );
    check_grad(
        "log1p",
        &pos,
        ew::log1p_forward,
        ew::log1p_backward,
        |x| 1.0 / (1.0 + x),
        r,
    );
    check_grad(
        "sqrt",
        &pos,
        ew::sqrt_forward,
        ew::sqrt_backward,
        |x| 0.5 / x.sqrt(),
        r,
    );
    check_grad(
        "square",
        &xs,
        ew::square_forward,
        ew::square_backward,
        |x| 2.0 * x,
        r,
    );
    fn lf(x: &[f32], y: &mut [f32]) {
        ew::leaky_relu_forward(x, 0.2, y)
    }
    fn lb(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        ew::leaky_relu_backward(x, 0.2, y, dy, dx)
    }
    check_grad(
        "leaky_relu",
        &xs,
        lf,
        lb,
        |x| if x > 0.0 { 1.0 } else { 0.2 },
        r,
    );
    fn ef(x: &[f32], y: &mut [f32]) {
        ew::elu_forward(x, 1.5, y)
    }
    fn eb(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        ew::elu_backward(x, 1.5, y, dy, dx)
    }
    check_grad(
        "elu",
        &xs,
        ef,
        eb,
        |x| if x > 0.0 { 1.0 } else { 1.5 * x.exp() },
        r,
    );
}

/// An activation's backward pair: accumulating, and over the output gradient.
type Pair = (&'static str, Fwd, Grad, fn(&[f32], &[f32], &mut [f32]));

#[test]
fn in_place_backward_equals_accumulating_into_zeros() {
    fn lf(x: &[f32], y: &mut [f32]) {
        ew::leaky_relu_forward(x, 0.2, y)
    }
    fn lb(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        ew::leaky_relu_backward(x, 0.2, y, dy, dx)
    }
    fn li(x: &[f32], y: &[f32], g: &mut [f32]) {
        ew::leaky_relu_backward_in_place(x, 0.2, y, g)
    }
    fn ef(x: &[f32], y: &mut [f32]) {
        ew::elu_forward(x, 1.5, y)
    }
    fn eb(x: &[f32], y: &[f32], dy: &[f32], dx: &mut [f32]) {
        ew::elu_backward(x, 1.5, y, dy, dx)
    }
    fn ei(x: &[f32], y: &[f32], g: &mut [f32]) {
        ew::elu_backward_in_place(x, 1.5, y, g)
    }
    let pairs: [Pair; 6] = [
        (
            "relu",
            ew::relu_forward,
            ew::relu_backward,
            ew::relu_backward_in_place,
        ),
        ("leaky_relu", lf, lb, li),
        ("elu", ef, eb, ei),
        (
            "sigmoid",
            ew::sigmoid_forward,
            ew::sigmoid_backward,
            ew::sigmoid_backward_in_place,
        ),
        (
            "tanh",
            ew::tanh_forward,
            ew::tanh_backward,
            ew::tanh_backward_in_place,
        ),
        (
            "softplus",
            ew::softplus_forward,
            ew::softplus_backward,
            ew::softplus_backward_in_place,
        ),
    ];
    // Short slices (serial, with SIMD tails) and one past the parallel threshold.
    for n in [1usize, 7, 33, 1000, 70_001] {
        let xs: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 2001) as f32 * 0.01 - 10.0)
            .collect();
        let dy: Vec<f32> = (0..n).map(|i| (i % 9) as f32 * 0.5 - 2.0).collect();
        for (name, fwd, acc, in_place) in pairs {
            let mut y = vec![0.0; n];
            fwd(&xs, &mut y);
            let mut want = vec![0.0; n];
            acc(&xs, &y, &dy, &mut want);
            let mut got = dy.clone();
            in_place(&xs, &y, &mut got);
            // Equal values; a zero may differ in sign (0 + (−0) = +0).
            assert_eq!(got, want, "{name} at n = {n}");
        }
    }
}

/// The Adam update against its formula, element by element in scalar f32: the
/// vectorised build must give the same bits (no fused multiply-adds).
#[test]
fn adam_update_matches_the_scalar_formula() {
    let n = 1001;
    let s = ew::AdamStep {
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 1e-4,
        step: 3e-4 / (1.0 - 0.9f32.powi(3)),
        inv_sqrt_bc2: 1.0 / (1.0 - 0.999f32.powi(3)).sqrt(),
    };
    let w0: Vec<f32> = (0..n)
        .map(|i| ((i * 37) % 101) as f32 * 0.02 - 1.0)
        .collect();
    let g: Vec<f32> = (0..n)
        .map(|i| ((i * 53) % 97) as f32 * 0.01 - 0.5)
        .collect();
    let m0: Vec<f32> = (0..n).map(|i| ((i * 11) % 13) as f32 * 0.001).collect();
    let v0: Vec<f32> = (0..n).map(|i| ((i * 7) % 17) as f32 * 1e-5).collect();
    let (mut w, mut m, mut v) = (w0.clone(), m0.clone(), v0.clone());
    ew::adam_update(&mut w, &g, &mut m, &mut v, s);
    for i in 0..n {
        let gi = g[i] + s.weight_decay * w0[i];
        let mi = s.beta1 * m0[i] + (1.0 - s.beta1) * gi;
        let vi = s.beta2 * v0[i] + (1.0 - s.beta2) * gi * gi;
        let wi = w0[i] - s.step * mi / (vi.sqrt() * s.inv_sqrt_bc2 + s.eps);
        assert_eq!(
            (m[i].to_bits(), v[i].to_bits(), w[i].to_bits()),
            (mi.to_bits(), vi.to_bits(), wi.to_bits()),
            "element {i}"
        );
    }
}

#[test]
fn blas1() {
    let x = [1.0, 2.0, 3.0];
    let mut y = [1.0, 1.0, 1.0];
    ew::axpy(2.0, &x, &mut y);
    assert_eq!(y, [3.0, 5.0, 7.0]);
    ew::add_assign(&mut y, &x);
    assert_eq!(y, [4.0, 7.0, 10.0]);
    ew::scale(&mut y, 0.5);
    assert_eq!(y, [2.0, 3.5, 5.0]);
}

/// The fused Bernoulli row (value and derivative) is bit-identical to the unfused
/// sequence it replaced (softplus, − t·l, fixed-order row sum; sigmoid − t) over the
/// sweep with targets in [0, 1], and within a few ulps of the f64 reference sum.
#[test]
fn bce_logits_row_equals_the_unfused_sequence() {
    use sparselabel_kernels::reduce as kr;
    let xs: Vec<f32> = sweep().into_iter().filter(|x| x.abs() < 1e30).collect();
    for (r, l) in xs.chunks(997).enumerate() {
        let t: Vec<f32> = (0..l.len())
            .map(|j| ((j * 37 + r) % 17) as f32 / 16.0)
            .collect();
        let mut per = vec![0.0; l.len()];
        let mut d = vec![f32::NAN; l.len()];
        let value = ew::bce_logits_row(l, &t, &mut per, Some(&mut d));
        let only_value = ew::bce_logits_row(l, &t, &mut per, None);
        let mut sp = vec![0.0; l.len()];
        ew::softplus_forward(l, &mut sp);
        for ((p, &lv), &tv) in sp.iter_mut().zip(l).zip(&t) {
            *p -= tv * lv;
        }
        let mut want = [0.0f32];
        kr::row_sum(&sp, l.len(), &mut want);
        assert_eq!(value.to_bits(), want[0].to_bits(), "row {r}: value");
        assert_eq!(
            only_value.to_bits(),
            want[0].to_bits(),
            "row {r}: value alone"
        );
        let mut sig = vec![0.0; l.len()];
        ew::sigmoid_forward(l, &mut sig);
        for j in 0..l.len() {
            assert_eq!(
                d[j].to_bits(),
                (sig[j] - t[j]).to_bits(),
                "row {r}, l = {}",
                l[j]
            );
        }
        let exact: f64 = l
            .iter()
            .zip(&t)
            .map(|(&lv, &tv)| softplus64(lv as f64) - tv as f64 * lv as f64)
            .sum();
        let scale: f64 = l
            .iter()
            .map(|&lv| softplus64(lv as f64).abs() + (lv as f64).abs())
            .sum();
        assert!(
            (value as f64 - exact).abs() <= 1e-5 * scale,
            "row {r}: {value} against {exact}"
        );
    }
}

#[test]
#[should_panic(expected = "slice lengths differ")]
fn length_mismatch_panics() {
    ew::relu_forward(&[1.0, 2.0], &mut [0.0]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random slices of random lengths (both the serial and the parallel-chunk paths,
    /// ≥ 65536 elements) against the f64 references, within the ulp bounds above.
    #[test]
    fn random_slices_match_f64(len in prop_oneof![0usize..100, 65530usize..70000], scale in prop_oneof![Just(1.0f32), Just(30.0f32), Just(100.0f32)], seed in any::<u64>()) {
        let mut s = seed | 1;
        let x: Vec<f32> = (0..len).map(|_| { s ^= s << 13; s ^= s >> 7; s ^= s << 17; ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale }).collect();
        let mut y = vec![0.0; len];
        let cases: [Case; 4] = [
            (ew::exp_forward, f64::exp, 2.0),
            (ew::tanh_forward, f64::tanh, 3.0),
            (ew::sigmoid_forward, sigmoid64, 3.0),
            (ew::softplus_forward, softplus64, 3.0),
        ];
        for (f, r, max) in cases {
            f(&x, &mut y);
            for (&xi, &yi) in x.iter().zip(&y) {
                let want = r(xi as f64);
                if want.abs() <= f32::MAX as f64 {
                    prop_assert!(ulps(yi, want) <= max, "f({}) = {} want {}", xi, yi, want);
                }
            }
        }
        let ax: Vec<f32> = x.iter().map(|v| v.abs()).collect();
        ew::log_forward(&ax, &mut y);
        for (&xi, &yi) in ax.iter().zip(&y) {
            prop_assert!(ulps(yi, (xi as f64).ln()) <= 2.0);
        }
    }
}
