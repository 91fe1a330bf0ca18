//! Datasets: loaders (IDX, `.npy`, CSV, PNG folders, the embedded MNIST and
//! Fashion-MNIST), train/validation/test splits, label regimes, binarisation
//! and feature masks.
//!
//! Every loader checks what it reads and reports malformed input as
//! [`Error::BadInput`](crate::Error) naming the file (exit status 2); none
//! panics or allocates more than the data actually present.
//!
//! Dataset specs accepted by [`load`]:
//! - `mnist`, `fashion-mnist`: the embedded IDX files (digests verified);
//!   train 60k → first 50k train, last 10k validation; 10k test.
//! - `idx:DIR`: the four IDX files of a folder (see [`idx::load_dir`]); the
//!   last ⌊n/6⌋ training examples are the validation split (10k of 60k).
//! - `npy:X.npy[,y.npy]`, `csv:FILE[,label=COL]`: a single table, split by
//!   the seeded 80/10/10 rule of [`split::seeded_split`].
//! - `images:DIR[,size=HxW]`: PNG folders (see [`images`]); `DIR/train`
//!   (+ optional `DIR/validation`, `DIR/test`) if present, else the seeded rule.

pub mod binarize;
pub mod csv;
mod dataset;
pub mod digest;
pub mod embedded;
pub mod idx;
pub mod images;
mod mask;
pub mod npy;
mod regime;
mod source;
mod spec;
pub mod split;

pub use dataset::{CoarseLabels, Dataset, SourceFile, Splits, UNKNOWN_LABEL};
pub use embedded::embedded_dir;
pub use mask::FeatureMask;
pub use regime::{parse_class_set, select_labelled, LabelRegime};
pub use spec::{load, read_labels};
