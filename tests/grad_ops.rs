//! Finite-difference gradient checks of every differentiable op, including
//! broadcasting and edge shapes. Method and tolerances: see
//! `sparselabel::autograd::gradcheck` (central differences, ε = 1e-3, errors
//! in f64, |a − n| ≤ 2e-3 + 1e-2·max(|a|, |n|)).

// `&[x.clone()]` reads more plainly than `std::slice::from_ref(&x)` in these calls.
#![allow(clippy::cloned_ref_to_slice_refs)]

use rand::RngExt;
use sparselabel::autograd::gradcheck::{check, Tolerance};
use sparselabel::autograd::{ParamStore, Tape, Var};
use sparselabel::nn::{BatchNorm, Init};
use sparselabel::ops;
use sparselabel::ops::conv::ConvGeometry;
use sparselabel::ops::conv_transpose::ConvTransposeGeometry;
use sparselabel::tensor::Tensor;

fn uniform(shape: &[usize], lo: f32, hi: f32, seed: u64) -> Tensor {
    let mut rng = sparselabel::rng::stream(seed, "grad-test");
    let n = shape.iter().product();
    Tensor::new(
        shape,
        (0..n)
            .map(|_| lo + (hi - lo) * rng.random::<f32>())
            .collect(),
    )
}

/// Values in ±[0.1, 1]: away from the kinks of relu, clamp and |x|.
fn away_from_zero(shape: &[usize], seed: u64) -> Tensor {
    let mut t = uniform(shape, 0.1, 1.0, seed);
    let mut rng = sparselabel::rng::stream(seed, "signs");
    for v in t.data_mut() {
        if rng.random::<bool>() {
            *v = -*v;
        }
    }
    t
}

fn grad_ok(
    name: &str,
    store: &ParamStore,
    inputs: &[Tensor],
    f: &dyn Fn(&mut Tape, &[Var]) -> Var,
) {
    grad_ok_tol(name, store, inputs, Tolerance::default(), f)
}

fn grad_ok_tol(
    name: &str,
    store: &ParamStore,
    inputs: &[Tensor],
    tol: Tolerance,
    f: &dyn Fn(&mut Tape, &[Var]) -> Var,
) {
    let r = check(store, inputs, tol, f);
    assert!(r.checked > 0, "{name}: nothing checked");
    assert!(
        r.passed(),
        "{name}: gradient mismatch at {}: analytic {} vs numeric {} (ratio {:.2})",
        r.worst_at,
        r.analytic,
        r.numeric,
        r.worst_ratio
    );
}

/// The value of f(inputs) and the gradients of Σ f² with respect to each input:
/// for checking that two graphs compute the same function the same way.
fn value_and_grads(
    inputs: &[Tensor],
    f: &dyn Fn(&mut Tape, &[Var]) -> Var,
) -> (Vec<f32>, Vec<Vec<f32>>) {
    let store = empty();
    let mut t = Tape::new(&store);
    let v: Vec<Var> = inputs.iter().map(|a| t.input(a.clone())).collect();
    let y = f(&mut t, &v);
    let sq = ops::square(&mut t, y);
    let loss = ops::sum_all(&mut t, sq);
    let out = t.value(y).data().to_vec();
    let g = t.backward(loss).unwrap();
    let grads = v
        .iter()
        .map(|&i| g.input(i).unwrap().data().to_vec())
        .collect();
    (out, grads)
}

fn empty() -> ParamStore {
    ParamStore::new()
}

#[test]
fn binary_ops_with_broadcasting() {
    let shapes: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 4]),
        (&[3, 4], &[4]),
        (&[3, 4], &[3, 1]),
        (&[3, 1], &[1, 4]),
        (&[2, 3, 4], &[3, 1]),
        (&[3, 4], &[]),
        (&[1], &[5]),
        (&[1, 1], &[1, 1]),
    ];
    type BinFn = fn(&mut Tape, Var, Var) -> Var;
    let fns: [(&str, BinFn); 4] = [
        ("add", ops::add),
        ("sub", ops::sub),
        ("mul", ops::mul),
        ("div", ops::div),
    ];
    for (sa, sb) in shapes {
        for (name, f) in fns {
            let a = away_from_zero(sa, 1);
            let b = away_from_zero(sb, 2);
            grad_ok(
                &format!("{name} {sa:?} {sb:?}"),
                &empty(),
                &[a.clone(), b.clone()],
                &|t, v| f(t, v[0], v[1]),
            );
            grad_ok(
                &format!("{name} {sb:?} {sa:?}"),
                &empty(),
                &[b, a],
                &|t, v| f(t, v[0], v[1]),
            );
        }
    }
}

