//! Convolution forward and weight gradient with the batch as the SIMD lanes: 16 images
//! per vector.
//!
//! A block of 16 images is laid out as `xb[ci][r][c][image]` (zero border for the padding,
//! zero lanes past the batch). Then `yb[co][oh][ow][image] = Σ_t W[co][t] ·
//! xb[ci][oh·sh + kh][ow·sw + kw][image]`: a register tile of `RC` output channels × `RQ`
//! output pixels of one row is 24 vectors; per tap it broadcasts `RC` weights and loads
//! `RQ` input vectors for `RC·RQ` FMAs. Unlike [`super::direct`], whose lanes are output
//! channels, the tile's shape does not depend on the channel count, so 1-, 16- and
//! 32-channel layers run as fast as wide ones, and nothing is packed or gathered.
//!
//! The weight gradient keeps a tile of `RC` channels × up to 6 taps of one kernel row per
//! image lane, `dW[co][t] += Σ_q dyb[co][q][image] · xb[tap t at pixel q][image]`: per
//! pixel `RC` + 6 vector loads and no broadcast; the 16 lanes are summed at the end.
//!
//! Order: each forward output is one FMA chain over the taps in (ci, kh, kw) order from
//! zero, the order of [`super::direct`]'s forward, so the two give the same bits. Each
//! weight-gradient element is, per block, 16 FMA chains (one per image lane, pixels in
//! row-major order) summed lane 0..16 in a fixed pairwise tree; the caller adds the blocks
//! in order. AVX-512 only; the caller keeps another path elsewhere.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::Conv2dShape;
use crate::transpose::transpose;

/// Images per block (f32 lanes of an AVX-512 vector).
pub(crate) const LANES: usize = 16;
/// Output pixels per tile.
const RQ: usize = 6;
/// Fewer taps per output leave too little arithmetic per element laid out and written
/// back (batch 200, AVX-512: 1→16 6×6, 36 taps, 86 against the GEMM's 111 GFLOP/s;
/// 16→32 6×6, 576 taps, 165 against 148; 32→16 as a data gradient, 1152 taps, 174
/// against 145).
const MIN_TAPS: usize = 128;

/// Index arithmetic of one call.
pub(crate) struct Blocked {
    /// Padded input rows and columns of the block layout.
    hq: usize,
    wq: usize,
    /// Output columns rounded up to whole tiles.
    owp: usize,
}

