//! Convolutional networks for image data (`--arch conv`, Ojha et al.'s
//! variant of M1 and M2), for whatever (C, H, W) the data brings.
//!
//! * [`ConvTrunk`] (q(z|x)'s feature extractor): three convolutions of
//!   widths `channels`, each 4×4 stride 2 padding 1 (halving each side,
//!   floor) while both sides are ≥ 2, else 3×3 stride 1 padding 1; each
//!   followed by batch-norm and the activation. Output: F = c₃·h₃·w₃
//!   features per example.
//! * [`DenseHead`]: dense layers of widths `hidden`, each followed by
//!   batch-norm, the activation and dropout, then a linear output layer.
//!   Its first layer may take a class: W·f + b + T[y] with a (K, h₁)
//!   table T, so the features f of an example are computed once and only
//!   the class rows differ between its enumerated copies.
//! * [`ConvDecoder`] (p(x|·)): one dense layer (with an optional class
//!   table, as above) to a (d₀, ⌈H/8⌉, ⌈W/8⌉) map, then four transposed
//!   convolutions with the activation between: a 3×3 stride 1 padding 1
//!   one at the map's size, then three 4×4 stride 2 padding 1 ones (each
//!   doubles both sides), the last to the output channels (C logits, or 2C
//!   for a Gaussian's means and log-variances). Upsampling last keeps the
//!   full-resolution work to one layer with few channels (28×28: 0.6 M
//!   multiply-adds per decoded row, against 1.6 M when the stride-1 layer
//!   refines the full-size map; M2 decodes every row K times). The
//!   8⌈H/8⌉ × 8⌈W/8⌉ result is centre-cropped to exactly H × W. No sigmoid:
//!   the Bernoulli likelihood applies it inside its loss.
//! * [`ConvClassifier`] (q(y|x)): three 3×3 same-size convolutions of
//!   widths `channels` with the activation, a 2×2 max-pool after each of the
//!   first two (where both sides are ≥ 2), dropout, one dense layer to K
//!   logits (the softmax is the caller's log-softmax or cross-entropy).
//!
//! Examples enter and leave as rows (B, C·H·W) in CHW order, as every
//! loader stores images, so the likelihoods and losses are those of the MLP
//! models. Dropout draws from the step's sampling stream when given one;
//! without one (evaluation, or a caller that has no stream) it is skipped.

use crate::autograd::{ParamId, ParamStore, Tape, Var};
use crate::nn::{Activation, BatchNorm, Conv2d, ConvTranspose2d, Dropout, Init, Linear};
use crate::ops;
use crate::ops::conv_transpose::ConvTransposeGeometry;
use crate::ops::pool::PoolGeometry;
use crate::rng::StreamRng;
use crate::{Error, Result};

/// The network family of a model: fully connected, or convolutional on
/// images of a known shape.
#[derive(Clone, Debug, PartialEq)]
pub enum Arch {
    /// MLPs on feature rows (any data).
    Mlp,
    /// Convolutional networks on (C, H, W) images.
    Conv(ConvArch),
}

impl Arch {
    /// The architecture named `name` (`mlp` or `conv`) for the data set
    /// `dataset` of `input_dim` features with the given image shape, if any.
    pub fn resolve(
        name: &str,
        dataset: &str,
        image: Option<[usize; 3]>,
        input_dim: usize,
    ) -> Result<Arch> {
        match name {
            "mlp" => Ok(Arch::Mlp),
            "conv" => {
                let Some(image) = image else {
                    return Err(Error::Usage(format!(
                        "--arch conv needs image data (mnist, fashion-mnist, idx:DIR, \
                         images:DIR), but {dataset} holds plain feature rows: use --arch mlp"
                    )));
                };
                let [c, h, w] = image;
                if c == 0 || h == 0 || w == 0 || c * h * w != input_dim {
                    return Err(Error::Usage(format!(
                        "--arch conv: image shape {c}×{h}×{w} does not match the {input_dim} \
                         features per example"
                    )));
                }
                Ok(Arch::Conv(ConvArch::new(image)))
            }
            other => Err(Error::Usage(format!("--arch {other}: must be mlp or conv"))),
        }
    }
}

/// Sizes of the convolutional networks.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvArch {
    /// Input images (C, H, W).
    pub image: [usize; 3],
    /// Widths of the three convolutions of the trunk and the classifier.
    pub channels: [usize; 3],
    /// Widths of the decoder's dense map and of its first three transposed
    /// convolutions (the fourth outputs the image channels).
    pub decoder_channels: [usize; 4],
    /// Dropout probability after the dense layers of q(z|·) and before the
    /// classifier's dense layer.
    pub dropout: f32,
    /// The nonlinearity of every network (ReLU; the configuration's
    /// `activation` is the MLPs').
    pub activation: Activation,
}

