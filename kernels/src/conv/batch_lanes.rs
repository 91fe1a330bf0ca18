//! Convolution forward with the batch as the SIMD lanes: 16 images per vector.
//!
//! A block of 16 images is laid out as `xb[ci][r][c][image]` (zero border for the padding,
//! zero lanes past the batch). Then `yb[co][oh][ow][image] = Σ_t W[co][t] ·
//! xb[ci][oh·sh + kh][ow·sw + kw][image]`: a register tile of `RC` output channels × `RQ`
//! output pixels of one row is 24 vectors; per tap it broadcasts `RC` weights and loads
//! `RQ` input vectors for `RC·RQ` FMAs. Unlike [`super::direct`], whose lanes are output
//! channels, the tile's shape does not depend on the channel count, so 1-, 16- and
//! 32-channel layers run as fast as wide ones, and nothing is packed or gathered.
//!
//! Order: each output is one FMA chain over the taps in (ci, kh, kw) order from zero, the
//! order of [`super::direct`]'s forward, so the two give the same bits. AVX-512 only; the
//! caller keeps another path elsewhere.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::Conv2dShape;

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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn forward_avx512(b: &Blocked, s: &Conv2dShape, xb: &[f32], w: &[f32], yb: &mut [f32]) {
    let cout = s.out_channels;
    let mut co = 0;
    while co < cout {
        let step = match cout - co {
            1 => 1,
            2 | 3 => 2,
            _ => 4,
        };
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
mod tests {
    use super::*;
    use crate::conv::direct::tests::{forward_reference, shape};

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
        ] {
            let bl = Blocked::new(&s).expect("AVX-512 and 128+ taps");
            let (k, cout, p) = (s.patch_len(), s.out_channels, s.out_h() * s.out_w());
            let x: Vec<f32> = (0..images * s.in_image_len())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
                .collect();
            let w: Vec<f32> = (0..cout * k)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 13.0)
                .collect();
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
