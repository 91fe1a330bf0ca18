//! Label regimes: which training examples keep their label (DESIGN.md §3).

use rand::seq::SliceRandom;

use super::UNKNOWN_LABEL;
use crate::{rng, Error, Result};

/// How many training labels the learner may see.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelRegime {
    /// No labels at all.
    Unsupervised,
    /// Exactly `N` labelled examples of every class (balanced); a class with
    /// fewer than `N` examples is an error.
    PerClass(usize),
    /// `round(fraction × count)` labelled examples of every class.
    Fraction(f64),
    /// Semi-unsupervised: `round(fraction × count)` labelled examples of each
    /// class in `classes`; the other classes are never labelled.
    FractionOfClasses {
        /// Fraction of each listed class that is labelled.
        fraction: f64,
        /// The classes that get labels.
        classes: Vec<u32>,
    },
}

/// Parses a class set such as `0-4`, `1,3,5` or `0-2,7`.
pub fn parse_class_set(s: &str) -> Result<Vec<u32>> {
    let bad = || Error::Usage(format!("class set '{s}' must look like 0-4 or 1,3,5"));
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (
                    a.trim().parse().map_err(|_| bad())?,
                    b.trim().parse().map_err(|_| bad())?,
                );
                if a > b || b - a > 1 << 20 {
                    return Err(bad());
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn check_fraction(f: f64) -> Result<()> {
    if (0.0..=1.0).contains(&f) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "label fraction {f} must be between 0 and 1"
        )))
    }
}

/// The indices (sorted) of the examples that keep their labels under
/// `regime`, drawn per class (in class order) from one stream
/// `rng::stream(label_seed, "label-draw")`: the same seed gives the same
/// subset. Examples with [`UNKNOWN_LABEL`] are never selected.
pub fn select_labelled(
    labels: &[u32],
    num_classes: usize,
    regime: &LabelRegime,
    label_seed: u64,
) -> Result<Vec<usize>> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); num_classes];
    for (i, &l) in labels.iter().enumerate() {
        if l == UNKNOWN_LABEL {
            continue;
        }
        let slot = by_class.get_mut(l as usize).ok_or_else(|| {
            Error::Other(format!(
                "label {l} of example {i} is not below {num_classes}"
            ))
        })?;
        slot.push(i);
    }
    // How many to draw from each class.
    let take: Vec<usize> = match regime {
        LabelRegime::Unsupervised => vec![0; num_classes],
        LabelRegime::PerClass(n) => {
            if let Some((c, have)) = by_class.iter().enumerate().find(|(_, v)| v.len() < *n) {
                return Err(Error::Usage(format!(
                    "{n} labels per class requested but class {c} has only {} examples",
                    have.len()
                )));
            }
            vec![*n; num_classes]
        }
        LabelRegime::Fraction(f) => {
            check_fraction(*f)?;
            by_class
                .iter()
                .map(|v| (v.len() as f64 * f).round() as usize)
                .collect()
        }
        LabelRegime::FractionOfClasses { fraction, classes } => {
            check_fraction(*fraction)?;
            if let Some(c) = classes.iter().find(|&&c| c as usize >= num_classes) {
                return Err(Error::Usage(format!(
                    "labelled class {c} does not exist (classes are 0..{})",
                    num_classes.saturating_sub(1)
                )));
            }
            by_class
                .iter()
                .enumerate()
                .map(|(c, v)| {
                    if classes.contains(&(c as u32)) {
                        (v.len() as f64 * fraction).round() as usize
                    } else {
                        0
                    }
                })
                .collect()
        }
    };
    let mut rng = rng::stream(label_seed, "label-draw");
    let mut out = Vec::new();
    for (members, &k) in by_class.iter_mut().zip(&take) {
        if k == 0 {
            continue;
        }
        let (chosen, _) = members.partial_shuffle(&mut rng, k);
        out.extend_from_slice(chosen);
    }
    out.sort_unstable();
    Ok(out)
}