impl ConvArch {
    /// The default sizes for images of shape (C, H, W): convolutions
    /// 32-64-128, decoder 64-32-16-8, dropout 0.2, ReLU.
    pub fn new(image: [usize; 3]) -> Self {
        ConvArch {
            image,
            channels: [32, 64, 128],
            decoder_channels: [64, 32, 16, 8],
            dropout: 0.2,
            activation: Activation::Relu,
        }
    }

    /// Features per example, C·H·W.
    pub fn input_dim(&self) -> usize {
        self.image.iter().product()
    }
}

/// (kernel, stride, padding) of a trunk convolution on an h×w input, and
/// its output sides: halve while both sides are ≥ 2, else keep the size.
fn trunk_step(h: usize, w: usize) -> ((usize, usize, usize), usize, usize) {
    if h.min(w) >= 2 {
        ((4, 2, 1), h / 2, w / 2)
    } else {
        ((3, 1, 1), h, w)
    }
}

/// Applies dropout when a stream is given (and the tape is in training mode).
fn maybe_dropout(tape: &mut Tape, x: Var, dropout: Dropout, rng: Option<&mut StreamRng>) -> Var {
    match rng {
        Some(r) if dropout.p > 0.0 => dropout.forward(tape, x, r),
        _ => x,
    }
}

/// Three convolutions with batch-norm and the activation; see the module
/// documentation.
#[derive(Clone, Debug)]
pub struct ConvTrunk {
    layers: Vec<(Conv2d, BatchNorm)>,
    act: Activation,
    image: [usize; 3],
    out: [usize; 3],
}

impl ConvTrunk {
    /// Creates the layers `<name>.conv{i}` and `<name>.conv_bn{i}`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        image: [usize; 3],
        channels: &[usize],
        act: Activation,
        rng: &mut StreamRng,
    ) -> Self {
        let [mut c, mut h, mut w] = image;
        let mut layers = Vec::with_capacity(channels.len());
        for (i, &o) in channels.iter().enumerate() {
            let ((k, s, p), oh, ow) = trunk_step(h, w);
            // No bias: the batch-norm's shift replaces it.
            let conv = Conv2d::new(
                store,
                &format!("{name}.conv{i}"),
                c,
                o,
                k,
                s,
                p,
                false,
                Init::HeNormal,
                rng,
            );
            let bn = BatchNorm::new(store, &format!("{name}.conv_bn{i}"), o);
            layers.push((conv, bn));
            (c, h, w) = (o, oh, ow);
        }
        ConvTrunk {
            layers,
            act,
            image,
            out: [c, h, w],
        }
    }

    /// Features per example F = c·h·w of the last map.
    pub fn features(&self) -> usize {
        self.out.iter().product()
    }

    /// x: (B, C·H·W) → (B, F).
    pub fn forward(&self, tape: &mut Tape, x: Var) -> Var {
        let b = tape.shape(x)[0];
        let [c, h, w] = self.image;
        let mut v = ops::reshape(tape, x, &[b, c, h, w]);
        for (conv, bn) in &self.layers {
            v = conv.forward(tape, v);
            v = bn.forward(tape, v);
            v = self.act.apply(tape, v);
        }
        ops::reshape(tape, v, &[b, self.features()])
    }
}

/// A dense layer's per-class rows: T[y] added to W·v + b.
#[derive(Clone, Copy, Debug)]
struct ClassTable(ParamId);

impl ClassTable {
    /// A (K, out) table, and the layer's weight re-drawn with the fan-in of
    /// the whole input [v; one-hot y] (as M2's MLP does).
    fn new(
        store: &mut ParamStore,
        name: &str,
        layer: &Linear,
        classes: usize,
        init: Init,
        rng: &mut StreamRng,
    ) -> Self {
        let (inp, out) = (layer.in_features, layer.out_features);
        let fan_in = inp + classes;
        store.get_mut(layer.weight).value = init.tensor(&[out, inp], fan_in, out, rng);
        let table = init.tensor(&[classes, out], fan_in, out, rng);
        ClassTable(store.add(&format!("{name}.class_table"), table))
    }

    /// pre + T[ys], row by row.
    fn add(self, tape: &mut Tape, pre: Var, ys: &[usize]) -> Var {
        let table = tape.param(self.0);
        let rows = ops::gather_rows(tape, table, ys);
        ops::add(tape, pre, rows)
    }
}

