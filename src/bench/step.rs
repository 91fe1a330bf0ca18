//! Training-step throughput of the paper models at the peer's architectures
//! (DESIGN.md §5): one Adam step on a batch of embedded MNIST, timed after
//! a warm-up; the median over steps.

use std::time::Instant;

use serde_json::{json, Value};

use crate::autograd::{ParamStore, Tape};
use crate::data;
use crate::models::head::HeadKind;
use crate::models::m1::{M1Config, M1};
use crate::models::m2::{M2Config, M2};
use crate::models::{Batch, Model};
use crate::optim::{Adam, AdamConfig, Optimizer};
use crate::train::batches::gather;
use crate::{Error, Result};

/// Builds the bench architecture of `model` (DESIGN.md §5).
fn build(model: &str, store: &mut ParamStore) -> Result<Box<dyn Model>> {
    let mut rng = crate::rng::stream(0, "bench-init");
    match model {
        "m2" => {
            let c = M2Config {
                input_dim: 784,
                classes: 10,
                z_dim: 50,
                hidden: vec![500, 500],
                activation: "relu".into(),
                alpha: 50.0,
                labelled_weight: 1.0,
                likelihood: crate::models::m2::Likelihood::Bernoulli,
            };
            Ok(Box::new(M2::new(store, c, &mut rng)?))
        }
        "m1" => {
            let c = M1Config {
                input_dim: 784,
                classes: 10,
                z_dim: 50,
                hidden: vec![500, 500],
                activation: "relu".into(),
                head: HeadKind::Softmax,
                likelihood: crate::models::likelihood::Likelihood::Bernoulli,
                train_examples: 0,
            };
            Ok(Box::new(M1::new(store, "m1", c, &mut rng)?))
        }
        "gmdgm" => {
            // peer/models.py GMDGM(h=500, z_dim=10): ReLU 784–500–500–10,
            // 794–500–500–20, 10–500–500–784, p(z|y) table drawn N(0, 1),
            // every pixel (no std filter), the ten MNIST classes.
            let c = crate::models::gmdgm::GmDgmConfig {
                input_dim: 784,
                z_dim: 10,
                hidden: vec![500, 500],
                activation: "relu".into(),
                alpha: 60.0,
                labelled_weight: 1.0,
                prior_mean_std: 1.0,
                likelihood: crate::models::likelihood::Likelihood::Bernoulli,
            };
            let layout = crate::models::class_layout::ClassLayout::new((0..10).collect(), 0)?;
            Ok(Box::new(crate::models::gmdgm::GmDgm::new(
                store, c, layout, &mut rng,
            )?))
        }
        "adgm" | "sdgm" => {
            // The peer's ADGM (peer/models.py): a = z = 100, every net
            // 500-500 ReLU; sdgm is the same widths with skip and batch-norm.
            let c = crate::models::adgm::AdgmConfig {
                input_dim: 784,
                classes: 10,
                a_dim: 100,
                z_dim: 100,
                hidden: vec![500, 500],
                activation: "relu".into(),
                alpha: 60.0,
                labelled_weight: 1.0,
                likelihood: crate::models::likelihood::Likelihood::Bernoulli,
                mc_samples: 1,
                skip: false,
                batch_norm: false,
                eval_seed: 0,
            };
            if model == "sdgm" {
                Ok(Box::new(crate::models::sdgm::new(store, c, &mut rng)?))
            } else {
                Ok(Box::new(crate::models::adgm::Adgm::new(store, c, &mut rng)?))
            }
        }
        "betavae" => {
            // peer/models.py BetaVAE: ReLU; conv 1→32 4×4 s2 p1, dense
            // 6272–256–2·10; dense 10–256–6272, convT 32→1; a softmax head
            // on μ; β = 4; every example labelled with weight 1.
            let c = crate::models::clustervae::ClusterVaeConfig {
                image: [1, 28, 28],
                classes: 10,
                z_dim: 10,
                hidden: 256,
                channels: 32,
                activation: crate::nn::Activation::Relu,
                train_examples: 0,
                active: crate::active::ActiveConfig {
                    beta: 4.0,
                    gamma: 1.0,
                    ..Default::default()
                },
                seed: 0,
            };
            Ok(Box::new(crate::models::clustervae::ClusterVae::new(
                store, c, &mut rng,
            )?))
        }
        "catvae" => {
            // peer/models.py CatVAE: the seed-A conv encoder (conv + BN +
            // ReLU 16@6×6, 32@6×6, 64@4×4 s2 p1, 50@9×9) straight to
            // Linear 50→10 logits (no L2-normalisation, no hidden layers),
            // Gumbel-Softmax τ 1, Linear 10→50 (c only), the mirrored
            // transposed convolutions; Bernoulli reconstruction + KL(q ‖
            // uniform) + cross-entropy on the labelled rows. Our losses are
            // normalised per pixel and by log K, which scales the same
            // graph without changing its work.
            let opts = crate::models::catvae::CatVaeOptions {
                feature_dim: 50,
                logit_hidden: vec![],
                tau: 1.0,
                recon: "bce".into(),
                w_rec: 1.0,
                w_cat: 1.0,
                w_assign: 0.0,
                w_feature: 0.0,
                w_ce: 1.0,
                feature_norm: false,
                decoder_feature: false,
                ..Default::default()
            };
            Ok(Box::new(crate::models::catvae::CatVae::new(
                store,
                opts,
                [1, 28, 28],
                10,
                crate::nn::Activation::Relu,
                &mut rng,
            )?))
        }
        other => Err(Error::Usage(format!(
            "bench step: model '{other}' is not implemented yet (available: m1, m2, gmdgm, adgm, sdgm, betavae, catvae)"
        ))),
    }
}