#[test]
fn scalar_ops() {
    let x = uniform(&[2, 5], -1.0, 1.0, 3);
    grad_ok("add_scalar", &empty(), &[x.clone()], &|t, v| {
        ops::add_scalar(t, v[0], 0.7)
    });
    grad_ok("mul_scalar", &empty(), &[x.clone()], &|t, v| {
        ops::mul_scalar(t, v[0], -2.5)
    });
    grad_ok("neg", &empty(), &[x], &|t, v| ops::neg(t, v[0]));
}

#[test]
fn matmul_and_linear() {
    for (m, k, n) in [(1, 1, 1), (3, 4, 5), (7, 1, 3), (2, 9, 1)] {
        let a = uniform(&[m, k], -1.0, 1.0, 4);
        let b = uniform(&[k, n], -1.0, 1.0, 5);
        grad_ok(
            &format!("matmul {m}x{k}x{n}"),
            &empty(),
            &[a, b],
            &|t, v| ops::matmul(t, v[0], v[1]),
        );
        let x = uniform(&[m, k], -1.0, 1.0, 6);
        let w = uniform(&[n, k], -1.0, 1.0, 7);
        let bias = uniform(&[n], -1.0, 1.0, 8);
        grad_ok(
            "linear+bias",
            &empty(),
            &[x.clone(), w.clone(), bias],
            &|t, v| ops::linear(t, v[0], v[1], Some(v[2])),
        );
        grad_ok("linear", &empty(), &[x, w], &|t, v| {
            ops::linear(t, v[0], v[1], None)
        });
    }
    // Image rows in, image rows out: (2, 3, 2, 2) read as 2 rows of 12, written
    // as (2, 2, 2, 3) (a linear layer feeding a transposed convolution).
    let x = uniform(&[2, 3, 2, 2], -1.0, 1.0, 9);
    let w = uniform(&[12, 12], -1.0, 1.0, 10);
    let bias = uniform(&[12], -1.0, 1.0, 11);
    grad_ok(
        "linear_to (B, C, H, W)",
        &empty(),
        &[x.clone(), w.clone(), bias.clone()],
        &|t, v| {
            let y = ops::linear_to(t, v[0], v[1], Some(v[2]), &[2, 2, 2, 3]);
            assert_eq!(t.shape(y), &[2, 2, 2, 3]);
            y
        },
    );
    // A rectifier inside the node: checked by differences, and equal, value and
    // gradient, to the layer followed by its own activation node.
    for slope in [0.0, 0.2] {
        let rect = Some(ops::Rectifier { slope });
        grad_ok(
            &format!("linear_rectified_to slope {slope}"),
            &empty(),
            &[x.clone(), w.clone(), bias.clone()],
            &|t, v| ops::linear_rectified_to(t, v[0], v[1], Some(v[2]), &[2, 2, 2, 3], rect),
        );
        let inputs = [x.clone(), w.clone(), bias.clone()];
        let fused = value_and_grads(&inputs, &|t, v| {
            ops::linear_rectified_to(t, v[0], v[1], Some(v[2]), &[2, 12], rect)
        });
        let unfused = value_and_grads(&inputs, &|t, v| {
            let z = ops::linear(t, v[0], v[1], Some(v[2]));
            ops::leaky_relu(t, z, slope)
        });
        assert_eq!(fused, unfused, "slope {slope}");
    }
}

#[test]
fn linear_layer_parameters_through_the_store() {
    let mut store = ParamStore::new();
    let mut rng = sparselabel::rng::stream(1, "init");
    let mlp = sparselabel::nn::Mlp::new(
        &mut store,
        "mlp",
        &[4, 3, 2],
        sparselabel::nn::Activation::Tanh,
        Init::GlorotNormal,
        &mut rng,
    );
    let x = uniform(&[5, 4], -1.0, 1.0, 9);
    grad_ok("mlp params", &store, &[x], &|t, v| mlp.forward(t, v[0]));
}

