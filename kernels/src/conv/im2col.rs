//! im2col / col2im for one NCHW image: the patch matrix of a convolution.
//!
//! `cols` is (Cin·KH·KW) × (OH·OW): row `(ci·KH + kh)·KW + kw`, column `oh·OW + ow`
//! holds `x[ci, oh·stride_h + kh − pad_h, ow·stride_w + kw − pad_w]`, or 0 where that
//! position falls in the padding. The crate-internal variants take the row stride of
//! `cols` (`ld`), so several images can sit side by side in one wide patch matrix, and
//! [`crate::transpose::transpose`] turns it into (G·OH·OW) × (Cin·KH·KW), the layout the weight gradient's
//! GEMM packs fastest.
//!
//! Row phases: for a fixed (ci, kw) and `kh ≡ φ (mod stride_h)`, row (ci, kh, kw) is
//! the window starting at output row `kh / stride_h` of one buffer `z_φ` holding, for
//! every padded input row `r·stride_h + φ`, its OW entries `ow·stride_w + kw − pad_w`.
//! So the short per-output-row gathers are done once per (ci, kw, φ) (about H rows in
//! all), and every patch row is one contiguous copy (or add, for col2im) of OH·OW values.

use super::Conv2dShape;

/// The output columns `ow` whose input column `ow·stride + k − pad` lies in `0..len`,
/// as a half-open range within `0..out`.
#[inline]
fn valid_range(out: usize, len: usize, stride: usize, k: usize, pad: usize) -> (usize, usize) {
    // first ow with ow·stride + k ≥ pad
    let lo = if k >= pad {
        0
    } else {
        (pad - k).div_ceil(stride)
    };
    // first ow with ow·stride + k − pad ≥ len
    let hi = if k >= len + pad {
        0
    } else {
        (len + pad - k).div_ceil(stride)
    };
    let hi = hi.min(out);
    (lo.min(hi), hi)
}

/// Rows of a phase buffer: padded input rows `r·stride_h + φ` for r < this.
fn phase_rows(s: &Conv2dShape) -> usize {
    (s.in_h + 2 * s.pad_h).div_ceil(s.stride_h)
}

/// Fills `z` (phase_rows × OW): `z[r·OW + ow] = plane[r·stride_h + φ − pad_h,
/// ow·stride_w + kw − pad_w]`, 0 where that falls in the padding.
fn fill_phase(s: &Conv2dShape, plane: &[f32], kw: usize, phase: usize, z: &mut [f32]) {
    let ow_n = s.out_w();
    let (h, w) = (s.in_h, s.in_w);
    let (ow_lo, ow_hi) = valid_range(ow_n, w, s.stride_w, kw, s.pad_w);
    for (r, d) in z.chunks_exact_mut(ow_n).enumerate() {
        let row = r * s.stride_h + phase;
        if row < s.pad_h || row >= s.pad_h + h || ow_lo == ow_hi {
            d.fill(0.0);
            continue;
        }
        let ih = row - s.pad_h;
        d[..ow_lo].fill(0.0);
        d[ow_hi..].fill(0.0);
        let iw0 = ow_lo * s.stride_w + kw - s.pad_w;
        let src = &plane[ih * w + iw0..(ih + 1) * w];
        if s.stride_w == 1 {
            copy_short(&mut d[ow_lo..ow_hi], &src[..ow_hi - ow_lo]);
        } else {
            for (o, v) in d[ow_lo..ow_hi].iter_mut().enumerate() {
                *v = src[o * s.stride_w];
            }
        }
    }
}

/// Adds `z` (the layout of [`fill_phase`]) back into `plane`, dropping padding entries.
fn add_phase(s: &Conv2dShape, z: &[f32], kw: usize, phase: usize, plane: &mut [f32]) {
    let ow_n = s.out_w();
    let (h, w) = (s.in_h, s.in_w);
    let (ow_lo, ow_hi) = valid_range(ow_n, w, s.stride_w, kw, s.pad_w);
    if ow_lo == ow_hi {
        return;
    }
    let iw0 = ow_lo * s.stride_w + kw - s.pad_w;
    for (r, src) in z.chunks_exact(ow_n).enumerate() {
        let row = r * s.stride_h + phase;
        if row < s.pad_h || row >= s.pad_h + h {
            continue;
        }
        let ih = row - s.pad_h;
        let src = &src[ow_lo..ow_hi];
        if s.stride_w == 1 {
            let d = &mut plane[ih * w + iw0..ih * w + iw0 + src.len()];
            d.iter_mut().zip(src).for_each(|(a, b)| *a += *b);
        } else {
            let d = &mut plane[ih * w + iw0..(ih + 1) * w];
            for (o, v) in src.iter().enumerate() {
                d[o * s.stride_w] += *v;
            }
        }
    }
}

