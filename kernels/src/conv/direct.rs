//! Direct convolution forward and weight gradient: no patch matrix, no packing.
//!
//! With the input zero-padded to `xp` (Cin × Hp × Wp), tap `t = (ci, kh, kw)` at offset
//! `off_t = ci·Hp·Wp + kh·Wp + kw` and output pixel `q = (oh, ow)` at `base_q = oh·sh·Wp +
//! ow·sw`, a convolution is `y[co][q] = Σ_t W[co][t] · xp[off_t + base_q]` and its weight
//! gradient `dW[co][t] = Σ_n Σ_q dy_n[co][q] · xp_n[off_t + base_q]`.
//!
//! Both are one kernel: a tile of `RT` rows (taps for dW, pixels for y) × `CV` vectors of
//! output channels stays in registers while the other index runs; per step it loads `CV`
//! vectors (of dyᵀ, dy transposed to P × Cout, or of Wᵀ, K × Cout) and broadcasts `RT`
//! input values: `RT·CV` FMAs. An im2col GEMM with only Cout rows spends about as long
//! building, transposing and packing its patch matrix as multiplying; here every loaded
//! value feeds `CV` or `RT` FMAs straight from cache.
//!
//! Order: each output is one FMA chain `acc ← x·v + acc` from zero: over the taps in
//! (ci, kh, kw) order for y; over the pixels in row-major order, images in order, for dW
//! (per batch chunk, chunks as in [`super::conv2d`]). The AVX-512 and AVX2 builds run the
//! same chain per element, so they give identical bits; without either, the caller keeps
//! the im2col path.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::Conv2dShape;

/// A SIMD vector of f32 lanes.
trait Lanes: Copy {
    /// Lanes per vector.
    const L: usize;
    unsafe fn load(p: *const f32) -> Self;
    unsafe fn store(self, p: *mut f32);
    unsafe fn splat(v: f32) -> Self;
    /// `a·b + c`, rounded once.
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self;
}

#[cfg(target_arch = "x86_64")]
impl Lanes for __m512 {
    const L: usize = 16;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm512_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm512_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm512_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        _mm512_fmadd_ps(a, b, c)
    }
}

#[cfg(target_arch = "x86_64")]
impl Lanes for __m256 {
    const L: usize = 8;
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        _mm256_loadu_ps(p)
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        _mm256_storeu_ps(p, self)
    }
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        _mm256_set1_ps(v)
    }
    #[inline(always)]
    unsafe fn fma(a: Self, b: Self, c: Self) -> Self {
        _mm256_fmadd_ps(a, b, c)
    }
}

/// Index arithmetic shared by every image of a call.
pub(crate) struct Plan {
    /// Padded input height and width.
    hp: usize,
    wp: usize,
    /// Offset of each tap in the padded image, taps in dW order (ci, kh, kw).
    offs: Vec<usize>,
    /// Offset of each output pixel's window corner, pixels in row-major order, then
    /// repeats of the last one up to a whole number of forward tiles.
    bases: Vec<usize>,
    /// Output pixels per image.
    pixels: usize,
    /// f32 lanes per vector, vectors of output channels per tile.
    lanes: usize,
    cv: usize,
    /// Taps per weight-gradient tile (0: no tiling fits), pixels per forward tile.
    weight_rt: usize,
    forward_rt: usize,
    /// True for AVX-512, false for AVX2.
    wide: bool,
}

/// Tile lengths (taps or pixels) that the kernels are built for.
const TILES: [usize; 9] = [24, 16, 12, 8, 6, 4, 3, 2, 1];

impl Plan {
    /// The plan for `s`, or `None` when this CPU has neither AVX-512 nor AVX2 + FMA or
    /// the output channels are not a whole number of vectors.
    pub(crate) fn new(s: &Conv2dShape) -> Option<Plan> {
        Plan::with_width(s, simd_width()?)
    }

