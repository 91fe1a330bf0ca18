//! Hungarian assignment against brute force over all permutations (proptest,
//! up to 8×8, square and rectangular, integer and float costs), and against
//! scipy's `linear_sum_assignment` when `SPARSELABEL_SCIPY_DIR` points at
//! matrices written by `scripts/compare_scipy_hungarian.py`.

use proptest::prelude::*;
use sparselabel::cluster::hungarian;
use sparselabel::cluster::hungarian::assignment_cost;

/// Minimum cost over all injective maps from the smaller side to the larger.
fn brute_force(cost: &[f64], rows: usize, cols: usize) -> f64 {
    fn rec(
        cost: &[f64],
        rows: usize,
        cols: usize,
        r: usize,
        used: &mut Vec<bool>,
        acc: f64,
        best: &mut f64,
    ) {
        if r == rows {
            *best = best.min(acc);
            return;
        }
        for c in 0..cols {
            if !used[c] {
                used[c] = true;
                rec(
                    cost,
                    rows,
                    cols,
                    r + 1,
                    used,
                    acc + cost[r * cols + c],
                    best,
                );
                used[c] = false;
            }
        }
    }
    let (t, r, c) = if rows <= cols {
        (cost.to_vec(), rows, cols)
    } else {
        let mut t = vec![0.0; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                t[j * rows + i] = cost[i * cols + j];
            }
        }
        (t, cols, rows)
    };
    let mut best = f64::INFINITY;
    rec(&t, r, c, 0, &mut vec![false; c], 0.0, &mut best);
    best
}

fn check(cost: &[f64], rows: usize, cols: usize) -> Result<(), TestCaseError> {
    let pairs = hungarian(cost, rows, cols).unwrap();
    prop_assert_eq!(pairs.len(), rows.min(cols));
    let mut rs: Vec<usize> = pairs.iter().map(|p| p.0).collect();
    let mut cs: Vec<usize> = pairs.iter().map(|p| p.1).collect();
    rs.dedup();
    cs.sort_unstable();
    cs.dedup();
    prop_assert_eq!(rs.len(), rows.min(cols));
    prop_assert_eq!(cs.len(), rows.min(cols));
    let got = assignment_cost(cost, cols, &pairs);
    let best = brute_force(cost, rows, cols);
    prop_assert!(
        (got - best).abs() <= 1e-9 * best.abs().max(1.0),
        "got {} best {}",
        got,
        best
    );
    Ok(())
}

fn matrix(int: bool) -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (1usize..=8, 1usize..=8).prop_flat_map(move |(r, c)| {
        let cell = if int {
            (-20i32..20).prop_map(|v| v as f64).boxed()
        } else {
            (-1e3f64..1e3).boxed()
        };
        (Just(r), Just(c), proptest::collection::vec(cell, r * c))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn integer_costs_match_brute_force((r, c, m) in matrix(true)) {
        check(&m, r, c)?;
    }

    #[test]
    fn float_costs_match_brute_force((r, c, m) in matrix(false)) {
        check(&m, r, c)?;
    }

    #[test]
    fn square_eight_by_eight(m in proptest::collection::vec(0u8..100, 64)) {
        let m: Vec<f64> = m.into_iter().map(f64::from).collect();
        check(&m, 8, 8)?;
    }
}

#[test]
fn nan_and_bad_shapes_are_errors() {
    assert!(hungarian(&[1.0, f64::NAN, 0.0, 2.0], 2, 2).is_err());
    assert!(hungarian(&[1.0, f64::INFINITY], 1, 2).is_err());
    assert!(hungarian(&[1.0, 2.0, 3.0], 2, 2).is_err());
}

/// Reads `SPARSELABEL_SCIPY_DIR/cost_<i>.npy` and `expected.npy` (scipy's
/// optimal costs) and compares. Run with `-- --ignored` after the script.
#[test]
#[ignore]
fn matches_scipy_linear_sum_assignment() {
    use sparselabel::data::npy::{read_npy, NpyData};
    let dir = std::path::PathBuf::from(
        std::env::var("SPARSELABEL_SCIPY_DIR").expect("set SPARSELABEL_SCIPY_DIR"),
    );
    let expected = match read_npy(&dir.join("expected.npy")).unwrap().data {
        NpyData::F64(v) => v,
        _ => panic!("expected.npy must be float64"),
    };
    let mut worst = 0f64;
    for (i, &want) in expected.iter().enumerate() {
        let a = read_npy(&dir.join(format!("cost_{i}.npy"))).unwrap();
        let m = match a.data {
            NpyData::F64(v) => v,
            _ => panic!("cost must be float64"),
        };
        let (r, c) = (a.shape[0], a.shape[1]);
        let got = assignment_cost(&m, c, &hungarian(&m, r, c).unwrap());
        let rel = (got - want).abs() / want.abs().max(1.0);
        worst = worst.max(rel);
        assert!(rel < 1e-9, "matrix {i} ({r}×{c}): ours {got}, scipy {want}");
    }
    println!(
        "{} matrices, worst relative difference {worst:e}",
        expected.len()
    );
}
