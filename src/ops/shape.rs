//! Ops that move values without arithmetic: reshape, 2-D transpose, concat,
//! slice/split, tile along the batch axis (to enumerate classes), and
//! gather of table rows by index (a lookup table such as p(z|y)).
//! Each backward routes the gradient back to where the value came from
//! (gather and tile sum the gradients of repeated rows, in row order).

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::{numel, Tensor};

/// (outer, axis length, inner) around `axis`.
fn around(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (
        shape[..axis].iter().product(),
        shape[axis],
        shape[axis + 1..].iter().product(),
    )
}

/// A reshape node.
pub struct Reshape {
    x: Var,
}

/// The same values under a new shape with the same number of elements.
pub fn reshape(tape: &mut Tape, x: Var, shape: &[usize]) -> Var {
    let vx = tape.value(x);
    assert_eq!(
        numel(shape),
        vx.len(),
        "reshape {:?} -> {:?}",
        vx.shape(),
        shape
    );
    // A pooled copy: fresh megabyte buffers cost page faults every step.
    let mut data = crate::tensor::pool::with_capacity(vx.len());
    data.extend_from_slice(vx.data());
    let out = Tensor::new(shape, data);
    tape.push(
        Record {
            name: "reshape",
            parents: &[x],
            flops: 0,
        },
        out,
        || Op::Reshape(Reshape { x }),
    )
}

impl Backward for Reshape {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gx) = grads.acc(self.x, vals) {
            sparselabel_kernels::elementwise::add_assign(gx, g.data());
        }
    }

    /// The first contribution is g itself under x's shape: moved, not copied.
    fn backward_owned(
        &self,
        vals: &Values,
        _out: &Tensor,
        g: Tensor,
        grads: &mut Grads,
    ) -> Option<Tensor> {
        if !grads.is_fresh(self.x) {
            return Some(g);
        }
        grads.add(self.x, g.reshape(vals.get(self.x).shape()));
        None
    }
}

/// A 2-D transpose node.
pub struct Transpose {
    x: Var,
}

fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut [f32], accumulate: bool) {
    // Blocked for cache friendliness; dst is (cols, rows).
    const T: usize = 32;
    for i0 in (0..rows).step_by(T) {
        for j0 in (0..cols).step_by(T) {
            for i in i0..(i0 + T).min(rows) {
                for j in j0..(j0 + T).min(cols) {
                    let v = src[i * cols + j];
                    let d = &mut dst[j * rows + i];
                    *d = if accumulate { *d + v } else { v };
                }
            }
        }
    }
}

/// xᵀ for a 2-D x: (R, C) → (C, R).
pub fn transpose(tape: &mut Tape, x: Var) -> Var {
    let vx = tape.value(x);
    assert_eq!(
        vx.ndim(),
        2,
        "transpose needs a 2-D tensor, got {:?}",
        vx.shape()
    );
    let (r, c) = (vx.shape()[0], vx.shape()[1]);
    let mut out = Tensor::zeros(&[c, r]);
    transpose_into(vx.data(), r, c, out.data_mut(), false);
    tape.push(
        Record {
            name: "transpose",
            parents: &[x],
            flops: 0,
        },
        out,
        || Op::Transpose(Transpose { x }),
    )
}

impl Backward for Transpose {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (c, r) = (out.shape()[0], out.shape()[1]);
        if let Some(gx) = grads.acc(self.x, vals) {
            transpose_into(g.data(), c, r, gx, true);
        }
    }
}

/// A concatenation node.
pub struct Concat {
    xs: Vec<Var>,
    axis: usize,
}

/// Concatenates tensors along `axis`; all other dimensions must agree.
pub fn concat(tape: &mut Tape, xs: &[Var], axis: usize) -> Var {
    assert!(!xs.is_empty(), "concat of nothing");
    let first = tape.shape(xs[0]).to_vec();
    let mut total = 0;
    for &v in xs {
        let s = tape.shape(v);
        assert!(
            s.len() == first.len()
                && axis < s.len()
                && s.iter()
                    .zip(&first)
                    .enumerate()
                    .all(|(d, (a, b))| d == axis || a == b),
            "concat along {axis}: shapes {:?} and {:?} disagree",
            first,
            s
        );
        total += s[axis];
    }
    let mut shape = first.clone();
    shape[axis] = total;
    let (outer, _, inner) = around(&shape, axis);
    let mut out = Tensor::zeros(&shape);
    let od = out.data_mut();
    let mut offset = 0;
    for &v in xs {
        let vx = tape.value(v);
        let len = vx.shape()[axis];
        for o in 0..outer {
            let src = &vx.data()[o * len * inner..(o + 1) * len * inner];
            let dst_start = (o * total + offset) * inner;
            od[dst_start..dst_start + len * inner].copy_from_slice(src);
        }
        offset += len;
    }
    let xs_owned = xs.to_vec();
    tape.push(
        Record {
            name: "concat",
            parents: xs,
            flops: 0,
        },
        out,
        || Op::Concat(Concat { xs: xs_owned, axis }),
    )
}