impl Blocked {
    /// The layout for `s`, or `None` without AVX-512 or with fewer than [`MIN_TAPS`]
    /// taps per output.
    pub(crate) fn new(s: &Conv2dShape) -> Option<Blocked> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512f") && s.patch_len() >= MIN_TAPS {
            let owp = s.out_w().next_multiple_of(RQ);
            let hq = s.in_h + 2 * s.pad_h;
            let wq = (s.in_w + 2 * s.pad_w).max((owp - 1) * s.stride_w + s.kernel_w);
            return Some(Blocked { hq, wq, owp });
        }
        None
    }

    /// Elements of a block's input and output.
    pub(crate) fn lens(&self, s: &Conv2dShape) -> (usize, usize) {
        (
            s.in_channels * self.hq * self.wq * LANES,
            s.out_channels * s.out_h() * self.owp * LANES,
        )
    }

    /// Lays out up to 16 images `x` (each Cin × H × W) as `xb` (zero elsewhere).
    pub(crate) fn gather(&self, s: &Conv2dShape, x: &[f32], xb: &mut [f32]) {
        let full = x.len() == LANES * s.in_image_len();
        if full && self.hq == s.in_h && self.wq == s.in_w {
            // No border: the layout is the block's transpose (16 × Cin·H·W).
            let n = s.in_image_len();
            return transpose(x, LANES, n, n, &mut xb[..n * LANES]);
        }
        xb.fill(0.0);
        let (h, w) = (s.in_h, s.in_w);
        for (img, x_i) in x.chunks_exact(s.in_image_len()).enumerate() {
            for ci in 0..s.in_channels {
                for r in 0..h {
                    let row = &x_i[(ci * h + r) * w..(ci * h + r + 1) * w];
                    let dst = ((ci * self.hq + r + s.pad_h) * self.wq + s.pad_w) * LANES + img;
                    for (c, &v) in row.iter().enumerate() {
                        xb[dst + c * LANES] = v;
                    }
                }
            }
        }
    }

    /// Writes the block's outputs to its images `y` (each Cout × OH × OW):
    /// `y ← yb + beta·y`.
    pub(crate) fn scatter(&self, s: &Conv2dShape, yb: &[f32], y: &mut [f32], beta: f32) {
        let (oh, ow) = (s.out_h(), s.out_w());
        let n = s.out_image_len();
        if y.len() == LANES * n && self.owp == ow && beta == 0.0 {
            // No padded columns: the block's outputs are yb's transpose.
            return transpose(&yb[..n * LANES], n, LANES, LANES, y);
        }
        for (img, y_i) in y.chunks_exact_mut(s.out_image_len()).enumerate() {
            for (row, y_row) in y_i.chunks_exact_mut(ow).enumerate() {
                // row = co·OH + oh, the same index in yb's row order.
                debug_assert!(row < s.out_channels * oh);
                let src = row * self.owp * LANES + img;
                for (c, d) in y_row.iter_mut().enumerate() {
                    let v = yb[src + c * LANES];
                    *d = if beta == 0.0 { v } else { v + beta * *d };
                }
            }
        }
    }

    /// `yb ← conv(xb, w)` for one block (`w` as Cout × K).
    pub(crate) fn forward(&self, s: &Conv2dShape, xb: &[f32], w: &[f32], yb: &mut [f32]) {
        let (xl, yl) = self.lens(s);
        assert!(xb.len() >= xl && yb.len() >= yl && w.len() >= s.out_channels * s.patch_len());
        // SAFETY: `new` checked AVX-512F; the kernel's indices stay below the lengths
        // asserted above (`wq` and `hq` cover every tap of every padded tile).
        #[cfg(target_arch = "x86_64")]
        unsafe {
            forward_avx512(self, s, xb, w, yb)
        }
    }
}

impl Blocked {
    /// Lays out up to 16 output gradients `dy` (each Cout × OH × OW) as
    /// `dyb[co][oh][ow][image]` (OW columns, zero lanes past the batch).
    pub(crate) fn gather_dy(&self, s: &Conv2dShape, dy: &[f32], dyb: &mut [f32]) {
        to_lanes(dy, s.out_image_len(), dyb);
    }

    /// Elements of a block's output gradient in [`Blocked::gather_dy`]'s layout.
    pub(crate) fn dy_len(&self, s: &Conv2dShape) -> usize {
        s.out_image_len() * LANES
    }

    /// `dw (Cout × K) ← Σ_lanes Σ_q dyb · xb` for one block (overwrites `dw`).
    pub(crate) fn weight_grad(&self, s: &Conv2dShape, xb: &[f32], dyb: &[f32], dw: &mut [f32]) {
        let (xl, _) = self.lens(s);
        assert!(xb.len() >= xl && dyb.len() >= self.dy_len(s));
        assert!(dw.len() >= s.out_channels * s.patch_len());
        // SAFETY: as in `forward`; every tap of every real output pixel lies in xb.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            weight_grad_avx512(self, s, xb, dyb, dw)
        }
    }
}

/// Lays out up to 16 images of `n` elements each as `lanes[e][image]` (zero lanes past
/// the batch).
pub(crate) fn to_lanes(images: &[f32], n: usize, lanes: &mut [f32]) {
    if images.len() == LANES * n {
        return transpose(images, LANES, n, n, &mut lanes[..n * LANES]);
    }
    lanes[..n * LANES].fill(0.0);
    for (img, src) in images.chunks_exact(n).enumerate() {
        for (e, &v) in src.iter().enumerate() {
            lanes[e * LANES + img] = v;
        }
    }
}

