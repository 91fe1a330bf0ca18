//! Who labels a decoded cluster centre: the question ([`Query`]), the
//! possible answers ([`Reply`]), and the simulated annotator
//! ([`DatasetOracle`]). The person at the terminal is
//! [`super::terminal::TerminalOracle`].

use crate::Result;

/// One question: a decoded cluster centre and a few of its members.
pub struct Query<'a> {
    /// Labelling iteration (1-based).
    pub iteration: usize,
    /// The cluster's id ("3", "3.1").
    pub id: &'a str,
    /// Queries answered so far in this iteration, and the budget.
    pub asked: usize,
    /// Most queries of this iteration.
    pub budget: usize,
    /// How many training samples the cluster holds.
    pub size: usize,
    /// The decoded centre, (C, H, W) flattened, values in [0, 1].
    pub centre: &'a [f32],
    /// Training images of the cluster (closest first), same shape.
    pub members: Vec<&'a [f32]>,
    /// (C, H, W).
    pub image_shape: [usize; 3],
    /// Names of the classes a label can take.
    pub class_names: &'a [String],
    /// Training rows of the cluster's members, closest to the centre first
    /// (what the simulated annotator looks at).
    pub nearest_rows: &'a [usize],
}

/// An answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// The centre shows `class`, with confidence p_c ∈ [0, 1].
    Label {
        /// Class index.
        class: usize,
        /// p_c.
        confidence: f32,
    },
    /// Not a valid example (or "skip"): the cluster is split instead.
    Invalid,
    /// Take back the previous answer of this iteration.
    Undo,
    /// Stop now; the answers given so far are kept and the run resumes here.
    Quit,
}

/// Answers queries.
pub trait Oracle {
    /// The answer to `query`.
    fn ask(&mut self, query: &Query<'_>) -> Result<Reply>;
}

/// A simulated annotator, for benchmarks: it answers with the majority true
/// label among the `neighbours` training samples of the cluster nearest its
/// centre (0: all of them), and that majority's share as the confidence. It reads the
/// training labels, which a real annotator never sees: it stands for a
/// careful person, not for one looking at the decoded image alone.
pub struct DatasetOracle<'a> {
    /// Training labels.
    pub labels: &'a [u32],
    /// Number of classes.
    pub classes: usize,
    /// How many nearest samples it looks at (0: the whole cluster).
    pub neighbours: usize,
}

impl Oracle for DatasetOracle<'_> {
    fn ask(&mut self, query: &Query<'_>) -> Result<Reply> {
        let mut counts = vec![0usize; self.classes];
        let mut seen = 0usize;
        let view = if self.neighbours == 0 {
            usize::MAX
        } else {
            self.neighbours
        };
        for &r in query.nearest_rows.iter().take(view) {
            if let Some(c) = counts.get_mut(self.labels[r] as usize) {
                *c += 1;
                seen += 1;
            }
        }
        if seen == 0 {
            return Ok(Reply::Invalid);
        }
        let class = (0..self.classes).fold(0, |b, j| if counts[j] > counts[b] { j } else { b });
        Ok(Reply::Label {
            class,
            confidence: counts[class] as f32 / seen as f32,
        })
    }
}
