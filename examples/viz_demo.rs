//! Draws every kind of figure from the embedded MNIST and Fashion-MNIST test
//! sets into a folder (default `/tmp/viz-demo`), to look at them:
//! `cargo run --release --example viz_demo [OUT_DIR] [TSNE_POINTS]`.
//!
//! No model is trained: "reconstructions" are blurred inputs, "centres" are
//! class means, the confusion matrix is the nearest-class-mean classifier's,
//! and the latent map embeds raw pixels.

use std::path::PathBuf;
use std::time::Instant;

use sparselabel::data::embedded;
use sparselabel::viz::{curves, embed, grid, heatmap, histogram, scatter};

fn main() -> sparselabel::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).map_or("/tmp/viz-demo", |s| s.as_str()));
    let tsne_points: usize = args
        .get(2)
        .map_or(2000, |s| s.parse().expect("TSNE_POINTS"));
    std::fs::create_dir_all(&out).map_err(|e| sparselabel::Error::io(&out, e))?;
    let mnist = embedded::load("mnist")?.test;
    let labels = mnist.labels.clone().expect("MNIST has labels");
    let shape = [1, 28, 28];

    // Reconstructions: 12 inputs above their (blurred) "reconstructions".
    let inputs: Vec<Vec<f32>> = (0..12).map(|i| mnist.row(i).to_vec()).collect();
    let blurred: Vec<Vec<f32>> = inputs.iter().map(|x| blur(x)).collect();
    let rows: Vec<&[f32]> = inputs
        .iter()
        .chain(&blurred)
        .map(|v| v.as_slice())
        .collect();
    let row_names = vec!["input".to_string(), "recon".to_string()];
    grid::image_grid(
        &out.join("reconstructions.png"),
        "M2 reconstructions (test)",
        &rows,
        shape,
        12,
        Some(&row_names),
    )?;

    // Samples: one row per class, 10 test images of that class.
    let mut per_class: Vec<&[f32]> = Vec::new();
    for c in 0..10u32 {
        let idx = labels
            .iter()
            .enumerate()
            .filter(|(_, &l)| l == c)
            .map(|(i, _)| i);
        per_class.extend(idx.take(10).map(|i| mnist.row(i)));
    }
    grid::image_grid(
        &out.join("samples.png"),
        "samples, one row per class",
        &per_class,
        shape,
        10,
        Some(&mnist.class_names),
    )?;

    // Centres: class means, captioned like mapped cluster centres.
    let means = class_means(&mnist.x, &labels, 784, 10);
    let refs: Vec<&[f32]> = means.iter().map(|v| v.as_slice()).collect();
    let caps: Vec<String> = (0..10)
        .map(|c| format!("c{}>{}", (c * 3) % 10, c))
        .collect();
    grid::captioned_grid(
        &out.join("centres.png"),
        "decoded cluster centres and their labels",
        &refs,
        shape,
        10,
        &caps,
    )?;

    // Confusion of the nearest-class-mean classifier.
    let pred: Vec<u32> = (0..mnist.n)
        .map(|i| nearest(mnist.row(i), &means))
        .collect();
    let mut counts = vec![0u64; 100];
    for (&t, &p) in labels.iter().zip(&pred) {
        counts[t as usize * 10 + p as usize] += 1;
    }
    let acc = (0..10).map(|c| counts[c * 11]).sum::<u64>() as f64 / mnist.n as f64;
    let title = format!("nearest class mean, test accuracy {:.1}%", 100.0 * acc);
    heatmap::confusion(
        &out.join("confusion.png"),
        &title,
        &counts,
        10,
        10,
        &mnist.class_names,
        &mnist.class_names,
    )?;

    // Fashion-MNIST: long class names on the columns.
    let fashion = embedded::load("fashion-mnist")?.test;
    let fl = fashion.labels.clone().expect("labels");
    let fmeans = class_means(&fashion.x, &fl, 784, 10);
    let mut fc = vec![0u64; 100];
    for i in 0..fashion.n {
        fc[fl[i] as usize * 10 + nearest(fashion.row(i), &fmeans) as usize] += 1;
    }
    heatmap::confusion(
        &out.join("confusion_fashion.png"),
        "Fashion-MNIST, nearest class mean",
        &fc,
        10,
        10,
        &fashion.class_names,
        &fashion.class_names,
    )?;

    // Latent maps: PCA of all test images, t-SNE of a subsample.
    let t0 = Instant::now();
    let pca = embed::pca_2d(&mnist.x, mnist.n, 784);
    eprintln!(
        "PCA of {} × 784: {:.2} s",
        mnist.n,
        t0.elapsed().as_secs_f64()
    );
    scatter::scatter(
        &out.join("latent_pca.png"),
        "PCA of MNIST test pixels",
        &pca,
        &labels,
        &mnist.class_names,
    )?;
    let m = tsne_points.min(mnist.n);
    let t0 = Instant::now();
    let tsne = embed::tsne_2d(&mnist.x[..m * 784], m, 784, 30.0, 1000, 1);
    eprintln!(
        "t-SNE of {m} × 784, 1000 iterations: {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let title = format!("t-SNE of {m} MNIST test images (pixels)");
    scatter::scatter(
        &out.join("latent_tsne.png"),
        &title,
        &tsne,
        &labels[..m],
        &mnist.class_names,
    )?;

    // Curves: made-up training curves on two very different scales.
    let loss: Vec<(f64, f64)> = (1..=50)
        .map(|e| (e as f64, 95.0 + 120.0 / e as f64))
        .collect();
    let valid: Vec<(f64, f64)> = (1..=50)
        .map(|e| (e as f64, 99.0 + 110.0 / e as f64 + 0.05 * e as f64))
        .collect();
    let series = vec![
        ("train -ELBO".to_string(), loss),
        ("validation -ELBO".to_string(), valid),
    ];
    curves::line_chart(
        &out.join("curves.png"),
        "M2 on MNIST, 100 labels",
        "epoch",
        &series,
        "nats per image",
    )?;
    let acc_series: Vec<(f64, f64)> = (1..=50)
        .map(|e| (e as f64, 0.95 - 0.6 * (-(e as f64) / 8.0).exp()))
        .collect();
    curves::line_chart(
        &out.join("curves_accuracy.png"),
        "validation accuracy",
        "epoch",
        &[("accuracy".to_string(), acc_series)],
        "accuracy",
    )?;

    // Entropy of a softmax over negative distances to class means, by group.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        let h = entropy_to_means(mnist.row(i), &means);
        if label < 5 {
            known.push(h)
        } else {
            unknown.push(h)
        }
    }
    let groups = vec![
        ("classes 0-4 (labelled)".to_string(), known),
        ("classes 5-9 (unlabelled)".to_string(), unknown),
    ];
    histogram::histograms(
        &out.join("entropy.png"),
        "entropy of q(y|x) on test images",
        &groups,
        40,
    )?;
    eprintln!("figures in {}", out.display());
    Ok(())
}