    /// As [`Plan::new`] for AVX-512 (`wide`) or AVX2; the caller checks the CPU.
    fn with_width(s: &Conv2dShape, wide: bool) -> Option<Plan> {
        // Lanes, and accumulators that leave room for the loaded operands (32 zmm, 16 ymm).
        let (lanes, budget) = if wide { (16, 24) } else { (8, 12) };
        let cout = s.out_channels;
        if cout == 0 || !cout.is_multiple_of(lanes) {
            return None;
        }
        let vectors = cout / lanes;
        let cv = [4, 3, 2, 1]
            .into_iter()
            .find(|&c| vectors.is_multiple_of(c))?;
        let k = s.patch_len();
        // Weight tiles must divide the taps; forward tiles may overrun the pixels (the
        // extra rows are computed from repeated bases and dropped).
        let weight_rt = TILES
            .into_iter()
            .find(|&r| r * cv <= budget && k.is_multiple_of(r))
            .filter(|r| r * cv >= 6)
            .unwrap_or(0);
        let forward_rt = budget / cv;
        let (hp, wp) = (s.in_h + 2 * s.pad_h, s.in_w + 2 * s.pad_w);
        let mut offs = Vec::with_capacity(k);
        for ci in 0..s.in_channels {
            for kh in 0..s.kernel_h {
                for kw in 0..s.kernel_w {
                    offs.push(ci * hp * wp + kh * wp + kw);
                }
            }
        }
        let pixels = s.out_h() * s.out_w();
        let mut bases = Vec::with_capacity(pixels.next_multiple_of(forward_rt));
        for oh in 0..s.out_h() {
            for ow in 0..s.out_w() {
                bases.push(oh * s.stride_h * wp + ow * s.stride_w);
            }
        }
        bases.resize(pixels.next_multiple_of(forward_rt), *bases.last()?);
        Some(Plan {
            hp,
            wp,
            offs,
            bases,
            pixels,
            lanes,
            cv,
            weight_rt,
            forward_rt,
            wide,
        })
    }

    /// True when the weight gradient has a tiling worth running.
    pub(crate) fn has_weight_tiles(&self) -> bool {
        self.weight_rt > 0
    }

    /// True when a tile holds 3 or more vectors of output channels (48+ channels on
    /// AVX-512). With fewer, a tile broadcasts one input value per 2 FMAs, which costs
    /// more than the alternatives: measured at batch 200 on AVX-512, 32 channels 6×6
    /// forward 129 GFLOP/s here against 148 for the GEMM and 165 for the batch-lane
    /// kernel, weight gradient 132–137 against 161–167 (batch lanes); 64 channels 4×4
    /// stride 2 forward 180 against 123 (GEMM) and 178 (batch lanes), weight gradient
    /// 149–170 against 127 (batch lanes).
    pub(crate) fn is_wide(&self) -> bool {
        self.cv * self.lanes >= 48
    }

    /// Rows of the transposed output a forward image needs (pixels rounded up to tiles).
    pub(crate) fn forward_rows(&self) -> usize {
        self.bases.len()
    }

    /// Elements of the padded image.
    pub(crate) fn padded_len(&self, s: &Conv2dShape) -> usize {
        s.in_channels * self.hp * self.wp
    }

    /// Copies image `x` (Cin × H × W) into `xp` with a zero border.
    pub(crate) fn pad(&self, s: &Conv2dShape, x: &[f32], xp: &mut [f32]) {
        let (h, w) = (s.in_h, s.in_w);
        xp.fill(0.0);
        for ci in 0..s.in_channels {
            for r in 0..h {
                let dst = ci * self.hp * self.wp + (r + s.pad_h) * self.wp + s.pad_w;
                let src = (ci * h + r) * w;
                xp[dst..dst + w].copy_from_slice(&x[src..src + w]);
            }
        }
    }

    /// `acc_t (K × Cout) += Σ_q dyt[q][co] · xp[off_t + base_q]` for one image: `xp` its
    /// padded input, `dyt` its output gradient transposed (P × Cout). Needs
    /// [`Plan::has_weight_tiles`].
    pub(crate) fn weight_grad(&self, xp: &[f32], dyt: &[f32], cout: usize, acc_t: &mut [f32]) {
        assert!(self.has_weight_tiles(), "weight_grad without a tiling");
        self.run(
            xp,
            &self.offs,
            &self.bases[..self.pixels],
            dyt,
            cout,
            acc_t,
            self.weight_rt,
        );
    }

