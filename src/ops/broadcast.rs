//! Index mapping for numpy-style broadcasting of two operands.

/// Element strides of `shape` aligned to `out` (rank `out.len()`), with 0 for
/// broadcast (size-1 or missing) dimensions.
pub(crate) fn aligned_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let n = out.len();
    let mut strides = vec![0; n];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        let oi = n - shape.len() + i;
        strides[oi] = if shape[i] == 1 { 0 } else { s };
        s *= shape[i];
    }
    strides
}

/// Calls `f(out_index, a_index, b_index)` for every element of `out`, in
/// row-major order of `out` (so accumulations happen in a fixed order).
pub(crate) fn for_each(
    out: &[usize],
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize),
) {
    let n = out.len();
    if n == 0 {
        f(0, 0, 0);
        return;
    }
    let total: usize = out.iter().product();
    if total == 0 {
        return;
    }
    let inner = out[n - 1];
    let (ia_step, ib_step) = (sa[n - 1], sb[n - 1]);
    let mut idx = vec![0usize; n];
    let mut o = 0;
    loop {
        let mut ia: usize = (0..n - 1).map(|d| idx[d] * sa[d]).sum();
        let mut ib: usize = (0..n - 1).map(|d| idx[d] * sb[d]).sum();
        for _ in 0..inner {
            f(o, ia, ib);
            o += 1;
            ia += ia_step;
            ib += ib_step;
        }
        // Advance the outer multi-index.
        let mut d = n - 1;
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}
