//! Confusion matrices as heat-maps: rows are true classes, columns predicted
//! classes (or clusters), each cell shaded by its share of the row and
//! labelled with its count.

use std::path::Path;

use super::canvas::Canvas;
use super::colour::{self, DARK, MID, WHITE};
use super::font;
use super::frame::{fit_text, title_strip, LABEL_SCALE, TICK_SCALE, TITLE_H, TITLE_SCALE};
use super::invalid;
use crate::Result;

/// Writes the `rows` × `cols` confusion matrix `counts` (row-major, row =
/// true class, column = prediction) to `path` as a heat-map. Each cell shows
/// its count; its shade is the count's share of its row (so a perfect
/// classifier is a dark diagonal whatever the class sizes). `row_names` and
/// `col_names` label the axes "true class" and "predicted"; column names that
/// are wider than a cell are written upwards. For cluster models, name the
/// columns with the learnt-to-true mapping (e.g. "c3>7").
pub fn confusion(
    path: &Path,
    title: &str,
    counts: &[u64],
    rows: usize,
    cols: usize,
    row_names: &[String],
    col_names: &[String],
) -> Result<()> {
    draw(title, counts, rows, cols, row_names, col_names)?.save(path)
}

fn draw(
    title: &str,
    counts: &[u64],
    rows: usize,
    cols: usize,
    row_names: &[String],
    col_names: &[String],
) -> Result<Canvas> {
    if rows == 0 || cols == 0 || counts.len() != rows * cols {
        return Err(invalid(format!(
            "confusion: {} counts for a {rows}×{cols} matrix",
            counts.len()
        )));
    }
    if row_names.len() != rows || col_names.len() != cols {
        return Err(invalid(format!(
            "confusion: {} row names and {} column names for a {rows}×{cols} matrix",
            row_names.len(),
            col_names.len()
        )));
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    let num_scale = if rows.max(cols) <= 20 { 2 } else { TICK_SCALE };
    let cell = (font::text_width(&max.to_string(), num_scale) + 14).max(32);
    let lh = font::text_height(LABEL_SCALE);
    let row_w = row_names
        .iter()
        .map(|s| font::text_width(s, LABEL_SCALE))
        .max()
        .unwrap_or(0);
    let col_w = col_names
        .iter()
        .map(|s| font::text_width(s, LABEL_SCALE))
        .max()
        .unwrap_or(0);
    let upright = col_w <= cell - 4;
    let col_band = if upright { lh } else { col_w.min(160) };

    let left = 12 + lh + 12 + row_w + 8;
    let top = TITLE_H + 16;
    let (mw, mh) = (cols * cell, rows * cell);
    let note = "shade: share of the true class";
    let bottom = 8 + col_band + 10 + lh + 10 + font::text_height(TICK_SCALE) + 10;
    let title_w = (font::text_width(title, TITLE_SCALE) + 24).min(1200);
    let width = (left + mw + 24)
        .max(title_w)
        .max(left + font::text_width(note, 1) + 24);
    let height = top + mh + bottom;

    let mut canvas = Canvas::new(width, height, WHITE);
    title_strip(&mut canvas, title);
    let (x0, y0) = (left as i64, top as i64);
    let cell_i = cell as i64;
    for r in 0..rows {
        let total: u64 = counts[r * cols..(r + 1) * cols].iter().sum();
        for c in 0..cols {
            let n = counts[r * cols + c];
            let share = if total > 0 {
                n as f32 / total as f32
            } else {
                0.0
            };
            let bg = colour::sequential(share);
            let (x, y) = (x0 + c as i64 * cell_i, y0 + r as i64 * cell_i);
            canvas.rect(x, y, cell_i, cell_i, bg);
            let ink = if n == 0 {
                colour::LIGHT_TEXT
            } else {
                colour::text_on(bg)
            };
            let th = font::text_height(num_scale) as i64;
            canvas.text_centred(
                x + cell_i / 2,
                y + (cell_i - th) / 2,
                &n.to_string(),
                ink,
                num_scale,
            );
        }
    }
    for k in 0..=rows {
        canvas.rect(x0, y0 + (k * cell) as i64, mw as i64 + 1, 1, MID);
    }
    for k in 0..=cols {
        canvas.rect(x0 + (k * cell) as i64, y0, 1, mh as i64 + 1, MID);
    }
    for (r, name) in row_names.iter().enumerate() {
        let w = font::text_width(name, LABEL_SCALE) as i64;
        let y = y0 + r as i64 * cell_i + (cell_i - lh as i64) / 2;
        canvas.text(x0 - 8 - w, y, name, DARK, LABEL_SCALE);
    }
    let names_top = y0 + mh as i64 + 8;
    for (c, name) in col_names.iter().enumerate() {
        let cx = x0 + c as i64 * cell_i + cell_i / 2;
        if upright {
            canvas.text_centred(cx, names_top, name, DARK, LABEL_SCALE);
        } else {
            let name = fit_text(name, col_band, LABEL_SCALE);
            let tall = font::text_width(&name, LABEL_SCALE) as i64;
            let x = cx - lh as i64 / 2;
            canvas.text_vertical(
                x,
                names_top + col_band as i64 - tall,
                &name,
                DARK,
                LABEL_SCALE,
            );
        }
    }
    let label_y = names_top + col_band as i64 + 10;
    canvas.text_centred(x0 + mw as i64 / 2, label_y, "predicted", DARK, LABEL_SCALE);
    let tw = font::text_width("true class", LABEL_SCALE) as i64;
    canvas.text_vertical(
        12,
        y0 + mh as i64 / 2 - tw / 2,
        "true class",
        DARK,
        LABEL_SCALE,
    );
    canvas.text(x0, label_y + lh as i64 + 10, note, MID, 1);
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| i.to_string()).collect()
    }

    #[test]
    fn diagonal_cells_are_darkest() {
        let counts = [9, 1, 0, 10];
        let c = draw("t", &counts, 2, 2, &names(2), &names(2)).unwrap();
        let cell = 22 + 14; // "10" at scale 2, plus padding
        let left = (12 + 16 + 12 + 10 + 8) as usize;
        let top = TITLE_H + 16;
        // Sample near each cell's top-left corner, away from the digits.
        let at = |r: usize, col: usize| c.get(left + col * cell + 3, top + r * cell + 3);
        assert_eq!(at(1, 1), colour::sequential(1.0));
        assert_eq!(at(1, 0), colour::sequential(0.0));
        assert_eq!(at(0, 0), colour::sequential(0.9));
    }

    #[test]
    fn mismatched_sizes_are_rejected() {
        assert!(draw("t", &[1, 2, 3], 2, 2, &names(2), &names(2)).is_err());
        assert!(draw("t", &[1, 2, 3, 4], 2, 2, &names(1), &names(2)).is_err());
    }
}
