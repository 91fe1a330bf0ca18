//! Every figure function writes a PNG that decodes back with the expected
//! size and real content; PCA and t-SNE recover known structure; output is
//! deterministic.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rand::RngExt;
use sparselabel::viz::{curves, embed, frame, grid, heatmap, histogram, scatter};

/// A fresh directory under the system temp dir for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparselabel-viz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Decodes an RGB8 PNG: (width, height, pixels).
fn decode(path: &Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.width as usize * info.height as usize * 3);
    (info.width as usize, info.height as usize, buf)
}

fn distinct_colours(pixels: &[u8]) -> usize {
    pixels
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect::<HashSet<_>>()
        .len()
}

/// A 28×28 "digit": a ring of radius `r` with a bar.
fn digit(r: f32) -> Vec<f32> {
    let mut img = vec![0f32; 28 * 28];
    for y in 0..28 {
        for x in 0..28 {
            let d = ((x as f32 - 13.5).powi(2) + (y as f32 - 13.5).powi(2)).sqrt();
            img[y * 28 + x] =
                (1.0 - (d - r).abs() / 2.0).max(0.0) + if x == 14 { 0.5 } else { 0.0 };
        }
    }
    img
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| i.to_string()).collect()
}

#[test]
fn image_grid_has_the_expected_size_and_content() {
    let dir = temp_dir("grid");
    let imgs: Vec<Vec<f32>> = (0..6).map(|i| digit(4.0 + i as f32)).collect();
    let refs: Vec<&[f32]> = imgs.iter().map(|v| v.as_slice()).collect();
    let labels = vec!["inputs".to_string(), "recons".to_string()];
    let path = dir.join("reconstructions.png");
    grid::image_grid(
        &path,
        "reconstructions",
        &refs,
        [1, 28, 28],
        3,
        Some(&labels),
    )
    .unwrap();
    let (w, h, px) = decode(&path);
    // 3 columns of 56-pixel cells with 2-pixel gaps, row labels of 6 characters.
    let grid_w = 3 * (56 + 2) + 2;
    assert_eq!(w, (6 * 12 - 2) + 16 + grid_w + 12);
    assert_eq!(h, frame::TITLE_H + 12 + 2 * (56 + 2) + 2 + 12);
    assert!(
        distinct_colours(&px) > 20,
        "greyscale digits give many grey levels"
    );
}

#[test]
fn captioned_rgb_grid_decodes() {
    let dir = temp_dir("captions");
    let img: Vec<f32> = (0..3 * 8 * 8).map(|k| (k % 64) as f32 / 63.0).collect();
    let refs = vec![img.as_slice(); 4];
    let caps: Vec<String> = (0..4).map(|k| format!("c{k}>{}", 3 - k)).collect();
    let path = dir.join("centres.png");
    grid::captioned_grid(&path, "centres", &refs, [3, 8, 8], 4, &caps).unwrap();
    let (w, h, px) = decode(&path);
    assert!(w >= 4 * 64 && h > 64 + frame::TITLE_H);
    assert!(distinct_colours(&px) > 20);
    assert!(grid::captioned_grid(&path, "x", &refs, [3, 8, 8], 4, &caps[..2]).is_err());
}

#[test]
fn confusion_heatmap_decodes_with_counts() {
    let dir = temp_dir("confusion");
    let k = 10;
    let counts: Vec<u64> = (0..k * k)
        .map(|i| {
            if i / k == i % k {
                950 + i as u64
            } else {
                (i as u64 * 7) % 13
            }
        })
        .collect();
    let path = dir.join("confusion.png");
    heatmap::confusion(&path, "test confusion", &counts, k, k, &names(k), &names(k)).unwrap();
    let (w, h, px) = decode(&path);
    assert!(w > k * 32 && h > k * 32, "{w}×{h}");
    assert!(distinct_colours(&px) > 10);
    // Long column names are written upwards and still fit.
    let long: Vec<String> = (0..k).map(|i| format!("cluster {i} > {i}")).collect();
    heatmap::confusion(&path, "clusters", &counts, k, k, &names(k), &long).unwrap();
    assert!(decode(&path).1 > h);
}

#[test]
fn scatter_and_line_chart_and_histograms_decode() {
    let dir = temp_dir("plots");
    let pts: Vec<[f32; 2]> = (0..300)
        .map(|i| [(i as f32 * 0.1).sin() * i as f32, (i % 7) as f32])
        .collect();
    let cls: Vec<u32> = (0..300).map(|i| (i % 4) as u32).collect();
    let path = dir.join("latent.png");
    scatter::scatter(&path, "latent", &pts, &cls, &names(3)).unwrap();
    let (w, h, px) = decode(&path);
    assert!(w > 560 && h > 560);
    assert!(distinct_colours(&px) >= 6, "four class colours plus frame");

    let series = vec![
        (
            "train loss".to_string(),
            (1..=20).map(|e| (e as f64, 100.0 / e as f64)).collect(),
        ),
        (
            "valid loss".to_string(),
            (1..=20)
                .map(|e| (e as f64, 110.0 / e as f64 + 2.0))
                .collect(),
        ),
    ];
    let path = dir.join("curves.png");
    curves::line_chart(&path, "losses", "epoch", &series, "loss").unwrap();
    let (w, h, px) = decode(&path);
    assert!(w > 640 && h > 400);
    assert!(distinct_colours(&px) >= 5);

    let groups = vec![
        (
            "labelled".to_string(),
            (0..500).map(|i| (i as f32 / 500.0).powi(3) * 2.3).collect(),
        ),
        (
            "unlabelled".to_string(),
            (0..200).map(|i| 2.3 - (i as f32 / 200.0).powi(2)).collect(),
        ),
    ];
    let path = dir.join("entropy.png");
    histogram::histograms(&path, "entropy of q(y|x)", &groups, 30).unwrap();
    let (w, h, px) = decode(&path);
    assert!(w > 640 && h > 380);
    assert!(
        distinct_colours(&px) >= 6,
        "two bars, their overlap and outlines"
    );
}

