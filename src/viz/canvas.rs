//! An RGB8 raster with the few primitives figures need: rectangles, lines,
//! dots, scaled image blits, bitmap text, and PNG encoding.
//!
//! Drawing coordinates are `i64` and everything is clipped to the canvas, so
//! callers never have to check bounds. Pixels are stored row-major, three
//! bytes per pixel.

use std::path::Path;

use super::colour::Rgb;
use super::font;
use crate::{Error, Result};

/// An RGB8 image being drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major RGB bytes, `3 * width * height` of them.
    pub pixels: Vec<u8>,
}

impl Canvas {
    /// A `width` × `height` canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        let mut pixels = Vec::with_capacity(3 * width * height);
        for _ in 0..width * height {
            pixels.extend_from_slice(&background);
        }
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// The colour at (`x`, `y`); panics when outside the canvas.
    pub fn get(&self, x: usize, y: usize) -> Rgb {
        let at = 3 * (y * self.width + x);
        [self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]]
    }

    /// Sets one pixel; ignored when outside the canvas.
    pub fn set(&mut self, x: i64, y: i64, colour: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let at = 3 * (y as usize * self.width + x as usize);
            self.pixels[at..at + 3].copy_from_slice(&colour);
        }
    }

    /// Blends `colour` over one pixel with opacity `alpha` in [0, 1].
    pub fn blend(&mut self, x: i64, y: i64, colour: Rgb, alpha: f32) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let old = self.get(x as usize, y as usize);
            self.set(x, y, super::colour::mix(old, colour, alpha));
        }
    }

    /// Fills the whole canvas with `colour`.
    pub fn fill(&mut self, colour: Rgb) {
        for px in self.pixels.chunks_exact_mut(3) {
            px.copy_from_slice(&colour);
        }
    }

    /// Fills the rectangle with top-left (`x`, `y`) and size `w` × `h`.
    pub fn rect(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb) {
        self.rect_blend(x, y, w, h, colour, 1.0);
    }

    /// Blends `colour` with opacity `alpha` over a filled rectangle.
    pub fn rect_blend(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb, alpha: f32) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + w).min(self.width as i64);
        let y1 = (y + h).min(self.height as i64);
        for yy in y0..y1 {
            for xx in x0..x1 {
                if alpha >= 1.0 {
                    self.set(xx, yy, colour);
                } else {
                    self.blend(xx, yy, colour, alpha);
                }
            }
        }
    }

    /// Draws the one-pixel outline of a rectangle.
    pub fn rect_outline(&mut self, x: i64, y: i64, w: i64, h: i64, colour: Rgb) {
        if w <= 0 || h <= 0 {
            return;
        }
        self.rect(x, y, w, 1, colour);
        self.rect(x, y + h - 1, w, 1, colour);
        self.rect(x, y, 1, h, colour);
        self.rect(x + w - 1, y, 1, h, colour);
    }

    /// A one-pixel line from (`x0`, `y0`) to (`x1`, `y1`), both ends included
    /// (Bresenham's algorithm, integer only).
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb) {
        let dx = (x1 - x0).abs();
        let dy = -(y1 - y0).abs();
        let sx = if x0 < x1 { 1 } else { -1 };
        let sy = if y0 < y1 { 1 } else { -1 };
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set(x, y, colour);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// A line `width` pixels thick: a `width`-square pen along Bresenham.
    pub fn thick_line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb, width: i64) {
        let lo = -(width - 1) / 2;
        let hi = width / 2;
        for oy in lo..=hi {
            for ox in lo..=hi {
                self.line(x0 + ox, y0 + oy, x1 + ox, y1 + oy, colour);
            }
        }
    }

    /// A filled disc of radius `r` centred on (`cx`, `cy`); `r = 0` is one pixel.
    pub fn dot(&mut self, cx: i64, cy: i64, r: i64, colour: Rgb) {
        for dy in -r..=r {
            for dx in -r..=r {
                if dx * dx + dy * dy <= r * r + r {
                    self.set(cx + dx, cy + dy, colour);
                }
            }
        }
    }

    /// Draws a greyscale image (`h` × `w` values in [0, 1], black = 0) with its
    /// top-left at (`x`, `y`), each source pixel becoming `scale` × `scale`.
    pub fn blit_grey(&mut self, x: i64, y: i64, img: &[f32], h: usize, w: usize, scale: usize) {
        for r in 0..h {
            for c in 0..w {
                let v = to_byte(img[r * w + c]);
                self.scaled_pixel(x, y, r, c, scale, [v, v, v]);
            }
        }
    }

    /// Draws a planar RGB image (3 × `h` × `w` values in [0, 1], channel-major
    /// as tensors store it) with its top-left at (`x`, `y`), scaled by `scale`.
    pub fn blit_rgb(&mut self, x: i64, y: i64, img: &[f32], h: usize, w: usize, scale: usize) {
        let plane = h * w;
        for r in 0..h {
            for c in 0..w {
                let at = r * w + c;
                let px = [
                    to_byte(img[at]),
                    to_byte(img[plane + at]),
                    to_byte(img[2 * plane + at]),
                ];
                self.scaled_pixel(x, y, r, c, scale, px);
            }
        }
    }

    fn scaled_pixel(&mut self, x: i64, y: i64, r: usize, c: usize, scale: usize, px: Rgb) {
        let s = scale as i64;
        self.rect(x + c as i64 * s, y + r as i64 * s, s, s, px);
    }

    /// Writes `text` with the built-in font, top-left at (`x`, `y`), each font
    /// pixel `scale` × `scale` canvas pixels.
    pub fn text(&mut self, x: i64, y: i64, text: &str, colour: Rgb, scale: usize) {
        let s = scale as i64;
        for (i, ch) in text.chars().enumerate() {
            let gx = x + (i * font::ADVANCE) as i64 * s;
            for row in 0..font::GLYPH_H {
                for col in 0..font::GLYPH_W {
                    if font::ink(ch, col, row) {
                        self.rect(gx + col as i64 * s, y + row as i64 * s, s, s, colour);
                    }
                }
            }
        }
    }

    /// Writes `text` turned 90° anticlockwise (reading upwards, as y-axis
    /// labels do); (`x`, `y`) is the top-left of its bounding box, which is
    /// `text_height(scale)` wide and `text_width(text, scale)` tall.
    pub fn text_vertical(&mut self, x: i64, y: i64, text: &str, colour: Rgb, scale: usize) {
        let s = scale as i64;
        let bottom = y + font::text_width(text, scale) as i64;
        for (i, ch) in text.chars().enumerate() {
            let gy = bottom - ((i * font::ADVANCE) as i64 + 1) * s;
            for row in 0..font::GLYPH_H {
                for col in 0..font::GLYPH_W {
                    if font::ink(ch, col, row) {
                        self.rect(x + row as i64 * s, gy - col as i64 * s, s, s, colour);
                    }
                }
            }
        }
    }

    /// Writes `text` horizontally centred on `cx`, top at `y`.
    pub fn text_centred(&mut self, cx: i64, y: i64, text: &str, colour: Rgb, scale: usize) {
        let w = font::text_width(text, scale) as i64;
        self.text(cx - w / 2, y, text, colour, scale);
    }

    /// Encodes the canvas as an 8-bit RGB PNG (deterministic bytes).
    pub fn encode_png(&self) -> Result<Vec<u8>> {
        let fail = |e: png::EncodingError| Error::Other(format!("viz: PNG encoding failed: {e}"));
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, self.width as u32, self.height as u32);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Balanced);
            let mut writer = enc.write_header().map_err(fail)?;
            writer.write_image_data(&self.pixels).map_err(fail)?;
            writer.finish().map_err(fail)?;
        }
        Ok(bytes)
    }

    /// Encodes the canvas and writes it to `path` atomically (temporary file,
    /// fsync, rename), so a reader never sees half a picture.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.encode_png()?;
        crate::train::checkpoint::write_atomic(path, &bytes)
    }
}

