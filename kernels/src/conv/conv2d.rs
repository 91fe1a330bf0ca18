//! Fast conv2d forward, backward-data and backward-weight: im2col + GEMM per group of
//! images, parallel over groups (see the module docs of [`crate::conv`]).
//!
//! A group puts the patch matrices of `G` images side by side, `K × (G·P)`, so that one
//! GEMM has ~1000+ columns even when an image has few output pixels (G depends only on
//! the shape): measured on a 9×9 or 18×18 output, one wide GEMM runs ~1.5× faster than
//! G narrow ones (less packing of W, no ragged edge tiles per image).

use super::batch_lanes::{from_lanes, to_lanes, Blocked, LANES};
use super::batch_lanes_data::BlockedData;
use super::direct::Plan;
use super::im2col::{col2im_ld, im2col_ld};
use super::Conv2dShape;
use crate::gemm::{sgemm_strided, sgemm_strided_serial};
use crate::scratch::{with_scratch, Slot};
use crate::transpose::transpose;
use rayon::prelude::*;

/// Calls whose total multiply-adds are below this run on the calling thread.
const SERIAL_WORK: usize = 1 << 18;

/// Rows of matrixmultiply's widest micro-panel: an A with at least this many rows is
/// worth laying out column-major for the packing.
const PANEL: usize = 16;

/// At most this many batch chunks for the weight gradient (each holds a partial dW).
const MAX_WEIGHT_CHUNKS: usize = 8;

/// How a convolution maps onto GEMMs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// 1×1 kernel, stride 1, no padding: the patch matrix of an image is the image.
    Pointwise,
    /// Kernel covers the whole unpadded input (1×1 output): the batch is one GEMM
    /// with rows = images, `Y (N×Cout) = X (N×K) · Wᵀ`.
    Dense,
    /// Everything else: im2col per image.
    General,
}

fn path(s: &Conv2dShape) -> Path {
    if s.kernel_h == 1
        && s.kernel_w == 1
        && s.stride_h == 1
        && s.stride_w == 1
        && s.pad_h == 0
        && s.pad_w == 0
    {
        Path::Pointwise
    } else if s.pad_h == 0 && s.pad_w == 0 && s.kernel_h == s.in_h && s.kernel_w == s.in_w {
        Path::Dense
    } else {
        Path::General
    }
}

/// Panics with the shape's own message if it is invalid.
pub(crate) fn check_shape(name: &str, s: &Conv2dShape) {
    if let Err(e) = s.validate() {
        panic!("{name}: invalid shape {s:?}: {e}");
    }
}

/// Panics unless `got ≥ need`, naming the function and the tensor.
pub(crate) fn check_len(name: &str, what: &str, got: usize, need: usize) {
    assert!(
        got >= need,
        "{name}: {what} has {got} elements, the shape needs {need}"
    );
}

/// The signature shared by [`sgemm_strided`] and [`sgemm_strided_serial`].
type Gemm = fn(
    usize,
    usize,
    usize,
    f32,
    &[f32],
    usize,
    usize,
    &[f32],
    usize,
    usize,
    f32,
    &mut [f32],
    usize,
    usize,
);

/// Output columns a group's GEMM aims for (matrixmultiply's NC block is 1024).
const GROUP_COLUMNS: usize = 512;

/// Images per group for a convolution with `p` output pixels per image: a function of
/// the shape only.
fn group_len(s: &Conv2dShape) -> usize {
    GROUP_COLUMNS
        .div_ceil(s.out_h() * s.out_w())
        .clamp(1, s.batch.max(1))
}

/// Patch rows per channel block: matrixmultiply's KC (the depth it packs at once).
const BLOCK_ROWS: usize = 256;

