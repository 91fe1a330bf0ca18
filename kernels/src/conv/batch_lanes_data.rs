//! Convolution data gradient (and so transposed-convolution forward) with the batch as
//! the SIMD lanes: 16 images per AVX-512 vector, each input pixel summing exactly the
//! taps that reach it.
//!
//! `dx[ci][y][x] = Σ_co Σ_(kh, oh) Σ_(kw, ow) W[co][ci][kh][kw] · dy[co][oh][ow]` over the
//! pairs with `oh·sh + kh = y + ph` (and `ow·sw + kw = x + pw`) inside the output. The
//! im2col route computes `Wᵀ·dY` for every tap and scatters it back with `col2im`; near
//! the borders of small images many of those products land outside the image. Here a
//! pixel lists its valid `(kh, oh)` and `(kw, ow)` pairs once, so no product is wasted
//! and nothing is scattered: a register tile is `RC` input channels of one pixel (16
//! images each); per valid tap it loads one `dy` vector and multiplies it by `RC`
//! broadcast weights (`W` laid out as `wt[co][kh][kw][ci]`, so the broadcasts are
//! contiguous).
//!
//! Order: each `dx` element is one FMA chain from zero over `co`, then `kh`, then `kw`,
//! ascending, skipping the taps that do not reach it; the lanes are independent images.
//! AVX-512 only; the caller keeps the GEMM path elsewhere.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::batch_lanes::LANES;
use super::Conv2dShape;

/// Input channels below this leave too few accumulators per pixel to hide the FMA
/// latency (the tile is one pixel × up to 16 channels).
const MIN_CHANNELS: usize = 16;
/// Fewer multiply-adds per input pixel leave too little arithmetic per element laid out
/// and written back (the same threshold as the batch-lane forward).
const MIN_TAPS: usize = 128;

/// The valid `(k, o)` pairs of one input row or column: tap `k` reads output `o`.
type Pairs = Vec<(usize, usize)>;

/// Index tables of one call: for every input row `y` (column `x`) the kernel rows
/// (columns) and output rows (columns) that reach it.
pub(crate) struct BlockedData {
    rows: Vec<Pairs>,
    cols: Vec<Pairs>,
}

/// The `(k, o)` pairs reaching input position `i` along an axis: `o·stride + k = i + pad`
/// with `k < kernel` and `o < out`, in ascending `k`.
fn pairs(i: usize, kernel: usize, stride: usize, pad: usize, out: usize) -> Pairs {
    (0..kernel)
        .filter_map(|k| {
            let t = (i + pad).checked_sub(k)?;
            (t % stride == 0 && t / stride < out).then_some((k, t / stride))
        })
        .collect()
}

impl BlockedData {
    /// The tables for `s`, or `None` without AVX-512, with fewer than 16 input channels
    /// or with fewer than 128 multiply-adds per input element.
    pub(crate) fn new(s: &Conv2dShape) -> Option<BlockedData> {
        #[cfg(target_arch = "x86_64")]
        {
            let per_pixel =
                s.out_channels * s.kernel_h * s.kernel_w / (s.stride_h * s.stride_w).max(1);
            if std::arch::is_x86_feature_detected!("avx512f")
                && s.in_channels >= MIN_CHANNELS
                && per_pixel >= MIN_TAPS
            {
                let (oh, ow) = (s.out_h(), s.out_w());
                let rows = (0..s.in_h)
                    .map(|y| pairs(y, s.kernel_h, s.stride_h, s.pad_h, oh))
                    .collect();
                let cols = (0..s.in_w)
                    .map(|x| pairs(x, s.kernel_w, s.stride_w, s.pad_w, ow))
                    .collect();
                return Some(BlockedData { rows, cols });
            }
        }
        let _ = s;
        None
    }

    /// `w` (Cout × Cin × KH × KW) laid out as `wt[co][kh][kw][ci]`.
    pub(crate) fn weights(s: &Conv2dShape, w: &[f32]) -> Vec<f32> {
        let (cin, taps) = (s.in_channels, s.kernel_h * s.kernel_w);
        let mut wt = vec![0.0f32; s.out_channels * taps * cin];
        for (co, w_co) in w.chunks_exact(cin * taps).take(s.out_channels).enumerate() {
            let dst = &mut wt[co * taps * cin..(co + 1) * taps * cin];
            crate::transpose::transpose(w_co, cin, taps, taps, dst);
        }
        wt
    }

