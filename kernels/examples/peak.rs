//! Prints the FP32 FMA peak on 1 and 2 threads: `cargo run --release --example peak`.
fn main() {
    for t in [1, 2] {
        let g = sparselabel_kernels::measure_fma_gflops(t, 1.0);
        println!("{{\"threads\": {t}, \"fma_gflops\": {g:.1}}}");
    }
}