/// Input-channel blocks `(c0, c1)` of about [`BLOCK_ROWS`] patch rows each (balanced).
/// The im2col rows of channels c0..c1 are the im2col of the channel-sliced image, so a
/// block is processed with a shape whose `in_channels` is `c1 − c0`. Working one block
/// at a time keeps the patch matrix of a group (≤ 256 rows × ~512 columns) in L2.
fn channel_blocks(s: &Conv2dShape) -> impl Iterator<Item = (usize, usize, Conv2dShape)> + '_ {
    let per = channels_per_block(s);
    (0..s.in_channels).step_by(per).map(move |c0| {
        let c1 = (c0 + per).min(s.in_channels);
        (
            c0,
            c1,
            Conv2dShape {
                in_channels: c1 - c0,
                ..*s
            },
        )
    })
}

/// Channels per block of [`channel_blocks`] (the last block may have fewer).
fn channels_per_block(s: &Conv2dShape) -> usize {
    let taps = s.kernel_h * s.kernel_w;
    let blocks = (s.in_channels * taps)
        .div_ceil(BLOCK_ROWS)
        .clamp(1, s.in_channels);
    s.in_channels.div_ceil(blocks)
}

/// Largest number of patch rows in a channel block.
fn block_rows(s: &Conv2dShape) -> usize {
    channels_per_block(s) * s.kernel_h * s.kernel_w
}

/// Runs `f(gemm, images, x_group, y_group)` for consecutive groups of `group` images
/// (the last may be shorter): in parallel over groups when the call is large and has
/// several groups (then `gemm` is the serial product), otherwise on the calling thread
/// with the parallel product. Each group's result does not depend on the choice.
#[allow(clippy::too_many_arguments)]
fn per_group<F>(
    batch: usize,
    group: usize,
    work: usize,
    x: &[f32],
    x_len: usize,
    y: &mut [f32],
    y_len: usize,
    f: F,
) where
    F: Fn(Gemm, usize, &[f32], &mut [f32]) + Sync,
{
    let (x, y) = (&x[..batch * x_len], &mut y[..batch * y_len]);
    if batch * work < SERIAL_WORK || batch <= group {
        x.chunks(group * x_len)
            .zip(y.chunks_mut(group * y_len))
            .for_each(|(x, y)| f(sgemm_strided, x.len() / x_len, x, y));
    } else {
        x.par_chunks(group * x_len)
            .zip(y.par_chunks_mut(group * y_len))
            .for_each(|(x, y)| f(sgemm_strided_serial, x.len() / x_len, x, y));
    }
}

/// `y_n[co, :] += bias[co]` for one output image (Cout, P).
fn add_bias(y: &mut [f32], bias: &[f32], plane: usize) {
    for (row, &b) in y.chunks_exact_mut(plane).zip(bias) {
        row.iter_mut().for_each(|v| *v += b);
    }
}

/// `out[c] += Σ_n Σ_p t[n, c, p]` for t (N, C, P), summed in a fixed order (per image a
/// [`crate::reduce::sum`], images in order), in parallel over channels.
pub(crate) fn channel_sums_accumulate(
    t: &[f32],
    batch: usize,
    channels: usize,
    plane: usize,
    out: &mut [f32],
) {
    let one = |(c, o): (usize, &mut f32)| {
        let mut acc = 0.0f32;
        for n in 0..batch {
            let start = (n * channels + c) * plane;
            acc += crate::reduce::sum(&t[start..start + plane]);
        }
        *o += acc;
    };
    let out = &mut out[..channels];
    if batch * channels * plane < SERIAL_WORK {
        out.iter_mut().enumerate().for_each(one);
    } else {
        out.par_iter_mut().enumerate().for_each(one);
    }
}

/// `y (N, Cout, OH, OW) ← conv(x (N, Cin, H, W), w (Cout, Cin, KH, KW)) + bias (Cout)`.
/// **Overwrites** `y`.
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv2d_forward(s: &Conv2dShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    forward_into(s, x, w, bias, y, 0.0, "conv2d_forward");
}

