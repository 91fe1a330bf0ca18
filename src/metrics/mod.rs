//! Evaluation metrics (DESIGN.md §3). Every function takes predicted and
//! true labels as `u32` slices of equal length; examples whose true label is
//! [`UNKNOWN_LABEL`](crate::data::UNKNOWN_LABEL) are ignored. Name which
//! metric a figure is: classification accuracy, cluster accuracy (one-to-one
//! Hungarian mapping), purity (many-to-one majority mapping), NMI, ARI.

mod accuracy;
mod ari;
mod cluster_accuracy;
mod confusion;
mod contingency;
mod nmi;

pub use accuracy::accuracy;
pub use ari::adjusted_rand_index;
pub use cluster_accuracy::{cluster_accuracy, purity, ClusterAccuracy};
pub use confusion::ConfusionMatrix;
pub use contingency::Contingency;
pub use nmi::nmi;