/// Times `steps` training steps of `model` with `labelled` + `unlabelled`
/// examples per step.
/// With `trace`, the last step's per-op time summary goes to stderr.
pub fn run(
    model: &str,
    labelled: usize,
    unlabelled: usize,
    steps: usize,
    trace: bool,
) -> Result<Value> {
    let splits = data::load("mnist")?;
    let train = &splits.train;
    let mut store = ParamStore::new();
    let m = build(model, &mut store)?;
    let mut opt = Adam::new(&store, AdamConfig::default());
    let mut rng = crate::rng::stream(0, "bench-data");
    let labels = train.labels.as_ref().expect("mnist has labels");
    let mut times = Vec::new();
    let warmup = 3;
    for s in 0..warmup + steps {
        let li: Vec<usize> = (0..labelled)
            .map(|i| (s * 997 + i * 13) % train.n)
            .collect();
        let ui: Vec<usize> = (0..unlabelled)
            .map(|i| (s * 1009 + i * 17 + 5) % train.n)
            .collect();
        let batch = Batch {
            kl_weight: 1.0,
            labelled: gather(train, &li, Some(&mut rng)),
            labels: li.iter().map(|&i| labels[i] as usize).collect(),
            unlabelled: gather(train, &ui, Some(&mut rng)),
            unlabelled_index: ui.clone(),
        };
        let t0 = Instant::now();
        let mut tape = Tape::new(&store);
        let tracing = trace && s == warmup + steps - 1;
        if tracing {
            tape.enable_trace();
        }
        let loss = m.loss(&mut tape, &batch, &mut rng);
        let g = tape.backward(loss.total)?;
        if tracing {
            if let Some(t) = tape.take_trace() {
                eprint!("{}", t.summary_by_op());
            }
        }
        drop(tape);
        store.set_grads(g);
        opt.step(&mut store, 3e-4);
        if s >= warmup {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let med = times[times.len() / 2];
    Ok(json!({
        "bench": "step",
        "model": model,
        "threads": rayon::current_num_threads(),
        "labelled": labelled,
        "unlabelled": unlabelled,
        "examples_per_step": labelled + unlabelled,
        "ms_per_step": med * 1e3,
        "examples_per_second": (labelled + unlabelled) as f64 / med,
        "steps": steps,
    }))
}
