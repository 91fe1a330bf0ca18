//! The model's own pictures of a run, written into `figures/` next to the
//! confusion matrix and curves: `reconstructions.png` (test inputs above
//! their reconstructions), `samples.png` (one row per class for
//! class-conditional models, the columns sharing z; prior samples
//! otherwise), `latent.png` (test latent means mapped to 2-D by PCA or
//! t-SNE, coloured by true class), `entropy.png` (the entropy of q(y|x) on
//! test images, split into labelled and unlabelled classes when the run has
//! both) and `confident.png` (the most confidently assigned test images per
//! model class). Image figures need image data; each is skipped when the
//! model lacks the piece it shows. Everything is drawn from the checkpoint
//! and the seed, so figures are byte-identical across equal runs.

use rand_distr::{Distribution, StandardNormal};

use super::run_dir::RunDir;
use super::trainer::MaskedImages;
use crate::autograd::{ParamStore, Tape};
use crate::data::{Dataset, UNKNOWN_LABEL};
use crate::models::Model;
use crate::tensor::Tensor;
use crate::viz;
use crate::Result;

/// How `latent.png` maps codes to 2-D.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedding {
    /// Principal components (fast; used at the end of training).
    Pca,
    /// Exact t-SNE, perplexity 30, 1,000 iterations (`plot`'s default).
    Tsne,
}

/// Test images shown in `reconstructions.png`.
const RECON_COUNT: usize = 20;
/// Columns of the sample and confidence grids.
const COLS: usize = 10;
/// Most points mapped in `latent.png`.
const LATENT_MAX: usize = 5000;

/// What the figures need to know about the run.
pub struct FigureContext<'a> {
    /// The run directory.
    pub run: &'a RunDir,
    /// The trained model.
    pub model: &'a dyn Model,
    /// Its parameters.
    pub store: &'a ParamStore,
    /// The test split.
    pub test: &'a Dataset,
    /// Dataset classes that had labelled examples, when some classes had
    /// none (semi-unsupervised runs).
    pub labelled_classes: Option<Vec<u32>>,
    /// Run seed (the sample noise and t-SNE start derive from it).
    pub seed: u64,
    /// Dropped pixels (`--drop-std`): pictures put the kept ones back in
    /// place, the dropped ones black.
    pub masked: Option<&'a MaskedImages>,
}

impl FigureContext<'_> {
    /// (C, H, W) of the pictures, when the data are images.
    fn image_shape(&self) -> Option<[usize; 3]> {
        self.test
            .image_shape
            .or_else(|| self.masked.and_then(|m| m.image_shape))
    }

    /// Rows of model features as full images (expanded when pixels were
    /// dropped), and the width of one.
    fn as_images(&self, rows: &[f32]) -> (Vec<f32>, usize) {
        match self.masked {
            Some(m) => (m.mask.expand(rows, 0.0), m.mask.full_dim),
            None => (rows.to_vec(), self.test.dim),
        }
    }
}

/// The first `n` rows of `ds` (fewer when it has fewer), borrowed.
fn head_rows(ds: &Dataset, n: usize) -> &[f32] {
    &ds.x[..n.min(ds.n) * ds.dim]
}

/// Runs `f` on the rows of `x` (`d` features each) in chunks of 1,000
/// under a no-grad tape and stacks the outputs; `None` when the model gives
/// none.
pub(crate) fn batched(
    model: &dyn Model,
    store: &ParamStore,
    x: &[f32],
    d: usize,
    f: impl Fn(&dyn Model, &mut Tape, crate::autograd::Var) -> Option<crate::autograd::Var>,
) -> Option<(Vec<f32>, usize)> {
    let n = x.len() / d;
    let mut out = Vec::new();
    let mut width = 0;
    for start in (0..n).step_by(1000) {
        let end = (start + 1000).min(n);
        let chunk = Tensor::new(&[end - start, d], x[start * d..end * d].to_vec());
        let mut tape = Tape::no_grad(store);
        let xv = tape.constant(chunk);
        let y = f(model, &mut tape, xv)?;
        width = tape.shape(y)[1];
        out.extend_from_slice(tape.value(y).data());
    }
    Some((out, width))
}

