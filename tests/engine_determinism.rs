//! Determinism and checkpoint/resume of the engine: the same seed gives
//! bit-identical losses with 1 and 2 threads (an MLP VAE and a small conv
//! net), and N straight steps equal k steps + save + load + N − k steps, bit
//! for bit. Corrupted checkpoints are refused with clear errors.

use rand::RngExt;
use sparselabel::autograd::{ParamStore, Tape};
use sparselabel::nn::{Activation, BatchNorm, Conv2d, ConvTranspose2d, Init, Mlp};
use sparselabel::ops;
use sparselabel::ops::conv_transpose::ConvTransposeGeometry;
use sparselabel::optim::{clip_grad_norm, Adam, AdamConfig, Optimizer};
use sparselabel::rng::{stream, StreamRng};
use sparselabel::tensor::Tensor;
use sparselabel::train::checkpoint::{self, CheckpointRef};

/// A small VAE-like model: encoder MLP → (μ, log σ²) → sample → decoder.
struct TinyVae {
    enc: Mlp,
    dec: Mlp,
    z: usize,
}

impl TinyVae {
    fn new(store: &mut ParamStore, seed: u64) -> Self {
        let mut rng = stream(seed, "init");
        let enc = Mlp::new(
            store,
            "enc",
            &[12, 32, 2 * 3],
            Activation::Softplus,
            Init::GlorotNormal,
            &mut rng,
        );
        let dec = Mlp::new(
            store,
            "dec",
            &[3, 32, 12],
            Activation::Relu,
            Init::HeNormal,
            &mut rng,
        );
        TinyVae { enc, dec, z: 3 }
    }

    fn loss(&self, tape: &mut Tape, x: Tensor, rng: &mut StreamRng) -> sparselabel::autograd::Var {
        let b = x.shape()[0];
        let xv = tape.constant(x);
        let h = self.enc.forward(tape, xv);
        let mu = ops::slice(tape, h, 1, 0, self.z);
        let lv = ops::slice(tape, h, 1, self.z, self.z);
        let z = ops::gaussian_sample(tape, mu, lv, rng);
        let logits = self.dec.forward(tape, z);
        let rec = ops::bce_with_logits(tape, logits, xv);
        let kl = ops::kl_std_normal(tape, mu, lv);
        let per = ops::add(tape, rec, kl);
        let s = ops::sum_all(tape, per);
        ops::mul_scalar(tape, s, 1.0 / b as f32)
    }
}

fn batch(rng: &mut StreamRng, b: usize) -> Tensor {
    Tensor::new(
        &[b, 12],
        (0..b * 12)
            .map(|_| if rng.random::<f32>() < 0.3 { 1.0 } else { 0.0 })
            .collect(),
    )
}

struct Run {
    store: ParamStore,
    model: TinyVae,
    opt: Adam,
    data: StreamRng,
    sampling: StreamRng,
    step: i64,
}

impl Run {
    fn new(seed: u64) -> Self {
        let mut store = ParamStore::new();
        let model = TinyVae::new(&mut store, seed);
        let opt = Adam::new(&store, AdamConfig::default());
        Run {
            store,
            model,
            opt,
            data: stream(seed, "data"),
            sampling: stream(seed, "sampling"),
            step: 0,
        }
    }

    fn step(&mut self) -> f32 {
        let x = batch(&mut self.data, 16);
        let mut tape = Tape::new(&self.store);
        let loss = self.model.loss(&mut tape, x, &mut self.sampling);
        let value = tape.value(loss).item();
        let grads = tape.backward(loss).unwrap();
        drop(tape);
        self.store.zero_grad();
        self.store.accumulate(&grads);
        clip_grad_norm(&mut self.store, 5.0);
        self.opt.step(&mut self.store, 3e-3);
        self.step += 1;
        value
    }

    fn save(&self, path: &std::path::Path) {
        let meta = Default::default();
        let rngs = [("data", &self.data), ("sampling", &self.sampling)];
        let ck = CheckpointRef {
            store: &self.store,
            optimizer: Some(&self.opt),
            rngs: &rngs,
            counters: &[("step", self.step)],
            metadata: &meta,
        };
        checkpoint::save(path, &ck).unwrap();
    }

