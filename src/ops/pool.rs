//! 2-D max pooling (NCHW), no padding, windows that do not fit are dropped
//! (floor), as PyTorch's `MaxPool2d` with its defaults.
//!
//! x: (N, C, H, W), y: (N, C, OH, OW) with OH = (H − k)/stride + 1 (floor).
//! y[n,c,i,j] = max_{p,q < k} x[n,c,i·s+p,j·s+q].
//! Derivative: the gradient of each output goes to the input position that
//! won its window (the first one in row-major order on ties), summed when
//! windows overlap (stride < k): ∂x[n,c,a,b] = Σ_{(i,j): argmax = (a,b)} g[n,c,i,j].
//!
//! Planes (n, c) are independent: forward and backward run over them on
//! rayon, each plane sequentially, so results do not depend on the number
//! of threads.

use rayon::prelude::*;

use crate::autograd::{Backward, Grads, Op, Record, Tape, Values, Var};
use crate::tensor::Tensor;

/// Window size and step of a max-pool (same along both axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Window side k.
    pub kernel: usize,
    /// Step between windows.
    pub stride: usize,
}

impl PoolGeometry {
    /// The usual 2×2 window with stride 2 (halves each side, floor).
    pub const HALVE: PoolGeometry = PoolGeometry {
        kernel: 2,
        stride: 2,
    };

    /// Output side for an input side, or `None` when no window fits.
    pub fn out_len(&self, len: usize) -> Option<usize> {
        (self.kernel > 0 && self.stride > 0 && len >= self.kernel)
            .then(|| (len - self.kernel) / self.stride + 1)
    }
}

/// A max-pool node: the flat input index of each output's winner.
pub struct MaxPool2d {
    x: Var,
    argmax: Vec<u32>,
}

/// Planes of at most this many output values go to one rayon task together.
const PLANES_PER_TASK_MIN_OUTPUTS: usize = 4096;

fn planes_per_task(plane_out: usize) -> usize {
    PLANES_PER_TASK_MIN_OUTPUTS
        .div_ceil(plane_out.max(1))
        .max(1)
}

/// Max-pools x: (N, C, H, W) over k×k windows with the given stride.
pub fn max_pool2d(tape: &mut Tape, x: Var, geo: PoolGeometry) -> Var {
    let xs = tape.shape(x).to_vec();
    assert!(xs.len() == 4, "max_pool2d needs (N, C, H, W), got {xs:?}");
    let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3]);
    let (Some(oh), Some(ow)) = (geo.out_len(h), geo.out_len(w)) else {
        panic!("max_pool2d: {geo:?} does not fit an input of {h}×{w}");
    };
    let (k, s) = (geo.kernel, geo.stride);
    let (plane_in, plane_out) = (h * w, oh * ow);
    let mut out = Tensor::zeros(&[n, c, oh, ow]);
    let mut argmax = vec![0u32; n * c * plane_out];
    assert!(
        n * c * plane_in <= u32::MAX as usize,
        "max_pool2d: input too large"
    );
    let xd = tape.value(x).data();
    let per = planes_per_task(plane_out);
    out.data_mut()
        .par_chunks_mut(per * plane_out.max(1))
        .zip(argmax.par_chunks_mut(per * plane_out.max(1)))
        .enumerate()
        .for_each(|(t, (yc, ac))| {
            for (pi, (yp, ap)) in yc
                .chunks_mut(plane_out)
                .zip(ac.chunks_mut(plane_out))
                .enumerate()
            {
                let base = (t * per + pi) * plane_in;
                let xp = &xd[base..base + plane_in];
                if k == 2 && s == 2 {
                    pool_2x2(xp, w, yp, ap, ow, base);
                } else {
                    pool_any(xp, w, k, s, yp, ap, ow, base);
                }
            }
        });
    let rec = Record {
        name: "max_pool2d",
        parents: &[x],
        flops: (n * c * plane_out * k * k) as u64,
    };
    tape.push(rec, out, || Op::MaxPool2d(MaxPool2d { x, argmax }))
}

/// One plane, any window and stride: the first maximum in row-major order
/// wins (only a strictly greater value replaces it). `ap` gets `base` + the
/// winner's index.
#[allow(clippy::too_many_arguments)]
fn pool_any(
    xp: &[f32],
    w: usize,
    k: usize,
    s: usize,
    yp: &mut [f32],
    ap: &mut [u32],
    ow: usize,
    base: usize,
) {
    for (i, (yr, ar)) in yp.chunks_mut(ow).zip(ap.chunks_mut(ow)).enumerate() {
        for (j, (y, a)) in yr.iter_mut().zip(ar).enumerate() {
            let mut best = i * s * w + j * s;
            for p in 0..k {
                let row = (i * s + p) * w + j * s;
                for q in 0..k {
                    if xp[row + q] > xp[best] {
                        best = row + q;
                    }
                }
            }
            *y = xp[best];
            *a = (base + best) as u32;
        }
    }
}

/// The 2×2 stride-2 case of [`pool_any`] (same winners), two input rows at
/// a time.
fn pool_2x2(xp: &[f32], w: usize, yp: &mut [f32], ap: &mut [u32], ow: usize, base: usize) {
    for (i, (yr, ar)) in yp.chunks_mut(ow).zip(ap.chunks_mut(ow)).enumerate() {
        let top = 2 * i * w;
        let (r0, r1) = (&xp[top..top + 2 * ow], &xp[top + w..top + w + 2 * ow]);
        for (j, (y, a)) in yr.iter_mut().zip(ar).enumerate() {
            let (mut best, mut m) = (top + 2 * j, r0[2 * j]);
            for (idx, v) in [
                (top + 2 * j + 1, r0[2 * j + 1]),
                (top + w + 2 * j, r1[2 * j]),
                (top + w + 2 * j + 1, r1[2 * j + 1]),
            ] {
                if v > m {
                    (best, m) = (idx, v);
                }
            }
            *y = m;
            *a = (base + best) as u32;
        }
    }
}

impl Backward for MaxPool2d {
    fn backward(&self, vals: &Values, out: &Tensor, g: &Tensor, grads: &mut Grads) {
        let xs = vals.get(self.x).shape();
        let plane_in = xs[2] * xs[3];
        let plane_out = out.shape()[2] * out.shape()[3];
        let Some(gx) = grads.acc(self.x, vals) else {
            return;
        };
        if plane_in == 0 || plane_out == 0 {
            return;
        }
        let per = planes_per_task(plane_out);
        // Each task owns whole input planes, so the scatter never races and
        // overlapping windows add up in output order.
        gx.par_chunks_mut(per * plane_in)
            .zip(g.data().par_chunks(per * plane_out))
            .zip(self.argmax.par_chunks(per * plane_out))
            .enumerate()
            .for_each(|(t, ((gxc, gc), ac))| {
                let base = t * per * plane_in;
                for (&gv, &a) in gc.iter().zip(ac) {
                    gxc[a as usize - base] += gv;
                }
            });
    }
}
