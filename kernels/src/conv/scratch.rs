//! Per-thread scratch buffers, reused across calls so that a training step's
//! convolutions allocate (and page-fault) only on their first use on each thread.

use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a scratch slice of `len` elements (contents unspecified) owned by the
/// current thread. Re-entrant calls get a fresh buffer instead of panicking.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    let mut buf = SCRATCH.with(|cell| cell.take());
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let r = f(&mut buf[..len]);
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.len() < buf.len() {
            *slot = buf;
        }
    });
    r
}