fn blur(x: &[f32]) -> Vec<f32> {
    let mut y = vec![0f32; 784];
    for r in 0..28 {
        for c in 0..28 {
            let (mut s, mut n) = (0.0, 0.0);
            for dr in -1i32..=1 {
                for dc in -1i32..=1 {
                    let (rr, cc) = (r as i32 + dr, c as i32 + dc);
                    if (0..28).contains(&rr) && (0..28).contains(&cc) {
                        s += x[rr as usize * 28 + cc as usize];
                        n += 1.0;
                    }
                }
            }
            y[r * 28 + c] = s / n;
        }
    }
    y
}

fn class_means(x: &[f32], labels: &[u32], dim: usize, k: usize) -> Vec<Vec<f32>> {
    let mut sums = vec![vec![0f64; dim]; k];
    let mut counts = vec![0f64; k];
    for (row, &l) in x.chunks_exact(dim).zip(labels) {
        counts[l as usize] += 1.0;
        for (s, &v) in sums[l as usize].iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    sums.iter()
        .zip(&counts)
        .map(|(s, &n)| s.iter().map(|v| (v / n.max(1.0)) as f32).collect())
        .collect()
}

fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(x: &[f32], means: &[Vec<f32>]) -> u32 {
    let d: Vec<f32> = means.iter().map(|m| sq_dist(x, m)).collect();
    (0..d.len())
        .min_by(|&a, &b| d[a].total_cmp(&d[b]))
        .unwrap_or(0) as u32
}

fn entropy_to_means(x: &[f32], means: &[Vec<f32>]) -> f32 {
    let logits: Vec<f32> = means.iter().map(|m| -0.1 * sq_dist(x, m)).collect();
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let z: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    logits
        .iter()
        .map(|l| {
            let p = (l - max).exp() / z;
            if p > 0.0 {
                -p * p.ln()
            } else {
                0.0
            }
        })
        .sum()
}