    /// `yt[q][co] += Σ_t wt[t][co] · xp[off_t + base_q]` for one image: `wt` the weights
    /// transposed (K × Cout), `yt` [`Plan::forward_rows`] × Cout (rows past the pixels
    /// receive values to be ignored).
    pub(crate) fn forward(&self, xp: &[f32], wt: &[f32], cout: usize, yt: &mut [f32]) {
        self.run(xp, &self.bases, &self.offs, wt, cout, yt, self.forward_rt);
    }

    /// `acc[i][co] += Σ_j vecs[j][co] · xp[fixed_i + looped_j]`, `fixed` in tiles of `rt`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        xp: &[f32],
        fixed: &[usize],
        looped: &[usize],
        vecs: &[f32],
        cout: usize,
        acc: &mut [f32],
        rt: usize,
    ) {
        let far = fixed.iter().max().unwrap_or(&0) + looped.iter().max().unwrap_or(&0);
        assert!(fixed.is_empty() || looped.is_empty() || xp.len() > far);
        assert!(vecs.len() >= looped.len() * cout);
        assert!(acc.len() >= fixed.len() * cout);
        assert_eq!(fixed.len() % rt, 0);
        let k = Kernel {
            xp,
            fixed,
            looped,
            vecs,
            cout,
            cv: self.cv,
            rt,
        };
        // SAFETY: the CPU has the feature the plan was made for (checked in `new`), and
        // every index the kernels form is below the lengths asserted above.
        #[cfg(target_arch = "x86_64")]
        unsafe {
            if self.wide {
                run_avx512(&k, acc)
            } else {
                run_avx2(&k, acc)
            }
        }
    }
}

/// The operands of one [`Plan::run`].
struct Kernel<'a> {
    xp: &'a [f32],
    fixed: &'a [usize],
    looped: &'a [usize],
    vecs: &'a [f32],
    cout: usize,
    cv: usize,
    rt: usize,
}

