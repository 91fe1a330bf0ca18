//! `ops::max_pool2d`: the forward against a naive direct maximum over every
//! window (odd sizes floor, overlapping windows, C == H == W, 1×1 windows),
//! and the gradient against finite differences (method and tolerances: see
//! `sparselabel::autograd::gradcheck`). Inputs are a shuffled ramp with
//! gaps of 0.05 between values, so a step of ε = 1e-3 never changes which
//! element wins a window.

use rand::seq::SliceRandom;
use sparselabel::autograd::gradcheck::{check, Tolerance};
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::ops;
use sparselabel::ops::pool::PoolGeometry;
use sparselabel::tensor::Tensor;

/// Distinct values −1, −0.95, … in a seeded random order.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    let n: usize = shape.iter().product();
    let mut v: Vec<f32> = (0..n).map(|i| -1.0 + 0.05 * i as f32).collect();
    v.shuffle(&mut sparselabel::rng::stream(seed, "pool-test"));
    Tensor::new(shape, v)
}

/// The definition, one window at a time.
fn naive(x: &Tensor, k: usize, s: usize) -> Tensor {
    let [n, c, h, w] = [x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]];
    let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for plane in x.data().chunks(h * w) {
        for i in 0..oh {
            for j in 0..ow {
                let mut m = f32::NEG_INFINITY;
                for p in 0..k {
                    for q in 0..k {
                        m = m.max(plane[(i * s + p) * w + j * s + q]);
                    }
                }
                out.push(m);
            }
        }
    }
    Tensor::new(&[n, c, oh, ow], out)
}

/// (N, C, H, W, k, stride): even, odd (floor), overlapping, C == H == W,
/// windows as large as the input, 1×1 windows.
const CASES: &[[usize; 6]] = &[
    [2, 3, 4, 4, 2, 2],
    [1, 2, 5, 7, 2, 2],
    [2, 1, 7, 6, 3, 2],
    [1, 2, 5, 5, 3, 1],
    [2, 3, 3, 3, 2, 1],
    [1, 2, 4, 3, 3, 3],
    [3, 2, 2, 3, 1, 1],
    [1, 1, 9, 9, 3, 3],
];

#[test]
fn forward_matches_the_naive_definition() {
    for (t, &[n, c, h, w, k, s]) in CASES.iter().enumerate() {
        let x = distinct(&[n, c, h, w], t as u64);
        let store = ParamStore::new();
        let mut tape = Tape::new(&store);
        let xv = tape.constant(x.clone());
        let y = ops::max_pool2d(
            &mut tape,
            xv,
            PoolGeometry {
                kernel: k,
                stride: s,
            },
        );
        let want = naive(&x, k, s);
        assert_eq!(tape.shape(y), want.shape(), "shape of case {t}");
        assert_eq!(tape.value(y).data(), want.data(), "values of case {t}");
    }
}

#[test]
fn ties_send_the_gradient_to_the_first_maximum_only() {
    let x = Tensor::new(&[1, 1, 2, 2], vec![3.0, 3.0, 1.0, 3.0]);
    let store = ParamStore::new();
    let mut tape = Tape::new(&store);
    let xv = tape.input(x);
    let y = ops::max_pool2d(&mut tape, xv, PoolGeometry::HALVE);
    let g = tape
        .backward_with(y, Tensor::full(&[1, 1, 1, 1], 2.0))
        .unwrap();
    assert_eq!(g.input(xv).unwrap().data(), &[2.0, 0.0, 0.0, 0.0]);
}

#[test]
fn gradient_matches_finite_differences() {
    for (t, &[n, c, h, w, k, s]) in CASES.iter().enumerate() {
        let x = distinct(&[n, c, h, w], 100 + t as u64);
        let geo = PoolGeometry {
            kernel: k,
            stride: s,
        };
        let r = check(
            &ParamStore::new(),
            &[x],
            Tolerance::default(),
            &|tape, v| {
                // A square after the pool makes the gradient depend on the value.
                let y = ops::max_pool2d(tape, v[0], geo);
                ops::square(tape, y)
            },
        );
        assert_eq!(r.checked, n * c * h * w);
        assert!(
            r.passed(),
            "case {t} {:?}: mismatch at {}: analytic {} vs numeric {}",
            [n, c, h, w, k, s],
            r.worst_at,
            r.analytic,
            r.numeric
        );
    }
}

#[test]
fn a_large_batch_splits_over_tasks_like_a_small_one() {
    // 300 planes of 4×4 outputs span two rayon tasks (256 planes each at
    // most); each plane must still pool alone.
    let x = distinct(&[100, 3, 9, 8], 7);
    let store = ParamStore::new();
    let mut tape = Tape::new(&store);
    let xv = tape.input(x.clone());
    let y = ops::max_pool2d(&mut tape, xv, PoolGeometry::HALVE);
    assert_eq!(tape.value(y).data(), naive(&x, 2, 2).data());
    let seed = Tensor::full(tape.shape(y), 1.0);
    let g = tape.backward_with(y, seed).unwrap();
    let gx = g.input(xv).unwrap();
    // Every window of 2×2 (the 9th row and none of the columns are left
    // out) sends exactly one 1 to its maximum.
    let ones = gx.data().iter().filter(|&&v| v == 1.0).count();
    assert_eq!(ones, 100 * 3 * 4 * 4);
    assert_eq!(gx.data().iter().sum::<f32>(), (100 * 3 * 4 * 4) as f32);
}