/// Name of model class `k`: the dataset class it stands for, or
/// "extra N" for a class without labelled counterpart.
pub fn model_class_name(model: &dyn Model, store: &ParamStore, test: &Dataset, k: usize) -> String {
    let dataset_name = |c: usize| {
        test.class_names
            .get(c)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    };
    match model.class_map_in(store) {
        Some(map) => match map.get(k).copied().flatten() {
            Some(c) => dataset_name(c as usize),
            None => {
                let first_extra = map.iter().position(|m| m.is_none()).unwrap_or(k);
                format!("extra {}", k - first_extra + 1)
            }
        },
        None => dataset_name(k),
    }
}

/// Writes every figure the model and data allow; returns the file names
/// written.
pub fn write(ctx: &FigureContext<'_>, embedding: Embedding) -> Result<Vec<&'static str>> {
    let mut written = Vec::new();
    if reconstructions(ctx)? {
        written.push("reconstructions.png");
    }
    if samples(ctx)? {
        written.push("samples.png");
    }
    if centres(ctx)? {
        written.push("centres.png");
    }
    if latent(ctx, embedding)? {
        written.push("latent.png");
    }
    if entropy_and_confident(ctx)? {
        written.push("entropy.png");
        written.push("confident.png");
    }
    Ok(written)
}

fn reconstructions(ctx: &FigureContext<'_>) -> Result<bool> {
    let Some(shape) = ctx.image_shape() else {
        return Ok(false);
    };
    let x = head_rows(ctx.test, RECON_COUNT);
    let Some((rec, _)) = batched(ctx.model, ctx.store, x, ctx.test.dim, |m, t, v| {
        m.reconstruct(t, v)
    }) else {
        return Ok(false);
    };
    let (inputs, d) = ctx.as_images(x);
    let (rec, _) = ctx.as_images(&rec);
    let n = x.len() / ctx.test.dim;
    let mut images: Vec<&[f32]> = Vec::new();
    let mut labels = Vec::new();
    for block in (0..n).step_by(COLS) {
        let end = (block + COLS).min(n);
        images.extend((block..end).map(|i| &inputs[i * d..(i + 1) * d]));
        images.extend((block..end).map(|i| &rec[i * d..(i + 1) * d]));
        labels.push("input".to_string());
        labels.push("recon.".to_string());
    }
    viz::grid::image_grid(
        &ctx.run.file("figures/reconstructions.png"),
        &format!(
            "{}: test inputs above their reconstructions",
            ctx.model.name()
        ),
        &images,
        shape,
        COLS.min(n),
        Some(&labels),
    )?;
    Ok(true)
}

/// Cluster models with a class-conditional decoder: each cluster's decoded
/// centre — p(x | z = the mean of p(z|y), y) for GM-DGM and SSVAE, the
/// decoder at the cluster's mean test code for catvae — captioned with the
/// class it stands for ("extra N" for clusters without labels).
fn centres(ctx: &FigureContext<'_>) -> Result<bool> {
    let (Some(shape), Some(z)) = (ctx.image_shape(), ctx.model.latent_dim()) else {
        return Ok(false);
    };
    if ctx.model.class_map_in(ctx.store).is_none() {
        return Ok(false);
    }
    let k = ctx.model.num_classes();
    let classes: Vec<usize> = (0..k).collect();
    let mut tape = Tape::no_grad(ctx.store);
    let (out, how) = if ctx.model.class_conditional() {
        let zero = tape.constant(Tensor::zeros(&[k, z]));
        match ctx.model.sample(&mut tape, zero, &classes) {
            Some(out) => (out, "mean of p(z|y) per cluster"),
            None => return Ok(false),
        }
    } else {
        // A decoder of (code, class): each cluster's members' mean code.
        let Some(codes) = member_means(ctx, k, z) else {
            return Ok(false);
        };
        let codes = tape.constant(Tensor::new(&[k, z], codes));
        match ctx.model.decode_class(&mut tape, codes, &classes) {
            Some(out) => (out, "mean code of each cluster's test members"),
            None => return Ok(false),
        }
    };
    let (out, d) = ctx.as_images(tape.value(out).data());
    let images: Vec<&[f32]> = out.chunks_exact(d).collect();
    let captions: Vec<String> = classes
        .iter()
        .map(|&c| model_class_name(ctx.model, ctx.store, ctx.test, c))
        .collect();
    viz::grid::captioned_grid(
        &ctx.run.file("figures/centres.png"),
        &format!("{}: decoded cluster centres ({how})", ctx.model.name()),
        &images,
        shape,
        k.min(COLS),
        &captions,
    )?;
    Ok(true)
}

/// The mean latent code of the test examples each of the `k` clusters
/// claims (argmax of the class probabilities); zeros for an empty cluster.
fn member_means(ctx: &FigureContext<'_>, k: usize, z: usize) -> Option<Vec<f32>> {
    let test = ctx.test;
    let (codes, zc) = batched(ctx.model, ctx.store, &test.x, test.dim, |m, t, v| {
        m.latent_means(t, v)
    })?;
    let (lp, kc) = batched(ctx.model, ctx.store, &test.x, test.dim, |m, t, v| {
        Some(m.class_log_probs(t, v))
    })?;
    if zc != z || kc != k {
        return None;
    }
    let mut sums = vec![0f64; k * z];
    let mut counts = vec![0usize; k];
    for (code, row) in codes.chunks_exact(z).zip(lp.chunks_exact(k)) {
        let c = (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b });
        counts[c] += 1;
        for (s, &v) in sums[c * z..(c + 1) * z].iter_mut().zip(code) {
            *s += v as f64;
        }
    }
    Some(
        sums.chunks_exact(z)
            .zip(&counts)
            .flat_map(|(s, &n)| s.iter().map(move |v| (v / n.max(1) as f64) as f32))
            .collect(),
    )
}

