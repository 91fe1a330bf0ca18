//! Convolution-stack throughput, matching `peer/conv.py`: the Figueroa
//! encoder (conv + BN + ReLU ×4 down to 50×1×1) and its transposed mirror,
//! and the β-VAE's single conv and transposed conv, at batch 100 and 200,
//! forward and forward + backward through the autodiff engine. GFLOP/s
//! counts only convolution MACs (2 flops each), like the peer.

use serde_json::{json, Value};

use super::median_seconds;
use crate::autograd::{ParamStore, Tape};
use crate::nn::{Activation, BatchNorm, Conv2d, ConvTranspose2d, Init};
use crate::ops;
use crate::ops::conv_transpose::ConvTransposeGeometry;
use crate::tensor::Tensor;

enum Layer {
    Conv(Conv2d),
    ConvT(ConvTranspose2d),
    Bn(BatchNorm),
    Act(Activation),
}

/// A stack of layers and the input shape it takes.
pub struct Stack {
    /// Name as in the peer's table.
    pub name: &'static str,
    layers: Vec<Layer>,
    store: ParamStore,
    /// Input shape without the batch.
    pub input: [usize; 3],
    /// Whether the input needs a gradient (decoders: yes).
    pub input_grad: bool,
    /// Forward MACs per example, and whether each conv is the first layer.
    macs: Vec<(u64, bool)>,
}

/// (in, out, kernel, stride, pad, transposed) of a conv layer.
type ConvSpec = (usize, usize, usize, usize, usize, bool);

fn stack(
    name: &'static str,
    input: [usize; 3],
    input_grad: bool,
    specs: &[ConvSpec],
    bn_relu_after: usize,
) -> Stack {
    let mut store = ParamStore::new();
    let mut rng = crate::rng::stream(0, "bench-init");
    let mut layers = Vec::new();
    let mut macs = Vec::new();
    let (mut c, mut h, mut w) = (input[0], input[1], input[2]);
    for (i, &(ci, co, k, s, p, transposed)) in specs.iter().enumerate() {
        assert_eq!(ci, c);
        let lname = format!("l{i}");
        if transposed {
            let geo = ConvTransposeGeometry {
                stride: s,
                padding: p,
                output_padding: 0,
            };
            layers.push(Layer::ConvT(ConvTranspose2d::new(
                &mut store,
                &lname,
                ci,
                co,
                k,
                geo,
                true,
                Init::TorchDefault,
                &mut rng,
            )));
            macs.push(((c * h * w * co * k * k) as u64, i == 0));
            h = (h - 1) * s + k - 2 * p;
            w = (w - 1) * s + k - 2 * p;
        } else {
            layers.push(Layer::Conv(Conv2d::new(
                &mut store,
                &lname,
                ci,
                co,
                k,
                s,
                p,
                true,
                Init::TorchDefault,
                &mut rng,
            )));
            h = (h + 2 * p - k) / s + 1;
            w = (w + 2 * p - k) / s + 1;
            macs.push(((co * h * w * ci * k * k) as u64, i == 0));
        }
        c = co;
        if i < bn_relu_after {
            layers.push(Layer::Bn(BatchNorm::new(&mut store, &format!("bn{i}"), co)));
            layers.push(Layer::Act(Activation::Relu));
        }
    }
    Stack {
        name,
        layers,
        store,
        input,
        input_grad,
        macs,
    }
}

/// The four stacks of the peer's conv benchmark.
pub fn stacks() -> Vec<Stack> {
    vec![
        stack(
            "seedA-enc",
            [1, 28, 28],
            false,
            &[
                (1, 16, 6, 1, 0, false),
                (16, 32, 6, 1, 0, false),
                (32, 64, 4, 2, 1, false),
                (64, 50, 9, 1, 0, false),
            ],
            4,
        ),
        stack(
            "seedA-dec",
            [50, 1, 1],
            true,
            &[
                (50, 64, 9, 1, 0, true),
                (64, 32, 4, 2, 1, true),
                (32, 16, 6, 1, 0, true),
                (16, 1, 6, 1, 0, true),
            ],
            3,
        ),
        {
            let mut s = stack(
                "vae-enc-conv",
                [1, 28, 28],
                false,
                &[(1, 32, 4, 2, 1, false)],
                0,
            );
            s.layers.push(Layer::Act(Activation::Relu));
            s
        },
        stack(
            "vae-dec-convT",
            [32, 14, 14],
            true,
            &[(32, 1, 4, 2, 1, true)],
            0,
        ),
    ]
}