/// Forward with `y ← conv(x) + bias + beta·y` (`beta` 0 overwrites, 1 accumulates).
pub(crate) fn forward_into(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    beta: f32,
    name: &str,
) {
    check_shape(name, s);
    let (k, p) = (s.patch_len(), s.out_h() * s.out_w());
    let (cin, cout) = (s.in_channels, s.out_channels);
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    check_len(name, "x", x.len(), s.batch * x_len);
    check_len(name, "w", w.len(), cout * k);
    check_len(name, "y", y.len(), s.batch * y_len);
    if let Some(b) = bias {
        check_len(name, "bias", b.len(), cout);
    }
    let w = &w[..cout * k];
    match path(s) {
        Path::Dense => {
            // Y (N×Cout, row stride Cout) = X (N×K) · Wᵀ (K×Cout: element (q, co) at w[co·K + q]).
            let n = s.batch;
            sgemm_strided(
                n,
                cout,
                k,
                1.0,
                x,
                k,
                1,
                w,
                1,
                k,
                beta,
                &mut y[..n * cout],
                cout,
                1,
            );
            if let Some(b) = bias {
                y[..n * cout]
                    .chunks_exact_mut(cout)
                    .for_each(|row| add_bias(row, b, 1));
            }
        }
        Path::Pointwise => per_group(
            s.batch,
            1,
            cout * cin * p,
            x,
            x_len,
            y,
            y_len,
            |gemm, _, x, y| {
                // Y_n (Cout×P) = W (Cout×Cin) · X_n (Cin×P)
                gemm(cout, p, cin, 1.0, w, cin, 1, x, p, 1, beta, y, p, 1);
                if let Some(b) = bias {
                    add_bias(y, b, p);
                }
            },
        ),
        Path::General => {
            if let Some(plan) = Plan::new(s).filter(Plan::is_wide) {
                return direct_forward(s, &plan, x, w, bias, y, beta);
            }
            if let Some(bl) = Blocked::new(s) {
                return blocked_forward(s, &bl, x, w, bias, y, beta);
            }
            let group = group_len(s);
            per_group(
                s.batch,
                group,
                cout * k * p,
                x,
                x_len,
                y,
                y_len,
                |gemm, g, x, y| {
                    let gp = g * p;
                    let plane = s.in_h * s.in_w;
                    let taps = s.kernel_h * s.kernel_w;
                    with_scratch(Slot::Conv, block_rows(s) * gp + cout * gp, |buf| {
                        let (cols, yt) = buf.split_at_mut(buf.len() - cout * gp);
                        // One image writes straight into y; several go through Yt.
                        let (out, ld, first_beta) = if g == 1 {
                            (&mut *y, p, beta)
                        } else {
                            (&mut *yt, gp, 0.0)
                        };
                        for (bi, (c0, c1, sub)) in channel_blocks(s).enumerate() {
                            let rows = sub.patch_len();
                            for (i, x_i) in x.chunks_exact(x_len).enumerate() {
                                im2col_ld(
                                    &sub,
                                    &x_i[c0 * plane..c1 * plane],
                                    &mut cols[i * p..],
                                    gp,
                                );
                            }
                            // out (Cout×G·P) (+)= W[:, block] (Cout×rows) · cols (rows×G·P)
                            let w_b = &w[c0 * taps..];
                            let b = if bi == 0 { first_beta } else { 1.0 };
                            gemm(cout, gp, rows, 1.0, w_b, k, 1, cols, gp, 1, b, out, ld, 1);
                        }
                        if g > 1 {
                            // Y_i[co, :] = Yt[co, i·P..(i+1)·P] + beta·Y_i[co, :]
                            scatter_columns(yt, gp, p, y, y_len, beta);
                        }
                    });
                    if let Some(b) = bias {
                        y.chunks_exact_mut(y_len)
                            .for_each(|y_i| add_bias(y_i, b, p));
                    }
                },
            )
        }
    }
}