fn samples(ctx: &FigureContext<'_>) -> Result<bool> {
    let (Some(shape), Some(z)) = (ctx.image_shape(), ctx.model.latent_dim()) else {
        return Ok(false);
    };
    let conditional = ctx.model.class_conditional();
    let rows = if conditional {
        ctx.model.num_classes()
    } else {
        COLS
    };
    let mut rng = crate::rng::stream(ctx.seed, "figures-samples");
    // Conditional: one noise row per column, shared down the classes.
    let draws = if conditional { COLS } else { rows * COLS };
    let noise: Vec<f32> = (0..draws * z)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    let mut data = Vec::with_capacity(rows * COLS * z);
    let mut classes = Vec::with_capacity(rows * COLS);
    for r in 0..rows {
        for c in 0..COLS {
            let src = if conditional { c } else { r * COLS + c };
            data.extend_from_slice(&noise[src * z..(src + 1) * z]);
            classes.push(r);
        }
    }
    let mut tape = Tape::no_grad(ctx.store);
    let nv = tape.constant(Tensor::new(&[rows * COLS, z], data));
    let Some(out) = ctx.model.sample(&mut tape, nv, &classes) else {
        return Ok(false);
    };
    let (out, d) = ctx.as_images(tape.value(out).data());
    let images: Vec<&[f32]> = out.chunks_exact(d).collect();
    let (title, labels) = if conditional {
        (
            format!(
                "{}: samples, one row per class (columns share z)",
                ctx.model.name()
            ),
            Some(
                (0..rows)
                    .map(|k| model_class_name(ctx.model, ctx.store, ctx.test, k))
                    .collect::<Vec<_>>(),
            ),
        )
    } else {
        (
            format!("{}: samples from the prior", ctx.model.name()),
            None,
        )
    };
    viz::grid::image_grid(
        &ctx.run.file("figures/samples.png"),
        &title,
        &images,
        shape,
        COLS,
        labels.as_deref(),
    )?;
    Ok(true)
}

