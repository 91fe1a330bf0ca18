//! Direct-loop reference convolutions (f64 accumulation), written from the definitions
//! and independently of each other: the transposed ones do not reuse the conv ones.

use super::{Conv2dShape, ConvTranspose2dShape};

/// Input index `o·stride + k − pad` if it lies in `0..len`.
#[inline]
fn tap(o: usize, k: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
    (o * stride + k).checked_sub(pad).filter(|&i| i < len)
}

/// Reference for [`super::conv2d_forward`]:
/// `y[n,co,oh,ow] = bias[co] + Σ_{ci,kh,kw} x[n,ci,oh·sh+kh−ph, ow·sw+kw−pw]·w[co,ci,kh,kw]`.
pub fn conv2d_forward_naive(
    s: &Conv2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    for n in 0..s.batch {
        for co in 0..cout {
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    let mut acc = bias.map_or(0.0, |b| b[co] as f64);
                    for ci in 0..cin {
                        for kh in 0..kh_n {
                            let Some(ih) = tap(oh, kh, s.stride_h, s.pad_h, s.in_h) else {
                                continue;
                            };
                            for kw in 0..kw_n {
                                let Some(iw) = tap(ow, kw, s.stride_w, s.pad_w, s.in_w) else {
                                    continue;
                                };
                                let xv = x[((n * cin + ci) * s.in_h + ih) * s.in_w + iw];
                                let wv = w[((co * cin + ci) * kh_n + kh) * kw_n + kw];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    y[((n * cout + co) * oh_n + oh) * ow_n + ow] = acc as f32;
                }
            }
        }
    }
}

/// Reference for [`super::conv2d_backward_data`]: scatters `dy[n,co,oh,ow]·w[co,ci,kh,kw]`
/// to `dx[n,ci,oh·sh+kh−ph, ow·sw+kw−pw]`. Accumulates.
pub fn conv2d_backward_data_naive(s: &Conv2dShape, dy: &[f32], w: &[f32], dx: &mut [f32]) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    let mut acc = vec![0.0f64; s.batch * s.in_image_len()];
    for n in 0..s.batch {
        for co in 0..cout {
            for oh in 0..oh_n {
                for ow in 0..ow_n {
                    let g = dy[((n * cout + co) * oh_n + oh) * ow_n + ow] as f64;
                    for ci in 0..cin {
                        for kh in 0..kh_n {
                            let Some(ih) = tap(oh, kh, s.stride_h, s.pad_h, s.in_h) else {
                                continue;
                            };
                            for kw in 0..kw_n {
                                let Some(iw) = tap(ow, kw, s.stride_w, s.pad_w, s.in_w) else {
                                    continue;
                                };
                                let wv = w[((co * cin + ci) * kh_n + kh) * kw_n + kw] as f64;
                                acc[((n * cin + ci) * s.in_h + ih) * s.in_w + iw] += g * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    dx.iter_mut()
        .zip(&acc)
        .for_each(|(d, a)| *d = (*d as f64 + a) as f32);
}

/// Reference for [`super::conv2d_backward_weight`]:
/// `dw[co,ci,kh,kw] += Σ_{n,oh,ow} dy[n,co,oh,ow]·x[n,ci,ih,iw]`, `db[co] += Σ dy[n,co,·,·]`.
pub fn conv2d_backward_weight_naive(
    s: &Conv2dShape,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    for co in 0..cout {
        for ci in 0..cin {
            for kh in 0..kh_n {
                for kw in 0..kw_n {
                    let mut acc = 0.0f64;
                    for n in 0..s.batch {
                        for oh in 0..oh_n {
                            let Some(ih) = tap(oh, kh, s.stride_h, s.pad_h, s.in_h) else {
                                continue;
                            };
                            for ow in 0..ow_n {
                                let Some(iw) = tap(ow, kw, s.stride_w, s.pad_w, s.in_w) else {
                                    continue;
                                };
                                acc += dy[((n * cout + co) * oh_n + oh) * ow_n + ow] as f64
                                    * x[((n * cin + ci) * s.in_h + ih) * s.in_w + iw] as f64;
                            }
                        }
                    }
                    let i = ((co * cin + ci) * kh_n + kh) * kw_n + kw;
                    dw[i] = (dw[i] as f64 + acc) as f32;
                }
            }
        }
    }
    if let Some(db) = db {
        channel_sums_naive(dy, s.batch, cout, oh_n * ow_n, db);
    }
}

/// `out[c] += Σ_{n,p} t[n,c,p]` in f64.
fn channel_sums_naive(t: &[f32], batch: usize, channels: usize, plane: usize, out: &mut [f32]) {
    for (c, o) in out.iter_mut().enumerate().take(channels) {
        let mut acc = 0.0f64;
        for n in 0..batch {
            acc += t[(n * channels + c) * plane..][..plane]
                .iter()
                .map(|&v| v as f64)
                .sum::<f64>();
        }
        *o = (*o as f64 + acc) as f32;
    }
}

/// Output index `i·stride + k − pad` of a transposed conv, if it lies in `0..len`.
#[inline]
fn out_tap(i: usize, k: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
    (i * stride + k).checked_sub(pad).filter(|&o| o < len)
}

/// Reference for [`super::conv_transpose2d_forward`], from PyTorch's definition: every
/// input pixel scatters `x[n,ci,ih,iw]·w[ci,co,kh,kw]` to `y[n,co,ih·sh+kh−ph, iw·sw+kw−pw]`.
pub fn conv_transpose2d_forward_naive(
    s: &ConvTranspose2dShape,
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    y: &mut [f32],
) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    let mut acc = vec![0.0f64; s.batch * cout * oh_n * ow_n];
    for n in 0..s.batch {
        for co in 0..cout {
            let b = bias.map_or(0.0, |b| b[co] as f64);
            acc[(n * cout + co) * oh_n * ow_n..][..oh_n * ow_n].fill(b);
        }
        for ci in 0..cin {
            for ih in 0..s.in_h {
                for iw in 0..s.in_w {
                    let xv = x[((n * cin + ci) * s.in_h + ih) * s.in_w + iw] as f64;
                    for co in 0..cout {
                        for kh in 0..kh_n {
                            let Some(oh) = out_tap(ih, kh, s.stride_h, s.pad_h, oh_n) else {
                                continue;
                            };
                            for kw in 0..kw_n {
                                let Some(ow) = out_tap(iw, kw, s.stride_w, s.pad_w, ow_n) else {
                                    continue;
                                };
                                let wv = w[((ci * cout + co) * kh_n + kh) * kw_n + kw] as f64;
                                acc[((n * cout + co) * oh_n + oh) * ow_n + ow] += xv * wv;
                            }
                        }
                    }
                }
            }
        }
    }
    y.iter_mut().zip(&acc).for_each(|(o, a)| *o = *a as f32);
}

/// Reference for [`super::conv_transpose2d_backward_data`]:
/// `dx[n,ci,ih,iw] += Σ_{co,kh,kw} dy[n,co,ih·sh+kh−ph, iw·sw+kw−pw]·w[ci,co,kh,kw]`.
pub fn conv_transpose2d_backward_data_naive(
    s: &ConvTranspose2dShape,
    dy: &[f32],
    w: &[f32],
    dx: &mut [f32],
) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    for n in 0..s.batch {
        for ci in 0..cin {
            for ih in 0..s.in_h {
                for iw in 0..s.in_w {
                    let mut acc = 0.0f64;
                    for co in 0..cout {
                        for kh in 0..kh_n {
                            let Some(oh) = out_tap(ih, kh, s.stride_h, s.pad_h, oh_n) else {
                                continue;
                            };
                            for kw in 0..kw_n {
                                let Some(ow) = out_tap(iw, kw, s.stride_w, s.pad_w, ow_n) else {
                                    continue;
                                };
                                acc += dy[((n * cout + co) * oh_n + oh) * ow_n + ow] as f64
                                    * w[((ci * cout + co) * kh_n + kh) * kw_n + kw] as f64;
                            }
                        }
                    }
                    let i = ((n * cin + ci) * s.in_h + ih) * s.in_w + iw;
                    dx[i] = (dx[i] as f64 + acc) as f32;
                }
            }
        }
    }
}

/// Reference for [`super::conv_transpose2d_backward_weight`]:
/// `dw[ci,co,kh,kw] += Σ_{n,ih,iw} x[n,ci,ih,iw]·dy[n,co,ih·sh+kh−ph, iw·sw+kw−pw]`,
/// `db[co] += Σ dy[n,co,·,·]`.
pub fn conv_transpose2d_backward_weight_naive(
    s: &ConvTranspose2dShape,
    x: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
) {
    s.validate().unwrap();
    let (oh_n, ow_n) = (s.out_h(), s.out_w());
    let (cin, cout, kh_n, kw_n) = (s.in_channels, s.out_channels, s.kernel_h, s.kernel_w);
    for ci in 0..cin {
        for co in 0..cout {
            for kh in 0..kh_n {
                for kw in 0..kw_n {
                    let mut acc = 0.0f64;
                    for n in 0..s.batch {
                        for ih in 0..s.in_h {
                            let Some(oh) = out_tap(ih, kh, s.stride_h, s.pad_h, oh_n) else {
                                continue;
                            };
                            for iw in 0..s.in_w {
                                let Some(ow) = out_tap(iw, kw, s.stride_w, s.pad_w, ow_n) else {
                                    continue;
                                };
                                acc += x[((n * cin + ci) * s.in_h + ih) * s.in_w + iw] as f64
                                    * dy[((n * cout + co) * oh_n + oh) * ow_n + ow] as f64;
                            }
                        }
                    }
                    let i = ((ci * cout + co) * kh_n + kh) * kw_n + kw;
                    dw[i] = (dw[i] as f64 + acc) as f32;
                }
            }
        }
    }
    if let Some(db) = db {
        channel_sums_naive(dy, s.batch, cout, oh_n * ow_n, db);
    }
}