    fn load(seed: u64, path: &std::path::Path) -> Self {
        let mut run = Run::new(seed ^ 0xdead); // different init: everything must come from the file
        let ck = checkpoint::load(path).unwrap();
        ck.restore_params(&mut run.store, path).unwrap();
        ck.restore_optimizer(&mut run.opt, &run.store, path)
            .unwrap();
        run.data = ck.rng("data", path).unwrap();
        run.sampling = ck.rng("sampling", path).unwrap();
        run.step = ck.counter("step", path).unwrap();
        run
    }
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn mlp_losses_are_bit_identical_with_one_and_two_threads() {
    let run = || {
        let mut r = Run::new(42);
        (0..20).map(|_| r.step().to_bits()).collect::<Vec<u32>>()
    };
    let one = in_pool(1, run);
    let two = in_pool(2, run);
    assert_eq!(one, two);
    let first = f32::from_bits(one[0]);
    let last = f32::from_bits(one[19]);
    assert!(last < first, "loss should fall: {first} -> {last}");
}

/// Conv encoder (conv + BN + ReLU, stride 2) and transposed-conv decoder on
/// 8×8 single-channel images, batch 8, 20 Adam steps.
fn conv_losses() -> Vec<u32> {
    let mut store = ParamStore::new();
    let mut rng = stream(7, "init");
    let c1 = Conv2d::new(
        &mut store,
        "c1",
        1,
        4,
        3,
        2,
        1,
        true,
        Init::HeNormal,
        &mut rng,
    );
    let bn = BatchNorm::new(&mut store, "bn", 4);
    let geo = ConvTransposeGeometry {
        stride: 2,
        padding: 1,
        output_padding: 1,
    };
    let d1 = ConvTranspose2d::new(
        &mut store,
        "d1",
        4,
        1,
        3,
        geo,
        true,
        Init::HeNormal,
        &mut rng,
    );
    let mut opt = Adam::new(&store, AdamConfig::default());
    let mut data = stream(7, "data");
    let mut out = Vec::new();
    for _ in 0..20 {
        let x = Tensor::new(
            &[8, 1, 8, 8],
            (0..512).map(|_| data.random::<f32>()).collect(),
        );
        let mut tape = Tape::new(&store);
        let xv = tape.constant(x);
        let h = c1.forward(&mut tape, xv);
        let h = bn.forward(&mut tape, h);
        let h = ops::relu(&mut tape, h);
        let y = d1.forward(&mut tape, h);
        let y = ops::reshape(&mut tape, y, &[8, 64]);
        let t = ops::reshape(&mut tape, xv, &[8, 64]);
        let l = ops::bce_with_logits(&mut tape, y, t);
        let l = ops::mean_all(&mut tape, l);
        out.push(tape.value(l).item().to_bits());
        let g = tape.backward(l).unwrap();
        drop(tape);
        store.zero_grad();
        store.accumulate(&g);
        opt.step(&mut store, 1e-2);
    }
    out
}

#[test]
fn conv_losses_are_bit_identical_with_one_and_two_threads() {
    let one = in_pool(1, conv_losses);
    let two = in_pool(2, conv_losses);
    assert_eq!(one, two);
    assert!(f32::from_bits(one[19]) < f32::from_bits(one[0]));
}

#[test]
fn resume_continues_bit_identically() {
    let dir = tempdir("resume");
    let path = dir.join("checkpoint.safetensors");
    let mut straight = Run::new(9);
    let all: Vec<u32> = (0..12).map(|_| straight.step().to_bits()).collect();

    let mut first = Run::new(9);
    let mut resumed_losses: Vec<u32> = (0..5).map(|_| first.step().to_bits()).collect();
    first.save(&path);
    drop(first);
    let mut second = Run::load(9, &path);
    assert_eq!(second.step, 5);
    resumed_losses.extend((0..7).map(|_| second.step().to_bits()));
    assert_eq!(all, resumed_losses);
    for ((_, a), (_, b)) in straight.store.iter().zip(second.store.iter()) {
        assert_eq!(
            a.value, b.value,
            "parameter {} differs after resume",
            a.name
        );
    }
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sparselabel-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn corrupted_checkpoints_are_refused_with_clear_errors() {
    let dir = tempdir("corrupt");
    let path = dir.join("good.safetensors");
    let run = Run::new(3);
    run.save(&path);
    let bytes = std::fs::read(&path).unwrap();

    // Truncated.
    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let e = checkpoint::load(&truncated).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("truncated.safetensors"), "{e}");

    // Garbage.
    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"not a checkpoint at all").unwrap();
    assert_eq!(checkpoint::load(&garbage).unwrap_err().exit_code(), 2);