/// `Some(true)` with AVX-512F, `Some(false)` with AVX2 + FMA, else `None`.
fn simd_width() -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Some(true);
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Some(false);
        }
    }
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn run_avx512(k: &Kernel, acc: &mut [f32]) {
    tiles::<__m512>(k, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn run_avx2(k: &Kernel, acc: &mut [f32]) {
    tiles::<__m256>(k, acc)
}

/// Every (channel block, tile of `fixed`) through [`tile`], with the tile sizes as
/// constants.
#[inline(always)]
unsafe fn tiles<V: Lanes>(k: &Kernel, acc: &mut [f32]) {
    macro_rules! run {
        ($cv:literal, $rt:literal) => {
            for co in (0..k.cout).step_by($cv * V::L) {
                for i0 in (0..k.fixed.len()).step_by($rt) {
                    tile::<V, $cv, $rt>(k, i0, co, &mut acc[i0 * k.cout..]);
                }
            }
        };
    }
    match (k.cv, k.rt) {
        (1, 24) => run!(1, 24),
        (1, 16) => run!(1, 16),
        (1, 12) => run!(1, 12),
        (1, 8) => run!(1, 8),
        (1, 6) => run!(1, 6),
        (2, 12) => run!(2, 12),
        (2, 8) => run!(2, 8),
        (2, 6) => run!(2, 6),
        (2, 4) => run!(2, 4),
        (2, 3) => run!(2, 3),
        (3, 8) => run!(3, 8),
        (3, 6) => run!(3, 6),
        (3, 4) => run!(3, 4),
        (3, 3) => run!(3, 3),
        (3, 2) => run!(3, 2),
        (4, 6) => run!(4, 6),
        (4, 4) => run!(4, 4),
        (4, 3) => run!(4, 3),
        (4, 2) => run!(4, 2),
        (cv, rt) => unreachable!("no kernel for {cv} vectors × {rt} rows"),
    }
}

/// One tile: rows `i0..i0 + RT` of `fixed` × `CV` vectors of channels from `co`, over
/// every entry of `looped`. `acc` starts at the tile's first row (row stride `cout`).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // index loops over the register tile read clearest
unsafe fn tile<V: Lanes, const CV: usize, const RT: usize>(
    k: &Kernel,
    i0: usize,
    co: usize,
    acc: &mut [f32],
) {
    let cout = k.cout;
    let mut a = [[V::splat(0.0); CV]; RT];
    let ap = acc.as_mut_ptr().add(co);
    for t in 0..RT {
        for c in 0..CV {
            a[t][c] = V::load(ap.add(t * cout + c * V::L));
        }
    }
    let mut o = [0usize; RT];
    o.copy_from_slice(&k.fixed[i0..i0 + RT]);
    let (x, d) = (k.xp.as_ptr(), k.vecs.as_ptr().add(co));
    for (j, &b) in k.looped.iter().enumerate() {
        let mut dv = [V::splat(0.0); CV];
        for c in 0..CV {
            dv[c] = V::load(d.add(j * cout + c * V::L));
        }
        let xb = x.add(b);
        for t in 0..RT {
            let xv = V::splat(*xb.add(o[t]));
            for c in 0..CV {
                a[t][c] = V::fma(xv, dv[c], a[t][c]);
            }
        }
    }
    for t in 0..RT {
        for c in 0..CV {
            a[t][c].store(ap.add(t * cout + c * V::L));
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) fn shape(
        n: usize,
        ci: usize,
        h: usize,
        co: usize,
        k: usize,
        st: usize,
        pad: usize,
    ) -> Conv2dShape {
        Conv2dShape {
            batch: n,
            in_channels: ci,
            in_h: h,
            in_w: h + 1,
            out_channels: co,
            kernel_h: k,
            kernel_w: k,
            stride_h: st,
            stride_w: st,
            pad_h: pad,
            pad_w: pad,
        }
    }

    /// The input value under tap (kh, kw) of output pixel (i, j) in channel ci (0 in the
    /// padding).
    pub(crate) fn tap_value(
        s: &Conv2dShape,
        x: &[f32],
        ci: usize,
        (i, j): (usize, usize),
        (kh, kw): (usize, usize),
    ) -> f32 {
        let r = (i * s.stride_h + kh) as isize - s.pad_h as isize;
        let c = (j * s.stride_w + kw) as isize - s.pad_w as isize;
        let inside = r >= 0 && c >= 0 && (r as usize) < s.in_h && (c as usize) < s.in_w;
        if inside {
            x[(ci * s.in_h + r as usize) * s.in_w + c as usize]
        } else {
            0.0
        }
    }

    /// dWᵀ of one image by the documented order in scalar code: per element one FMA
    /// chain over the output pixels, from `acc`'s value.
    fn reference(s: &Conv2dShape, x: &[f32], dy: &[f32], acc: &mut [f32]) {
        let (oh, ow, cout) = (s.out_h(), s.out_w(), s.out_channels);
        let mut t = 0;
        for ci in 0..s.in_channels {
            for kh in 0..s.kernel_h {
                for kw in 0..s.kernel_w {
                    for co in 0..cout {
                        let mut a = acc[t * cout + co];
                        for i in 0..oh {
                            for j in 0..ow {
                                let xv = tap_value(s, x, ci, (i, j), (kh, kw));
                                a = xv.mul_add(dy[(co * oh + i) * ow + j], a);
                            }
                        }
                        acc[t * cout + co] = a;
                    }
                    t += 1;
                }
            }
        }
    }

    /// y of one image, transposed (P × Cout), by the documented order in scalar code:
    /// per element one FMA chain over the taps from zero.
    pub(crate) fn forward_reference(s: &Conv2dShape, x: &[f32], w: &[f32]) -> Vec<f32> {
        let (oh, ow, cout, k) = (s.out_h(), s.out_w(), s.out_channels, s.patch_len());
        let mut yt = vec![0.0f32; oh * ow * cout];
        for i in 0..oh {
            for j in 0..ow {
                for co in 0..cout {
                    let mut a = 0.0f32;
                    for ci in 0..s.in_channels {
                        for kh in 0..s.kernel_h {
                            for kw in 0..s.kernel_w {
                                let xv = tap_value(s, x, ci, (i, j), (kh, kw));
                                let t = (ci * s.kernel_h + kh) * s.kernel_w + kw;
                                a = xv.mul_add(w[co * k + t], a);
                            }
                        }
                    }
                    yt[(i * ow + j) * cout + co] = a;
                }
            }
        }
        yt
    }

    #[test]
    fn forward_of_both_widths_follows_the_documented_order_bit_for_bit() {
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        let mut checked = 0;
        for s in [
            shape(1, 1, 12, 16, 6, 1, 0),
            shape(1, 3, 9, 32, 4, 2, 1),
            shape(1, 2, 7, 48, 3, 1, 1),
            shape(1, 5, 6, 64, 2, 2, 0),
            shape(1, 4, 8, 8, 3, 1, 2),
        ] {
            let (k, cout, p) = (s.patch_len(), s.out_channels, s.out_h() * s.out_w());
            let x: Vec<f32> = (0..s.in_image_len())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
                .collect();
            let w: Vec<f32> = (0..cout * k)
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 13.0)
                .collect();
            let want = forward_reference(&s, &x, &w);
            let mut wt = vec![0.0; k * cout];
            crate::transpose::transpose(&w, cout, k, k, &mut wt);
            for (wide, has) in [(true, avx512), (false, avx2)] {
                let Some(plan) = Plan::with_width(&s, wide).filter(|_| has) else {
                    continue;
                };
                let mut xp = vec![0.0; plan.padded_len(&s)];
                plan.pad(&s, &x, &mut xp);
                let mut yt = vec![0.0; plan.forward_rows() * cout];
                plan.forward(&xp, &wt, cout, &mut yt);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&yt[..p * cout]), bits(&want), "{s:?} wide {wide}");
                checked += 1;
            }
        }
        assert_eq!(checked, 5 * avx2 as usize + 4 * avx512 as usize);
    }

    #[test]
    fn both_widths_follow_the_documented_order_bit_for_bit() {
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        let shapes = [
            shape(1, 1, 12, 16, 6, 1, 0),
            shape(1, 3, 9, 32, 4, 2, 1),
            shape(1, 2, 7, 48, 3, 1, 1),
            shape(1, 5, 6, 64, 2, 2, 0),
            shape(1, 4, 8, 8, 3, 1, 2),
        ];
        let mut checked = 0;
        for s in shapes {
            let (k, cout, p) = (s.patch_len(), s.out_channels, s.out_h() * s.out_w());
            let x: Vec<f32> = (0..s.in_image_len())
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
                .collect();
            let dy: Vec<f32> = (0..s.out_image_len())
                .map(|i| ((i * 53 % 97) as f32 - 48.0) / 13.0)
                .collect();
            let start: Vec<f32> = (0..k * cout).map(|i| (i % 7) as f32 * 0.125).collect();
            let mut want = start.clone();
            reference(&s, &x, &dy, &mut want);
            let mut dyt = vec![0.0; p * cout];
            crate::transpose::transpose(&dy, cout, p, p, &mut dyt);
            for (wide, has) in [(true, avx512), (false, avx2)] {
                let Some(plan) = Plan::with_width(&s, wide).filter(|p| has && p.has_weight_tiles())
                else {
                    continue;
                };
                let mut xp = vec![0.0; plan.padded_len(&s)];
                plan.pad(&s, &x, &mut xp);
                let mut got = start.clone();
                plan.weight_grad(&xp, &dyt, cout, &mut got);
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{s:?} wide {wide}");
                checked += 1;
            }
        }
        // Every shape has an AVX2 plan, all but the 8-channel one an AVX-512 plan.
        assert_eq!(checked, 5 * avx2 as usize + 4 * avx512 as usize);
    }
}