#[test]
fn conv2d_shapes() {
    // (N, C, H, W, O, K, stride, pad): includes C == H == W, stride 2 with
    // padding, odd sizes, a kernel as large as the input, and 1×1.
    let cases = [
        (1, 1, 5, 5, 1, 3, 1, 0),
        (2, 3, 3, 3, 2, 2, 1, 1),
        (2, 2, 7, 5, 3, 3, 2, 1),
        (1, 2, 4, 4, 3, 4, 1, 0),
        (2, 3, 5, 5, 2, 1, 1, 0),
        (1, 1, 6, 6, 2, 4, 2, 1),
    ];
    for (n, c, h, w, o, k, s, p) in cases {
        let x = uniform(&[n, c, h, w], -1.0, 1.0, 10);
        let wt = uniform(&[o, c, k, k], -0.5, 0.5, 11);
        let b = uniform(&[o], -0.5, 0.5, 12);
        let geo = ConvGeometry {
            stride: s,
            padding: p,
        };
        grad_ok(
            &format!("conv2d {:?}", (n, c, h, w, o, k, s, p)),
            &empty(),
            &[x.clone(), wt.clone(), b.clone()],
            &|t, v| ops::conv2d(t, v[0], v[1], Some(v[2]), geo),
        );
        // A rectifier inside the node: checked by differences, and equal, value
        // and gradient, to the convolution followed by its own activation node.
        for slope in [0.0, 0.2] {
            let rect = Some(ops::Rectifier { slope });
            grad_ok(
                &format!("conv2d_rectified {slope} {:?}", (n, c, h, w, o, k, s, p)),
                &empty(),
                &[x.clone(), wt.clone(), b.clone()],
                &|t, v| ops::conv::conv2d_rectified(t, v[0], v[1], Some(v[2]), geo, rect),
            );
            let inputs = [x.clone(), wt.clone(), b.clone()];
            let fused = value_and_grads(&inputs, &|t, v| {
                ops::conv::conv2d_rectified(t, v[0], v[1], Some(v[2]), geo, rect)
            });
            let unfused = value_and_grads(&inputs, &|t, v| {
                let z = ops::conv2d(t, v[0], v[1], Some(v[2]), geo);
                ops::leaky_relu(t, z, slope)
            });
            assert_eq!(fused, unfused, "conv2d slope {slope}");
        }
    }
}

#[test]
fn conv_transpose2d_shapes() {
    // (N, C, H, W, O, K, stride, pad, output_pad)
    let cases = [
        (1, 1, 3, 3, 1, 3, 1, 0, 0),
        (2, 3, 3, 3, 2, 4, 2, 1, 0),
        (1, 2, 4, 3, 3, 3, 2, 1, 1),
        (2, 2, 1, 1, 3, 5, 1, 0, 0),
    ];
    for (n, c, h, w, o, k, s, p, op) in cases {
        let x = uniform(&[n, c, h, w], -1.0, 1.0, 13);
        let wt = uniform(&[c, o, k, k], -0.5, 0.5, 14);
        let b = uniform(&[o], -0.5, 0.5, 15);
        let geo = ConvTransposeGeometry {
            stride: s,
            padding: p,
            output_padding: op,
        };
        grad_ok(
            &format!("conv_transpose2d {:?}", (n, c, h, w, o, k, s, p, op)),
            &empty(),
            &[x, wt, b],
            &|t, v| ops::conv_transpose2d(t, v[0], v[1], Some(v[2]), geo),
        );
    }
}

#[test]
fn activations() {
    let x = away_from_zero(&[3, 7], 16);
    type UnFn = fn(&mut Tape, Var) -> Var;
    let fns: [(&str, UnFn); 6] = [
        ("relu", ops::relu),
        ("sigmoid", ops::sigmoid),
        ("tanh", ops::tanh),
        ("softplus", ops::softplus),
        ("exp", ops::exp),
        ("square", ops::square),
    ];
    for (name, f) in fns {
        grad_ok(name, &empty(), &[x.clone()], &|t, v| f(t, v[0]));
        // x also feeds the sum directly, so the map's gradient is added to one x
        // already has (the accumulating path, not the in-place first one).
        grad_ok(
            &format!("{name}(x) + x"),
            &empty(),
            &[x.clone()],
            &|t, v| {
                let y = f(t, v[0]);
                ops::add(t, y, v[0])
            },
        );
    }
    grad_ok("leaky_relu", &empty(), &[x.clone()], &|t, v| {
        ops::leaky_relu(t, v[0], 0.1)
    });
    grad_ok("elu", &empty(), &[x.clone()], &|t, v| {
        ops::elu(t, v[0], 1.0)
    });
    let pos = uniform(&[3, 7], 0.2, 2.0, 17);
    grad_ok("log", &empty(), &[pos.clone()], &|t, v| ops::log(t, v[0]));
    grad_ok("log1p", &empty(), &[pos.clone()], &|t, v| {
        ops::log1p(t, v[0])
    });
    grad_ok("sqrt", &empty(), &[pos], &|t, v| ops::sqrt(t, v[0]));
    // Large magnitudes: softplus and sigmoid stay finite and correct.
    let big = Tensor::new(&[4], vec![-30.0, -8.0, 8.0, 30.0]);
    grad_ok("softplus large", &empty(), &[big.clone()], &|t, v| {
        ops::softplus(t, v[0])
    });
    grad_ok("sigmoid large", &empty(), &[big], &|t, v| {
        ops::sigmoid(t, v[0])
    });
}