    /// `dxb[ci][y][x][image] ← Σ wt · dyb` for one block: `dyb` as
    /// `dyb[co][oh][ow][image]`, `wt` from [`BlockedData::weights`]. Overwrites `dxb`.
    pub(crate) fn data_grad(&self, s: &Conv2dShape, dyb: &[f32], wt: &[f32], dxb: &mut [f32]) {
        assert!(dyb.len() >= s.out_image_len() * LANES);
        assert!(dxb.len() >= s.in_image_len() * LANES);
        assert!(wt.len() >= s.out_channels * s.patch_len());
        // SAFETY: `new` checked AVX-512F; every (kh, oh), (kw, ow) pair lies inside the
        // kernel and the output, and every (ci, y, x) inside dxb (lengths asserted above).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            data_grad_avx512(self, s, dyb, wt, dxb)
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn data_grad_avx512(
    b: &BlockedData,
    s: &Conv2dShape,
    dyb: &[f32],
    wt: &[f32],
    dxb: &mut [f32],
) {
    let cin = s.in_channels;
    for y in 0..s.in_h {
        for x in 0..s.in_w {
            let at = (y, x);
            let mut ci = 0;
            while ci < cin {
                let step = match cin - ci {
                    n if n >= 16 => 16,
                    n if n >= 8 => 8,
                    n if n >= 4 => 4,
                    n if n >= 2 => 2,
                    _ => 1,
                };
                match step {
                    16 => pixel::<16>(b, s, dyb, wt, dxb, ci, at),
                    8 => pixel::<8>(b, s, dyb, wt, dxb, ci, at),
                    4 => pixel::<4>(b, s, dyb, wt, dxb, ci, at),
                    2 => pixel::<2>(b, s, dyb, wt, dxb, ci, at),
                    _ => pixel::<1>(b, s, dyb, wt, dxb, ci, at),
                }
                ci += step;
            }
        }
    }
}

/// Input channels `ci..ci + RC` of pixel `(y, x)` of one block.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // index loops over the register tile read clearest
unsafe fn pixel<const RC: usize>(
    b: &BlockedData,
    s: &Conv2dShape,
    dyb: &[f32],
    wt: &[f32],
    dxb: &mut [f32],
    ci: usize,
    (y, x): (usize, usize),
) {
    let (cin, kw_n) = (s.in_channels, s.kernel_w);
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let per_co = s.kernel_h * kw_n * cin;
    let (rows, cols) = (&b.rows[y], &b.cols[x]);
    let (d, w) = (dyb.as_ptr(), wt.as_ptr().add(ci));
    let mut acc = [_mm512_setzero_ps(); RC];
    for co in 0..s.out_channels {
        let d_co = d.add(co * oh_n * ow_n * LANES);
        let w_co = w.add(co * per_co);
        for &(kh, oh) in rows {
            let d_row = d_co.add(oh * ow_n * LANES);
            let w_row = w_co.add(kh * kw_n * cin);
            for &(kw, ow) in cols {
                let dv = _mm512_loadu_ps(d_row.add(ow * LANES));
                let wp = w_row.add(kw * cin);
                for r in 0..RC {
                    acc[r] = _mm512_fmadd_ps(dv, _mm512_set1_ps(*wp.add(r)), acc[r]);
                }
            }
        }
    }
    let plane = s.in_h * s.in_w;
    let out = dxb.as_mut_ptr().add((y * s.in_w + x) * LANES);
    for r in 0..RC {
        _mm512_storeu_ps(out.add((ci + r) * plane * LANES), acc[r]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conv::batch_lanes::tests::values;
    use crate::conv::batch_lanes::{from_lanes, to_lanes};
    use crate::conv::direct::tests::shape;

    /// dx of one image in the documented order: per element one `mul_add` chain over
    /// (co, kh, kw) ascending, skipping taps that do not reach it.
    fn reference(s: &Conv2dShape, dy: &[f32], w: &[f32]) -> Vec<f32> {
        let (oh_n, ow_n) = (s.out_h(), s.out_w());
        let mut dx = vec![0.0f32; s.in_image_len()];
        for ci in 0..s.in_channels {
            for y in 0..s.in_h {
                for x in 0..s.in_w {
                    let mut acc = 0.0f32;
                    for co in 0..s.out_channels {
                        for kh in 0..s.kernel_h {
                            for kw in 0..s.kernel_w {
                                let (Some(th), Some(tw)) =
                                    ((y + s.pad_h).checked_sub(kh), (x + s.pad_w).checked_sub(kw))
                                else {
                                    continue;
                                };
                                if th % s.stride_h != 0 || tw % s.stride_w != 0 {
                                    continue;
                                }
                                let (oh, ow) = (th / s.stride_h, tw / s.stride_w);
                                if oh >= oh_n || ow >= ow_n {
                                    continue;
                                }
                                let wv = w[((co * s.in_channels + ci) * s.kernel_h + kh)
                                    * s.kernel_w
                                    + kw];
                                acc = dy[(co * oh_n + oh) * ow_n + ow].mul_add(wv, acc);
                            }
                        }
                    }
                    dx[(ci * s.in_h + y) * s.in_w + x] = acc;
                }
            }
        }
        dx
    }

    #[test]
    fn data_gradient_follows_the_documented_order_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        // shape(n, cin, h, cout, k, stride, pad), w = h + 1: channel tiles 16, 8, 4, 2, 1
        // (cin 31); stride 2 with padding; rows and columns no tap reaches (stride 3);
        // partial and full blocks.
        for (s, images) in [
            (shape(1, 16, 9, 4, 6, 1, 0), 5),
            (shape(1, 31, 10, 32, 4, 2, 1), 16),
            (shape(1, 16, 11, 128, 3, 3, 0), 3),
            (shape(1, 20, 7, 6, 5, 1, 2), 16),
        ] {
            let bd = BlockedData::new(&s).expect("AVX-512, 16+ channels, 128+ taps");
            let (n_in, n_out) = (s.in_image_len(), s.out_image_len());
            let dy = values(images * n_out, 37, 101);
            let w = values(s.out_channels * s.patch_len(), 53, 97);
            let mut dyb = vec![0.0; n_out * LANES];
            to_lanes(&dy, n_out, &mut dyb);
            let mut dxb = vec![f32::NAN; n_in * LANES];
            bd.data_grad(&s, &dyb, &BlockedData::weights(&s, &w), &mut dxb);
            let mut dx = vec![0.5; images * n_in];
            from_lanes(&dxb, n_in, &mut dx, 0.0, &mut []);
            for (img, dx_i) in dx.chunks_exact(n_in).enumerate() {
                let want = reference(&s, &dy[img * n_out..(img + 1) * n_out], &w);
                for (e, (g, r)) in dx_i.iter().zip(&want).enumerate() {
                    assert_eq!(g.to_bits(), r.to_bits(), "{s:?} image {img} element {e}");
                }
            }
        }
    }
}
