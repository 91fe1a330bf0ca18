//! Repeated timing with warm-up; reports the median.

use std::time::Instant;

/// Samples of one measurement.
#[derive(Clone, Debug)]
pub struct Timing {
    /// Seconds per call, one entry per sample.
    pub samples: Vec<f64>,
}

impl Timing {
    /// Median seconds per call.
    pub fn median(&self) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(|a, b| a.total_cmp(b));
        s[s.len() / 2]
    }

    /// Fastest sample.
    pub fn min(&self) -> f64 {
        self.samples.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Calls `f` `warmup` times, then takes `samples` samples, each of enough
/// calls to last about `min_seconds` (at least one call).
pub fn median_seconds(
    mut f: impl FnMut(),
    warmup: usize,
    samples: usize,
    min_seconds: f64,
) -> Timing {
    for _ in 0..warmup {
        f();
    }
    // Calls per sample from one timed call.
    let t0 = Instant::now();
    f();
    let once = t0.elapsed().as_secs_f64().max(1e-7);
    let inner = ((min_seconds / once).ceil() as usize).clamp(1, 1_000_000);
    let samples = (0..samples.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..inner {
                f();
            }
            t.elapsed().as_secs_f64() / inner as f64
        })
        .collect();
    Timing { samples }
}
