//! Checkpoints in the safetensors format: parameters and buffers under their
//! own names (so `safetensors.torch.load_file` gives a state dict), optimiser
//! state under `optim/…`, random-stream positions under `rng/…` (u8) and
//! counters under `counter/…` (i64). Written atomically: temporary file,
//! fsync, rename, fsync of the directory. Loading checks every name, shape
//! and dtype and says what does not match, naming the file.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::autograd::ParamStore;
use crate::optim::Optimizer;
use crate::rng::{restore_state, save_state, StreamRng, StreamState};
use crate::tensor::Tensor;
use crate::{Error, Result};

const OPTIM: &str = "optim/";
const RNG: &str = "rng/";
const COUNTER: &str = "counter/";

/// Everything a checkpoint holds, decoded.
#[derive(Debug, Default)]
pub struct Checkpoint {
    /// Parameters and buffers by name.
    pub params: BTreeMap<String, Tensor>,
    /// Optimiser state by name (without the `optim/` prefix).
    pub optimizer: Vec<(String, Tensor)>,
    /// Random-stream positions by purpose.
    pub rngs: BTreeMap<String, StreamState>,
    /// Counters (step, epoch, …) by name.
    pub counters: BTreeMap<String, i64>,
    /// Free-form string metadata from the header.
    pub metadata: BTreeMap<String, String>,
}

/// What to write: borrowed views of the live training state.
pub struct CheckpointRef<'a> {
    /// The model's parameters and buffers.
    pub store: &'a ParamStore,
    /// The optimiser, if any.
    pub optimizer: Option<&'a dyn Optimizer>,
    /// Random streams to save, by purpose.
    pub rngs: &'a [(&'a str, &'a StreamRng)],
    /// Counters to save.
    pub counters: &'a [(&'a str, i64)],
    /// String metadata.
    pub metadata: &'a BTreeMap<String, String>,
}

fn f32_bytes(t: &Tensor) -> Vec<u8> {
    t.data().iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn rng_bytes(s: &StreamState) -> Vec<u8> {
    let mut b = Vec::with_capacity(56);
    b.extend_from_slice(&s.seed);
    b.extend_from_slice(&s.stream.to_le_bytes());
    b.extend_from_slice(&s.word_pos.to_le_bytes());
    b
}

/// Writes a checkpoint atomically to `path`.
pub fn save(path: &Path, ck: &CheckpointRef<'_>) -> Result<()> {
    let mut owned: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (_, p) in ck.store.iter() {
        owned.push((
            p.name.clone(),
            Dtype::F32,
            p.value.shape().to_vec(),
            f32_bytes(&p.value),
        ));
    }
    if let Some(opt) = ck.optimizer {
        for (name, t) in opt.state(ck.store) {
            owned.push((
                format!("{OPTIM}{name}"),
                Dtype::F32,
                t.shape().to_vec(),
                f32_bytes(&t),
            ));
        }
        owned.push((
            format!("{COUNTER}optimizer_steps"),
            Dtype::I64,
            vec![1],
            (opt.steps() as i64).to_le_bytes().to_vec(),
        ));
    }
    for (name, rng) in ck.rngs {
        owned.push((
            format!("{RNG}{name}"),
            Dtype::U8,
            vec![56],
            rng_bytes(&save_state(rng)),
        ));
    }
    for (name, v) in ck.counters {
        owned.push((
            format!("{COUNTER}{name}"),
            Dtype::I64,
            vec![1],
            v.to_le_bytes().to_vec(),
        ));
    }
    let views: Vec<(String, TensorView<'_>)> = owned
        .iter()
        .map(|(n, d, s, b)| {
            let view = TensorView::new(*d, s.clone(), b)
                .map_err(|e| Error::Other(format!("checkpoint tensor {n}: {e}")));
            view.map(|v| (n.clone(), v))
        })
        .collect::<Result<_>>()?;
    let meta: HashMap<String, String> = ck
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let bytes = safetensors::tensor::serialize(views, Some(meta)).map_err(|e| {
        Error::Other(format!(
            "{}: cannot serialise checkpoint: {e}",
            path.display()
        ))
    })?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// so a crash leaves either the old file or the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Reads and decodes a checkpoint; malformed files are `BadInput` errors
/// naming the file and the problem.
pub fn load(path: &Path) -> Result<Checkpoint> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |msg: String| Error::bad_input(path, msg);
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(format!("not a readable safetensors file ({e})")))?;
    let (_, header) =
        SafeTensors::read_metadata(&bytes).map_err(|e| bad(format!("unreadable header ({e})")))?;
    let mut ck = Checkpoint::default();
    if let Some(m) = header.metadata() {
        ck.metadata = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    }
    let mut names: Vec<String> = st.names().into_iter().map(|s| s.to_string()).collect();
    names.sort();
    for name in names {
        let view = st
            .tensor(&name)
            .map_err(|e| bad(format!("tensor {name}: {e}")))?;
        let shape = view.shape().to_vec();
        let data = view.data();
        if let Some(purpose) = name.strip_prefix(RNG) {
            if view.dtype() != Dtype::U8 || data.len() != 56 {
                return Err(bad(format!(
                    "random stream {name} must be 56 bytes of u8, found {:?} {:?}",
                    view.dtype(),
                    shape
                )));
            }
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&data[..32]);
            let stream = u64::from_le_bytes(data[32..40].try_into().unwrap());
            let word_pos = u128::from_le_bytes(data[40..56].try_into().unwrap());
            ck.rngs.insert(
                purpose.to_string(),
                StreamState {
                    seed,
                    stream,
                    word_pos,
                },
            );
        } else if let Some(counter) = name.strip_prefix(COUNTER) {
            if view.dtype() != Dtype::I64 || data.len() != 8 {
                return Err(bad(format!(
                    "counter {name} must be one i64, found {:?} {:?}",
                    view.dtype(),
                    shape
                )));
            }
            ck.counters.insert(
                counter.to_string(),
                i64::from_le_bytes(data.try_into().unwrap()),
            );
        } else {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!(
                    "tensor {name} has dtype {:?}, expected F32",
                    view.dtype()
                )));
            }
            let values: Vec<f32> = data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            let t =
                Tensor::from_vec(&shape, values).map_err(|e| bad(format!("tensor {name}: {e}")))?;
            match name.strip_prefix(OPTIM) {
                Some(o) => ck.optimizer.push((o.to_string(), t)),
                None => {
                    ck.params.insert(name, t);
                }
            }
        }
    }
    Ok(ck)
}

