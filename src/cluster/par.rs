//! Deterministic data parallelism: fixed chunk boundaries, results returned
//! in chunk order for the caller to combine sequentially.

use rayon::prelude::*;
use std::ops::Range;

/// Rows per parallel chunk. Fixed, so partial sums and their combination
/// order never depend on the number of threads.
pub const CHUNK: usize = 2048;

/// Runs `f` on the row ranges `[0, CHUNK)`, `[CHUNK, 2·CHUNK)`, … of `n` rows
/// in parallel and returns the results in range order.
pub fn map_chunks<T: Send, F>(n: usize, f: F) -> Vec<T>
where
    F: Fn(Range<usize>) -> T + Sync,
{
    let chunks = n.div_ceil(CHUNK);
    (0..chunks)
        .into_par_iter()
        .map(|c| f(c * CHUNK..((c + 1) * CHUNK).min(n)))
        .collect()
}
