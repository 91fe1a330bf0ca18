//! Metrics against hand-computed cases. Where a number has many digits it was
//! derived by hand (shown) and agrees with scikit-learn 1.9.1
//! (`normalized_mutual_info_score`, `adjusted_rand_score`).

use sparselabel::data::UNKNOWN_LABEL;
use sparselabel::metrics::{
    accuracy, adjusted_rand_index, cluster_accuracy, nmi, purity, ConfusionMatrix,
};

const T: [u32; 6] = [0, 0, 0, 1, 1, 1];
const P: [u32; 6] = [0, 0, 1, 1, 2, 2];

#[test]
fn three_clusters_two_classes() {
    // Contingency rows (clusters 0,1,2) × classes (0,1): (2,0), (1,1), (0,2).
    // One-to-one: 0→0 (2) and 2→1 (2); cluster 1 unmatched → 4/6.
    let ca = cluster_accuracy(&P, &T).unwrap();
    assert!((ca.accuracy - 4.0 / 6.0).abs() < 1e-12);
    assert_eq!(ca.mapping, vec![(0, 0), (2, 1)]);
    // Majority: 2 + 1 + 2 = 5 of 6.
    assert!((purity(&P, &T).unwrap() - 5.0 / 6.0).abs() < 1e-12);
    // MI = 2·(1/3)·ln 2; H(T) = ln 2; H(P) = ln 3; NMI = MI / ((ln2 + ln3)/2).
    let expect = (2.0 / 3.0 * 2f64.ln()) / ((2f64.ln() + 3f64.ln()) / 2.0);
    assert!((nmi(&P, &T).unwrap() - expect).abs() < 1e-12);
    assert!((expect - 0.5158037429793889).abs() < 1e-12);
    // ARI: Σ C(nij,2) = 2, Σ C(ai,2) = 3, Σ C(bj,2) = 6, C(6,2) = 15:
    // expected 3·6/15 = 1.2, max 4.5 → (2 − 1.2)/(4.5 − 1.2) = 0.2424…
    assert!((adjusted_rand_index(&P, &T).unwrap() - 0.8 / 3.3).abs() < 1e-12);
}

#[test]
fn fewer_clusters_than_classes() {
    let t = [0, 0, 1, 1, 2, 2, 2, 3];
    let p = [5, 5, 5, 9, 9, 9, 9, 9];
    // Rows: cluster 5 (2,1,0,0), cluster 9 (0,1,3,1): 5→0 and 9→2 → 5/8.
    let ca = cluster_accuracy(&p, &t).unwrap();
    assert_eq!(ca.accuracy, 5.0 / 8.0);
    assert_eq!(ca.mapping, vec![(5, 0), (9, 2)]);
    assert_eq!(purity(&p, &t).unwrap(), 5.0 / 8.0);
    assert!((nmi(&p, &t).unwrap() - 0.4925986063135096).abs() < 1e-12);
    assert!((adjusted_rand_index(&p, &t).unwrap() - 0.25133689839572193).abs() < 1e-12);
}

#[test]
fn permuted_labels_are_perfect_and_edge_cases() {
    let t = [0, 1, 2, 0, 1, 2];
    let p = [7, 3, 1, 7, 3, 1];
    assert_eq!(cluster_accuracy(&p, &t).unwrap().accuracy, 1.0);
    assert!((nmi(&p, &t).unwrap() - 1.0).abs() < 1e-12);
    assert!((adjusted_rand_index(&p, &t).unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(accuracy(&p, &t).unwrap(), 0.0);
    // One cluster against two classes: NMI 0, ARI 0 (scikit-learn agrees).
    assert_eq!(nmi(&[0, 0, 0, 0], &[0, 0, 1, 1]).unwrap(), 0.0);
    assert_eq!(
        adjusted_rand_index(&[0, 0, 0, 0], &[0, 0, 1, 1]).unwrap(),
        0.0
    );
    assert_eq!(nmi(&[3, 3], &[1, 1]).unwrap(), 1.0);
    assert!(nmi(&[0, 1], &[0]).is_err());
}

#[test]
fn unknown_truth_is_ignored() {
    let t = [0, 1, UNKNOWN_LABEL, 1];
    let p = [0, 1, 0, 0];
    assert_eq!(accuracy(&p, &t).unwrap(), 2.0 / 3.0);
    assert_eq!(cluster_accuracy(&p, &t).unwrap().accuracy, 2.0 / 3.0);
}

#[test]
fn confusion_counts_and_rows() {
    let t = [0, 0, 1, 1, 1, 2];
    let p = [0, 1, 1, 1, 2, 2];
    let c = ConfusionMatrix::new(&p, &t, 3, 3).unwrap();
    assert_eq!(c.counts, vec![1, 1, 0, 0, 2, 1, 0, 0, 1]);
    let r = c.row_normalised();
    assert_eq!(&r[..3], &[0.5, 0.5, 0.0]);
    assert!((r[4] - 2.0 / 3.0).abs() < 1e-12);
    assert_eq!(c.accuracy(), 4.0 / 6.0);
    assert!(ConfusionMatrix::new(&[5], &[0], 3, 3).is_err());
}