/// `y_i[c·P..(c+1)·P] = t[c·ld + i·P..][..P] (+ y_i if beta = 1)` for every image i of a
/// group and every row c of the group matrix `t` (rows `ld` apart).
fn scatter_columns(t: &[f32], ld: usize, p: usize, y: &mut [f32], y_len: usize, beta: f32) {
    for (i, y_i) in y.chunks_exact_mut(y_len).enumerate() {
        for (c, dst) in y_i.chunks_exact_mut(p).enumerate() {
            let src = &t[c * ld + i * p..c * ld + (i + 1) * p];
            if beta == 0.0 {
                dst.copy_from_slice(src);
            } else {
                dst.iter_mut()
                    .zip(src)
                    .for_each(|(d, v)| *d = v + beta * *d);
            }
        }
    }
}

/// The inverse of [`scatter_columns`]: `t[c·ld + i·P..][..P] = y_i[c·P..(c+1)·P]`.
fn gather_columns(y: &[f32], y_len: usize, p: usize, t: &mut [f32], ld: usize) {
    for (i, y_i) in y.chunks_exact(y_len).enumerate() {
        for (c, src) in y_i.chunks_exact(p).enumerate() {
            t[c * ld + i * p..c * ld + (i + 1) * p].copy_from_slice(src);
        }
    }
}

/// `dx (N, Cin, H, W) += ∂L/∂x` given `dy (N, Cout, OH, OW)`: the adjoint of
/// [`conv2d_forward`] in x. **Accumulates** into `dx`.
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv2d_backward_data(s: &Conv2dShape, dy: &[f32], w: &[f32], dx: &mut [f32]) {
    backward_data_into(s, dy, w, dx, false, None, "conv2d_backward_data");
}

/// Backward data with `dx ← col2im(Wᵀ·dy) + (overwrite ? 0 : dx)`, then `+ bias[c]` per
/// channel of dx when given (used by the transposed convolution's forward).
pub(crate) fn backward_data_into(
    s: &Conv2dShape,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    overwrite: bool,
    bias: Option<&[f32]>,
    name: &str,
) {
    check_shape(name, s);
    let (k, p) = (s.patch_len(), s.out_h() * s.out_w());
    let (cin, cout) = (s.in_channels, s.out_channels);
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let plane = s.in_h * s.in_w;
    let taps = s.kernel_h * s.kernel_w;
    check_len(name, "dy", dy.len(), s.batch * y_len);
    check_len(name, "w", w.len(), cout * k);
    check_len(name, "dx", dx.len(), s.batch * x_len);
    if let Some(b) = bias {
        check_len(name, "bias", b.len(), cin);
    }
    let w = &w[..cout * k];
    let beta = if overwrite { 0.0 } else { 1.0 };
    match path(s) {
        Path::Dense => {
            // dX (N×K) = dY (N×Cout) · W (Cout×K) + beta·dX
            let n = s.batch;
            sgemm_strided(
                n,
                k,
                cout,
                1.0,
                dy,
                cout,
                1,
                w,
                k,
                1,
                beta,
                &mut dx[..n * k],
                k,
                1,
            );
            if let Some(b) = bias {
                dx[..n * k]
                    .chunks_exact_mut(k)
                    .for_each(|img| add_bias(img, b, plane));
            }
        }
        Path::Pointwise => per_group(
            s.batch,
            1,
            cout * cin * p,
            dy,
            y_len,
            dx,
            x_len,
            |gemm, _, dy, dx| {
                // dX_n (Cin×P) = Wᵀ (Cin×Cout) · dY_n (Cout×P) + beta·dX_n
                gemm(cin, p, cout, 1.0, w, 1, cin, dy, p, 1, beta, dx, p, 1);
                if let Some(b) = bias {
                    add_bias(dx, b, plane);
                }
            },
        ),
        Path::General => {
            if let Some(bd) = BlockedData::new(s) {
                return blocked_backward_data(s, &bd, dy, w, dx, beta, bias);
            }
            let group = group_len(s);
            per_group(
                s.batch,
                group,
                cout * k * p,
                dy,
                y_len,
                dx,
                x_len,
                |gemm, g, dy, dx| {
                    let gp = g * p;
                    let gathered = if g == 1 { 0 } else { cout * gp };
                    let block = block_rows(s) * gp;
                    with_scratch(Slot::Conv, block + gathered, |buf| {
                        let (dcols, dyg) = buf.split_at_mut(block);
                        let dyg: &[f32] = if g == 1 {
                            dy
                        } else {
                            gather_columns(dy, y_len, p, dyg, gp);
                            dyg
                        };
                        if overwrite {
                            dx.fill(0.0);
                        }
                        for (c0, c1, sub) in channel_blocks(s) {
                            let rows = sub.patch_len();
                            // dcols (rows×G·P) = W[:, block]ᵀ (rows×Cout) · dYg (Cout×G·P)
                            let w_b = &w[c0 * taps..];
                            gemm(
                                rows, gp, cout, 1.0, w_b, 1, k, dyg, gp, 1, 0.0, dcols, gp, 1,
                            );
                            for (i, dx_i) in dx.chunks_exact_mut(x_len).enumerate() {
                                col2im_ld(
                                    &sub,
                                    &dcols[i * p..],
                                    gp,
                                    &mut dx_i[c0 * plane..c1 * plane],
                                );
                            }
                        }
                    });
                    if let Some(b) = bias {
                        dx.chunks_exact_mut(x_len)
                            .for_each(|dx_i| add_bias(dx_i, b, plane));
                    }
                },
            )
        }
    }
}

