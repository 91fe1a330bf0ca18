//! Fast conv2d forward, backward-data and backward-weight: im2col + GEMM per image,
//! parallel over the batch (see the module docs of [`crate::conv`]).

use super::scratch::with_scratch;
use super::{col2im, im2col, Conv2dShape};
use crate::gemm::{sgemm_strided, sgemm_strided_serial};
use rayon::prelude::*;

/// Calls whose total multiply-adds are below this run on the calling thread.
const SERIAL_WORK: usize = 1 << 18;

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

/// Runs `f(gemm, x_n, y_n)` for every image n: in parallel over images when the call is
/// large and has several images (then `gemm` is the serial product), otherwise on the
/// calling thread with the parallel product for a single large image. Each image's
/// result does not depend on the choice (K is never split).
fn per_image<F>(
    batch: usize,
    work: usize,
    x: &[f32],
    x_len: usize,
    y: &mut [f32],
    y_len: usize,
    f: F,
) where
    F: Fn(Gemm, &[f32], &mut [f32]) + Sync,
{
    let (x, y) = (&x[..batch * x_len], &mut y[..batch * y_len]);
    if batch * work < SERIAL_WORK || batch == 1 {
        x.chunks_exact(x_len)
            .zip(y.chunks_exact_mut(y_len))
            .for_each(|(x, y)| f(sgemm_strided, x, y));
    } else {
        x.par_chunks_exact(x_len)
            .zip(y.par_chunks_exact_mut(y_len))
            .for_each(|(x, y)| f(sgemm_strided_serial, x, y));
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
        Path::Pointwise => per_image(s.batch, cout * cin * p, x, x_len, y, y_len, |gemm, x, y| {
            // Y_n (Cout×P) = W (Cout×Cin) · X_n (Cin×P)
            gemm(cout, p, cin, 1.0, w, cin, 1, x, p, 1, beta, y, p, 1);
            if let Some(b) = bias {
                add_bias(y, b, p);
            }
        }),
        Path::General => per_image(s.batch, cout * k * p, x, x_len, y, y_len, |gemm, x, y| {
            with_scratch(k * p, |cols| {
                im2col(s, x, cols);
                // Y_n (Cout×P) = W (Cout×K) · cols (K×P)
                gemm(cout, p, k, 1.0, w, k, 1, cols, p, 1, beta, y, p, 1);
            });
            if let Some(b) = bias {
                add_bias(y, b, p);
            }
        }),
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
        Path::Pointwise => per_image(
            s.batch,
            cout * cin * p,
            dy,
            y_len,
            dx,
            x_len,
            |gemm, dy, dx| {
                // dX_n (Cin×P) = Wᵀ (Cin×Cout) · dY_n (Cout×P) + beta·dX_n
                gemm(cin, p, cout, 1.0, w, 1, cin, dy, p, 1, beta, dx, p, 1);
                if let Some(b) = bias {
                    add_bias(dx, b, plane);
                }
            },
        ),
        Path::General => per_image(
            s.batch,
            cout * k * p,
            dy,
            y_len,
            dx,
            x_len,
            |gemm, dy, dx| {
                with_scratch(k * p, |cols| {
                    // dcols (K×P) = Wᵀ (K×Cout) · dY_n (Cout×P)
                    gemm(k, p, cout, 1.0, w, 1, k, dy, p, 1, 0.0, cols, p, 1);
                    if overwrite {
                        dx.fill(0.0);
                    }
                    col2im(s, cols, dx);
                });
                if let Some(b) = bias {
                    add_bias(dx, b, plane);
                }
            },
        ),
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
    let mut partials = vec![0.0f32; chunks * cout * k];
    // One chunk (small calls, or a single image) may use the parallel product.
    let gemm: Gemm = if chunks == 1 {
        sgemm_strided
    } else {
        sgemm_strided_serial
    };
    let chunk_grad = |(c, part): (usize, &mut [f32])| {
        let images = c * per_chunk..((c + 1) * per_chunk).min(s.batch);
        for (i, n) in images.enumerate() {
            let beta = if i == 0 { 0.0 } else { 1.0 };
            let x_n = &x[n * x_len..(n + 1) * x_len];
            let dy_n = &dy[n * y_len..(n + 1) * y_len];
            // part (Cout×K) += dY_n (Cout×P) · colsᵀ (P×K: element (q, r) at cols[r·P + q])
            if kind == Path::Pointwise {
                gemm(cout, k, p, 1.0, dy_n, p, 1, x_n, 1, p, beta, part, k, 1);
            } else {
                with_scratch(k * p, |cols| {
                    im2col(s, x_n, cols);
                    gemm(cout, k, p, 1.0, dy_n, p, 1, cols, 1, p, beta, part, k, 1);
                });
            }
        }
    };
    if chunks == 1 {
        chunk_grad((0, &mut partials[..]));
    } else {
        partials
            .par_chunks_mut(cout * k)
            .enumerate()
            .for_each(chunk_grad);
    }
    for part in partials.chunks_exact(cout * k) {
        dw.iter_mut().zip(part).for_each(|(d, v)| *d += *v);
    }
}
