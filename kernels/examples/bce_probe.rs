//! Probe: the fused Bernoulli row kernel against the unfused sequence it replaced:
//! `cargo run --release -p sparselabel-kernels --example bce_probe`.
use sparselabel_kernels::elementwise as ew;
use sparselabel_kernels::reduce as kr;
use std::time::Instant;

fn main() {
    let (rows, cols) = (1100, 784);
    let l: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 7919) % 2000) as f32 * 0.01 - 10.0)
        .collect();
    let t: Vec<f32> = (0..rows * cols)
        .map(|i| ((i * 31) % 256) as f32 / 255.0)
        .collect();
    let mut d = vec![0f32; rows * cols];
    let mut per = vec![0f32; cols];
    let mut sums = vec![0f32; rows];
    for rep in 0..3 {
        let s = Instant::now();
        for r in 0..rows {
            sums[r] = ew::bce_logits_row(
                &l[r * cols..][..cols],
                &t[r * cols..][..cols],
                &mut per,
                None,
            );
        }
        let a = s.elapsed();
        let s = Instant::now();
        for r in 0..rows {
            let _ = ew::bce_logits_row(
                &l[r * cols..][..cols],
                &t[r * cols..][..cols],
                &mut per,
                Some(&mut d[r * cols..][..cols]),
            );
        }
        let b = s.elapsed();
        let s = Instant::now();
        let mut s2 = vec![0f32; rows];
        for r in 0..rows {
            let (lr, tr) = (&l[r * cols..][..cols], &t[r * cols..][..cols]);
            ew::softplus_forward(lr, &mut per);
            for ((p, &lv), &tv) in per.iter_mut().zip(lr).zip(tr) {
                *p -= tv * lv;
            }
            kr::row_sum(&per, cols, std::slice::from_mut(&mut s2[r]));
        }
        let c = s.elapsed();
        let s = Instant::now();
        for r in 0..rows {
            ew::sigmoid_forward(&l[r * cols..][..cols], &mut d[r * cols..][..cols]);
        }
        let e = s.elapsed();
        println!("rep {rep}: fused sum {a:?}, value+derivative {b:?}, unfused sum {c:?}, sigmoid {e:?}, same {}", sums == s2);
    }
}
