//! 2-D maps of points coloured by class (latent codes after PCA or t-SNE),
//! with a legend.

use std::path::Path;

use super::axes;
use super::canvas::Canvas;
use super::colour::{self, Rgb};
use super::invalid;
use crate::Result;

/// Side of the square plot area in pixels.
const PLOT: usize = 560;

/// Writes a scatter plot of `points` to `path`, point `i` coloured by
/// `classes[i]` (palette colour of that index), with a legend naming each
/// class that occurs (`class_names[k]`, or "class k" past the end of the
/// list). Both axes share one scale so distances read true. Points are drawn
/// in a fixed scrambled order so no class systematically hides another;
/// dots shrink as the number of points grows.
pub fn scatter(
    path: &Path,
    title: &str,
    points: &[[f32; 2]],
    classes: &[u32],
    class_names: &[String],
) -> Result<()> {
    draw(title, points, classes, class_names)?.save(path)
}

fn draw(title: &str, points: &[[f32; 2]], classes: &[u32], names: &[String]) -> Result<Canvas> {
    if points.len() != classes.len() {
        return Err(invalid(format!(
            "scatter: {} points but {} classes",
            points.len(),
            classes.len()
        )));
    }
    let mut present: Vec<u32> = classes.to_vec();
    present.sort_unstable();
    present.dedup();
    let entries: Vec<(String, Rgb)> = present
        .iter()
        .map(|&k| {
            let name = names
                .get(k as usize)
                .cloned()
                .unwrap_or_else(|| format!("class {k}"));
            (name, colour::category(k as usize))
        })
        .collect();

    let (xr, yr) = square_ranges(points);
    let (mut canvas, ax) = axes::chart(
        title,
        "component 1",
        "component 2",
        PLOT,
        PLOT,
        xr,
        yr,
        &entries,
    );

    let radius = match points.len() {
        0..=500 => 3,
        501..=2000 => 2,
        _ => 1,
    };
    for i in scrambled(points.len()) {
        let [x, y] = points[i];
        if x.is_finite() && y.is_finite() {
            let c = colour::category(classes[i] as usize);
            canvas.dot(ax.px(x as f64), ax.py(y as f64), radius, c);
        }
    }
    axes::chart_legend(&mut canvas, &ax, &entries);
    Ok(canvas)
}

/// Padded x and y ranges of equal span, centred on the data.
fn square_ranges(points: &[[f32; 2]]) -> ((f64, f64), (f64, f64)) {
    let xr = axes::data_range(points.iter().map(|p| p[0] as f64), 0.05);
    let yr = axes::data_range(points.iter().map(|p| p[1] as f64), 0.05);
    let half = 0.5 * (xr.1 - xr.0).max(yr.1 - yr.0);
    let (cx, cy) = (0.5 * (xr.0 + xr.1), 0.5 * (yr.0 + yr.1));
    ((cx - half, cx + half), (cy - half, cy + half))
}

/// 0..n visited as k·p mod n for a prime p coprime with n: a fixed order that
/// interleaves points given sorted by class.
fn scrambled(n: usize) -> impl Iterator<Item = usize> {
    let p = if n.is_multiple_of(7919) { 7927 } else { 7919 };
    (0..n).map(move |k| (k * p) % n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrambled_order_is_a_permutation() {
        for n in [0, 1, 7, 100, 7919] {
            let mut seen: Vec<usize> = scrambled(n).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn ranges_are_square_and_cover_the_points() {
        let (xr, yr) = square_ranges(&[[0.0, 0.0], [10.0, 1.0]]);
        assert!((xr.1 - xr.0 - (yr.1 - yr.0)).abs() < 1e-9);
        assert!(xr.0 < 0.0 && xr.1 > 10.0 && yr.0 < 0.0 && yr.1 > 1.0);
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        assert!(draw("t", &[[0.0, 0.0]], &[], &[]).is_err());
        assert!(draw("t", &[], &[], &[]).is_ok());
    }
}
