//! k-means: recovery, restarts, Mahalanobis, empty clusters, determinism
//! across thread counts.

use rand_distr::{Distribution, StandardNormal};
use sparselabel::cluster::{kmeans, kmeans_run, CovarianceScope, Distance, KMeansConfig};
use sparselabel::metrics::cluster_accuracy;
use sparselabel::rng;

/// `per` points around each centre with per-axis standard deviations `sd`.
fn blobs(centres: &[[f32; 2]], sd: [f32; 2], per: usize, seed: u64) -> (Vec<f32>, Vec<u32>) {
    let mut r = rng::stream(seed, "test-blobs");
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..per {
        for (c, m) in centres.iter().enumerate() {
            let _ = i;
            let a: f32 = StandardNormal.sample(&mut r);
            let b: f32 = StandardNormal.sample(&mut r);
            x.extend([m[0] + sd[0] * a, m[1] + sd[1] * b]);
            y.push(c as u32);
        }
    }
    (x, y)
}

#[test]
fn recovers_separated_blobs() {
    let (x, y) = blobs(&[[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], [1.0, 1.0], 200, 1);
    let cfg = KMeansConfig {
        k: 3,
        ..Default::default()
    };
    let r = kmeans(&x, 600, 2, &cfg).unwrap();
    assert!(r.converged);
    assert_eq!(cluster_accuracy(&r.labels, &y).unwrap().accuracy, 1.0);
    assert_eq!(r.centres.len(), 6);
    // Inertia is the sum of squared distances to the assigned centres.
    let direct: f64 = (0..600)
        .map(|i| {
            let c = r.labels[i] as usize;
            (0..2)
                .map(|t| ((x[i * 2 + t] - r.centres[c * 2 + t]) as f64).powi(2))
                .sum::<f64>()
        })
        .sum();
    assert!((direct - r.inertia).abs() < 1e-3 * r.inertia);
}

#[test]
fn n_init_is_never_worse_than_any_single_start() {
    // Many overlapping blobs: restarts end in different local optima.
    let centres: Vec<[f32; 2]> = (0..12)
        .map(|i| [(i % 4) as f32 * 3.0, (i / 4) as f32 * 3.0])
        .collect();
    let (x, _) = blobs(&centres, [1.2, 1.2], 40, 5);
    let n = x.len() / 2;
    for seed in 0..6 {
        let cfg = KMeansConfig {
            k: 8,
            n_init: 5,
            seed,
            ..Default::default()
        };
        let best = kmeans(&x, n, 2, &cfg).unwrap();
        let singles: Vec<f64> = (0..5)
            .map(|r| kmeans_run(&x, n, 2, &cfg, r).unwrap().inertia)
            .collect();
        assert_eq!(best.restart_objectives, singles);
        for s in &singles {
            assert!(best.inertia <= *s);
        }
        assert_eq!(
            best.inertia,
            singles.iter().cloned().fold(f64::INFINITY, f64::min)
        );
    }
}

#[test]
fn mahalanobis_separates_elongated_clusters_euclidean_cannot() {
    // Two clusters at y = ±1.5, spread along x (sd 10) but thin in y (sd 0.5).
    let (x, y) = blobs(&[[0.0, -1.5], [0.0, 1.5]], [10.0, 0.5], 400, 2);
    let n = 800;
    let eu = kmeans(
        &x,
        n,
        2,
        &KMeansConfig {
            k: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let acc_eu = cluster_accuracy(&eu.labels, &y).unwrap().accuracy;
    for scope in [CovarianceScope::Shared, CovarianceScope::PerCluster] {
        let cfg = KMeansConfig {
            k: 2,
            distance: Distance::Mahalanobis(scope),
            ..Default::default()
        };
        let m = kmeans(&x, n, 2, &cfg).unwrap();
        let acc = cluster_accuracy(&m.labels, &y).unwrap().accuracy;
        assert!(acc > 0.97, "{scope:?}: {acc}");
    }
    assert!(acc_eu < 0.8, "Euclidean unexpectedly good: {acc_eu}");
}

#[test]
fn duplicates_and_empty_clusters_do_not_break() {
    // Three distinct points, many copies; k = 4 forces an empty cluster.
    let mut x = Vec::new();
    for i in 0..30 {
        let p = [[0.0f32, 0.0], [5.0, 5.0], [9.0, 0.0]][i % 3];
        x.extend(p);
    }
    let r = kmeans(
        &x,
        30,
        2,
        &KMeansConfig {
            k: 4,
            n_init: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.labels.iter().all(|&l| l < 4));
    assert!(r.inertia.abs() < 1e-9);
    let r = kmeans(
        &x,
        30,
        2,
        &KMeansConfig {
            k: 3,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(r.inertia.abs() < 1e-9);
    // Bad configurations are errors, not panics.
    assert!(kmeans(
        &x,
        30,
        2,
        &KMeansConfig {
            k: 0,
            ..Default::default()
        }
    )
    .is_err());
    assert!(kmeans(
        &x,
        30,
        2,
        &KMeansConfig {
            k: 31,
            ..Default::default()
        }
    )
    .is_err());
    assert!(kmeans(
        &x[..5],
        3,
        2,
        &KMeansConfig {
            k: 1,
            ..Default::default()
        }
    )
    .is_err());
    let mut bad = x.clone();
    bad[7] = f32::NAN;
    assert!(kmeans(
        &bad,
        30,
        2,
        &KMeansConfig {
            k: 2,
            ..Default::default()
        }
    )
    .is_err());
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let centres: Vec<[f32; 2]> = (0..6)
        .map(|i| [i as f32 * 2.0, (i % 2) as f32 * 3.0])
        .collect();
    let (x, _) = blobs(&centres, [1.0, 1.0], 1000, 9); // 6000 points > 2 chunks
    let n = x.len() / 2;
    for distance in [
        Distance::Euclidean,
        Distance::Mahalanobis(CovarianceScope::PerCluster),
    ] {
        let cfg = KMeansConfig {
            k: 6,
            n_init: 2,
            distance,
            ..Default::default()
        };
        let run = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| kmeans(&x, n, 2, &cfg).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.inertia.to_bits(), b.inertia.to_bits());
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.centres), bits(&b.centres));
        assert_eq!(a.iterations, b.iterations);
    }
}