fn latent(ctx: &FigureContext<'_>, embedding: Embedding) -> Result<bool> {
    let Some(labels) = &ctx.test.labels else {
        return Ok(false);
    };
    let x = head_rows(ctx.test, LATENT_MAX);
    let Some((codes, z)) = batched(ctx.model, ctx.store, x, ctx.test.dim, |m, t, v| {
        m.latent_means(t, v)
    }) else {
        return Ok(false);
    };
    let n = x.len() / ctx.test.dim;
    // A class-conditional model's latent code is (y, z), and its z codes
    // the style given y, so classes mix in z alone by design: map the whole
    // code, z beside q(y|x) scaled by 2·√Z — two confident classes then lie
    // about 2.8·√Z apart, more than two z draws (√(2Z)) — so each class
    // is an island and z spreads the styles within it.
    let joint = ctx.model.class_conditional();
    let (codes, z) = if joint {
        let Some((lp, k)) = batched(ctx.model, ctx.store, x, ctx.test.dim, |m, t, v| {
            Some(m.class_log_probs(t, v))
        }) else {
            return Ok(false);
        };
        let scale = 2.0 * (z as f32).sqrt();
        let mut joined = Vec::with_capacity(n * (z + k));
        for (zr, yr) in codes.chunks_exact(z).zip(lp.chunks_exact(k)) {
            joined.extend_from_slice(zr);
            joined.extend(yr.iter().map(|&l| scale * l.exp()));
        }
        (joined, z + k)
    } else {
        (codes, z)
    };
    let (points, how) = if z == 2 {
        (codes.chunks_exact(2).map(|p| [p[0], p[1]]).collect(), "raw")
    } else {
        match embedding {
            Embedding::Pca => (viz::embed::pca_2d(&codes, n, z), "PCA"),
            Embedding::Tsne => (
                viz::embed::tsne_2d(&codes, n, z, 30.0, 1000, ctx.seed),
                "t-SNE",
            ),
        }
    };
    let classes: Vec<u32> = labels[..n]
        .iter()
        .map(|&l| if l == UNKNOWN_LABEL { 0 } else { l })
        .collect();
    viz::scatter::scatter(
        &ctx.run.file("figures/latent.png"),
        &if joint {
            format!(
                "{}: {how} of {n} test codes (z{} means, q(y|x)), by true class",
                ctx.model.name(),
                z - ctx.model.num_classes()
            )
        } else {
            format!(
                "{}: {how} of {n} test latent means (z{z}), by true class",
                ctx.model.name()
            )
        },
        &points,
        &classes,
        &ctx.test.class_names,
    )?;
    Ok(true)
}

fn entropy_and_confident(ctx: &FigureContext<'_>) -> Result<bool> {
    let test = ctx.test;
    let Some((lp, k)) = batched(ctx.model, ctx.store, &test.x, test.dim, |m, t, v| {
        Some(m.class_log_probs(t, v))
    }) else {
        return Ok(false);
    };
    let entropy: Vec<f32> = lp
        .chunks_exact(k)
        .map(|r| {
            -r.iter()
                .map(|&l| l.exp() * l)
                .filter(|v| v.is_finite())
                .sum::<f32>()
        })
        .collect();
    let groups = match (&ctx.labelled_classes, &test.labels) {
        (Some(lc), Some(labels)) => {
            let (mut seen, mut unseen) = (Vec::new(), Vec::new());
            for (e, &l) in entropy.iter().zip(labels) {
                if lc.contains(&l) {
                    seen.push(*e);
                } else if l != UNKNOWN_LABEL {
                    unseen.push(*e);
                }
            }
            vec![
                ("labelled classes".to_string(), seen),
                ("unlabelled classes".to_string(), unseen),
            ]
        }
        _ => vec![("all test images".to_string(), entropy.clone())],
    };
    viz::histogram::histograms(
        &ctx.run.file("figures/entropy.png"),
        &format!(
            "{}: entropy of q(y|x) on test images (nats)",
            ctx.model.name()
        ),
        &groups,
        30,
    )?;

    let Some(shape) = ctx.image_shape() else {
        return Ok(true);
    };
    // Per model class, the test images it is most sure of among those it
    // predicts (blank cells when it predicts fewer).
    let (pictures, d) = ctx.as_images(&test.x);
    let blank = vec![1.0f32; d];
    let mut images: Vec<&[f32]> = Vec::new();
    let mut names = Vec::new();
    for class in 0..k {
        let mut mine: Vec<(f32, usize)> = lp
            .chunks_exact(k)
            .enumerate()
            .filter(|(_, r)| (0..k).all(|j| r[j] <= r[class]))
            .map(|(i, r)| (r[class], i))
            .collect();
        mine.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for c in 0..COLS {
            images.push(match mine.get(c) {
                Some(&(_, i)) => &pictures[i * d..(i + 1) * d],
                None => &blank,
            });
        }
        names.push(model_class_name(ctx.model, ctx.store, test, class));
    }
    viz::grid::image_grid(
        &ctx.run.file("figures/confident.png"),
        &format!("{}: most confident test images per class", ctx.model.name()),
        &images,
        shape,
        COLS,
        Some(&names),
    )?;
    Ok(true)
}
