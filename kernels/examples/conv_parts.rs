//! Where a conv layer's time goes (1 thread): im2col vs GEMMs, per image.
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
        "{label:40} {:8.1} us  {:6.1} GF/s",
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
    let (kk, pp) = (s.patch_len(), s.out_h() * s.out_w());
    let x: Vec<f32> = (0..s.in_image_len())
        .map(|i| (i % 13) as f32 * 0.1)
        .collect();
    let w: Vec<f32> = (0..co * kk).map(|i| (i % 7) as f32 * 0.1).collect();
    let mut cols = vec![0.0; kk * pp];
    let mut y = vec![0.0; co * pp];
    let mut dw = vec![0.0; co * kk];
    let fl = 2.0 * (co * kk * pp) as f64;
    println!("K={kk} P={pp} Cout={co}");
    time("im2col", 200, 0.0, || im2col(&s, &x, &mut cols));
    time("col2im", 200, 0.0, || {
        col2im(
            &s,
            &cols,
            &mut y
                .repeat(0)
                .iter()
                .copied()
                .chain(std::iter::repeat(0.0))
                .take(s.in_image_len())
                .collect::<Vec<_>>(),
        )
    });
    time("fwd gemm W·cols", 200, fl, || {
        g(co, pp, kk, 1.0, &w, kk, 1, &cols, pp, 1, 0.0, &mut y, pp, 1)
    });
    time("bwd-data gemm Wᵀ·dY", 200, fl, || {
        g(kk, pp, co, 1.0, &w, 1, kk, &y, pp, 1, 0.0, &mut cols, pp, 1)
    });
    time("bwd-w gemm dY·colsᵀ", 200, fl, || {
        g(
            co, kk, pp, 1.0, &y, pp, 1, &cols, 1, pp, 1.0, &mut dw, kk, 1,
        )
    });
    let mut colst = vec![0.0; kk * pp];
    time("bwd-w gemm dY·colsT (contig)", 200, fl, || {
        g(
            co, kk, pp, 1.0, &y, pp, 1, &colst, kk, 1, 1.0, &mut dw, kk, 1,
        )
    });
    time("bwd-w gemm (cols·dYᵀ)ᵀ", 200, fl, || {
        g(
            kk, co, pp, 1.0, &cols, pp, 1, &y, 1, pp, 1.0, &mut dw, 1, kk,
        )
    });
    time("fwd gemm (colsᵀ·Wᵀ)ᵀ into Y", 200, fl, || {
        g(pp, co, kk, 1.0, &cols, 1, pp, &w, 1, kk, 0.0, &mut y, 1, pp)
    });
    time("fwd gemm colsT·Wᵀ contig A", 200, fl, || {
        g(
            pp, co, kk, 1.0, &colst, kk, 1, &w, 1, kk, 0.0, &mut y, 1, pp,
        )
    });
    time("fwd gemm colsT·Wᵀ contig A, C rowmajor", 200, fl, || {
        g(
            pp, co, kk, 1.0, &colst, kk, 1, &w, 1, kk, 0.0, &mut y, co, 1,
        )
    });
    let mut big = vec![0.0; kk * pp * 8];
    let mut ybig = vec![0.0; co * pp * 8];
    time("fwd gemm W·cols 8 images batched /8", 25, fl * 8.0, || {
        g(
            co,
            pp * 8,
            kk,
            1.0,
            &w,
            kk,
            1,
            &big,
            pp * 8,
            1,
            0.0,
            &mut ybig,
            pp * 8,
            1,
        )
    });
    big[0] = 1.0;
    colst[0] = 1.0;
}