#[test]
fn reductions() {
    let x = uniform(&[2, 3, 4], -1.0, 1.0, 18);
    for axis in 0..3 {
        grad_ok(
            &format!("sum axis {axis}"),
            &empty(),
            &[x.clone()],
            &|t, v| ops::sum(t, v[0], axis),
        );
        grad_ok(
            &format!("mean axis {axis}"),
            &empty(),
            &[x.clone()],
            &|t, v| ops::mean(t, v[0], axis),
        );
    }
    grad_ok("sum_all", &empty(), &[x.clone()], &|t, v| {
        ops::sum_all(t, v[0])
    });
    grad_ok("mean_all", &empty(), &[x.clone()], &|t, v| {
        ops::mean_all(t, v[0])
    });
    grad_ok("logsumexp", &empty(), &[x.clone()], &|t, v| {
        ops::logsumexp(t, v[0])
    });
    grad_ok("softmax", &empty(), &[x.clone()], &|t, v| {
        ops::softmax(t, v[0])
    });
    grad_ok("log_softmax", &empty(), &[x], &|t, v| {
        ops::log_softmax(t, v[0])
    });
    let one = uniform(&[3, 1], -1.0, 1.0, 19);
    grad_ok("logsumexp one column", &empty(), &[one.clone()], &|t, v| {
        ops::logsumexp(t, v[0])
    });
    grad_ok("log_softmax one column", &empty(), &[one], &|t, v| {
        ops::log_softmax(t, v[0])
    });
    let wide = uniform(&[2, 5], -20.0, 20.0, 20);
    grad_ok("logsumexp wide range", &empty(), &[wide], &|t, v| {
        ops::logsumexp(t, v[0])
    });
}

#[test]
fn shape_ops() {
    let a = uniform(&[2, 3], -1.0, 1.0, 21);
    let b = uniform(&[2, 4], -1.0, 1.0, 22);
    let c = uniform(&[1, 3], -1.0, 1.0, 23);
    grad_ok(
        "concat axis 1",
        &empty(),
        &[a.clone(), b.clone()],
        &|t, v| ops::concat(t, &[v[0], v[1]], 1),
    );
    grad_ok("concat axis 0", &empty(), &[a.clone(), c], &|t, v| {
        ops::concat(t, &[v[0], v[1], v[0]], 0)
    });
    grad_ok("slice", &empty(), &[b.clone()], &|t, v| {
        ops::slice(t, v[0], 1, 1, 2)
    });
    grad_ok("split", &empty(), &[b.clone()], &|t, v| {
        let parts = ops::split(t, v[0], 1, &[1, 3]);
        let s = ops::sum(t, parts[1], 1);
        let s = ops::reshape(t, s, &[2, 1]);
        ops::mul(t, parts[0], s)
    });
    grad_ok("reshape", &empty(), &[b.clone()], &|t, v| {
        ops::reshape(t, v[0], &[4, 2])
    });
    grad_ok("transpose", &empty(), &[b.clone()], &|t, v| {
        ops::transpose(t, v[0])
    });
    grad_ok("tile", &empty(), &[a.clone()], &|t, v| {
        ops::tile(t, v[0], 3)
    });
    let table = uniform(&[4, 3], -1.0, 1.0, 24);
    grad_ok("gather_rows repeated", &empty(), &[table], &|t, v| {
        ops::gather_rows(t, v[0], &[2, 0, 2, 3, 2])
    });
    let (rows, table) = (
        uniform(&[3, 4], -1.0, 1.0, 26),
        uniform(&[2, 4], -1.0, 1.0, 27),
    );
    grad_ok(
        "gathered_sum",
        &empty(),
        &[rows.clone(), table.clone()],
        &|t, v| ops::gathered_sum(t, v[0], &[0, 2, 1, 2, 0], v[1], &[1, 1, 0, 1, 0]),
    );
    let leaky = Some(ops::Rectifier { slope: 0.1 });
    grad_ok("gathered_sum leaky", &empty(), &[rows, table], &|t, v| {
        ops::gathered_sum_rectified(t, v[0], &[0, 2, 1, 2, 0], v[1], &[1, 1, 0, 1, 0], leaky)
    });
    let big = uniform(&[40, 50], -1.0, 1.0, 25);
    grad_ok_tol(
        "transpose blocked",
        &empty(),
        &[big],
        Tolerance::default(),
        &|t, v| {
            let y = ops::transpose(t, v[0]);
            ops::sum(t, y, 1)
        },
    );
}