/// Number of batch chunks for the weight gradient: a function of the shape only.
fn weight_chunks(s: &Conv2dShape) -> usize {
    let work = s.batch * s.out_channels * s.patch_len() * s.out_h() * s.out_w();
    if work < SERIAL_WORK {
        1
    } else {
        s.batch.clamp(1, MAX_WEIGHT_CHUNKS)
    }
}

/// `dw (Cout, Cin, KH, KW) += ∂L/∂w` and, if given, `db (Cout) += Σ dy` over N, OH, OW.
/// **Accumulates**. The sum over the batch runs over fixed chunks of images (boundaries
/// depend only on the shape) whose partial sums are added in chunk order: the result is
/// bit-identical for any number of threads.
///
/// # Panics
/// If the shape is invalid or a slice is shorter than its tensor.
pub fn conv2d_backward_weight(
    s: &Conv2dShape,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
) {
    let name = "conv2d_backward_weight";
    check_shape(name, s);
    let (k, p) = (s.patch_len(), s.out_h() * s.out_w());
    let cout = s.out_channels;
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    check_len(name, "x", x.len(), s.batch * x_len);
    check_len(name, "dy", dy.len(), s.batch * y_len);
    check_len(name, "dw", dw.len(), cout * k);
    if let Some(db) = db {
        check_len(name, "db", db.len(), cout);
        channel_sums_accumulate(dy, s.batch, cout, p, db);
    }
    weight_grad(s, x, dy, &mut dw[..cout * k]);
}

