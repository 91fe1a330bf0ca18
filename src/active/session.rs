//! One labelling iteration: cluster the latent codes, ask about each
//! cluster's decoded centre within the budget, split clusters whose centre
//! is not valid or whose answer is uncertain into sub-clusters and ask
//! about those, then propagate every answer to the cluster's members.
//!
//! Every reply is appended to `answers.jsonl` as it is given; running the
//! iteration again (after a quit or a crash) replays the logged replies
//! first — the clustering is deterministic, so the same questions come in
//! the same order — and asks the oracle only from where it stopped.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use super::answers::{AnswerLog, Logged};
use super::config::ActiveConfig;
use super::oracle::{Oracle, Query, Reply};
use super::tree::ClusterTree;
use crate::data::Dataset;
use crate::{Error, Result};

/// What an iteration works on.
pub struct IterationInput<'a> {
    /// Labelling iteration, 1-based.
    pub iteration: usize,
    /// Posterior means of every training example, `n × dim`.
    pub z: &'a [f32],
    /// Latent width.
    pub dim: usize,
    /// The training split (pictures of members, class names).
    pub train: &'a Dataset,
    /// The loop's settings.
    pub cfg: &'a ActiveConfig,
    /// Seed of the clusterings.
    pub seed: u64,
    /// Decodes a latent point to the mean image, values in [0, 1].
    pub decode: &'a dyn Fn(&[f32]) -> Result<Vec<f32>>,
    /// The run directory (`answers.jsonl`, `centres/`, `figures/`).
    pub run_dir: &'a Path,
}

/// How an iteration ended.
#[derive(Debug)]
pub enum IterationOutcome {
    /// Every query within the budget was answered.
    Done(Propagated),
    /// The oracle quit; the replies given so far are in `answers.jsonl`.
    Quit,
}

/// The labels an iteration spread over the training set.
#[derive(Debug, Clone, PartialEq)]
pub struct Propagated {
    /// Per training example: its class and weight wₙ = p_c·closeness, if a
    /// labelled cluster holds it.
    pub labels: Vec<Option<(usize, f32)>>,
    /// Queries answered (labels and skips): the labels spent.
    pub asked: usize,
    /// Every answered cluster in order: id, size, reply.
    pub answers: Vec<(String, usize, Reply)>,
}

/// Runs iteration `input.iteration`, asking `oracle` what the log does not
/// already hold.
pub fn run_iteration(
    input: &IterationInput<'_>,
    oracle: &mut dyn Oracle,
) -> Result<IterationOutcome> {
    let cfg = input.cfg;
    let train = input.train;
    let n = input.z.len() / input.dim;
    if n != train.n {
        return Err(Error::Other(format!(
            "{n} latent codes for {} training examples",
            train.n
        )));
    }
    let shape = train.image_shape.unwrap_or([1, 1, train.dim]);
    let mut tree = ClusterTree::new(input.z, input.dim, cfg, input.seed ^ input.iteration as u64)?;
    let mut queue: VecDeque<usize> = tree.roots(cfg.k)?.into();
    let log = AnswerLog::in_dir(input.run_dir);
    let mut replay = log.replies(input.iteration)?;
    let centres_dir = input.run_dir.join("centres");
    std::fs::create_dir_all(&centres_dir).map_err(|e| Error::io(&centres_dir, e))?;
    // Answered nodes in order: (node, its reply, the children it queued).
    let mut history: Vec<(usize, Reply, Vec<usize>)> = Vec::new();
    let mut decoded: BTreeMap<usize, Vec<f32>> = BTreeMap::new();
    while history.len() < cfg.budget {
        let Some(node) = queue.pop_front() else {
            break;
        };
        if let std::collections::btree_map::Entry::Vacant(e) = decoded.entry(node) {
            e.insert((input.decode)(&tree.nodes[node].centre)?);
        }
        let nd = &tree.nodes[node];
        let mut order: Vec<usize> = (0..nd.members.len()).collect();
        order.sort_by(|&a, &b| nd.distance[a].total_cmp(&nd.distance[b]));
        let nearest: Vec<usize> = order.iter().map(|&i| nd.members[i]).collect();
        let centre = &decoded[&node];
        let members: Vec<&[f32]> = nearest.iter().take(7).map(|&r| train.row(r)).collect();
        let id = nd.id.clone();
        if train.image_shape.is_some() {
            let mut images = vec![centre.as_slice()];
            images.extend(&members);
            let mut captions = vec!["centre".to_string()];
            captions.extend((1..images.len()).map(|i| format!("near {i}")));
            let path = centres_dir.join(format!("iter-{}-{}.png", input.iteration, id));
            crate::viz::grid::captioned_grid(
                &path,
                &format!(
                    "iteration {}, cluster {id} ({} samples)",
                    input.iteration,
                    nd.members.len()
                ),
                &images,
                shape,
                images.len(),
                &captions,
            )?;
        }
        let reply = match replay.pop_front() {
            Some(l) if l.query == id => l.reply,
            Some(l) => {
                return Err(Error::bad_input(
                    log.path(),
                    format!(
                        "iteration {}: the log answers cluster {} where the run asks about \
                         cluster {id} (was the run's checkpoint replaced?)",
                        input.iteration, l.query
                    ),
                ))
            }
            None => {
                let q = Query {
                    iteration: input.iteration,
                    id: &id,
                    asked: history.len(),
                    budget: cfg.budget,
                    size: nd.members.len(),
                    centre,
                    members,
                    image_shape: shape,
                    class_names: &train.class_names,
                    nearest_rows: &nearest,
                };
                let r = oracle.ask(&q)?;
                if r == Reply::Quit {
                    return Ok(IterationOutcome::Quit);
                }
                log.append(&Logged {
                    iteration: input.iteration,
                    query: id.clone(),
                    reply: r.clone(),
                })?;
                r
            }
        };
        match reply {
            Reply::Quit => return Ok(IterationOutcome::Quit),
            Reply::Undo => {
                queue.push_front(node);
                if let Some((prev, _, children)) = history.pop() {
                    queue.retain(|q| !children.contains(q));
                    queue.push_front(prev);
                }
            }
            Reply::Invalid | Reply::Label { .. } => {
                let split = match reply {
                    Reply::Label { confidence, .. } => confidence < cfg.split_below,
                    _ => true,
                };
                let children = if split {
                    tree.split(node, cfg.split_k)?
                } else {
                    Vec::new()
                };
                queue.extend(&children);
                history.push((node, reply, children));
            }
        }
    }
    let prop = propagate(&tree, &history, n);
    write_summary(input, &history, &decoded, shape)?;
    Ok(IterationOutcome::Done(prop))
}

