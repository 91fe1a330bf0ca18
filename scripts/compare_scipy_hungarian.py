#!/usr/bin/env python3
"""Writes 100 random cost matrices (square and rectangular, up to 60 x 60,
integer and float costs) with scipy's optimal assignment cost, then runs the
ignored Rust test that compares `cluster::hungarian` against them.

Usage: python3 scripts/compare_scipy_hungarian.py [OUT_DIR]
Needs numpy and scipy; runs `cargo test --release --test cluster_hungarian`.
"""
import os, subprocess, sys
import numpy as np
from scipy.optimize import linear_sum_assignment

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sl-scipy-hungarian"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(2024)
expected = []
for i in range(100):
    r, c = rng.integers(1, 61, size=2)
    if i % 3 == 0:
        c = r  # a third square
    if i % 2 == 0:
        m = rng.integers(-1000, 1000, size=(r, c)).astype(np.float64)
    else:
        m = rng.normal(0, 100, size=(r, c))
    ri, ci = linear_sum_assignment(m)
    expected.append(m[ri, ci].sum())
    np.save(os.path.join(out, f"cost_{i}.npy"), m)
np.save(os.path.join(out, "expected.npy"), np.array(expected, dtype=np.float64))
env = dict(os.environ, SPARSELABEL_SCIPY_DIR=out)
subprocess.run(["cargo", "test", "--release", "--test", "cluster_hungarian",
                "matches_scipy", "--", "--ignored", "--nocapture"], check=True, env=env)