/// `dw += Σ_n dY_n · cols_nᵀ` (see [`conv2d_backward_weight`]); lengths already checked.
pub(crate) fn weight_grad(s: &Conv2dShape, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    let (k, p) = (s.patch_len(), s.out_h() * s.out_w());
    let cout = s.out_channels;
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let kind = path(s);
    if s.batch == 0 {
        return;
    }
    if kind == Path::Dense {
        // dW (Cout×K) += dYᵀ (Cout×N: element (co, n) at dy[n·Cout + co]) · X (N×K).
        // One GEMM whose inner dimension is the batch: split over dW only, never over N.
        sgemm_strided(cout, k, s.batch, 1.0, dy, 1, cout, x, k, 1, 1.0, dw, k, 1);
        return;
    }
    let chunks = weight_chunks(s);
    let per_chunk = s.batch.div_ceil(chunks);
    let chunks = s.batch.div_ceil(per_chunk);
    if kind == Path::General {
        // Channel lanes when a tile is wide, else batch lanes, else channel lanes.
        let plan = Plan::new(s);
        if !plan.as_ref().is_some_and(Plan::is_wide) {
            if let Some(bl) = Blocked::new(s) {
                return blocked_weight_grad(s, &bl, x, dy, dw);
            }
        }
        if let Some(plan) = plan.filter(Plan::has_weight_tiles) {
            return direct_weight_grad(s, &plan, x, dy, per_chunk, chunks, dw);
        }
    }
    let mut partials = vec![0.0f32; chunks * cout * k];
    // One chunk (small calls, or a single image) may use the parallel product.
    let gemm: Gemm = if chunks == 1 {
        sgemm_strided
    } else {
        sgemm_strided_serial
    };
    let group = if kind == Path::Pointwise {
        1
    } else {
        group_len(s)
    };
    let plane = s.in_h * s.in_w;
    let taps = s.kernel_h * s.kernel_w;
    let chunk_grad = |(c, part): (usize, &mut [f32])| {
        let images = c * per_chunk..((c + 1) * per_chunk).min(s.batch);
        let x = &x[images.start * x_len..images.end * x_len];
        let dy = &dy[images.start * y_len..images.end * y_len];
        for (i, (xg, dyg)) in x
            .chunks(group * x_len)
            .zip(dy.chunks(group * y_len))
            .enumerate()
        {
            let beta = if i == 0 { 0.0 } else { 1.0 };
            let (g, gp) = (xg.len() / x_len, xg.len() / x_len * p);
            if kind == Path::Pointwise {
                // part (Cout×Cin) += dY_n (Cout×P) · X_nᵀ (P×Cin: element (q, r) at x[r·P + q])
                gemm(cout, k, p, 1.0, dyg, p, 1, xg, 1, p, beta, part, k, 1);
                continue;
            }
            let block = block_rows(s) * gp;
            // From a full micro-panel of output channels on, dY goes in transposed
            // (see below); fewer channels are copied as they are, or used in place.
            let transposed = cout >= PANEL;
            let staged = if transposed || g > 1 { cout * gp } else { 0 };
            with_scratch(Slot::Conv, 2 * block + staged, |buf| {
                let (rows_buf, rest) = buf.split_at_mut(block);
                let (cols, dyt) = rest.split_at_mut(block);
                // dY of the group as the product's A (Cout × G·P), with its strides.
                let (dyt, rsa, csa): (&[f32], usize, usize) = if transposed {
                    // (G·P × Cout), image by image: a column-major A packs with
                    // contiguous copies where a row-major one is gathered one element
                    // at a time (same packed values, so the same result).
                    for (j, dy_j) in dyg.chunks_exact(y_len).enumerate() {
                        transpose(dy_j, cout, p, p, &mut dyt[j * p * cout..(j + 1) * p * cout]);
                    }
                    (dyt, 1, cout)
                } else if g == 1 {
                    (dyg, gp, 1)
                } else {
                    gather_columns(dyg, y_len, p, dyt, gp);
                    (dyt, gp, 1)
                };
                for (c0, c1, sub) in channel_blocks(s) {
                    let rows = sub.patch_len();
                    // rows_buf (G·P × rows) = the transposed patch matrix of the block: im2col
                    // then an 8×8-tile transpose (faster than gathering it row by row)
                    for (j, x_j) in xg.chunks_exact(x_len).enumerate() {
                        im2col_ld(&sub, &x_j[c0 * plane..c1 * plane], &mut cols[j * p..], gp);
                    }
                    transpose(cols, rows, gp, gp, rows_buf);
                    // part[:, block] (Cout×rows) += dYg (Cout×G·P) · rows (G·P×rows)
                    let part_b = &mut part[c0 * taps..];
                    gemm(
                        cout, rows, gp, 1.0, dyt, rsa, csa, rows_buf, rows, 1, beta, part_b, k, 1,
                    );
                }
            });
        }
    };
    per_chunk_partial(&mut partials, cout * k, chunk_grad);
    for part in partials.chunks_exact(cout * k) {
        dw.iter_mut().zip(part).for_each(|(d, v)| *d += *v);
    }
}