/// Spreads every label to its cluster's members with weight p_c·closeness;
/// a labelled sub-cluster overrides its parent for its own members.
fn propagate(
    tree: &ClusterTree<'_>,
    history: &[(usize, Reply, Vec<usize>)],
    n: usize,
) -> Propagated {
    let mut labels: Vec<Option<(usize, f32)>> = vec![None; n];
    let mut answered: Vec<(usize, &Reply)> = history.iter().map(|(i, r, _)| (*i, r)).collect();
    // Parents were made before their children: node order applies a
    // parent's label first and lets its sub-clusters override it.
    answered.sort_by_key(|(i, _)| *i);
    for (i, reply) in answered {
        if let Reply::Label { class, confidence } = reply {
            let node = &tree.nodes[i];
            for (&m, &c) in node.members.iter().zip(&node.closeness) {
                labels[m] = Some((*class, confidence * c));
            }
        }
    }
    Propagated {
        labels,
        asked: history.len(),
        answers: history
            .iter()
            .map(|(i, r, _)| {
                (
                    tree.nodes[*i].id.clone(),
                    tree.nodes[*i].members.len(),
                    r.clone(),
                )
            })
            .collect(),
    }
}

/// `centres/iter-N.png` and `figures/centres.png`: every asked centre with
/// its answer.
fn write_summary(
    input: &IterationInput<'_>,
    history: &[(usize, Reply, Vec<usize>)],
    decoded: &BTreeMap<usize, Vec<f32>>,
    shape: [usize; 3],
) -> Result<()> {
    if input.train.image_shape.is_none() || history.is_empty() {
        return Ok(());
    }
    let names = &input.train.class_names;
    let images: Vec<&[f32]> = history
        .iter()
        .map(|(i, _, _)| decoded[i].as_slice())
        .collect();
    let captions: Vec<String> = history
        .iter()
        .map(|(_, r, _)| match r {
            Reply::Label { class, confidence } => {
                let name = names
                    .get(*class)
                    .cloned()
                    .unwrap_or_else(|| class.to_string());
                format!("{name} {:.0}%", confidence * 100.0)
            }
            _ => "skip".to_string(),
        })
        .collect();
    let title = format!(
        "decoded cluster centres of iteration {} in question order: label, confidence",
        input.iteration
    );
    let cols = images.len().min(10);
    let path = input
        .run_dir
        .join("centres")
        .join(format!("iter-{}.png", input.iteration));
    crate::viz::grid::captioned_grid(&path, &title, &images, shape, cols, &captions)?;
    // The run's figure is the latest iteration's picture: drawn once, copied.
    let figures = input.run_dir.join("figures");
    std::fs::create_dir_all(&figures).map_err(|e| Error::io(&figures, e))?;
    let latest = figures.join("centres.png");
    std::fs::copy(&path, &latest).map_err(|e| Error::io(&latest, e))?;
    Ok(())
}
