//! The person in the loop: draws the decoded centre (and a few members of
//! its cluster) in the terminal, then reads a label and a confidence.
//!
//! Pictures use Unicode upper half-blocks with 24 grey levels (two pixel
//! rows per text row) when the output is a colour terminal, and a ten-step
//! ASCII ramp (two characters per pixel) otherwise, e.g. when piped or with
//! `NO_COLOR` set. Colour images are shown by their mean channel.
//!
//! Answers: a class number or name, optionally followed by a confidence in
//! [0, 1] or a percentage (`7`, `7 0.8`, `seven 80%`); `s` (skip: not a
//! valid example, split the cluster); `u` (undo the previous answer); `q`
//! (quit; the run resumes at this question). End of input is a quit.

use std::io::{BufRead, Write};

use super::oracle::{Oracle, Query, Reply};
use crate::{Error, Result};

/// How pictures are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// ANSI 256-colour grey half-blocks.
    HalfBlocks,
    /// ASCII grey ramp.
    Ascii,
}

/// An oracle reading from `input` and drawing on `output`.
pub struct TerminalOracle<R, W> {
    input: R,
    output: W,
    style: Style,
    /// Members shown beside the centre.
    members_shown: usize,
}

impl<R: BufRead, W: Write> TerminalOracle<R, W> {
    /// An oracle with the given picture style, showing three members beside
    /// each centre.
    pub fn new(input: R, output: W, style: Style) -> Self {
        TerminalOracle {
            input,
            output,
            style,
            members_shown: 3,
        }
    }

    fn say(&mut self, text: &str) -> Result<()> {
        self.output
            .write_all(text.as_bytes())
            .and_then(|_| self.output.flush())
            .map_err(|e| Error::Other(format!("writing to the terminal: {e}")))
    }
}

impl<R: BufRead, W: Write> Oracle for TerminalOracle<R, W> {
    fn ask(&mut self, q: &Query<'_>) -> Result<Reply> {
        let mut images = vec![q.centre];
        images.extend(q.members.iter().take(self.members_shown));
        let picture = render(&images, q.image_shape, self.style);
        let names: Vec<String> = q
            .class_names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if *n == i.to_string() {
                    n.clone()
                } else {
                    format!("{i}={n}")
                }
            })
            .collect();
        self.say(&format!(
            "\niteration {}, question {} of at most {}: cluster {} ({} samples); \
             left: its decoded centre, then samples of the cluster\n{picture}",
            q.iteration,
            q.asked + 1,
            q.budget,
            q.id,
            q.size
        ))?;
        loop {
            self.say(&format!(
                "label [{}] and confidence (default 1), s = not valid/skip, u = undo, q = quit > ",
                names.join(" ")
            ))?;
            let mut line = String::new();
            let n = self
                .input
                .read_line(&mut line)
                .map_err(|e| Error::Other(format!("reading the answer: {e}")))?;
            if n == 0 {
                self.say("\n")?;
                return Ok(Reply::Quit);
            }
            match parse_answer(&line, q.class_names) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => continue,
                Err(m) => self.say(&format!("{m}\n"))?,
            }
        }
    }
}

/// Parses one line of input; `Ok(None)` for an empty line.
pub fn parse_answer(
    line: &str,
    class_names: &[String],
) -> std::result::Result<Option<Reply>, String> {
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return Ok(None);
    };
    let reply = match first.to_lowercase().as_str() {
        "q" | "quit" => Reply::Quit,
        "u" | "undo" => Reply::Undo,
        "s" | "skip" | "x" => Reply::Invalid,
        word => {
            let class = word
                .parse::<usize>()
                .ok()
                .filter(|&c| c < class_names.len())
                .or_else(|| class_names.iter().position(|n| n.to_lowercase() == word))
                .ok_or_else(|| {
                    format!(
                        "'{first}' is not a class (0-{} or a class name), s, u or q",
                        class_names.len().saturating_sub(1)
                    )
                })?;
            let confidence = match words.next() {
                None => 1.0,
                Some(w) => {
                    let (num, per) = match w.strip_suffix('%') {
                        Some(p) => (p, 100.0),
                        None => (w, 1.0),
                    };
                    num.parse::<f32>()
                        .ok()
                        .map(|v| v / per)
                        .filter(|v| (0.0..=1.0).contains(v))
                        .ok_or_else(|| {
                            format!("confidence '{w}' must be in [0, 1] or a percentage")
                        })?
                }
            };
            Reply::Label { class, confidence }
        }
    };
    if words.next().is_some() {
        return Err(format!("too many words in '{}'", line.trim()));
    }
    Ok(Some(reply))
}

/// Draws images side by side, one blank column apart.
pub fn render(images: &[&[f32]], [c, h, w]: [usize; 3], style: Style) -> String {
    let grey = |img: &[f32], y: usize, x: usize| -> f32 {
        let s: f32 = (0..c).map(|ch| img[ch * h * w + y * w + x]).sum();
        (s / c.max(1) as f32).clamp(0.0, 1.0)
    };
    let mut out = String::new();
    match style {
        Style::HalfBlocks => {
            for y in (0..h).step_by(2) {
                for img in images {
                    for x in 0..w {
                        let top = grey(img, y, x);
                        let bottom = if y + 1 < h { grey(img, y + 1, x) } else { 0.0 };
                        let level = |v: f32| 232 + (v * 23.0).round() as u32;
                        out.push_str(&format!(
                            "\x1b[38;5;{}m\x1b[48;5;{}m\u{2580}",
                            level(top),
                            level(bottom)
                        ));
                    }
                    out.push_str("\x1b[0m ");
                }
                out.push('\n');
            }
        }
        Style::Ascii => {
            const RAMP: &[u8] = b" .:-=+*#%@";
            for y in 0..h {
                for img in images {
                    for x in 0..w {
                        let i = (grey(img, y, x) * 9.0).round() as usize;
                        let ch = RAMP[i.min(9)] as char;
                        out.push(ch);
                        out.push(ch);
                    }
                    out.push_str("  ");
                }
                out.push('\n');
            }
        }
    }
    out
}