/// The inverse of [`to_lanes`] for the images present: `images ← lanes + beta·images`.
/// A full block is transposed, straight into `images` when `beta` is 0, else into
/// `staging` (≥ 16·n elements) and then added, so the adds run over contiguous memory.
pub(crate) fn from_lanes(
    lanes: &[f32],
    n: usize,
    images: &mut [f32],
    beta: f32,
    staging: &mut [f32],
) {
    if images.len() == LANES * n {
        if beta == 0.0 {
            return transpose(&lanes[..n * LANES], n, LANES, LANES, images);
        }
        if staging.len() >= n * LANES {
            transpose(&lanes[..n * LANES], n, LANES, LANES, staging);
            images
                .iter_mut()
                .zip(staging.iter())
                .for_each(|(d, v)| *d = v + beta * *d);
            return;
        }
    }
    for (img, dst) in images.chunks_exact_mut(n).enumerate() {
        for (e, d) in dst.iter_mut().enumerate() {
            let v = lanes[e * LANES + img];
            *d = if beta == 0.0 { v } else { v + beta * *d };
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn weight_grad_avx512(
    b: &Blocked,
    s: &Conv2dShape,
    xb: &[f32],
    dyb: &[f32],
    dw: &mut [f32],
) {
    let cout = s.out_channels;
    let mut co = 0;
    while co < cout {
        let step = channel_tile(cout - co);
        for ci in 0..s.in_channels {
            for kh in 0..s.kernel_h {
                let mut kw = 0;
                while kw < s.kernel_w {
                    let taps = match s.kernel_w - kw {
                        1 => 1,
                        2 | 3 => 2,
                        4 | 5 => 4,
                        _ => 6,
                    };
                    let at = (ci, kh, kw);
                    match (step, taps) {
                        (1, 1) => weight_tile::<1, 1>(b, s, xb, dyb, dw, co, at),
                        (1, 2) => weight_tile::<1, 2>(b, s, xb, dyb, dw, co, at),
                        (1, 4) => weight_tile::<1, 4>(b, s, xb, dyb, dw, co, at),
                        (1, _) => weight_tile::<1, 6>(b, s, xb, dyb, dw, co, at),
                        (2, 1) => weight_tile::<2, 1>(b, s, xb, dyb, dw, co, at),
                        (2, 2) => weight_tile::<2, 2>(b, s, xb, dyb, dw, co, at),
                        (2, 4) => weight_tile::<2, 4>(b, s, xb, dyb, dw, co, at),
                        (2, _) => weight_tile::<2, 6>(b, s, xb, dyb, dw, co, at),
                        (_, 1) => weight_tile::<4, 1>(b, s, xb, dyb, dw, co, at),
                        (_, 2) => weight_tile::<4, 2>(b, s, xb, dyb, dw, co, at),
                        (_, 4) => weight_tile::<4, 4>(b, s, xb, dyb, dw, co, at),
                        (_, _) => weight_tile::<4, 6>(b, s, xb, dyb, dw, co, at),
                    }
                    kw += taps;
                }
            }
        }
        co += step;
    }
}

/// Output channels in the next tile when `left` remain: 4, else 2, else 1.
fn channel_tile(left: usize) -> usize {
    match left {
        1 => 1,
        2 | 3 => 2,
        _ => 4,
    }
}

/// Sum of 16 lanes in a fixed pairwise tree.
#[inline(always)]
fn lane_tree(v: [f32; LANES]) -> f32 {
    let mut a = v;
    let mut n = LANES;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            a[i] += a[i + n];
        }
    }
    a[0]
}

/// dW for channels `co..co + RC` and taps `(ci, kh, kw..kw + RT)` of one block.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // index loops over the register tile read clearest
unsafe fn weight_tile<const RC: usize, const RT: usize>(
    b: &Blocked,
    s: &Conv2dShape,
    xb: &[f32],
    dyb: &[f32],
    dw: &mut [f32],
    co: usize,
    (ci, kh, kw): (usize, usize, usize),
) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (sh, sw) = (s.stride_h, s.stride_w);
    let (x, d) = (xb.as_ptr(), dyb.as_ptr());
    let mut acc = [[_mm512_setzero_ps(); RT]; RC];
    for oh in 0..oh_n {
        let xrow = x.add(((ci * b.hq + oh * sh + kh) * b.wq + kw) * LANES);
        for ow in 0..ow_n {
            let mut dv = [_mm512_setzero_ps(); RC];
            for r in 0..RC {
                dv[r] = _mm512_loadu_ps(d.add((((co + r) * oh_n + oh) * ow_n + ow) * LANES));
            }
            let xp = xrow.add(ow * sw * LANES);
            for t in 0..RT {
                let xv = _mm512_loadu_ps(xp.add(t * LANES));
                for r in 0..RC {
                    acc[r][t] = _mm512_fmadd_ps(xv, dv[r], acc[r][t]);
                }
            }
        }
    }
    let k = s.patch_len();
    let t0 = (ci * s.kernel_h + kh) * s.kernel_w + kw;
    for r in 0..RC {
        for t in 0..RT {
            let mut lanes = [0.0f32; LANES];
            _mm512_storeu_ps(lanes.as_mut_ptr(), acc[r][t]);
            dw[(co + r) * k + t0 + t] = lane_tree(lanes);
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(b: &Blocked, s: &Conv2dShape, xb: &[f32], w: &[f32], yb: &mut [f32]) {
    let cout = s.out_channels;
    let mut co = 0;
    while co < cout {
        let step = channel_tile(cout - co);
        match step {
            1 => channels::<1>(b, s, xb, w, yb, co),
            2 => channels::<2>(b, s, xb, w, yb, co),
            _ => channels::<4>(b, s, xb, w, yb, co),
        }
        co += step;
    }
}

/// Output channels `co..co + RC` of one block, tile by tile.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // index loops over the register tile read clearest
unsafe fn channels<const RC: usize>(
    b: &Blocked,
    s: &Conv2dShape,
    xb: &[f32],
    w: &[f32],
    yb: &mut [f32],
    co: usize,
) {
    let (k, kh_n, kw_n) = (s.patch_len(), s.kernel_h, s.kernel_w);
    let (sh, sw) = (s.stride_h, s.stride_w);
    let (x, wp, y) = (xb.as_ptr(), w.as_ptr(), yb.as_mut_ptr());
    for oh in 0..s.out_h() {
        for ow0 in (0..b.owp).step_by(RQ) {
            let mut acc = [[_mm512_setzero_ps(); RQ]; RC];
            let mut t = 0;
            for ci in 0..s.in_channels {
                for kh in 0..kh_n {
                    let row = x.add(((ci * b.hq + oh * sh + kh) * b.wq + ow0 * sw) * LANES);
                    for kw in 0..kw_n {
                        let mut wv = [_mm512_setzero_ps(); RC];
                        for r in 0..RC {
                            wv[r] = _mm512_set1_ps(*wp.add((co + r) * k + t));
                        }
                        let xr = row.add(kw * LANES);
                        for q in 0..RQ {
                            let xv = _mm512_loadu_ps(xr.add(q * sw * LANES));
                            for r in 0..RC {
                                acc[r][q] = _mm512_fmadd_ps(xv, wv[r], acc[r][q]);
                            }
                        }
                        t += 1;
                    }
                }
            }
            for r in 0..RC {
                let out = y.add((((co + r) * s.out_h() + oh) * b.owp + ow0) * LANES);
                for q in 0..RQ {
                    _mm512_storeu_ps(out.add(q * LANES), acc[r][q]);
                }
            }
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::conv::direct::tests::{forward_reference, shape};

    /// Deterministic values in about [-3, 3] (`a`, `b` pick the pattern).
    pub(crate) fn values(n: usize, a: usize, b: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * a % b) as f32 - (b / 2) as f32) / 17.0)
            .collect()
    }

    #[test]
    fn weight_gradient_follows_the_documented_order_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        // Kernel widths through every tap run (6, 4, 2, 1); channel tiles 4, 2, 1.
        for (s, images) in [
            (shape(1, 16, 9, 5, 3, 1, 1), 5),
            (shape(1, 8, 10, 3, 4, 2, 1), 16),
            (shape(1, 4, 12, 7, 6, 1, 0), 11),
            (shape(1, 6, 8, 2, 5, 1, 2), 2),
            // A full block with no border: the transposing layouts.
            (shape(1, 3, 11, 5, 7, 1, 0), 16),
        ] {
            let bl = Blocked::new(&s).expect("AVX-512 and 128+ taps");
            let (k, cout) = (s.patch_len(), s.out_channels);
            let (oh, ow) = (s.out_h(), s.out_w());
            let x = values(images * s.in_image_len(), 37, 101);
            let dy = values(images * s.out_image_len(), 53, 97);
            let (xl, _) = bl.lens(&s);
            let (mut xb, mut dyb) = (vec![0.0; xl], vec![0.0; bl.dy_len(&s)]);
            bl.gather(&s, &x, &mut xb);
            bl.gather_dy(&s, &dy, &mut dyb);
            let mut got = vec![0.0; cout * k];
            bl.weight_grad(&s, &xb, &dyb, &mut got);
            for co in 0..cout {
                for t in 0..k {
                    let (ci, kh, kw) = (
                        t / (s.kernel_h * s.kernel_w),
                        t / s.kernel_w % s.kernel_h,
                        t % s.kernel_w,
                    );
                    let mut lanes = [0.0f32; LANES];
                    for (img, lane) in lanes.iter_mut().enumerate().take(images) {
                        let x_i = &x[img * s.in_image_len()..(img + 1) * s.in_image_len()];
                        for i in 0..oh {
                            for j in 0..ow {
                                let xv = crate::conv::direct::tests::tap_value(
                                    &s,
                                    x_i,
                                    ci,
                                    (i, j),
                                    (kh, kw),
                                );
                                let d = dy[img * s.out_image_len() + (co * oh + i) * ow + j];
                                *lane = xv.mul_add(d, *lane);
                            }
                        }
                    }
                    let want = lane_tree(lanes);
                    assert_eq!(
                        got[co * k + t].to_bits(),
                        want.to_bits(),
                        "{s:?} channel {co} tap {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn blocks_follow_the_documented_order_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        // Taps ≥ 128; channel counts through every tile height (4, 2, 1); a partial block.
        for (s, images) in [
            (shape(1, 16, 9, 5, 3, 1, 1), 5),
            (shape(1, 8, 10, 3, 4, 2, 1), 16),
            (shape(1, 4, 12, 1, 6, 1, 0), 3),
            (shape(1, 32, 5, 6, 2, 2, 0), 9),
            // A full block with no border and whole tiles: the transposing layouts.
            (shape(1, 3, 11, 5, 7, 1, 0), 16),
        ] {
            let bl = Blocked::new(&s).expect("AVX-512 and 128+ taps");
            let (k, cout, p) = (s.patch_len(), s.out_channels, s.out_h() * s.out_w());
            let x = values(images * s.in_image_len(), 37, 101);
            let w = values(cout * k, 53, 97);
            let (xl, yl) = bl.lens(&s);
            let (mut xb, mut yb) = (vec![0.0; xl], vec![0.0; yl]);
            bl.gather(&s, &x, &mut xb);
            bl.forward(&s, &xb, &w, &mut yb);
            let mut y = vec![7.0; images * s.out_image_len()];
            bl.scatter(&s, &yb, &mut y, 0.0);
            for (img, y_i) in y.chunks_exact(s.out_image_len()).enumerate() {
                let x_i = &x[img * s.in_image_len()..(img + 1) * s.in_image_len()];
                // The reference is transposed (P × Cout).
                let want = forward_reference(&s, x_i, &w);
                for co in 0..cout {
                    for q in 0..p {
                        assert_eq!(
                            y_i[co * p + q].to_bits(),
                            want[q * cout + co].to_bits(),
                            "{s:?} image {img} channel {co} pixel {q}"
                        );
                    }
                }
            }
        }
    }
}
