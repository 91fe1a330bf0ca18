//! Data-to-pixel scales, "nice" tick positions and a plot frame with ticks,
//! grid lines and axis labels, shared by the scatter, line and histogram
//! figures.

use super::canvas::Canvas;
use super::colour::{Rgb, DARK, LIGHT, WHITE};
use super::font;
use super::frame::{
    legend, legend_size, title_strip, LABEL_SCALE, TICK_SCALE, TITLE_H, TITLE_SCALE,
};

/// A rectangular plot area on a canvas and the data ranges it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axes {
    /// Left edge of the plot area in pixels.
    pub left: i64,
    /// Top edge of the plot area in pixels.
    pub top: i64,
    /// Width of the plot area in pixels.
    pub width: i64,
    /// Height of the plot area in pixels.
    pub height: i64,
    /// Data range shown along x: (left end, right end).
    pub x_range: (f64, f64),
    /// Data range shown along y: (bottom end, top end).
    pub y_range: (f64, f64),
}

impl Axes {
    /// The pixel column of data value `x`.
    pub fn px(&self, x: f64) -> i64 {
        let (lo, hi) = self.x_range;
        let f = (x - lo) / (hi - lo);
        self.left + (f * (self.width - 1) as f64).round() as i64
    }

    /// The pixel row of data value `y` (up is larger).
    pub fn py(&self, y: f64) -> i64 {
        let (lo, hi) = self.y_range;
        let f = (y - lo) / (hi - lo);
        self.top + self.height - 1 - (f * (self.height - 1) as f64).round() as i64
    }

    /// Draws grid lines, the frame, tick marks with their labels and the axis
    /// labels (`x_label` under the plot, `y_label` turned along the left side).
    pub fn draw(&self, canvas: &mut Canvas, x_label: &str, y_label: &str) {
        let (xt, xs) = nice_ticks(self.x_range.0, self.x_range.1, 8);
        let (yt, ys) = nice_ticks(self.y_range.0, self.y_range.1, 6);
        let bottom = self.top + self.height;
        for &t in &xt {
            canvas.rect(self.px(t), self.top, 1, self.height, LIGHT);
        }
        for &t in &yt {
            canvas.rect(self.left, self.py(t), self.width, 1, LIGHT);
        }
        canvas.rect_outline(
            self.left - 1,
            self.top - 1,
            self.width + 2,
            self.height + 2,
            DARK,
        );
        let th = font::text_height(TICK_SCALE) as i64;
        for &t in &xt {
            let x = self.px(t);
            canvas.rect(x, bottom, 1, 5, DARK);
            canvas.text_centred(x, bottom + 7, &format_tick(t, xs), DARK, TICK_SCALE);
        }
        let mut widest = 0;
        for &t in &yt {
            let y = self.py(t);
            let label = format_tick(t, ys);
            let w = font::text_width(&label, TICK_SCALE) as i64;
            widest = widest.max(w);
            canvas.rect(self.left - 6, y, 5, 1, DARK);
            canvas.text(self.left - 9 - w, y - th / 2, &label, DARK, TICK_SCALE);
        }
        let lh = font::text_height(LABEL_SCALE) as i64;
        let cx = self.left + self.width / 2;
        canvas.text_centred(cx, bottom + 7 + th + 8, x_label, DARK, LABEL_SCALE);
        let lw = font::text_width(y_label, LABEL_SCALE) as i64;
        let x = self.left - 9 - widest - 8 - lh;
        canvas.text_vertical(
            x,
            self.top + self.height / 2 - lw / 2,
            y_label,
            DARK,
            LABEL_SCALE,
        );
    }
}

/// Room the tick labels and axis labels of [`Axes::draw`] need: (pixels left
/// of the plot area, pixels below it), given the y range to be labelled.
pub fn margins(y_range: (f64, f64)) -> (i64, i64) {
    let (yt, ys) = nice_ticks(y_range.0, y_range.1, 6);
    let widest = yt
        .iter()
        .map(|&t| font::text_width(&format_tick(t, ys), TICK_SCALE))
        .max()
        .unwrap_or(0) as i64;
    let th = font::text_height(TICK_SCALE) as i64;
    let lh = font::text_height(LABEL_SCALE) as i64;
    (9 + widest + 8 + lh + 8, 7 + th + 8 + lh + 8)
}

