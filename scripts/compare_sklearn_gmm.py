#!/usr/bin/env python3
"""Compares `sparselabel cluster --algo gmm` with scikit-learn's
GaussianMixture (same k, covariance type, reg_covar, n_init, tol, max_iter)
on three synthetic data sets: well separated, anisotropic, unequal sizes.
Prints both mean log-likelihoods (sklearn's `score`) and the difference.

Usage: python3 scripts/compare_sklearn_gmm.py path/to/sparselabel
Needs numpy and scikit-learn.
"""
import json, subprocess, sys
import numpy as np
from sklearn.mixture import GaussianMixture

B = sys.argv[1]
rng = np.random.default_rng(42)

def well_separated():
    means = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 0], [0, 0, 8]], float)
    X = np.concatenate([rng.normal(m, 1.0, size=(500, 3)) for m in means])
    return X, 4

def anisotropic():
    X = np.concatenate([rng.normal(m, 1.0, size=(600, 2)) for m in [[0, 0], [4, 4], [-4, 5]]])
    A = np.array([[0.6, -0.64], [-0.41, 0.85]])
    X = X @ A
    X[:600] = X[:600] @ np.array([[3.0, 0.0], [0.0, 0.3]])
    return X, 3

def unequal_sizes():
    sizes = [1500, 300, 60]
    means = [[0, 0, 0, 0], [5, 5, 0, 0], [0, -5, 5, 5]]
    covs = [np.diag([1, 2, 0.5, 1]), np.diag([0.3, 0.3, 2, 1]), np.eye(4) * 0.5]
    X = np.concatenate([rng.multivariate_normal(m, c, size=s) for m, c, s in zip(means, covs, sizes)])
    return X, 3

rows = []
for name, gen in [("well_separated", well_separated), ("anisotropic", anisotropic), ("unequal_sizes", unequal_sizes)]:
    X, k = gen()
    X = X.astype(np.float32)
    path = f"/tmp/sk_{name}.npy"
    np.save(path, X)
    for cov in ["full", "diag"]:
        for n_init in [1, 5]:
            sk = GaussianMixture(k, covariance_type=cov, reg_covar=1e-6, n_init=n_init, tol=1e-3,
                                 max_iter=100, random_state=0).fit(X.astype(np.float64))
            sk_ll = sk.score(X.astype(np.float64))
            out = subprocess.run([B, "cluster", "--input", path, "--k", str(k), "--algo", "gmm",
                                  "--covariance", cov, "--n-init", str(n_init), "--reg-covar", "1e-6",
                                  "--tol", "1e-3", "--max-iter", "100", "--seed", "0"],
                                 capture_output=True, text=True, check=True)
            ours = json.loads(out.stdout)["log_likelihood"]
            diff = ours - sk_ll
            rows.append((name, cov, n_init, sk_ll, ours, diff))
            print(f"{name:15s} {cov:4s} n_init={n_init}  sklearn {sk_ll:.6f}  ours {ours:.6f}  diff {diff:+.2e}  {'OK' if abs(diff) < 0.01 else 'FAIL'}")
print("max |diff| =", max(abs(r[5]) for r in rows))
