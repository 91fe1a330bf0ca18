//! The 8×8-tile transpose against the naive loop, over random shapes (tile edges,
//! sizes below one tile) and gapped source rows.

use proptest::prelude::*;
use sparselabel_kernels::transpose::{transpose, transpose_naive};

proptest! {
    #[test]
    fn transpose_matches_naive(r in 0usize..40, c in 0usize..40, gap in 0usize..5) {
        let ld = c + gap;
        let len = if r == 0 { 0 } else { (r - 1) * ld + c };
        let src: Vec<f32> = (0..len).map(|i| i as f32 * 0.5 - 7.0).collect();
        let mut got = vec![f32::NAN; r * c];
        let mut want = vec![f32::NAN; r * c];
        transpose(&src, r, c, ld, &mut got);
        transpose_naive(&src, r, c, ld, &mut want);
        prop_assert_eq!(got, want);
    }
}

#[test]
#[should_panic(expected = "src too short")]
fn short_source_panics() {
    let src = vec![0.0; 10];
    let mut dst = vec![0.0; 12];
    transpose(&src, 3, 4, 4, &mut dst);
}
