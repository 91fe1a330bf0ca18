//! Gaussian mixtures: parameter recovery (full and diagonal), monotone EM,
//! determinism across thread counts, densities and distances by hand.

use rand_distr::{Distribution, StandardNormal};
use sparselabel::cluster::{gmm, CovarianceType, Gmm, GmmConfig, GmmInit};
use sparselabel::rng;

/// Samples a 2-D mixture: weights, means, and lower Cholesky factors.
fn sample(n: usize, w: &[f64], mu: &[[f64; 2]], chol: &[[f64; 3]], seed: u64) -> Vec<f32> {
    let mut r = rng::stream(seed, "test-gmm");
    let mut x = Vec::with_capacity(2 * n);
    let mut counts: Vec<usize> = w.iter().map(|p| (p * n as f64).round() as usize).collect();
    let total: usize = counts.iter().sum();
    counts[0] = counts[0] + n - total;
    for (j, &c) in counts.iter().enumerate() {
        for _ in 0..c {
            let a: f64 = StandardNormal.sample(&mut r);
            let b: f64 = StandardNormal.sample(&mut r);
            let [l00, l10, l11] = chol[j];
            x.push((mu[j][0] + l00 * a) as f32);
            x.push((mu[j][1] + l10 * a + l11 * b) as f32);
        }
    }
    x
}

const W: [f64; 3] = [0.5, 0.3, 0.2];
const MU: [[f64; 2]; 3] = [[0.0, 0.0], [6.0, 1.0], [-1.0, 7.0]];

/// Index of the fitted component nearest to each true mean.
fn matching(fit: &Gmm) -> Vec<usize> {
    MU.iter()
        .map(|m| {
            (0..3)
                .min_by(|&a, &b| {
                    let d = |j: usize| {
                        (fit.means[2 * j] - m[0]).powi(2) + (fit.means[2 * j + 1] - m[1]).powi(2)
                    };
                    d(a).total_cmp(&d(b))
                })
                .unwrap()
        })
        .collect()
}

#[test]
fn recovers_full_covariance_mixture() {
    // Σ = L Lᵀ with L = [[l00, 0], [l10, l11]].
    let chol = [[1.0, 0.6, 0.8], [0.5, -0.4, 1.2], [1.5, 0.0, 0.3]];
    let n = 9000;
    let x = sample(n, &W, &MU, &chol, 1);
    let cfg = GmmConfig {
        k: 3,
        n_init: 2,
        tol: 1e-6,
        ..Default::default()
    };
    let fit = gmm(&x, n, 2, &cfg).unwrap();
    assert!(fit.converged);
    let m = matching(&fit.model);
    for (t, &j) in m.iter().enumerate() {
        assert!((fit.model.weights[j] - W[t]).abs() < 0.02, "weight {t}");
        assert!((fit.model.means[2 * j] - MU[t][0]).abs() < 0.1);
        assert!((fit.model.means[2 * j + 1] - MU[t][1]).abs() < 0.1);
        let [l00, l10, l11] = chol[t];
        let truth = [l00 * l00, l00 * l10, l00 * l10, l10 * l10 + l11 * l11];
        for (q, &tv) in truth.iter().enumerate() {
            let got = fit.model.covariances[4 * j + q];
            assert!(
                (got - tv).abs() < 0.1 + 0.1 * tv.abs(),
                "cov {t}[{q}]: {got} vs {tv}"
            );
        }
    }
    // Responsibilities are distributions.
    for row in fit.responsibilities.chunks_exact(3) {
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    // BIC as defined.
    let p = (3 * 3 + 3 * 2 + 2) as f64;
    assert!(
        (fit.bic - (-2.0 * fit.mean_log_likelihood * n as f64 + p * (n as f64).ln())).abs() < 1e-6
    );
}

#[test]
fn recovers_diagonal_mixture() {
    let chol = [[1.0, 0.0, 0.5], [0.4, 0.0, 1.5], [2.0, 0.0, 0.7]];
    let n = 9000;
    let x = sample(n, &W, &MU, &chol, 2);
    let cfg = GmmConfig {
        k: 3,
        covariance: CovarianceType::Diag,
        n_init: 2,
        tol: 1e-6,
        ..Default::default()
    };
    let fit = gmm(&x, n, 2, &cfg).unwrap();
    let m = matching(&fit.model);
    for (t, &j) in m.iter().enumerate() {
        assert!((fit.model.weights[j] - W[t]).abs() < 0.02);
        assert!((fit.model.means[2 * j] - MU[t][0]).abs() < 0.1);
        assert!((fit.model.means[2 * j + 1] - MU[t][1]).abs() < 0.1);
        let var = [chol[t][0].powi(2), chol[t][2].powi(2)];
        for (q, &v) in var.iter().enumerate() {
            let got = fit.model.covariances[2 * j + q];
            assert!(
                (got - v).abs() < 0.1 * v + 0.02,
                "var {t}[{q}]: {got} vs {v}"
            );
        }
    }
}

#[test]
fn log_likelihood_never_decreases() {
    // Overlapping components so EM takes many steps.
    let chol = [[1.5, 0.5, 1.0], [1.0, -0.8, 1.0], [2.0, 0.0, 1.5]];
    let mu = [[0.0, 0.0], [2.0, 1.0], [-1.0, 2.5]];
    let x = sample(3000, &W, &mu, &chol, 3);
    for covariance in [CovarianceType::Full, CovarianceType::Diag] {
        for init in [GmmInit::KMeans, GmmInit::Random] {
            for seed in 0..3 {
                let cfg = GmmConfig {
                    k: 4,
                    covariance,
                    init,
                    tol: 0.0,
                    max_iter: 60,
                    seed,
                    ..Default::default()
                };
                let fit = gmm(&x, 3000, 2, &cfg).unwrap();
                assert!(fit.log_likelihood_trace.len() > 10);
                for w in fit.log_likelihood_trace.windows(2) {
                    assert!(
                        w[1] >= w[0] - 1e-10 * w[0].abs(),
                        "{covariance:?} {init:?}: {} -> {}",
                        w[0],
                        w[1]
                    );
                }
            }
        }
    }
}

#[test]
fn bit_identical_with_one_and_two_threads() {
    let chol = [[1.0, 0.2, 0.9], [0.7, 0.1, 0.6], [1.1, -0.3, 0.5]];
    let x = sample(7000, &W, &MU, &chol, 4); // > 3 chunks
    for covariance in [CovarianceType::Full, CovarianceType::Diag] {
        let cfg = GmmConfig {
            k: 3,
            covariance,
            n_init: 2,
            max_iter: 30,
            tol: 0.0,
            ..Default::default()
        };
        let run = |t: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap();
            pool.install(|| gmm(&x, 7000, 2, &cfg).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(
            a.mean_log_likelihood.to_bits(),
            b.mean_log_likelihood.to_bits()
        );
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.model.means), bits(&b.model.means));
        assert_eq!(bits(&a.model.covariances), bits(&b.model.covariances));
        assert_eq!(bits(&a.responsibilities), bits(&b.responsibilities));
    }
}

