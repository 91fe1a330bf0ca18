//! Loops one conv pass for profiling: `conv_one fwd|dw|dx CIN COUT H K S P BATCH REPS`.
use sparselabel_kernels::conv::*;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let n: Vec<usize> = a[1..].iter().map(|s| s.parse().unwrap()).collect();
    let (ci, co, h, k, st, p, batch, reps) = (n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]);
    let s = Conv2dShape {
        batch,
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
    let f = |n: usize| {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect::<Vec<f32>>()
    };
    let (x, w) = (f(batch * s.in_image_len()), f(co * s.patch_len()));
    let mut y = f(batch * s.out_image_len());
    let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    let t0 = Instant::now();
    for _ in 0..reps {
        match a[0].as_str() {
            "fwd" => conv2d_forward(&s, &x, &w, None, &mut y),
            "dw" => conv2d_backward_weight(&s, &x, &y, &mut dw, None),
            _ => conv2d_backward_data(&s, &y, &w, &mut dx),
        }
    }
    let dt = t0.elapsed().as_secs_f64() / reps as f64;
    println!(
        "{} {:.3} ms {:.1} GF/s",
        a[0],
        dt * 1e3,
        s.flops_forward() as f64 / dt / 1e9
    );
}
