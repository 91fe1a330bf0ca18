//! Image grids: reconstructions (inputs above their reconstructions), samples
//! with one row per class, decoded cluster centres with their labels, the
//! most confident images per class.

use std::path::Path;

use super::canvas::Canvas;
use super::colour::{DARK, MID, WHITE};
use super::font;
use super::frame::{fit_text, title_strip, LABEL_SCALE, TITLE_H, TITLE_SCALE};
use super::invalid;
use crate::Result;

/// Gap between images, in pixels.
const GAP: usize = 2;

/// Writes a grid of images to `path` as a PNG: `cols` images per row, in
/// order, under a title strip. `image_shape` is (C, H, W) with C = 1 (grey)
/// or 3 (planar RGB) and values in [0, 1]. Small images are enlarged by an
/// integer factor (2× for 28×28). `row_labels[r]`, when given, is written left
/// of row `r` (missing labels are left blank, extra ones ignored).
pub fn image_grid(
    path: &Path,
    title: &str,
    images: &[&[f32]],
    image_shape: [usize; 3],
    cols: usize,
    row_labels: Option<&[String]>,
) -> Result<()> {
    let canvas = draw(title, images, image_shape, cols, row_labels, None)?;
    canvas.save(path)
}

/// Like [`image_grid`] but with a caption under every image (e.g. a decoded
/// cluster centre and the class it was mapped to); `captions` needs one entry
/// per image.
pub fn captioned_grid(
    path: &Path,
    title: &str,
    images: &[&[f32]],
    image_shape: [usize; 3],
    cols: usize,
    captions: &[String],
) -> Result<()> {
    if captions.len() != images.len() {
        return Err(invalid(format!(
            "{} captions for {} images",
            captions.len(),
            images.len()
        )));
    }
    let canvas = draw(title, images, image_shape, cols, None, Some(captions))?;
    canvas.save(path)
}

/// The integer enlargement that makes an `h` × `w` image about 56–64 pixels
/// on its longer side (at least 1, at most 8).
pub fn image_scale(h: usize, w: usize) -> usize {
    (64 / h.max(w).max(1)).clamp(1, 8)
}

fn draw(
    title: &str,
    images: &[&[f32]],
    [c, h, w]: [usize; 3],
    cols: usize,
    row_labels: Option<&[String]>,
    captions: Option<&[String]>,
) -> Result<Canvas> {
    if c != 1 && c != 3 {
        return Err(invalid(format!("images need 1 or 3 channels, not {c}")));
    }
    if images.is_empty() || h == 0 || w == 0 || cols == 0 {
        return Err(invalid("an image grid needs images, a shape and cols ≥ 1"));
    }
    if let Some(bad) = images.iter().position(|im| im.len() != c * h * w) {
        return Err(invalid(format!(
            "image {bad} has {} values, shape {c}×{h}×{w} needs {}",
            images[bad].len(),
            c * h * w
        )));
    }
    let scale = image_scale(h, w);
    let cols = cols.min(images.len());
    let rows = images.len().div_ceil(cols);
    let (cell_w, cell_h) = (w * scale, h * scale);

    let label_w = row_labels
        .and_then(|ls| {
            ls.iter()
                .take(rows)
                .map(|l| font::text_width(l, LABEL_SCALE))
                .max()
        })
        .unwrap_or(0);
    let left = if label_w > 0 { label_w + 16 } else { 12 };
    let cap_scale = captions.map_or(1, |cs| {
        let widest = cs.iter().map(|s| font::text_width(s, 2)).max().unwrap_or(0);
        if widest <= cell_w {
            2
        } else {
            1
        }
    });
    let cap_h = if captions.is_some() {
        font::text_height(cap_scale) + 6
    } else {
        0
    };
    let row_h = cell_h + cap_h + GAP;
    let grid_w = cols * (cell_w + GAP) + GAP;
    let grid_h = rows * row_h + GAP;
    let title_w = (font::text_width(title, TITLE_SCALE) + 24).min(1200);
    let width = (left + grid_w + 12).max(title_w);
    let height = TITLE_H + 12 + grid_h + 12;

    let mut canvas = Canvas::new(width, height, WHITE);
    title_strip(&mut canvas, title);
    let gx = (left + (width - left - 12 - grid_w) / 2) as i64;
    let gy = (TITLE_H + 12) as i64;
    canvas.rect(gx, gy, grid_w as i64, grid_h as i64, MID);
    for (i, img) in images.iter().enumerate() {
        let (r, col) = (i / cols, i % cols);
        let x = gx + (GAP + col * (cell_w + GAP)) as i64;
        let y = gy + (GAP + r * row_h) as i64;
        if c == 1 {
            canvas.blit_grey(x, y, img, h, w, scale);
        } else {
            canvas.blit_rgb(x, y, img, h, w, scale);
        }
        if let Some(cs) = captions {
            canvas.rect(x, y + cell_h as i64, cell_w as i64, cap_h as i64, WHITE);
            let text = fit_text(&cs[i], cell_w, cap_scale);
            let cx = x + cell_w as i64 / 2;
            canvas.text_centred(cx, y + cell_h as i64 + 3, &text, DARK, cap_scale);
        }
    }
    if let Some(ls) = row_labels {
        let th = font::text_height(LABEL_SCALE) as i64;
        for (r, label) in ls.iter().take(rows).enumerate() {
            let y = gy + (GAP + r * row_h + cell_h / 2) as i64 - th / 2;
            let lw = font::text_width(label, LABEL_SCALE) as i64;
            canvas.text(gx - 8 - lw, y, label, DARK, LABEL_SCALE);
        }
    }
    Ok(canvas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_enlarges_small_images_only() {
        assert_eq!(image_scale(28, 28), 2);
        assert_eq!(image_scale(32, 32), 2);
        assert_eq!(image_scale(8, 8), 8);
        assert_eq!(image_scale(100, 50), 1);
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let img = vec![0.5f32; 4];
        assert!(draw("t", &[&img], [2, 2, 1], 1, None, None).is_err());
        assert!(draw("t", &[&img], [1, 3, 1], 1, None, None).is_err());
        assert!(draw("t", &[], [1, 2, 2], 1, None, None).is_err());
        assert!(draw("t", &[&img], [1, 2, 2], 1, None, None).is_ok());
    }

    #[test]
    fn images_land_in_their_cells() {
        let white = vec![1.0f32; 4];
        let black = vec![0.0f32; 4];
        let c = draw("t", &[&white, &black], [1, 2, 2], 2, None, None).unwrap();
        // The grid is grey (MID) with a white and a black 16×16 cell on it.
        let count = |col| {
            (0..c.height)
                .flat_map(|y| (0..c.width).map(move |x| (x, y)))
                .filter(|&(x, y)| c.get(x, y) == col)
                .count()
        };
        assert_eq!(
            count(super::super::colour::BLACK),
            16 * 16 + count_text_black(&c)
        );
    }

    fn count_text_black(c: &Canvas) -> usize {
        // The title is black text inside the title strip.
        (0..TITLE_H)
            .flat_map(|y| (0..c.width).map(move |x| (x, y)))
            .filter(|&(x, y)| c.get(x, y) == super::super::colour::BLACK)
            .count()
    }
}