#[test]
fn densities_distances_and_predictions_by_hand() {
    // Two components in 2-D: N((0,0), diag(4, 1)) and N((3,3), I), weights ¼, ¾.
    let g = Gmm::new(
        vec![0.25, 0.75],
        vec![0.0, 0.0, 3.0, 3.0],
        vec![4.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0],
        2,
        CovarianceType::Full,
    )
    .unwrap();
    let p = [2.0f32, 1.0];
    // Mahalanobis to component 0: sqrt(2²/4 + 1²/1) = √2.
    assert!((g.mahalanobis(&p, 0) - 2f64.sqrt()).abs() < 1e-12);
    assert!((g.mahalanobis(&p, 1) - 5f64.sqrt()).abs() < 1e-12);
    assert!(g.mahalanobis(&p, 2).is_nan());
    // log p(x) = log(¼ N₀ + ¾ N₁), N = exp(−m²/2) / (2π √det).
    let tau = 2.0 * std::f64::consts::PI;
    let n0 = (-1.0f64).exp() / (tau * 2.0);
    let n1 = (-2.5f64).exp() / tau;
    let lp = g.log_prob(&p).unwrap();
    assert!((lp[0] - (0.25 * n0 + 0.75 * n1).ln()).abs() < 1e-12);
    let pp = g.predict_proba(&p).unwrap();
    assert!((pp[0] - 0.25 * n0 / (0.25 * n0 + 0.75 * n1)).abs() < 1e-12);
    assert_eq!(g.predict(&[0.0, 0.0, 3.0, 3.0]).unwrap(), vec![0, 1]);
    // The same as a diagonal model.
    let d = Gmm::new(
        vec![0.25, 0.75],
        vec![0.0, 0.0, 3.0, 3.0],
        vec![4.0, 1.0, 1.0, 1.0],
        2,
        CovarianceType::Diag,
    )
    .unwrap();
    assert!((d.log_prob(&p).unwrap()[0] - lp[0]).abs() < 1e-12);
    assert!((d.mahalanobis(&p, 0) - 2f64.sqrt()).abs() < 1e-12);
    // Not positive definite → error, not panic; wrong lengths → error.
    assert!(Gmm::new(
        vec![1.0],
        vec![0.0, 0.0],
        vec![1.0, 2.0, 2.0, 1.0],
        2,
        CovarianceType::Full
    )
    .is_err());
    assert!(g.log_prob(&[1.0, 2.0, 3.0]).is_err());
}