/// Fills `cols` ((Cin·KH·KW) × (OH·OW)) with the patches of one image `x` (Cin, H, W).
///
/// # Panics
/// If `x` or `cols` is shorter than one image / one patch matrix.
pub fn im2col(s: &Conv2dShape, x: &[f32], cols: &mut [f32]) {
    let p = s.out_h() * s.out_w();
    assert!(
        cols.len() >= s.patch_len() * p,
        "im2col: cols shorter than K·P"
    );
    im2col_ld(s, x, cols, p);
}

/// [`im2col`] into a patch matrix whose rows are `ld ≥ OH·OW` apart (only the first
/// OH·OW entries of each row are written).
pub(crate) fn im2col_ld(s: &Conv2dShape, x: &[f32], cols: &mut [f32], ld: usize) {
    let (ow_n, p) = (s.out_w(), s.out_h() * s.out_w());
    assert!(
        x.len() >= s.in_image_len(),
        "im2col: x shorter than one image"
    );
    assert!(
        ld >= p && cols.len() >= (s.patch_len() - 1) * ld + p,
        "im2col: cols too short"
    );
    let (h, w, kh_n, kw_n) = (s.in_h, s.in_w, s.kernel_h, s.kernel_w);
    let mut z = vec![0.0f32; phase_rows(s) * ow_n];
    for ci in 0..s.in_channels {
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        for kw in 0..kw_n {
            for phase in 0..s.stride_h.min(kh_n) {
                fill_phase(s, plane, kw, phase, &mut z);
                for kh in (phase..kh_n).step_by(s.stride_h) {
                    let row = (ci * kh_n + kh) * kw_n + kw;
                    let q = kh / s.stride_h;
                    cols[row * ld..row * ld + p].copy_from_slice(&z[q * ow_n..q * ow_n + p]);
                }
            }
        }
    }
}

/// Adds the patch matrix `cols` ((Cin·KH·KW) × (OH·OW)) back into one image `dx`
/// (Cin, H, W): the adjoint of [`im2col`]. **Accumulates** into `dx`; entries that fall
/// in the padding are dropped.
///
/// # Panics
/// If `dx` or `cols` is shorter than one image / one patch matrix.
pub fn col2im(s: &Conv2dShape, cols: &[f32], dx: &mut [f32]) {
    let p = s.out_h() * s.out_w();
    assert!(
        cols.len() >= s.patch_len() * p,
        "col2im: cols shorter than K·P"
    );
    col2im_ld(s, cols, p, dx);
}

/// [`col2im`] from a patch matrix whose rows are `ld ≥ OH·OW` apart.
pub(crate) fn col2im_ld(s: &Conv2dShape, cols: &[f32], ld: usize, dx: &mut [f32]) {
    let (ow_n, p) = (s.out_w(), s.out_h() * s.out_w());
    assert!(
        dx.len() >= s.in_image_len(),
        "col2im: dx shorter than one image"
    );
    assert!(
        ld >= p && cols.len() >= (s.patch_len() - 1) * ld + p,
        "col2im: cols too short"
    );
    let (h, w, kh_n, kw_n) = (s.in_h, s.in_w, s.kernel_h, s.kernel_w);
    let mut z = vec![0.0f32; phase_rows(s) * ow_n];
    for ci in 0..s.in_channels {
        let plane = &mut dx[ci * h * w..(ci + 1) * h * w];
        for kw in 0..kw_n {
            for phase in 0..s.stride_h.min(kh_n) {
                z.fill(0.0);
                for kh in (phase..kh_n).step_by(s.stride_h) {
                    let row = (ci * kh_n + kh) * kw_n + kw;
                    let q = kh / s.stride_h;
                    let src = &cols[row * ld..row * ld + p];
                    z[q * ow_n..q * ow_n + p]
                        .iter_mut()
                        .zip(src)
                        .for_each(|(a, b)| *a += *b);
                }
                add_phase(s, &z, kw, phase, plane);
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for short rows (a kernel width, an output row): fixed-size
/// chunks compile to inline vector moves, where a variable-length copy would become a
/// `memcpy` call costing more than the copy itself (measured: im2col 3× faster).
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let n = dst.len();
    let src = &src[..n];
    let mut i = 0;
    while i + 8 <= n {
        let s: &[f32; 8] = src[i..i + 8].try_into().unwrap();
        dst[i..i + 8].copy_from_slice(s);
        i += 8;
    }
    if i + 4 <= n {
        let s: &[f32; 4] = src[i..i + 4].try_into().unwrap();
        dst[i..i + 4].copy_from_slice(s);
        i += 4;
    }
    if i + 2 <= n {
        let s: &[f32; 2] = src[i..i + 2].try_into().unwrap();
        dst[i..i + 2].copy_from_slice(s);
        i += 2;
    }
    if i < n {
        dst[i] = src[i];
    }
}
