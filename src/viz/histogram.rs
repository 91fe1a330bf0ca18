//! Overlaid histograms of several groups of values, e.g. the entropy of
//! q(y|x) on test images of labelled and of unlabelled classes.

use std::path::Path;

use super::axes;
use super::canvas::Canvas;
use super::colour::{self, Rgb};
use super::invalid;
use crate::Result;

/// Size of the plot area in pixels.
const PLOT_W: usize = 640;
const PLOT_H: usize = 380;

/// Writes overlaid histograms of `groups` (name, values) to `path`: `bins`
/// equal bins over the range of all finite values, each group normalised to
/// the fraction of its own values per bin (so groups of different sizes
/// compare), drawn as translucent bars with a solid outline in the group's
/// palette colour. The legend gives each group's size.
pub fn histograms(
    path: &Path,
    title: &str,
    groups: &[(String, Vec<f32>)],
    bins: usize,
) -> Result<()> {
    draw(title, groups, bins)?.save(path)
}

/// The fraction of `values` in each of `bins` equal bins over [`lo`, `hi`]
/// (the last bin includes `hi`; non-finite and out-of-range values ignored
/// but counted in the total).
pub fn bin_fractions(values: &[f32], lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    let mut counts = vec![0u64; bins];
    for &v in values {
        let v = v as f64;
        if v.is_finite() && v >= lo && v <= hi && hi > lo {
            let b = (((v - lo) / (hi - lo)) * bins as f64) as usize;
            counts[b.min(bins - 1)] += 1;
        }
    }
    let n = values.len().max(1) as f64;
    counts.iter().map(|&c| c as f64 / n).collect()
}

fn draw(title: &str, groups: &[(String, Vec<f32>)], bins: usize) -> Result<Canvas> {
    if bins == 0 {
        return Err(invalid("histograms need at least one bin"));
    }
    let all = groups.iter().flat_map(|(_, v)| v.iter().map(|&x| x as f64));
    let (lo, hi) = axes::data_range(all, 0.0);
    let fractions: Vec<Vec<f64>> = groups
        .iter()
        .map(|(_, v)| bin_fractions(v, lo, hi, bins))
        .collect();
    let top_frac = fractions.iter().flatten().copied().fold(0.0, f64::max);
    let yr = (0.0, if top_frac > 0.0 { top_frac * 1.08 } else { 1.0 });
    let entries: Vec<(String, Rgb)> = groups
        .iter()
        .enumerate()
        .map(|(i, (name, v))| (format!("{name} (n={})", v.len()), colour::category(i)))
        .collect();
    let (mut canvas, ax) = axes::chart(
        title,
        "",
        "fraction of group",
        PLOT_W,
        PLOT_H,
        (lo, hi),
        yr,
        &entries,
    );

    let edge = |b: usize| ax.px(lo + (hi - lo) * b as f64 / bins as f64);
    let base = ax.py(0.0);
    // Fills first, then every outline on top, so no group hides another's edge.
    for (g, frac) in fractions.iter().enumerate() {
        let c = colour::category(g);
        for (b, &f) in frac.iter().enumerate() {
            let (x0, x1, y) = (edge(b), edge(b + 1), ax.py(f));
            if f > 0.0 {
                canvas.rect_blend(x0, y, x1 - x0, base - y + 1, c, 0.3);
            }
        }
    }
    for (g, frac) in fractions.iter().enumerate() {
        let c = colour::category(g);
        // A step line along the bar tops, down to the axis at both ends.
        let mut prev_y = base;
        for (b, &f) in frac.iter().enumerate() {
            let (x0, x1, y) = (edge(b), edge(b + 1), ax.py(f));
            canvas.thick_line(x0, prev_y, x0, y, c, 2);
            canvas.thick_line(x0, y, x1, y, c, 2);
            prev_y = y;
        }
        canvas.thick_line(edge(bins), prev_y, edge(bins), base, c, 2);
    }
    axes::chart_legend(&mut canvas, &ax, &entries);
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_sum_to_one_over_finite_values() {
        let f = bin_fractions(&[0.0, 0.1, 0.5, 1.0], 0.0, 1.0, 2);
        assert_eq!(f, vec![0.5, 0.5]);
        let f = bin_fractions(&[0.0, f32::NAN], 0.0, 1.0, 4);
        assert_eq!(f, vec![0.5, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn zero_bins_are_rejected() {
        assert!(draw("t", &[], 0).is_err());
        assert!(draw("t", &[("a".into(), vec![])], 3).is_ok());
    }
}
