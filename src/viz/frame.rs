//! What every figure shares: text sizes, the title strip along the top, the
//! boxed legend, and fitting long strings into a given width.

use super::canvas::Canvas;
use super::colour::{Rgb, BLACK, DARK, MID, TITLE_BG, WHITE};
use super::font;

/// Font scale of titles.
pub const TITLE_SCALE: usize = 2;
/// Font scale of axis labels, legends and row labels.
pub const LABEL_SCALE: usize = 2;
/// Font scale of tick labels and numbers inside cells.
pub const TICK_SCALE: usize = 1;
/// Height of the title strip in pixels.
pub const TITLE_H: usize = 12 + 8 * TITLE_SCALE;

/// Fills the title strip across the top of `canvas` and centres `title` in
/// it (shortened with ".." when it does not fit).
pub fn title_strip(canvas: &mut Canvas, title: &str) {
    let w = canvas.width as i64;
    canvas.rect(0, 0, w, TITLE_H as i64, TITLE_BG);
    canvas.rect(0, TITLE_H as i64 - 1, w, 1, MID);
    let text = fit_text(title, canvas.width.saturating_sub(12), TITLE_SCALE);
    canvas.text_centred(w / 2, 6, &text, BLACK, TITLE_SCALE);
}

/// `text` shortened with a trailing ".." so it is at most `max_width` pixels
/// wide at `scale`.
pub fn fit_text(text: &str, max_width: usize, scale: usize) -> String {
    if font::text_width(text, scale) <= max_width {
        return text.to_string();
    }
    let per = font::ADVANCE * scale;
    let keep = (max_width / per).saturating_sub(2);
    let mut s: String = text.chars().take(keep).collect();
    s.push_str("..");
    s
}

/// Size in pixels of the legend [`legend`] would draw for `entries`.
pub fn legend_size(entries: &[(String, Rgb)]) -> (usize, usize) {
    let widest = entries
        .iter()
        .map(|(name, _)| font::text_width(name, LABEL_SCALE))
        .max()
        .unwrap_or(0);
    let line = font::text_height(LABEL_SCALE) + 6;
    (8 + 14 + 8 + widest + 8, 8 + entries.len() * line + 2)
}

/// Draws a boxed legend with its top-left at (`x`, `y`): a colour swatch and
/// a name per entry, one per line.
pub fn legend(canvas: &mut Canvas, x: i64, y: i64, entries: &[(String, Rgb)]) {
    let (w, h) = legend_size(entries);
    canvas.rect(x, y, w as i64, h as i64, WHITE);
    canvas.rect_outline(x, y, w as i64, h as i64, MID);
    let line = (font::text_height(LABEL_SCALE) + 6) as i64;
    for (i, (name, colour)) in entries.iter().enumerate() {
        let ly = y + 8 + i as i64 * line;
        canvas.rect(x + 8, ly + 1, 14, 14, *colour);
        canvas.text(x + 30, ly, name, DARK, LABEL_SCALE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_shortened_to_fit() {
        assert_eq!(fit_text("abc", 100, 1), "abc");
        let s = fit_text("a very long title indeed", 60, 1);
        assert!(font::text_width(&s, 1) <= 60);
        assert!(s.ends_with(".."));
    }

    #[test]
    fn legend_fits_its_entries() {
        let entries = vec![("one".to_string(), BLACK), ("three".to_string(), BLACK)];
        let (w, h) = legend_size(&entries);
        let mut c = Canvas::new(w + 2, h + 2, WHITE);
        legend(&mut c, 1, 1, &entries);
        assert_eq!(c.get(0, 0), WHITE);
        assert_eq!(c.get(1, 1), MID);
        assert_eq!(c.get(w, h), MID);
    }
}
