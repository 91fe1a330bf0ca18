//! Per-thread scratch buffers, reused across calls so that a training step's
//! kernels allocate (and page-fault) only on their first use on each thread.
//!
//! Each user has its own slot: a convolution's GEMM re-lays out its operands
//! while the convolution's own patch buffer is borrowed.

use std::cell::RefCell;

/// Which kernel's buffer.
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    /// Patch matrices of the convolutions.
    Conv = 0,
    /// A GEMM's A operand, re-laid out.
    GemmA = 1,
    /// A GEMM's B operand, re-laid out.
    GemmB = 2,
    /// A GEMM's B operand transposed once for all its row blocks (held while the
    /// blocks run, which use `GemmA`/`GemmB` themselves).
    GemmShared = 3,
}

thread_local! {
    static SCRATCH: [RefCell<Vec<f32>>; 4] = const {
        [
            RefCell::new(Vec::new()),
            RefCell::new(Vec::new()),
            RefCell::new(Vec::new()),
            RefCell::new(Vec::new()),
        ]
    };
}

/// Runs `f` on a scratch slice of `len` elements (contents unspecified) owned by the
/// current thread. Re-entrant calls on the same slot get a fresh buffer instead of
/// panicking.
pub(crate) fn with_scratch<R>(slot: Slot, len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(|cells| cells[slot as usize].take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|cells| {
        let mut kept = cells[slot as usize].borrow_mut();
        if kept.len() < buf.len() {
            *kept = buf;
        }
    });
    r
}