impl Backward for Concat {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let (outer, total, inner) = around(out.shape(), self.axis);
        let mut offset = 0;
        for &v in &self.xs {
            let len = vals.get(v).shape()[self.axis];
            if let Some(gx) = grads.acc(v, vals) {
                for o in 0..outer {
                    let src_start = (o * total + offset) * inner;
                    let src = &g.data()[src_start..src_start + len * inner];
                    sparselabel_kernels::elementwise::add_assign(
                        &mut gx[o * len * inner..(o + 1) * len * inner],
                        src,
                    );
                }
            }
            offset += len;
        }
    }
}

/// A slice node: `len` entries of `axis` starting at `start`.
pub struct Slice {
    x: Var,
    axis: usize,
    start: usize,
}

/// Entries `start..start + len` of `axis`.
pub fn slice(tape: &mut Tape, x: Var, axis: usize, start: usize, len: usize) -> Var {
    let vx = tape.value(x);
    assert!(
        axis < vx.ndim() && start + len <= vx.shape()[axis],
        "slice {start}..{} of axis {axis} out of range for {:?}",
        start + len,
        vx.shape()
    );
    let (outer, full, inner) = around(vx.shape(), axis);
    let mut shape = vx.shape().to_vec();
    shape[axis] = len;
    let mut out = Tensor::zeros(&shape);
    for o in 0..outer {
        let s = (o * full + start) * inner;
        out.data_mut()[o * len * inner..(o + 1) * len * inner]
            .copy_from_slice(&vx.data()[s..s + len * inner]);
    }
    tape.push(
        Record {
            name: "slice",
            parents: &[x],
            flops: 0,
        },
        out,
        || Op::Slice(Slice { x, axis, start }),
    )
}

/// Splits `axis` into consecutive pieces of the given sizes.
pub fn split(tape: &mut Tape, x: Var, axis: usize, sizes: &[usize]) -> Vec<Var> {
    let mut start = 0;
    sizes
        .iter()
        .map(|&len| {
            let v = slice(tape, x, axis, start, len);
            start += len;
            v
        })
        .collect()
}

impl Backward for Slice {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let full_shape = vals.get(self.x).shape();
        let (outer, full, inner) = around(full_shape, self.axis);
        let len = out.shape()[self.axis];
        if let Some(gx) = grads.acc(self.x, vals) {
            for o in 0..outer {
                let s = (o * full + self.start) * inner;
                sparselabel_kernels::elementwise::add_assign(
                    &mut gx[s..s + len * inner],
                    &g.data()[o * len * inner..(o + 1) * len * inner],
                );
            }
        }
    }
}

/// A tile node: the whole tensor repeated `times` along axis 0.
pub struct Tile {
    x: Var,
    times: usize,
}

/// [x; x; …; x] along axis 0, `times` copies: (B, …) → (times·B, …). Used to
/// enumerate classes: row t·B + i is example i paired with class t.
pub fn tile(tape: &mut Tape, x: Var, times: usize) -> Var {
    let vx = tape.value(x);
    assert!(
        vx.ndim() >= 1 && times >= 1,
        "tile needs rank ≥ 1 and times ≥ 1"
    );
    let mut shape = vx.shape().to_vec();
    shape[0] *= times;
    let mut data = crate::tensor::pool::with_capacity(vx.len() * times);
    for _ in 0..times {
        data.extend_from_slice(vx.data());
    }
    let out = Tensor::new(&shape, data);
    tape.push(
        Record {
            name: "tile",
            parents: &[x],
            flops: 0,
        },
        out,
        || Op::Tile(Tile { x, times }),
    )
}

impl Backward for Tile {
    fn backward(&self, vals: &Values, _out: &Tensor, g: &Tensor, grads: &mut Grads) {
        if let Some(gx) = grads.acc(self.x, vals) {
            let n = gx.len();
            for t in 0..self.times {
                sparselabel_kernels::elementwise::add_assign(gx, &g.data()[t * n..(t + 1) * n]);
            }
        }
    }
}

/// A row-gather node.
pub struct GatherRows {
    table: Var,
    indices: Vec<usize>,
}

/// Rows of `table`: (K, D) picked by `indices` (each < K) → (len, D).
pub fn gather_rows(tape: &mut Tape, table: Var, indices: &[usize]) -> Var {
    let vt = tape.value(table);
    assert_eq!(
        vt.ndim(),
        2,
        "gather_rows needs a 2-D table, got {:?}",
        vt.shape()
    );
    let (k, d) = (vt.shape()[0], vt.shape()[1]);
    let mut data = crate::tensor::pool::with_capacity(indices.len() * d);
    for &i in indices {
        assert!(i < k, "gather_rows: index {i} out of range for {k} rows");
        data.extend_from_slice(&vt.data()[i * d..(i + 1) * d]);
    }
    let out = Tensor::new(&[indices.len(), d], data);
    let idx = indices.to_vec();
    tape.push(
        Record {
            name: "gather_rows",
            parents: &[table],
            flops: 0,
        },
        out,
        || {
            Op::GatherRows(GatherRows {
                table,
                indices: idx,
            })
        },
    )
}

impl Backward for GatherRows {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let d = out.shape()[1];
        if let Some(gt) = grads.acc(self.table, vals) {
            for (r, &i) in self.indices.iter().enumerate() {
                sparselabel_kernels::elementwise::add_assign(
                    &mut gt[i * d..(i + 1) * d],
                    &g.data()[r * d..(r + 1) * d],
                );
            }
        }
    }
}