#[test]
fn normalisation_mask_clamp() {
    let x = away_from_zero(&[3, 5], 26);
    grad_ok("l2_normalize", &empty(), &[x.clone()], &|t, v| {
        ops::l2_normalize_rows(t, v[0], 1e-12)
    });
    grad_ok("clamp", &empty(), &[x.clone()], &|t, v| {
        ops::clamp(t, v[0], -0.5, 0.5)
    });
    grad_ok("dropout", &empty(), &[x.clone()], &|t, v| {
        let mut rng = sparselabel::rng::stream(5, "dropout");
        ops::dropout(t, v[0], 0.3, &mut rng)
    });
    let m = uniform(&[3, 5], 0.0, 2.0, 27);
    grad_ok("mask", &empty(), &[x], &|t, v| {
        ops::mask(t, v[0], m.clone())
    });
}

#[test]
fn batch_norm_train_and_eval() {
    for shape in [vec![6, 3], vec![3, 2, 3, 2]] {
        let mut store = ParamStore::new();
        let c = shape[1];
        let bn = BatchNorm::new(&mut store, "bn", c);
        // Non-trivial γ, β.
        store.get_mut(bn.params.gamma).value = uniform(&[c], 0.5, 1.5, 28);
        store.get_mut(bn.params.beta).value = uniform(&[c], -0.5, 0.5, 29);
        let x = uniform(&shape, -1.0, 1.0, 30);
        // Training mode (batch statistics). Tighter ε: the normalisation
        // amplifies the f32 rounding of the centred values.
        grad_ok(
            &format!("batch_norm train {shape:?}"),
            &store,
            &[x.clone()],
            &|t, v| bn.forward(t, v[0]),
        );
        // A rectifier inside the node: checked by differences, and equal, value and
        // gradients (x, γ, β), to the norm followed by its own activation node.
        for slope in [0.0, 0.2] {
            let rect = Some(ops::Rectifier { slope });
            grad_ok(
                &format!("batch_norm_rectified {slope} {shape:?}"),
                &store,
                &[x.clone()],
                &|t, v| ops::batchnorm::batch_norm_rectified(t, v[0], &bn.params, rect),
            );
            let run = |fused: bool| {
                let mut t = Tape::new(&store);
                let xv = t.input(x.clone());
                let y = if fused {
                    ops::batchnorm::batch_norm_rectified(&mut t, xv, &bn.params, rect)
                } else {
                    let z = bn.forward(&mut t, xv);
                    ops::leaky_relu(&mut t, z, slope)
                };
                let sq = ops::square(&mut t, y);
                let loss = ops::sum_all(&mut t, sq);
                let out = t.value(y).data().to_vec();
                let g = t.backward(loss).unwrap();
                let grads: Vec<Vec<f32>> = [
                    g.input(xv).unwrap(),
                    g.param(bn.params.gamma).unwrap(),
                    g.param(bn.params.beta).unwrap(),
                ]
                .iter()
                .map(|t| t.data().to_vec())
                .collect();
                (out, grads)
            };
            assert_eq!(run(true), run(false), "slope {slope} {shape:?}");
        }
        // x used again after the norm: its gradient is no longer fresh when the
        // norm's backward runs, so the accumulating path is the one checked.
        let twice = |t: &mut Tape, v: &[Var]| {
            let y = bn.forward(t, v[0]);
            ops::add(t, y, v[0])
        };
        grad_ok(
            &format!("batch_norm train, x twice {shape:?}"),
            &store,
            &[x.clone()],
            &twice,
        );
        // Evaluation mode (running statistics are constants).
        store.get_mut(bn.params.running_mean).value = uniform(&[c], -0.2, 0.2, 31);
        store.get_mut(bn.params.running_var).value = uniform(&[c], 0.5, 2.0, 32);
        grad_ok(
            &format!("batch_norm eval {shape:?}"),
            &store,
            &[x.clone()],
            &|t, v| {
                t.set_training(false);
                bn.forward(t, v[0])
            },
        );
        grad_ok(
            &format!("batch_norm eval, x twice {shape:?}"),
            &store,
            &[x],
            &|t, v| {
                t.set_training(false);
                twice(t, v)
            },
        );
    }
}

