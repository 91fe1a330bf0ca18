//! Label regimes, splits, feature masks.

use sparselabel::data::split::seeded_split;
use sparselabel::data::{
    parse_class_set, select_labelled, FeatureMask, LabelRegime, UNKNOWN_LABEL,
};

/// 10 classes, class c has 50 + 3c examples, interleaved.
fn labels() -> Vec<u32> {
    let mut l = Vec::new();
    for round in 0..80u32 {
        for c in 0..10u32 {
            if round < 50 + 3 * c {
                l.push(c);
            }
        }
    }
    l
}

fn per_class(labels: &[u32], idx: &[usize]) -> Vec<usize> {
    let mut c = vec![0; 10];
    for &i in idx {
        c[labels[i] as usize] += 1;
    }
    c
}

#[test]
fn balanced_n_per_class_is_deterministic_and_sorted() {
    let l = labels();
    let a = select_labelled(&l, 10, &LabelRegime::PerClass(10), 7).unwrap();
    assert_eq!(per_class(&l, &a), vec![10; 10]);
    assert!(a.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        a,
        select_labelled(&l, 10, &LabelRegime::PerClass(10), 7).unwrap()
    );
    assert_ne!(
        a,
        select_labelled(&l, 10, &LabelRegime::PerClass(10), 8).unwrap()
    );
    assert!(select_labelled(&l, 10, &LabelRegime::PerClass(51), 7).is_err());
}

#[test]
fn fraction_and_semi_unsupervised() {
    let l = labels();
    let a = select_labelled(&l, 10, &LabelRegime::Fraction(0.2), 1).unwrap();
    let expect: Vec<usize> = (0..10)
        .map(|c| ((50 + 3 * c) as f64 * 0.2).round() as usize)
        .collect();
    assert_eq!(per_class(&l, &a), expect);
    let classes = parse_class_set("0-4").unwrap();
    assert_eq!(classes, vec![0, 1, 2, 3, 4]);
    let sus = LabelRegime::FractionOfClasses {
        fraction: 0.2,
        classes,
    };
    let b = select_labelled(&l, 10, &sus, 1).unwrap();
    let counts = per_class(&l, &b);
    assert_eq!(&counts[..5], &expect[..5]);
    assert_eq!(&counts[5..], &[0; 5]);
    assert!(select_labelled(&l, 10, &LabelRegime::Unsupervised, 1)
        .unwrap()
        .is_empty());
    assert!(select_labelled(&l, 10, &LabelRegime::Fraction(1.5), 1).is_err());
    let bad = LabelRegime::FractionOfClasses {
        fraction: 0.2,
        classes: vec![12],
    };
    assert!(select_labelled(&l, 10, &bad, 1).is_err());
    assert_eq!(parse_class_set("1,3, 5-6").unwrap(), vec![1, 3, 5, 6]);
    assert!(parse_class_set("4-1").is_err());
}

#[test]
fn unknown_labels_are_never_selected_and_stay_in_train() {
    let mut l = labels();
    for i in (0..l.len()).step_by(3) {
        l[i] = UNKNOWN_LABEL;
    }
    let a = select_labelled(&l, 10, &LabelRegime::Fraction(1.0), 3).unwrap();
    assert!(a.iter().all(|&i| l[i] != UNKNOWN_LABEL));
    let s = seeded_split(l.len(), Some(&l), 2);
    assert!(s
        .validation
        .iter()
        .chain(&s.test)
        .all(|&i| l[i] != UNKNOWN_LABEL));
    let mut all: Vec<usize> = s
        .train
        .iter()
        .chain(&s.validation)
        .chain(&s.test)
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..l.len()).collect::<Vec<_>>());
}

#[test]
fn feature_mask_on_mnist_like_borders() {
    // 28×28 "images": border pixels always 0, inner pixels vary.
    let (n, d) = (50, 784);
    let mut x = vec![0f32; n * d];
    for i in 0..n {
        for r in 4..24 {
            for c in 4..24 {
                x[i * d + r * 28 + c] = ((i * 7 + r * 3 + c) % 11) as f32 / 10.0;
            }
        }
    }
    let m = FeatureMask::from_std(&x, n, d, 0.1);
    assert_eq!(m.kept(), 400);
    let a = m.apply(&x);
    assert_eq!(a.len(), n * 400);
    let back = m.expand(&a, 0.0);
    assert_eq!(back, x);
}
