//! Colours: a categorical palette for classes and series, a sequential map for
//! heat-maps, and a few fixed greys for frames and text.

/// An 8-bit RGB colour.
pub type Rgb = [u8; 3];

/// White, the figure background.
pub const WHITE: Rgb = [255, 255, 255];
/// Black, for text.
pub const BLACK: Rgb = [0, 0, 0];
/// Dark grey, for axes and tick labels.
pub const DARK: Rgb = [60, 60, 60];
/// Mid grey, for separators between images.
pub const MID: Rgb = [150, 150, 150];
/// Light grey, for grid lines.
pub const LIGHT: Rgb = [225, 225, 225];
/// Light grey text, for zeros and other de-emphasised numbers.
pub const LIGHT_TEXT: Rgb = [185, 185, 185];
/// Background of the title strip.
pub const TITLE_BG: Rgb = [236, 239, 244];

/// Twenty categorical colours: Tableau 10 followed by darker and lighter
/// variants, so the first ten are maximally distinct and up to twenty classes
/// stay distinguishable.
pub const PALETTE: [Rgb; 20] = [
    [31, 119, 180],  // blue
    [255, 127, 14],  // orange
    [44, 160, 44],   // green
    [214, 39, 40],   // red
    [148, 103, 189], // purple
    [140, 86, 75],   // brown
    [227, 119, 194], // pink
    [127, 127, 127], // grey
    [188, 189, 34],  // olive
    [23, 190, 207],  // cyan
    [0, 0, 128],     // navy
    [255, 187, 120], // light orange
    [0, 100, 0],     // dark green
    [255, 152, 150], // light red
    [75, 0, 130],    // indigo
    [196, 156, 148], // light brown
    [128, 0, 64],    // wine
    [40, 40, 40],    // near black
    [219, 219, 141], // light olive
    [158, 218, 229], // light cyan
];

/// The colour of class or series `i`; the palette repeats after twenty.
pub fn category(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// Control points of the sequential map, from white through light blue to
/// dark navy (monotone in lightness, so order reads without a legend).
const SEQUENTIAL: [Rgb; 6] = [
    [247, 251, 255],
    [198, 219, 239],
    [107, 174, 214],
    [33, 113, 181],
    [8, 69, 148],
    [8, 29, 88],
];

/// The sequential map at `t` in [0, 1] (clamped; NaN maps to 0): white for 0,
/// dark navy for 1, linearly interpolated between six control points.
pub fn sequential(t: f32) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (SEQUENTIAL.len() - 1) as f32;
    let i = (pos.floor() as usize).min(SEQUENTIAL.len() - 2);
    let f = pos - i as f32;
    mix(SEQUENTIAL[i], SEQUENTIAL[i + 1], f)
}

/// Linear mix of `a` and `b`: `a` at `f = 0`, `b` at `f = 1`.
pub fn mix(a: Rgb, b: Rgb, f: f32) -> Rgb {
    let f = f.clamp(0.0, 1.0);
    let c = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * f).round() as u8;
    [c(a[0], b[0]), c(a[1], b[1]), c(a[2], b[2])]
}

/// Black or white, whichever reads better on `background` (by luminance).
pub fn text_on(background: Rgb) -> Rgb {
    let [r, g, b] = background.map(|v| v as f32);
    if 0.299 * r + 0.587 * g + 0.114 * b > 140.0 {
        BLACK
    } else {
        WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_colours_are_distinct() {
        for (i, a) in PALETTE.iter().enumerate() {
            for (j, b) in PALETTE[..i].iter().enumerate() {
                let d: i32 = a
                    .iter()
                    .zip(b)
                    .map(|(&p, &q)| (p as i32 - q as i32).abs())
                    .sum();
                assert!(d > 60, "colours {i} and {j} are too close");
            }
        }
        assert_eq!(category(21), PALETTE[1]);
    }

    #[test]
    fn sequential_runs_from_white_to_dark() {
        assert_eq!(sequential(0.0), SEQUENTIAL[0]);
        assert_eq!(sequential(1.0), SEQUENTIAL[5]);
        assert_eq!(sequential(f32::NAN), SEQUENTIAL[0]);
        let lum = |c: Rgb| c.iter().map(|&v| v as u32).sum::<u32>();
        let mut last = u32::MAX;
        for k in 0..=20 {
            let l = lum(sequential(k as f32 / 20.0));
            assert!(l <= last, "lightness must not increase");
            last = l;
        }
        assert_eq!(text_on(sequential(0.0)), BLACK);
        assert_eq!(text_on(sequential(1.0)), WHITE);
    }
}