/// The range of the finite values in `values`, widened by `pad` of its span on
/// each side; a single value or no value gets a unit-wide range.
pub fn data_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 * (1.0 + lo.abs()) {
        let half = 0.5f64.max(lo.abs() * 0.1);
        return (lo - half, hi + half);
    }
    let span = hi - lo;
    (lo - pad * span, hi + pad * span)
}

/// About `target` evenly spaced round tick values (steps of 1, 2 or 5 times a
/// power of ten) inside [`lo`, `hi`], and the step between them.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (Vec::new(), 1.0);
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, step)
}

/// A tick value printed with as many decimals as its `step` needs; very large
/// or very small magnitudes in scientific notation.
pub fn format_tick(v: f64, step: f64) -> String {
    let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
    if v != 0.0 && (v.abs() >= 1e6 || step < 1e-4) {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10().floor()).clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// A titled chart: a canvas sized for a `plot_w` × `plot_h` plot area plus
/// its tick margins and a legend column for `entries`, with the title strip
/// and the axes (`x_label`, `y_label`) drawn. Returns the canvas and the
/// axes to plot into; [`chart_legend`] adds the legend last.
#[allow(clippy::too_many_arguments)]
pub fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    plot_w: usize,
    plot_h: usize,
    x_range: (f64, f64),
    y_range: (f64, f64),
    entries: &[(String, Rgb)],
) -> (Canvas, Axes) {
    let (ml, mb) = margins(y_range);
    let (lw, lh) = legend_size(entries);
    let top = TITLE_H as i64 + 16;
    let ax = Axes {
        left: ml,
        top,
        width: plot_w as i64,
        height: plot_h as i64,
        x_range,
        y_range,
    };
    let title_w = (font::text_width(title, TITLE_SCALE) + 24).min(1200);
    let width = (ml as usize + plot_w + 20 + lw + 16).max(title_w);
    let height = (top as usize + plot_h + mb as usize).max(top as usize + lh + 16);
    let mut canvas = Canvas::new(width, height, WHITE);
    title_strip(&mut canvas, title);
    ax.draw(&mut canvas, x_label, y_label);
    (canvas, ax)
}

/// Draws the legend of a [`chart`] in its column right of the plot area
/// (nothing for no entries).
pub fn chart_legend(canvas: &mut Canvas, ax: &Axes, entries: &[(String, Rgb)]) {
    if !entries.is_empty() {
        legend(canvas, ax.left + ax.width + 20, ax.top, entries);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        let (t, s) = nice_ticks(0.03, 0.97, 5);
        assert_eq!(s, 0.2);
        assert_eq!(t.len(), 4);
        assert!((t[0] - 0.2).abs() < 1e-12 && (t[3] - 0.8).abs() < 1e-12);
        let (t, s) = nice_ticks(-130.0, 20.0, 6);
        assert_eq!(s, 50.0);
        assert_eq!(t, vec![-100.0, -50.0, 0.0]);
        assert!(nice_ticks(1.0, 1.0, 5).0.is_empty());
    }

    #[test]
    fn tick_labels_use_the_step_precision() {
        assert_eq!(format_tick(0.30000000000000004, 0.1), "0.3");
        assert_eq!(format_tick(150.0, 50.0), "150");
        assert_eq!(format_tick(-1e-17, 0.5), "0.0");
        assert_eq!(format_tick(2e6, 1e6), "2.0e6");
    }

    #[test]
    fn ranges_pad_and_survive_degenerate_input() {
        assert_eq!(data_range([1.0, 3.0], 0.5), (0.0, 4.0));
        assert_eq!(data_range([f64::NAN], 0.1), (0.0, 1.0));
        let (lo, hi) = data_range([5.0, 5.0], 0.1);
        assert!(lo < 5.0 && hi > 5.0);
    }

    #[test]
    fn pixels_map_ends_to_edges() {
        let a = Axes {
            left: 10,
            top: 20,
            width: 100,
            height: 50,
            x_range: (0.0, 1.0),
            y_range: (-1.0, 1.0),
        };
        assert_eq!(a.px(0.0), 10);
        assert_eq!(a.px(1.0), 109);
        assert_eq!(a.py(-1.0), 69);
        assert_eq!(a.py(1.0), 20);
    }
}