#[test]
fn losses() {
    let l = uniform(&[3, 4], -2.0, 2.0, 33);
    let tgt = uniform(&[3, 4], 0.0, 1.0, 34);
    grad_ok(
        "bce_with_logits",
        &empty(),
        &[l.clone(), tgt.clone()],
        &|t, v| ops::bce_with_logits(t, v[0], v[1]),
    );
    grad_ok(
        "squared_error",
        &empty(),
        &[l.clone(), tgt.clone()],
        &|t, v| ops::squared_error(t, v[0], v[1]),
    );
    let mu = uniform(&[3, 4], -1.0, 1.0, 35);
    let lv = uniform(&[3, 4], -1.0, 1.0, 36);
    let mu2 = uniform(&[3, 4], -1.0, 1.0, 37);
    let lv2 = uniform(&[3, 4], -1.0, 1.0, 38);
    grad_ok(
        "gaussian_log_density",
        &empty(),
        &[tgt.clone(), mu.clone(), lv.clone()],
        &|t, v| ops::gaussian_log_density(t, v[0], v[1], v[2]),
    );
    grad_ok(
        "kl_normal",
        &empty(),
        &[mu.clone(), lv.clone(), mu2, lv2],
        &|t, v| ops::kl_normal(t, v[0], v[1], v[2], v[3]),
    );
    grad_ok(
        "kl_std_normal",
        &empty(),
        &[mu.clone(), lv.clone()],
        &|t, v| ops::kl_std_normal(t, v[0], v[1]),
    );
    let prior = [0.1f32, 0.2, 0.3, 0.4].map(f32::ln);
    grad_ok("categorical_kl", &empty(), &[l.clone()], &|t, v| {
        ops::categorical_kl(t, v[0], &prior)
    });
    grad_ok("categorical_entropy", &empty(), &[l.clone()], &|t, v| {
        ops::categorical_entropy(t, v[0])
    });
    grad_ok("cross_entropy", &empty(), &[l.clone()], &|t, v| {
        ops::cross_entropy(t, v[0], &[0, 3, 1], None)
    });
    grad_ok("cross_entropy weighted", &empty(), &[l], &|t, v| {
        ops::cross_entropy(t, v[0], &[2, 2, 0], Some(&[0.5, 2.0, 0.0]))
    });
}

#[test]
fn reparameterised_sampling() {
    let mu = uniform(&[3, 4], -1.0, 1.0, 39);
    let lv = uniform(&[3, 4], -1.0, 1.0, 40);
    grad_ok("gaussian_sample", &empty(), &[mu, lv], &|t, v| {
        let mut rng = sparselabel::rng::stream(6, "sampling");
        ops::gaussian_sample(t, v[0], v[1], &mut rng)
    });
    let logits = uniform(&[3, 5], -1.0, 1.0, 41);
    grad_ok("gumbel_softmax", &empty(), &[logits.clone()], &|t, v| {
        let mut rng = sparselabel::rng::stream(7, "gumbel");
        ops::gumbel_softmax(t, v[0], 0.7, false, &mut rng)
    });
    // Straight-through: the forward value is one-hot and the gradient is the
    // soft sample's; compare with the soft version's gradient.
    let store = empty();
    let mut t1 = Tape::new(&store);
    let x1 = t1.input(logits.clone());
    let mut rng = sparselabel::rng::stream(7, "gumbel");
    let hard = ops::gumbel_softmax(&mut t1, x1, 0.7, true, &mut rng);
    for row in t1.value(hard).data().chunks(5) {
        assert_eq!(row.iter().filter(|&&v| v == 1.0).count(), 1);
        assert_eq!(row.iter().filter(|&&v| v == 0.0).count(), 4);
    }
    let seed = uniform(&[3, 5], -1.0, 1.0, 42);
    let g_hard = t1
        .backward_with(hard, seed.clone())
        .unwrap()
        .input(x1)
        .unwrap()
        .clone();
    let mut t2 = Tape::new(&store);
    let x2 = t2.input(logits);
    let mut rng = sparselabel::rng::stream(7, "gumbel");
    let soft = ops::gumbel_softmax(&mut t2, x2, 0.7, false, &mut rng);
    let g_soft = t2
        .backward_with(soft, seed)
        .unwrap()
        .input(x2)
        .unwrap()
        .clone();
    assert_eq!(g_hard, g_soft);
}

