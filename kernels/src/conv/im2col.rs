//! im2col / col2im for one NCHW image: the patch matrix of a convolution.
//!
//! `cols` is (Cin·KH·KW) × (OH·OW), row-major: row `(ci·KH + kh)·KW + kw`, column
//! `oh·OW + ow` holds `x[ci, oh·stride_h + kh − pad_h, ow·stride_w + kw − pad_w]`, or 0
//! where that position falls in the padding.

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

/// Fills `cols` ((Cin·KH·KW) × (OH·OW)) with the patches of one image `x` (Cin, H, W).
///
/// # Panics
/// If `x` or `cols` is shorter than one image / one patch matrix.
pub fn im2col(s: &Conv2dShape, x: &[f32], cols: &mut [f32]) {
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let p = oh_n * ow_n;
    assert!(
        x.len() >= s.in_image_len(),
        "im2col: x shorter than one image"
    );
    assert!(
        cols.len() >= s.patch_len() * p,
        "im2col: cols shorter than K·P"
    );
    let (h, w) = (s.in_h, s.in_w);
    let mut row = 0;
    for ci in 0..s.in_channels {
        let plane = &x[ci * h * w..(ci + 1) * h * w];
        for kh in 0..s.kernel_h {
            let (oh_lo, oh_hi) = valid_range(oh_n, h, s.stride_h, kh, s.pad_h);
            for kw in 0..s.kernel_w {
                let dst = &mut cols[row * p..(row + 1) * p];
                row += 1;
                let (ow_lo, ow_hi) = valid_range(ow_n, w, s.stride_w, kw, s.pad_w);
                dst[..oh_lo * ow_n].fill(0.0);
                dst[oh_hi * ow_n..].fill(0.0);
                for oh in oh_lo..oh_hi {
                    let ih = oh * s.stride_h + kh - s.pad_h;
                    let src = &plane[ih * w..(ih + 1) * w];
                    let d = &mut dst[oh * ow_n..(oh + 1) * ow_n];
                    d[..ow_lo].fill(0.0);
                    d[ow_hi..].fill(0.0);
                    if ow_lo == ow_hi {
                        continue;
                    }
                    let iw0 = ow_lo * s.stride_w + kw - s.pad_w;
                    if s.stride_w == 1 {
                        d[ow_lo..ow_hi].copy_from_slice(&src[iw0..iw0 + (ow_hi - ow_lo)]);
                    } else {
                        let src = &src[iw0..];
                        for (o, v) in d[ow_lo..ow_hi].iter_mut().enumerate() {
                            *v = src[o * s.stride_w];
                        }
                    }
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
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let p = oh_n * ow_n;
    assert!(
        dx.len() >= s.in_image_len(),
        "col2im: dx shorter than one image"
    );
    assert!(
        cols.len() >= s.patch_len() * p,
        "col2im: cols shorter than K·P"
    );
    let (h, w) = (s.in_h, s.in_w);
    let mut row = 0;
    for ci in 0..s.in_channels {
        let plane = &mut dx[ci * h * w..(ci + 1) * h * w];
        for kh in 0..s.kernel_h {
            let (oh_lo, oh_hi) = valid_range(oh_n, h, s.stride_h, kh, s.pad_h);
            for kw in 0..s.kernel_w {
                let src_rows = &cols[row * p..(row + 1) * p];
                row += 1;
                let (ow_lo, ow_hi) = valid_range(ow_n, w, s.stride_w, kw, s.pad_w);
                if ow_lo == ow_hi {
                    continue;
                }
                for oh in oh_lo..oh_hi {
                    let ih = oh * s.stride_h + kh - s.pad_h;
                    let iw0 = ow_lo * s.stride_w + kw - s.pad_w;
                    let d = &mut plane[ih * w + iw0..(ih + 1) * w];
                    let src = &src_rows[oh * ow_n + ow_lo..oh * ow_n + ow_hi];
                    if s.stride_w == 1 {
                        for (a, b) in d.iter_mut().zip(src) {
                            *a += *b;
                        }
                    } else {
                        for (o, v) in src.iter().enumerate() {
                            d[o * s.stride_w] += *v;
                        }
                    }
                }
            }
        }
    }
}
