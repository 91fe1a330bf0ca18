//! Two-dimensional embeddings of latent codes for the `latent.png` map:
//! PCA (fast, linear) and exact t-SNE (slow, shows clusters).
//!
//! Both take a row-major `n` × `dim` matrix of `f32` and return one `[x, y]`
//! per row; both are deterministic (t-SNE given its seed) and independent of
//! the number of rayon threads.

mod jacobi;
mod pca;
mod tsne;

pub use pca::{pca_2d, principal_axes};
pub use tsne::{tsne_2d, TSNE_MAX_POINTS};