    // Wrong shapes: a model with another hidden width.
    let mut other = ParamStore::new();
    let mut rng = stream(1, "init");
    let _ = Mlp::new(
        &mut other,
        "enc",
        &[12, 31, 6],
        Activation::Softplus,
        Init::GlorotNormal,
        &mut rng,
    );
    let _ = Mlp::new(
        &mut other,
        "dec",
        &[3, 31, 12],
        Activation::Relu,
        Init::HeNormal,
        &mut rng,
    );
    let ck = checkpoint::load(&path).unwrap();
    let e = ck.restore_params(&mut other, &path).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let msg = e.to_string();
    assert!(
        msg.contains("good.safetensors") && msg.contains("enc.0.weight") && msg.contains("shape"),
        "{msg}"
    );

    // Wrong dtype: rewrite one parameter as f64.
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in st.tensors() {
        if name == "dec.1.bias" {
            let vals: Vec<u8> = view
                .data()
                .chunks_exact(4)
                .flat_map(|c| (f32::from_le_bytes(c.try_into().unwrap()) as f64).to_le_bytes())
                .collect();
            owned.push((name, safetensors::Dtype::F64, view.shape().to_vec(), vals));
        } else {
            owned.push((
                name,
                view.dtype(),
                view.shape().to_vec(),
                view.data().to_vec(),
            ));
        }
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let f64_path = dir.join("f64.safetensors");
    std::fs::write(
        &f64_path,
        safetensors::tensor::serialize(views, None).unwrap(),
    )
    .unwrap();
    let e = checkpoint::load(&f64_path).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string().contains("dec.1.bias") && e.to_string().contains("F64"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn finite_guard_names_the_first_bad_op() {
    let store = ParamStore::new();
    let mut tape = Tape::new(&store);
    tape.enable_finite_guard();
    let x = tape.input(Tensor::new(&[3], vec![1.0, -1.0, 2.0]));
    let l = ops::log(&mut tape, x); // log(−1) = NaN: the first bad op
    let e = ops::exp(&mut tape, l);
    let s = ops::sum_all(&mut tape, e);
    let err = tape.backward(s).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("'log'") && msg.contains("op #1"), "{msg}");
}

#[test]
fn trace_records_every_op_with_shapes_and_stats() {
    let mut store = ParamStore::new();
    let vae = TinyVae::new(&mut store, 1);
    let mut rng = stream(1, "sampling");
    let mut data = stream(1, "data");
    let mut tape = Tape::new(&store);
    tape.enable_trace();
    let loss = vae.loss(&mut tape, batch(&mut data, 4), &mut rng);
    tape.backward(loss).unwrap();
    let trace = tape.take_trace().unwrap();
    let names: Vec<&str> = trace.ops.iter().map(|o| o.op).collect();
    assert!(
        names.contains(&"linear")
            && names.contains(&"gaussian_sample")
            && names.contains(&"bce_with_logits")
    );
    let lin = trace.ops.iter().find(|o| o.op == "linear").unwrap();
    assert_eq!(lin.inputs[0], vec![4, 12]);
    assert_eq!(lin.output, vec![4, 32]);
    assert_eq!(lin.flops, 2 * 4 * 12 * 32 + 4 * 32);
    assert!(trace.ops.iter().all(|o| o.non_finite == 0));
    assert!(!trace.backward_ops.is_empty());
    assert!(trace.to_table().contains("gaussian_sample"));
    assert_eq!(
        trace.to_json_lines().lines().count(),
        trace.ops.len() + trace.backward_ops.len()
    );
}