/// Dense layers with batch-norm, activation and dropout, then a linear
/// output; see the module documentation.
#[derive(Clone, Debug)]
pub struct DenseHead {
    hidden: Vec<(Linear, BatchNorm)>,
    class_table: Option<ClassTable>,
    out: Linear,
    act: Activation,
    dropout: Dropout,
}

impl DenseHead {
    /// Layers `<name>.dense{i}` (+ `.class_table` on the first when
    /// `classes` is given), `<name>.dense_bn{i}`, `<name>.out`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        inp: usize,
        hidden: &[usize],
        out: usize,
        classes: Option<usize>,
        act: Activation,
        dropout: f32,
        rng: &mut StreamRng,
    ) -> Self {
        assert!(!hidden.is_empty(), "a dense head needs a hidden layer");
        let mut layers = Vec::with_capacity(hidden.len());
        let mut class_table = None;
        let mut width = inp;
        for (i, &h) in hidden.iter().enumerate() {
            let lname = format!("{name}.dense{i}");
            let linear = Linear::new(store, &lname, width, h, Init::HeNormal, rng);
            if let (0, Some(k)) = (i, classes) {
                class_table = Some(ClassTable::new(
                    store,
                    &lname,
                    &linear,
                    k,
                    Init::HeNormal,
                    rng,
                ));
            }
            let bn = BatchNorm::new(store, &format!("{name}.dense_bn{i}"), h);
            layers.push((linear, bn));
            width = h;
        }
        let out = Linear::new(
            store,
            &format!("{name}.out"),
            width,
            out,
            Init::GlorotNormal,
            rng,
        );
        DenseHead {
            hidden: layers,
            class_table,
            out,
            act,
            dropout: Dropout { p: dropout },
        }
    }

    /// The first layer's W·f + b for features f: (B, F) → (B, h₁), computed
    /// once per example before the class rows are added.
    pub fn first_layer(&self, tape: &mut Tape, f: Var) -> Var {
        self.hidden[0].0.forward(tape, f)
    }

    /// The rest of the head from the first layer's output `pre`, adding the
    /// class rows T[ys] when the head takes a class (`ys` one per row).
    pub fn finish(
        &self,
        tape: &mut Tape,
        pre: Var,
        ys: Option<&[usize]>,
        mut rng: Option<&mut StreamRng>,
    ) -> Var {
        let mut h = match (self.class_table, ys) {
            (Some(t), Some(ys)) => t.add(tape, pre, ys),
            (None, None) => pre,
            _ => panic!("dense head: classes given to a head without a class table or missing"),
        };
        for (i, (linear, bn)) in self.hidden.iter().enumerate() {
            if i > 0 {
                h = linear.forward(tape, h);
            }
            h = bn.forward(tape, h);
            h = self.act.apply(tape, h);
            h = maybe_dropout(tape, h, self.dropout, rng.as_deref_mut());
        }
        self.out.forward(tape, h)
    }

    /// The whole head on features f: (B, F) (no class).
    pub fn forward(&self, tape: &mut Tape, f: Var, rng: Option<&mut StreamRng>) -> Var {
        let pre = self.first_layer(tape, f);
        self.finish(tape, pre, None, rng)
    }
}

/// One dense layer and four transposed convolutions; see the module
/// documentation.
#[derive(Clone, Debug)]
pub struct ConvDecoder {
    input: Linear,
    class_table: Option<ClassTable>,
    map: [usize; 3],
    up: Vec<ConvTranspose2d>,
    act: Activation,
    image: [usize; 3],
    out_channels: usize,
}