impl Checkpoint {
    /// Copies the parameters into `store`, which must hold exactly the same
    /// names and shapes; `path` names the file in errors.
    pub fn restore_params(&self, store: &mut ParamStore, path: &Path) -> Result<()> {
        let bad = |msg: String| Error::bad_input(path, msg);
        let expected: Vec<(String, Vec<usize>)> = store
            .iter()
            .map(|(_, p)| (p.name.clone(), p.value.shape().to_vec()))
            .collect();
        for (name, shape) in &expected {
            let t = self.params.get(name).ok_or_else(|| {
                bad(format!(
                    "parameter {name} is missing (the model expects shape {shape:?})"
                ))
            })?;
            if t.shape() != &shape[..] {
                return Err(bad(format!(
                    "parameter {name} has shape {:?} in the checkpoint, the model expects {:?}",
                    t.shape(),
                    shape
                )));
            }
        }
        if let Some(extra) = self.params.keys().find(|k| store.id(k).is_none()) {
            return Err(bad(format!("parameter {extra} is not part of this model")));
        }
        for (name, _) in expected {
            let id = store.id(&name).expect("checked above");
            store.get_mut(id).value = self.params[&name].clone();
        }
        Ok(())
    }

    /// Restores an optimiser's state and step count.
    pub fn restore_optimizer(
        &self,
        opt: &mut dyn Optimizer,
        store: &ParamStore,
        path: &Path,
    ) -> Result<()> {
        let steps = self.counter("optimizer_steps", path)? as u64;
        opt.load_state(store, &self.optimizer, steps)
            .map_err(|e| Error::bad_input(path, e.to_string()))
    }

    /// The random stream saved for `purpose`, at its saved position.
    pub fn rng(&self, purpose: &str, path: &Path) -> Result<StreamRng> {
        self.rngs
            .get(purpose)
            .map(restore_state)
            .ok_or_else(|| Error::bad_input(path, format!("random stream {purpose} is missing")))
    }

    /// A saved counter.
    pub fn counter(&self, name: &str, path: &Path) -> Result<i64> {
        self.counters
            .get(name)
            .copied()
            .ok_or_else(|| Error::bad_input(path, format!("counter {name} is missing")))
    }
}
