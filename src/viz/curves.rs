//! Line charts: training losses and validation / test metrics per epoch.

use std::path::Path;

use super::axes;
use super::canvas::Canvas;
use super::colour::{self, Rgb};
use crate::Result;

/// Size of the plot area in pixels.
const PLOT_W: usize = 640;
const PLOT_H: usize = 400;

/// Writes a line chart of `series` (name, (x, y) points in drawing order) to
/// `path`, one palette colour per series, with ticks, grid lines, axis labels
/// and a legend. Non-finite points are skipped and break the line; series
/// with up to 60 points also get a dot on every point.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    y_label: &str,
) -> Result<()> {
    draw(title, x_label, series, y_label).save(path)
}

fn draw(title: &str, x_label: &str, series: &[(String, Vec<(f64, f64)>)], y_label: &str) -> Canvas {
    let finite = |p: &&(f64, f64)| p.0.is_finite() && p.1.is_finite();
    let all = || series.iter().flat_map(|(_, pts)| pts.iter().filter(finite));
    let xr = axes::data_range(all().map(|p| p.0), 0.02);
    let yr = axes::data_range(all().map(|p| p.1), 0.06);
    let entries: Vec<(String, Rgb)> = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), colour::category(i)))
        .collect();
    let (mut canvas, ax) = axes::chart(title, x_label, y_label, PLOT_W, PLOT_H, xr, yr, &entries);

    for (i, (_, pts)) in series.iter().enumerate() {
        let c = colour::category(i);
        let mut last: Option<(i64, i64)> = None;
        for &(x, y) in pts {
            if !(x.is_finite() && y.is_finite()) {
                last = None;
                continue;
            }
            let p = (ax.px(x), ax.py(y));
            if let Some(q) = last {
                canvas.thick_line(q.0, q.1, p.0, p.1, c, 2);
            }
            if pts.len() <= 60 {
                canvas.dot(p.0, p.1, 2, c);
            }
            last = Some(p);
        }
    }
    axes::chart_legend(&mut canvas, &ax, &entries);
    canvas
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_drawn_in_their_colours() {
        let s = vec![
            ("a".to_string(), vec![(0.0, 0.0), (1.0, 1.0)]),
            (
                "b".to_string(),
                vec![(0.0, 1.0), (f64::NAN, 0.5), (1.0, 0.0)],
            ),
        ];
        let c = draw("t", "epoch", &s, "loss");
        let has = |col: Rgb| c.pixels.chunks_exact(3).any(|p| p == col);
        assert!(has(colour::category(0)) && has(colour::category(1)));
    }

    #[test]
    fn empty_input_still_draws_a_frame() {
        let c = draw("t", "x", &[], "y");
        assert!(c.width > PLOT_W && c.height > PLOT_H);
    }
}
