//! Opt-in audit trace of a step: for every op its name, shapes, FLOPs, time
//! and output statistics; printable as a table or as JSON lines.

use std::time::Duration;

use serde::Serialize;

use crate::tensor::Tensor;

/// One op's record.
#[derive(Clone, Debug, Serialize)]
pub struct OpTrace {
    /// Node index in the tape.
    pub node: usize,
    /// `forward` or `backward`.
    pub pass: &'static str,
    /// Op name.
    pub op: &'static str,
    /// Shapes of the inputs (forward only).
    pub inputs: Vec<Vec<usize>>,
    /// Shape of the output (forward) or of the incoming gradient (backward).
    pub output: Vec<usize>,
    /// Estimated floating-point operations (forward only).
    pub flops: u64,
    /// Wall time in microseconds: forward, time since the previous node was
    /// recorded (the op's own work plus the caller's code between ops);
    /// backward, the op's backward function.
    pub micros: f64,
    /// Minimum of the output (NaN ignored).
    pub min: f32,
    /// Maximum of the output (NaN ignored).
    pub max: f32,
    /// Mean of the finite values.
    pub mean: f64,
    /// Number of NaN or infinite values.
    pub non_finite: usize,
}

fn stats(t: &Tensor) -> (f32, f32, f64, usize) {
    let (mut lo, mut hi, mut sum, mut bad, mut n) =
        (f32::INFINITY, f32::NEG_INFINITY, 0f64, 0, 0usize);
    for &x in t.data() {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
            sum += x as f64;
            n += 1;
        } else {
            bad += 1;
        }
    }
    (lo, hi, if n > 0 { sum / n as f64 } else { f64::NAN }, bad)
}

impl OpTrace {
    pub(crate) fn forward(
        node: usize,
        op: &'static str,
        inputs: Vec<Vec<usize>>,
        out: &Tensor,
        flops: u64,
        time: Duration,
    ) -> Self {
        let (min, max, mean, non_finite) = stats(out);
        OpTrace {
            node,
            pass: "forward",
            op,
            inputs,
            output: out.shape().to_vec(),
            flops,
            micros: time.as_secs_f64() * 1e6,
            min,
            max,
            mean,
            non_finite,
        }
    }

    /// A backward record for the output gradient `grad`; the caller sets the time.
    pub(crate) fn backward(node: usize, op: &'static str, grad: &Tensor) -> Self {
        let (min, max, mean, non_finite) = stats(grad);
        OpTrace {
            node,
            pass: "backward",
            op,
            inputs: Vec::new(),
            output: grad.shape().to_vec(),
            flops: 0,
            micros: 0.0,
            min,
            max,
            mean,
            non_finite,
        }
    }
}

/// The records of one step, forward then backward.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trace {
    /// Forward records in execution order.
    pub ops: Vec<OpTrace>,
    /// Backward records in execution order (reverse node order).
    pub backward_ops: Vec<OpTrace>,
}

impl Trace {
    /// Total forward FLOPs.
    pub fn total_flops(&self) -> u64 {
        self.ops.iter().map(|o| o.flops).sum()
    }

    /// Total recorded microseconds (forward + backward).
    pub fn total_micros(&self) -> f64 {
        self.ops
            .iter()
            .chain(&self.backward_ops)
            .map(|o| o.micros)
            .sum()
    }

    /// Time and FLOPs summed per (pass, op name), slowest first: where a
    /// step's time goes.
    pub fn summary_by_op(&self) -> String {
        let mut rows: Vec<(&'static str, &'static str, usize, f64, u64)> = Vec::new();
        for o in self.ops.iter().chain(&self.backward_ops) {
            match rows.iter_mut().find(|r| r.0 == o.pass && r.1 == o.op) {
                Some(r) => {
                    r.2 += 1;
                    r.3 += o.micros;
                    r.4 += o.flops;
                }
                None => rows.push((o.pass, o.op, 1, o.micros, o.flops)),
            }
        }
        rows.sort_by(|a, b| b.3.total_cmp(&a.3));
        let total: f64 = rows.iter().map(|r| r.3).sum();
        let mut s = format!(
            "{:<8} {:<22} {:>6} {:>10} {:>6} {:>12}\n",
            "pass", "op", "count", "µs", "%", "GFLOP/s"
        );
        for (pass, op, n, us, flops) in rows {
            let rate = if flops > 0 {
                format!("{:.1}", flops as f64 / us / 1e3)
            } else {
                "-".into()
            };
            s.push_str(&format!(
                "{pass:<8} {op:<22} {n:>6} {us:>10.1} {:>6.1} {rate:>12}\n",
                100.0 * us / total.max(1e-9)
            ));
        }
        s.push_str(&format!("total {total:.1} µs\n"));
        s
    }

    /// One JSON object per record.
    pub fn to_json_lines(&self) -> String {
        let mut s = String::new();
        for o in self.ops.iter().chain(&self.backward_ops) {
            s.push_str(&serde_json::to_string(o).expect("trace record serialises"));
            s.push('\n');
        }
        s
    }

    /// A fixed-width table for the terminal.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{:>5} {:<8} {:<18} {:<28} {:>12} {:>10} {:>11} {:>11} {:>11} {:>6}\n",
            "node", "pass", "op", "output", "flops", "µs", "min", "max", "mean", "nonfin"
        );
        for o in self.ops.iter().chain(&self.backward_ops) {
            s.push_str(&format!(
                "{:>5} {:<8} {:<18} {:<28} {:>12} {:>10.1} {:>11.4e} {:>11.4e} {:>11.4e} {:>6}\n",
                o.node,
                o.pass,
                o.op,
                format!("{:?}", o.output),
                o.flops,
                o.micros,
                o.min,
                o.max,
                o.mean,
                o.non_finite
            ));
        }
        s.push_str(&format!(
            "total: {} forward ops, {} backward ops, {:.3e} forward FLOPs, {:.1} µs\n",
            self.ops.len(),
            self.backward_ops.len(),
            self.total_flops() as f64,
            self.total_micros()
        ));
        s
    }
}
