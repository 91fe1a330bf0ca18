//! The FMA peak probe returns a plausible positive rate.

#[test]
fn peak_is_positive_and_finite() {
    let g = sparselabel_kernels::measure_fma_gflops(1, 0.05);
    assert!(g.is_finite() && g > 0.1, "{g}");
}
