//! Engine overhead: a training step of a small MLP classifier at batch 2,
//! where the arithmetic is a few thousand FLOPs (well under a microsecond at
//! the machine's speed), so the measured time is what the engine itself
//! costs: tape building, allocation, dispatch, backward bookkeeping and the
//! optimiser's loop. Prints the median step time, the FLOPs, and the per-op
//! trace of one step.

use serde_json::{json, Value};

use super::median_seconds;
use crate::autograd::{ParamStore, Tape};
use crate::nn::{Activation, Init, Mlp};
use crate::ops;
use crate::optim::{Adam, AdamConfig, Optimizer};
use crate::tensor::Tensor;

/// MLP widths of the probe.
pub const SIZES: [usize; 4] = [16, 32, 32, 4];

/// Measures the step; returns the JSON summary and the trace table.
pub fn run() -> (Value, String) {
    let mut store = ParamStore::new();
    let mut rng = crate::rng::stream(0, "bench-init");
    let mlp = Mlp::new(
        &mut store,
        "mlp",
        &SIZES,
        Activation::Relu,
        Init::HeNormal,
        &mut rng,
    );
    let mut opt = Adam::new(&store, AdamConfig::default());
    let x = Tensor::new(
        &[2, SIZES[0]],
        (0..2 * SIZES[0]).map(|i| (i % 7) as f32 / 7.0).collect(),
    );
    let labels = [1usize, 3];
    let mut step = |trace: bool| -> Option<String> {
        let mut tape = Tape::new(&store);
        if trace {
            tape.enable_trace();
        }
        let xv = tape.constant(x.clone());
        let logits = mlp.forward(&mut tape, xv);
        let ce = ops::cross_entropy(&mut tape, logits, &labels, None);
        let loss = ops::mean_all(&mut tape, ce);
        let g = tape.backward(loss).expect("backward");
        let table = tape.take_trace().map(|t| t.to_table());
        drop(tape);
        store.set_grads(g);
        opt.step(&mut store, 1e-3);
        table
    };
    let t = median_seconds(
        || {
            step(false);
        },
        100,
        9,
        0.2,
    );
    let table = step(true).unwrap_or_default();
    let flops: usize = SIZES.windows(2).map(|w| 2 * 2 * w[0] * w[1]).sum::<usize>() * 3; // fwd + 2× bwd
    let summary = json!({
        "bench": "overhead",
        "mlp": SIZES,
        "batch": 2,
        "threads": rayon::current_num_threads(),
        "parameters": store.num_trainable(),
        "step_flops": flops,
        "step_micros": t.median() * 1e6,
    });
    (summary, table)
}
