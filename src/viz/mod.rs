//! Pictures: pure functions that turn plain data (slices of numbers and
//! names) into PNG files, for the `figures/` of a run directory (DESIGN.md
//! §2). No knowledge of tensors, models or runs.
//!
//! Every figure has a title strip and labels drawn with a built-in bitmap
//! font ([`font`]), is encoded with the png crate and written atomically
//! (temporary file, fsync, rename). Output depends only on the input, so
//! figures are byte-identical across runs with the same data.
//!
//! - [`grid`]: image grids (reconstructions, samples, cluster centres);
//! - [`heatmap`]: confusion matrices with counts;
//! - [`scatter`]: 2-D point maps coloured by class, fed by [`embed`] (PCA,
//!   exact t-SNE);
//! - [`curves`]: line charts of losses and metrics per epoch;
//! - [`histogram`]: overlaid histograms (entropy of q(y|x) by group).

pub mod axes;
pub mod canvas;
pub mod colour;
pub mod curves;
pub mod embed;
pub mod font;
pub mod frame;
pub mod grid;
pub mod heatmap;
pub mod histogram;
pub mod scatter;

pub use canvas::Canvas;
pub use colour::Rgb;

/// The error for inputs a figure cannot be drawn from (a caller bug, such as
/// mismatched lengths).
fn invalid(problem: impl Into<String>) -> crate::Error {
    crate::Error::Other(format!("viz: {}", problem.into()))
}