#[test]
fn figures_are_byte_identical_across_calls() {
    let dir = temp_dir("determinism");
    let counts: Vec<u64> = (0..9).collect();
    let (a, b) = (dir.join("a.png"), dir.join("b.png"));
    heatmap::confusion(&a, "t", &counts, 3, 3, &names(3), &names(3)).unwrap();
    heatmap::confusion(&b, "t", &counts, 3, 3, &names(3), &names(3)).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let leftovers = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 2, "the atomic write leaves no temporary file");
}

fn gaussian(rng: &mut sparselabel::rng::StreamRng) -> f32 {
    let u1 = rng.random::<f64>().max(1e-300);
    let u2 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

#[test]
fn pca_recovers_the_top_axis_of_an_anisotropic_cloud() {
    let (n, dim) = (2000, 8);
    let mut rng = sparselabel::rng::stream(7, "test-pca");
    // Direction u = (1, 2, 0, …, 0, −1)/√6 with sd 5; sd 1 elsewhere.
    let mut u = vec![0f32; dim];
    u[0] = 1.0;
    u[1] = 2.0;
    u[dim - 1] = -1.0;
    let norm = 6f32.sqrt();
    u.iter_mut().for_each(|v| *v /= norm);
    let mut x = Vec::with_capacity(n * dim);
    for _ in 0..n {
        let a = 5.0 * gaussian(&mut rng);
        for &ud in &u {
            x.push(3.0 + a * ud + gaussian(&mut rng));
        }
    }
    let axes = embed::principal_axes(&x, n, dim, 2);
    let cos: f64 = (0..dim).map(|d| axes[0][d] * u[d] as f64).sum();
    assert!(cos.abs() > 0.99, "top axis · u = {cos}");
    let ortho: f64 = (0..dim).map(|d| axes[0][d] * axes[1][d]).sum();
    assert!(ortho.abs() < 1e-9);
    let y = embed::pca_2d(&x, n, dim);
    let var0 = y.iter().map(|p| (p[0] as f64).powi(2)).sum::<f64>() / n as f64;
    let var1 = y.iter().map(|p| (p[1] as f64).powi(2)).sum::<f64>() / n as f64;
    assert!(var0 > 20.0 && var1 < 2.0, "variances {var0}, {var1}");
}

/// Three well-separated Gaussian blobs in 10-D: (points, labels).
fn blobs(per: usize) -> (Vec<f32>, Vec<u32>) {
    let dim = 10;
    let mut rng = sparselabel::rng::stream(3, "test-blobs");
    let mut x = Vec::new();
    let mut y = Vec::new();
    for c in 0..3 {
        for _ in 0..per {
            for d in 0..dim {
                let centre = if d == c { 10.0 } else { 0.0 };
                x.push(centre + gaussian(&mut rng));
            }
            y.push(c as u32);
        }
    }
    (x, y)
}

fn one_nn_accuracy(points: &[[f32; 2]], labels: &[u32]) -> f64 {
    let mut right = 0;
    for i in 0..points.len() {
        let nearest = (0..points.len())
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let d = |j: usize| {
                    (points[i][0] - points[j][0]).powi(2) + (points[i][1] - points[j][1]).powi(2)
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        right += (labels[nearest] == labels[i]) as usize;
    }
    right as f64 / points.len() as f64
}

#[test]
fn tsne_separates_blobs_and_is_deterministic() {
    let (x, labels) = blobs(60);
    let n = labels.len();
    let a = embed::tsne_2d(&x, n, 10, 20.0, 400, 11);
    let acc = one_nn_accuracy(&a, &labels);
    assert!(acc > 0.95, "1-NN accuracy in the embedding {acc}");
    assert!(a.iter().all(|p| p[0].is_finite() && p[1].is_finite()));
    let b = embed::tsne_2d(&x, n, 10, 20.0, 400, 11);
    assert_eq!(a, b, "same seed, same embedding");
    let c = embed::tsne_2d(&x, n, 10, 20.0, 400, 12);
    assert_ne!(a, c, "another seed starts elsewhere");
    // The map draws: well-separated classes give a figure with all three colours.
    let dir = temp_dir("tsne");
    let path = dir.join("latent.png");
    scatter::scatter(&path, "t-SNE of three blobs", &a, &labels, &names(3)).unwrap();
    assert!(distinct_colours(&decode(&path).2) >= 5);
}