/// A [0, 1] intensity as a byte (clamped; NaN becomes 0).
fn to_byte(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else {
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::colour::{BLACK, WHITE};

    #[test]
    fn line_hits_both_ends_and_clips() {
        let mut c = Canvas::new(10, 10, WHITE);
        c.line(-5, -5, 9, 9, BLACK);
        assert_eq!(c.get(0, 0), BLACK);
        assert_eq!(c.get(9, 9), BLACK);
        assert_eq!(c.get(3, 3), BLACK);
        assert_eq!(c.get(3, 4), WHITE);
    }

    #[test]
    fn rect_and_dot_are_clipped() {
        let mut c = Canvas::new(4, 3, WHITE);
        c.rect(-2, -2, 100, 100, BLACK);
        assert!(c.pixels.iter().all(|&v| v == 0));
        c.dot(1, 1, 0, WHITE);
        assert_eq!(c.get(1, 1), WHITE);
        assert_eq!(c.get(0, 1), BLACK);
    }

    #[test]
    fn blit_scales_each_pixel() {
        let mut c = Canvas::new(4, 2, BLACK);
        c.blit_grey(0, 0, &[1.0, 0.5], 1, 2, 2);
        assert_eq!(c.get(1, 1), WHITE);
        assert_eq!(c.get(2, 0), [128, 128, 128]);
        let mut c = Canvas::new(1, 1, BLACK);
        c.blit_rgb(0, 0, &[1.0, 0.0, 0.5], 1, 1, 1);
        assert_eq!(c.get(0, 0), [255, 0, 128]);
    }

    #[test]
    fn glyphs_render_differently() {
        let render = |s: &str| {
            let mut c = Canvas::new(12, 16, WHITE);
            c.text(1, 1, s, BLACK, 2);
            c.pixels
        };
        assert_ne!(render("A"), render("B"));
        assert_ne!(render("0"), render("O"));
        assert_ne!(render("1"), render("l"));
        let inked = render("M").iter().filter(|&&v| v == 0).count();
        assert!(inked > 0);
    }

    #[test]
    fn vertical_text_is_the_horizontal_turned() {
        let (w, h) = (font::text_width("Ab", 1), font::text_height(1));
        let mut flat = Canvas::new(w, h, WHITE);
        flat.text(0, 0, "Ab", BLACK, 1);
        let mut up = Canvas::new(h, w, WHITE);
        up.text_vertical(0, 0, "Ab", BLACK, 1);
        for y in 0..h {
            for x in 0..w {
                assert_eq!(flat.get(x, y), up.get(y, w - 1 - x));
            }
        }
    }
}