impl ConvDecoder {
    /// Layers `<name>.in` (+ `.class_table` when `classes` is given) and
    /// `<name>.up{0..4}`; `out_channels` per pixel (C for Bernoulli logits,
    /// 2C for a Gaussian's means then log-variances).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        z_dim: usize,
        arch: &ConvArch,
        out_channels: usize,
        classes: Option<usize>,
        act: Activation,
        rng: &mut StreamRng,
    ) -> Self {
        let [_, h, w] = arch.image;
        let d = arch.decoder_channels;
        let map = [d[0], h.div_ceil(8), w.div_ceil(8)];
        let in_name = format!("{name}.in");
        let input = Linear::new(
            store,
            &in_name,
            z_dim,
            map.iter().product(),
            Init::HeNormal,
            rng,
        );
        let class_table =
            classes.map(|k| ClassTable::new(store, &in_name, &input, k, Init::HeNormal, rng));
        let double = ConvTransposeGeometry {
            stride: 2,
            padding: 1,
            output_padding: 0,
        };
        let same = ConvTransposeGeometry {
            stride: 1,
            padding: 1,
            output_padding: 0,
        };
        let widths = [d[0], d[1], d[2], d[3], out_channels];
        let up = (0..4)
            .map(|i| {
                let (k, geo) = if i == 0 { (3, same) } else { (4, double) };
                let init = if i < 3 {
                    Init::HeNormal
                } else {
                    Init::GlorotNormal
                };
                ConvTranspose2d::new(
                    store,
                    &format!("{name}.up{i}"),
                    widths[i],
                    widths[i + 1],
                    k,
                    geo,
                    true,
                    init,
                    rng,
                )
            })
            .collect();
        ConvDecoder {
            input,
            class_table,
            map,
            up,
            act,
            image: arch.image,
            out_channels,
        }
    }

    /// The dense layer's W·z + b: (B, z) → (B, d₀·h₀·w₀).
    pub fn first_layer(&self, tape: &mut Tape, z: Var) -> Var {
        self.input.forward(tape, z)
    }

    /// The rest from the dense layer's output, adding the class rows T[ys]
    /// when the decoder takes a class: → (B, out_channels·H·W) rows.
    pub fn finish(&self, tape: &mut Tape, pre: Var, ys: Option<&[usize]>) -> Var {
        let h = match (self.class_table, ys) {
            (Some(t), Some(ys)) => t.add(tape, pre, ys),
            (None, None) => pre,
            _ => panic!("decoder: classes given to a decoder without a class table or missing"),
        };
        let h = self.act.apply(tape, h);
        let b = tape.shape(h)[0];
        let [c0, h0, w0] = self.map;
        let mut v = ops::reshape(tape, h, &[b, c0, h0, w0]);
        for (i, layer) in self.up.iter().enumerate() {
            v = layer.forward(tape, v);
            if i + 1 < self.up.len() {
                v = self.act.apply(tape, v);
            }
        }
        let [_, h, w] = self.image;
        let (fh, fw) = (tape.shape(v)[2], tape.shape(v)[3]);
        if fh != h {
            v = ops::slice(tape, v, 2, (fh - h) / 2, h);
        }
        if fw != w {
            v = ops::slice(tape, v, 3, (fw - w) / 2, w);
        }
        ops::reshape(tape, v, &[b, self.out_channels * h * w])
    }

    /// The whole decoder on z: (B, z) (no class).
    pub fn forward(&self, tape: &mut Tape, z: Var) -> Var {
        let pre = self.first_layer(tape, z);
        self.finish(tape, pre, None)
    }
}

/// Three convolutions, two max-pools and a dense layer to K logits; see
/// the module documentation.
#[derive(Clone, Debug)]
pub struct ConvClassifier {
    convs: Vec<(Conv2d, bool)>,
    out: Linear,
    act: Activation,
    dropout: Dropout,
    image: [usize; 3],
}

impl ConvClassifier {
    /// Layers `<name>.conv{0..3}` and `<name>.out`.
    pub fn new(
        store: &mut ParamStore,
        name: &str,
        arch: &ConvArch,
        classes: usize,
        act: Activation,
        rng: &mut StreamRng,
    ) -> Self {
        let [mut c, mut h, mut w] = arch.image;
        let mut convs = Vec::with_capacity(3);
        for (i, &o) in arch.channels.iter().enumerate() {
            let conv = Conv2d::new(
                store,
                &format!("{name}.conv{i}"),
                c,
                o,
                3,
                1,
                1,
                true,
                Init::HeNormal,
                rng,
            );
            let pool = i < 2 && h.min(w) >= 2;
            if pool {
                (h, w) = (h / 2, w / 2);
            }
            convs.push((conv, pool));
            c = o;
        }
        let out = Linear::new(
            store,
            &format!("{name}.out"),
            c * h * w,
            classes,
            Init::GlorotNormal,
            rng,
        );
        ConvClassifier {
            convs,
            out,
            act,
            dropout: Dropout { p: arch.dropout },
            image: arch.image,
        }
    }

    /// Class logits for x: (B, C·H·W) → (B, K).
    pub fn forward(&self, tape: &mut Tape, x: Var, rng: Option<&mut StreamRng>) -> Var {
        let b = tape.shape(x)[0];
        let [c, h, w] = self.image;
        let mut v = ops::reshape(tape, x, &[b, c, h, w]);
        for (conv, pool) in &self.convs {
            v = conv.forward(tape, v);
            v = self.act.apply(tape, v);
            if *pool {
                v = ops::max_pool2d(tape, v, PoolGeometry::HALVE);
            }
        }
        let f: usize = tape.shape(v)[1..].iter().product();
        let v = ops::reshape(tape, v, &[b, f]);
        let v = maybe_dropout(tape, v, self.dropout, rng);
        self.out.forward(tape, v)
    }
}