/// Runs `f((c, partial_c))` for each batch chunk's partial weight gradient (`len`
/// elements each): in parallel when there are several, else with `f` free to use the
/// parallel product itself.
fn per_chunk_partial<F>(partials: &mut [f32], len: usize, f: F)
where
    F: Fn((usize, &mut [f32])) + Sync + Send,
{
    if partials.len() == len {
        f((0, partials));
    } else {
        partials.par_chunks_mut(len).enumerate().for_each(f);
    }
}

/// [`weight_grad`] by the direct kernel ([`super::direct`]): per batch chunk a partial
/// dWᵀ (K × Cout) from zero, images in order; then `dw += partialᵀ` chunk by chunk.
fn direct_weight_grad(
    s: &Conv2dShape,
    plan: &Plan,
    x: &[f32],
    dy: &[f32],
    per_chunk: usize,
    chunks: usize,
    dw: &mut [f32],
) {
    let (k, p, cout) = (s.patch_len(), s.out_h() * s.out_w(), s.out_channels);
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let padded = s.pad_h > 0 || s.pad_w > 0;
    let xp_len = if padded { plan.padded_len(s) } else { 0 };
    let mut partials = vec![0.0f32; chunks * k * cout];
    let chunk_grad = |(c, part): (usize, &mut [f32])| {
        let images = c * per_chunk..((c + 1) * per_chunk).min(s.batch);
        with_scratch(Slot::Conv, p * cout + xp_len, |buf| {
            let (dyt, xp) = buf.split_at_mut(p * cout);
            for n in images {
                transpose(&dy[n * y_len..(n + 1) * y_len], cout, p, p, dyt);
                let x_n = &x[n * x_len..(n + 1) * x_len];
                let xp: &[f32] = if padded {
                    plan.pad(s, x_n, xp);
                    xp
                } else {
                    x_n
                };
                plan.weight_grad(xp, dyt, cout, part);
            }
        });
    };
    per_chunk_partial(&mut partials, k * cout, chunk_grad);
    with_scratch(Slot::Conv, k * cout, |t| {
        for part in partials.chunks_exact(k * cout) {
            transpose(part, k, cout, cout, t);
            dw.iter_mut().zip(t.iter()).for_each(|(d, v)| *d += *v);
        }
    });
}

/// [`forward_into`] by the direct kernel ([`super::direct`]), image by image (in
/// parallel for large calls): `yᵀ` in scratch, then transposed into y with `beta` and
/// the bias.
fn direct_forward(
    s: &Conv2dShape,
    plan: &Plan,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    beta: f32,
) {
    let (k, p, cout) = (s.patch_len(), s.out_h() * s.out_w(), s.out_channels);
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let mut wt = vec![0.0f32; k * cout];
    transpose(w, cout, k, k, &mut wt);
    let padded = s.pad_h > 0 || s.pad_w > 0;
    let xp_len = if padded { plan.padded_len(s) } else { 0 };
    let rows = plan.forward_rows();
    let staged = if beta == 0.0 { 0 } else { cout * p };
    let image = |_: Gemm, _: usize, x_n: &[f32], y_n: &mut [f32]| {
        with_scratch(Slot::Conv, rows * cout + xp_len + staged, |buf| {
            let (yt, rest) = buf.split_at_mut(rows * cout);
            let (xp, tmp) = rest.split_at_mut(xp_len);
            yt.fill(0.0);
            let xp: &[f32] = if padded {
                plan.pad(s, x_n, xp);
                xp
            } else {
                x_n
            };
            plan.forward(xp, &wt, cout, yt);
            if beta == 0.0 {
                transpose(&yt[..p * cout], p, cout, cout, y_n);
            } else {
                transpose(&yt[..p * cout], p, cout, cout, tmp);
                y_n.iter_mut()
                    .zip(tmp.iter())
                    .for_each(|(d, v)| *d = v + beta * *d);
            }
        });
        if let Some(b) = bias {
            add_bias(y_n, b, p);
        }
    };
    per_group(s.batch, 1, cout * k * p, x, x_len, y, y_len, image);
}

