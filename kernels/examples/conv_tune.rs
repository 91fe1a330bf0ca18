//! Times the catvae / betavae conv stacks (conv layers only, no BN/ReLU), per layer and
//! whole: `cargo run --release --example conv_tune -- THREADS BATCH`.
use sparselabel_kernels::conv::*;
use std::time::Instant;

fn c(ci: usize, co: usize, h: usize, k: usize, s: usize, p: usize, n: usize) -> Conv2dShape {
    Conv2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: h,
        out_channels: co,
        kernel_h: k,
        kernel_w: k,
        stride_h: s,
        stride_w: s,
        pad_h: p,
        pad_w: p,
    }
}
fn t(
    ci: usize,
    co: usize,
    h: usize,
    k: usize,
    s: usize,
    p: usize,
    n: usize,
) -> ConvTranspose2dShape {
    ConvTranspose2dShape {
        batch: n,
        in_channels: ci,
        in_h: h,
        in_w: h,
        out_channels: co,
        kernel_h: k,
        kernel_w: k,
        stride_h: s,
        stride_w: s,
        pad_h: p,
        pad_w: p,
        output_pad_h: 0,
        output_pad_w: 0,
    }
}

enum L {
    C(Conv2dShape, bool),
    T(ConvTranspose2dShape, bool),
}

struct Bufs {
    x: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
    y: Vec<f32>,
    dx: Vec<f32>,
    dw: Vec<f32>,
    db: Vec<f32>,
}

fn bufs(l: &L) -> Bufs {
    let (xl, wl, yl, co) = match l {
        L::C(s, _) => (
            s.batch * s.in_image_len(),
            s.out_channels * s.patch_len(),
            s.batch * s.out_image_len(),
            s.out_channels,
        ),
        L::T(s, _) => (
            s.batch * s.in_channels * s.in_h * s.in_w,
            s.in_channels * s.out_channels * s.kernel_h * s.kernel_w,
            s.batch * s.out_channels * s.out_h() * s.out_w(),
            s.out_channels,
        ),
    };
    let f = |n: usize| {
        (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect::<Vec<f32>>()
    };
    Bufs {
        x: f(xl),
        w: f(wl),
        b: f(co),
        y: f(yl),
        dx: vec![0.0; xl],
        dw: vec![0.0; wl],
        db: vec![0.0; co],
    }
}

fn fwd(l: &L, b: &mut Bufs) {
    match l {
        L::C(s, _) => conv2d_forward(s, &b.x, &b.w, Some(&b.b), &mut b.y),
        L::T(s, _) => conv_transpose2d_forward(s, &b.x, &b.w, Some(&b.b), &mut b.y),
    }
}
fn bwd_w(l: &L, b: &mut Bufs) {
    match l {
        L::C(s, _) => conv2d_backward_weight(s, &b.x, &b.y, &mut b.dw, Some(&mut b.db)),
        L::T(s, _) => conv_transpose2d_backward_weight(s, &b.x, &b.y, &mut b.dw, Some(&mut b.db)),
    }
}

fn bwd_d(l: &L, b: &mut Bufs) {
    match l {
        L::C(s, true) => conv2d_backward_data(s, &b.y, &b.w, &mut b.dx),
        L::T(s, true) => conv_transpose2d_backward_data(s, &b.y, &b.w, &mut b.dx),
        _ => {}
    }
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    for _ in 0..2 {
        f();
    }
    let t0 = Instant::now();
    f();
    let dt = t0.elapsed().as_secs_f64();
    let inner = ((0.1 / dt) as usize).max(1);
    let mut v: Vec<f64> = (0..9)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..inner {
                f();
            }
            t0.elapsed().as_secs_f64() / inner as f64 * 1e3
        })
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[4]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().unwrap())
        .collect();
    let threads = args.first().copied().unwrap_or(2);
    let n = args.get(1).copied().unwrap_or(200);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let stacks: Vec<(&str, Vec<L>)> = vec![
        (
            "catvae-enc",
            vec![
                L::C(c(1, 16, 28, 6, 1, 0, n), false),
                L::C(c(16, 32, 23, 6, 1, 0, n), true),
                L::C(c(32, 64, 18, 4, 2, 1, n), true),
                L::C(c(64, 50, 9, 9, 1, 0, n), true),
            ],
        ),
        (
            "catvae-dec",
            vec![
                L::T(t(50, 64, 1, 9, 1, 0, n), true),
                L::T(t(64, 32, 9, 4, 2, 1, n), true),
                L::T(t(32, 16, 18, 6, 1, 0, n), true),
                L::T(t(16, 1, 23, 6, 1, 0, n), true),
            ],
        ),
        ("betavae-enc", vec![L::C(c(1, 32, 28, 4, 2, 1, n), false)]),
        ("betavae-dec", vec![L::T(t(32, 1, 14, 4, 2, 1, n), true)]),
    ];
    pool.install(|| {
        let mut total = 0.0;
        for (name, layers) in &stacks {
            let mut bs: Vec<Bufs> = layers.iter().map(bufs).collect();
            let mut stack_ms = 0.0;
            let filter = std::env::var("LAYER").unwrap_or_default();
            for (l, b) in layers.iter().zip(bs.iter_mut()) {
                let (flops, label) = match l { L::C(s, _) => (s.flops_forward(), format!("conv {}->{} {}x{} s{} on {}", s.in_channels, s.out_channels, s.kernel_h, s.kernel_w, s.stride_h, s.in_h)), L::T(s, _) => (s.flops_forward(), format!("convT {}->{} {}x{} s{} on {}", s.in_channels, s.out_channels, s.kernel_h, s.kernel_w, s.stride_h, s.in_h)) };
                if !label.contains(filter.as_str()) {
                    continue;
                }
                let f_ms = median_ms(|| fwd(l, b));
                let w_ms = median_ms(|| bwd_w(l, b));
                let d_ms = median_ms(|| bwd_d(l, b));
                let b_ms = w_ms + d_ms;
                let gf = |ms: f64| if ms > 1e-3 { flops as f64 / ms / 1e6 } else { 0.0 };
                println!("  {name:12} {label:32} fwd {f_ms:7.3} ms ({:5.1} GF/s) dW {w_ms:7.3} ms ({:5.1}) dX {d_ms:7.3} ms ({:5.1})", gf(f_ms), gf(w_ms), gf(d_ms));
                stack_ms += f_ms + b_ms;
            }
            println!("{name} batch {n} threads {threads}: fwd+bwd {stack_ms:.2} ms");
            if name.starts_with("catvae") { total += stack_ms; }
        }
        println!("catvae enc+dec fwd+bwd batch {n} threads {threads}: {total:.2} ms");
    });
}
