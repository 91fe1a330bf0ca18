//! Where a conv layer's time goes (1 thread): im2col vs GEMM variants, for one image
//! group and one channel block. `conv_parts CIN COUT H K STRIDE PAD [GROUP]`.
use sparselabel_kernels::conv::*;
use sparselabel_kernels::gemm::sgemm_strided_serial as g;
use std::time::Instant;

fn time(label: &str, reps: usize, flops: f64, mut f: impl FnMut()) {
    f();
    let t0 = Instant::now();
    for _ in 0..reps {
        f();
    }
    let dt = t0.elapsed().as_secs_f64() / reps as f64;
    println!(
        "{label:44} {:8.1} us  {:6.1} GF/s",
        dt * 1e6,
        flops / dt / 1e9
    );
}

fn main() {
    let a: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let (ci, co, h, k, st, p) = (a[0], a[1], a[2], a[3], a[4], a[5]);
    let grp = a.get(6).copied().unwrap_or(1);
    let s = Conv2dShape {
        batch: 1,
        in_channels: ci,
        in_h: h,
        in_w: h,
        out_channels: co,
        kernel_h: k,
        kernel_w: k,
        stride_h: st,
        stride_w: st,
        pad_h: p,
        pad_w: p,
    };
    let (kk, pp) = (s.patch_len(), s.out_h() * s.out_w() * grp);
    let x: Vec<f32> = (0..s.in_image_len())
        .map(|i| (i % 13) as f32 * 0.1)
        .collect();
    let w: Vec<f32> = (0..co * kk).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut cols = vec![0.0; kk * pp];
    let mut rows = vec![0.0; kk * pp];
    let mut y = vec![0.0; co * pp];
    let mut dw = vec![0.0; co * kk];
    let fl = 2.0 * (co * kk * pp) as f64;
    println!("K={kk} G*P={pp} Cout={co}");
    time("im2col (1 image)", 200, 0.0, || im2col(&s, &x, &mut cols));
    let mut dxi = vec![0.0; s.in_image_len()];
    time("col2im (1 image)", 200, 0.0, || col2im(&s, &cols, &mut dxi));
    time("transpose cols -> rows (naive)", 50, 0.0, || {
        for r in 0..kk {
            for q in 0..pp {
                rows[q * kk + r] = cols[r * pp + q];
            }
        }
    });
    time("fwd W·cols", 100, fl, || {
        g(co, pp, kk, 1.0, &w, kk, 1, &cols, pp, 1, 0.0, &mut y, pp, 1)
    });
    time("bwd-data Wᵀ·dY", 100, fl, || {
        g(kk, pp, co, 1.0, &w, 1, kk, &y, pp, 1, 0.0, &mut cols, pp, 1)
    });
    time("dW: dY·colsᵀ (B gather)", 100, fl, || {
        g(
            co, kk, pp, 1.0, &y, pp, 1, &cols, 1, pp, 1.0, &mut dw, kk, 1,
        )
    });
    time("dW: dY·rows (B contiguous)", 100, fl, || {
        g(
            co, kk, pp, 1.0, &y, pp, 1, &rows, kk, 1, 1.0, &mut dw, kk, 1,
        )
    });
    time("dWᵀ: cols·dYᵀ (A gather)", 100, fl, || {
        g(
            kk, co, pp, 1.0, &cols, pp, 1, &y, 1, pp, 1.0, &mut dw, 1, kk,
        )
    });
    time("dWᵀ: rowsᵀ·dYᵀ (A contiguous)", 100, fl, || {
        g(
            kk, co, pp, 1.0, &rows, 1, kk, &y, 1, pp, 1.0, &mut dw, 1, kk,
        )
    });
}