impl Stack {
    fn forward(&self, tape: &mut Tape, x: crate::autograd::Var) -> crate::autograd::Var {
        let mut h = x;
        for l in &self.layers {
            h = match l {
                Layer::Conv(c) => c.forward(tape, h),
                Layer::ConvT(c) => c.forward(tape, h),
                Layer::Bn(b) => b.forward(tape, h),
                Layer::Act(a) => a.apply(tape, h),
            };
        }
        h
    }

    /// FLOPs of forward and of forward + backward at `batch` (dX of the
    /// first layer skipped when the input needs no gradient).
    pub fn flops(&self, batch: usize) -> (f64, f64) {
        let fwd: f64 = self.macs.iter().map(|(m, _)| 2.0 * *m as f64).sum::<f64>() * batch as f64;
        let bwd: f64 = self
            .macs
            .iter()
            .map(|&(m, first)| 2.0 * m as f64 * if first && !self.input_grad { 1.0 } else { 2.0 })
            .sum::<f64>()
            * batch as f64;
        (fwd, fwd + bwd)
    }

    /// The per-op time summary of one forward + backward at `batch`.
    pub fn trace(&self, batch: usize) -> String {
        let [c, h, w] = self.input;
        let x = Tensor::new(&[batch, c, h, w], vec![0.5; batch * c * h * w]);
        let mut tape = Tape::new(&self.store);
        tape.enable_trace();
        let xv = if self.input_grad {
            tape.input(x)
        } else {
            tape.constant(x)
        };
        let y = self.forward(&mut tape, xv);
        let s = ops::sum_all(&mut tape, y);
        let _ = tape.backward(s).expect("backward");
        tape.take_trace()
            .map(|t| t.summary_by_op())
            .unwrap_or_default()
    }

    /// Median seconds of forward (no gradient) and forward + backward.
    pub fn time(&self, batch: usize) -> (f64, f64) {
        let [c, h, w] = self.input;
        let n = batch * c * h * w;
        let x = Tensor::new(
            &[batch, c, h, w],
            (0..n)
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
                .collect(),
        );
        let fwd = median_seconds(
            || {
                let mut tape = Tape::no_grad(&self.store);
                tape.set_training(true);
                let xv = tape.constant(x.clone());
                let _ = self.forward(&mut tape, xv);
            },
            2,
            7,
            0.15,
        );
        let fwdbwd = median_seconds(
            || {
                let mut tape = Tape::new(&self.store);
                let xv = if self.input_grad {
                    tape.input(x.clone())
                } else {
                    tape.constant(x.clone())
                };
                let y = self.forward(&mut tape, xv);
                let s = ops::sum_all(&mut tape, y);
                let _ = tape.backward(s).expect("backward");
            },
            2,
            7,
            0.15,
        );
        (fwd.median(), fwdbwd.median())
    }
}

/// Measures every stack at batch 100 and 200; with `trace`, prints each
/// stack's per-op summary at batch 200 to stderr.
pub fn run(peak: Option<f64>, trace: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for batch in [100, 200] {
        for s in stacks() {
            let (f_fwd, f_all) = s.flops(batch);
            let (t_fwd, t_all) = s.time(batch);
            if trace && batch == 200 {
                eprintln!("{} at batch {batch}:\n{}", s.name, s.trace(batch));
            }
            for (kind, flops, secs) in [("fwd", f_fwd, t_fwd), ("fwd+bwd", f_all, t_all)] {
                let gflops = flops / secs / 1e9;
                out.push(json!({
                    "bench": "conv",
                    "stack": s.name,
                    "batch": batch,
                    "kind": kind,
                    "threads": rayon::current_num_threads(),
                    "ms": secs * 1e3,
                    "gflops": gflops,
                    "percent_of_peak": peak.map(|p| 100.0 * gflops / p),
                }));
            }
        }
    }
    out
}