#[test]
fn batch_norm_with_row_weights() {
    // Weights as a class-enumerated batch uses them: 2 rows of weight 1,
    // then 2 examples × 2 classes of weight 1/2; and arbitrary ones.
    for weights in [
        vec![1.0, 1.0, 0.5, 0.5, 0.5, 0.5],
        vec![0.3, 2.0, 1.0, 0.1, 0.7, 1.5],
    ] {
        let mut store = ParamStore::new();
        let bn = BatchNorm::new(&mut store, "bn", 3);
        store.get_mut(bn.params.gamma).value = uniform(&[3], 0.5, 1.5, 40);
        store.get_mut(bn.params.beta).value = uniform(&[3], -0.5, 0.5, 41);
        let x = uniform(&[6, 3], -1.0, 1.0, 42);
        grad_ok(
            &format!("batch_norm weighted {weights:?}"),
            &store,
            &[x],
            &|t, v| bn.forward_weighted(t, v[0], Some(&weights)),
        );
    }
}

/// The fused gathered sum equals the graph it replaced in the enumerated models
/// (labelled rows, unlabelled rows tiled K times, plus gathered class rows) bit for
/// bit, value and gradients, on a size that runs its parallel paths.
#[test]
fn gathered_sum_equals_tile_concat_gather_add() {
    let (bl, bu, k, d) = (10, 20, 10, 400);
    let a = uniform(&[bl + bu, d], -1.0, 1.0, 31);
    let table = uniform(&[k, d], -1.0, 1.0, 32);
    let ys: Vec<usize> = (0..bl)
        .map(|i| i % k)
        .chain((0..k).flat_map(|c| std::iter::repeat_n(c, bu)))
        .collect();
    let src = sparselabel::models::enumerate::bound_row_sources(bl, bu, k);
    assert_eq!(src.len(), ys.len());
    let fused = value_and_grads(&[a.clone(), table.clone()], &|t, v| {
        ops::gathered_sum(t, v[0], &src, v[1], &ys)
    });
    let unfused = value_and_grads(&[a.clone(), table.clone()], &|t, v| {
        let lab = ops::slice(t, v[0], 0, 0, bl);
        let unl = ops::slice(t, v[0], 0, bl, bu);
        let tiled = ops::tile(t, unl, k);
        let rows = ops::concat(t, &[lab, tiled], 0);
        let classes = ops::gather_rows(t, v[1], &ys);
        ops::add(t, rows, classes)
    });
    let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&fused.0), bits(&unfused.0), "values");
    for (i, (f, u)) in fused.1.iter().zip(&unfused.1).enumerate() {
        assert_eq!(bits(f), bits(u), "gradient of input {i}");
    }
    // With the ReLU fused into the node, against ReLU after the sum.
    let relu = Some(ops::Rectifier { slope: 0.0 });
    let fused = value_and_grads(&[a.clone(), table.clone()], &|t, v| {
        ops::gathered_sum_rectified(t, v[0], &src, v[1], &ys, relu)
    });
    let unfused = value_and_grads(&[a, table], &|t, v| {
        let h = ops::gathered_sum(t, v[0], &src, v[1], &ys);
        ops::relu(t, h)
    });
    assert_eq!(bits(&fused.0), bits(&unfused.0), "rectified values");
    for (i, (f, u)) in fused.1.iter().zip(&unfused.1).enumerate() {
        assert_eq!(bits(f), bits(u), "rectified gradient of input {i}");
    }
}