/// [`forward_into`] with the batch as SIMD lanes ([`super::batch_lanes`]): blocks of 16
/// images, in parallel over blocks for large calls.
fn blocked_forward(
    s: &Conv2dShape,
    bl: &Blocked,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
    beta: f32,
) {
    let (k, p, cout) = (s.patch_len(), s.out_h() * s.out_w(), s.out_channels);
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let (xl, yl) = bl.lens(s);
    let block = |_: Gemm, _: usize, xg: &[f32], yg: &mut [f32]| {
        with_scratch(Slot::Conv, xl + yl, |buf| {
            let (xb, yb) = buf.split_at_mut(xl);
            bl.gather(s, xg, xb);
            bl.forward(s, xb, w, yb);
            bl.scatter(s, yb, yg, beta);
        });
        if let Some(b) = bias {
            yg.chunks_exact_mut(y_len)
                .for_each(|y_i| add_bias(y_i, b, p));
        }
    };
    per_group(s.batch, LANES, cout * k * p, x, x_len, y, y_len, block);
}

/// [`weight_grad`] with the batch as SIMD lanes ([`super::batch_lanes`]): a partial dW per
/// block of 16 images (in parallel), then `dw += partial` block by block.
fn blocked_weight_grad(s: &Conv2dShape, bl: &Blocked, x: &[f32], dy: &[f32], dw: &mut [f32]) {
    let len = s.out_channels * s.patch_len();
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let (xl, _) = bl.lens(s);
    let dyl = bl.dy_len(s);
    let (x, dy) = (&x[..s.batch * x_len], &dy[..s.batch * y_len]);
    let mut partials = vec![0.0f32; s.batch.div_ceil(LANES) * len];
    partials
        .par_chunks_mut(len)
        .zip(x.par_chunks(LANES * x_len))
        .zip(dy.par_chunks(LANES * y_len))
        .for_each(|((part, xg), dyg)| {
            with_scratch(Slot::Conv, xl + dyl, |buf| {
                let (xb, dyb) = buf.split_at_mut(xl);
                bl.gather(s, xg, xb);
                bl.gather_dy(s, dyg, dyb);
                bl.weight_grad(s, xb, dyb, part);
            });
        });
    for part in partials.chunks_exact(len) {
        dw.iter_mut().zip(part).for_each(|(d, v)| *d += *v);
    }
}

/// [`backward_data_into`] with the batch as SIMD lanes ([`super::batch_lanes_data`]):
/// blocks of 16 images, in parallel over blocks for large calls;
/// `dx ← data gradient + beta·dx`, plus the bias per channel when given.
fn blocked_backward_data(
    s: &Conv2dShape,
    bd: &BlockedData,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
    beta: f32,
    bias: Option<&[f32]>,
) {
    let (x_len, y_len) = (s.in_image_len(), s.out_image_len());
    let plane = s.in_h * s.in_w;
    let wt = BlockedData::weights(s, w);
    let work = s.out_channels * s.patch_len() * s.out_h() * s.out_w();
    let staged = if beta == 0.0 { 0 } else { x_len * LANES };
    let block = |_: Gemm, _: usize, dyg: &[f32], dxg: &mut [f32]| {
        with_scratch(Slot::Conv, (x_len + y_len) * LANES + staged, |buf| {
            let (dyb, rest) = buf.split_at_mut(y_len * LANES);
            let (dxb, staging) = rest.split_at_mut(x_len * LANES);
            to_lanes(dyg, y_len, dyb);
            bd.data_grad(s, dyb, &wt, dxb);
            from_lanes(dxb, x_len, dxg, beta, staging);
        });
        if let Some(b) = bias {
            dxg.chunks_exact_mut(x_len)
                .for_each(|dx_i| add_bias(dx_i, b, plane));
        }
    };
    per_group(s.batch, LANES, work, dy, y_len, dx, x_len, block);
}
