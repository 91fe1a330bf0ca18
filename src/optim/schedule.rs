//! Learning-rate schedules, as a function of the epoch (0-based).

use serde::{Deserialize, Serialize};

/// A learning-rate schedule.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// lr every epoch.
    Constant {
        /// The learning rate.
        lr: f32,
    },
    /// lr·γ^⌊epoch/every⌋, never below `floor`.
    Step {
        /// Initial learning rate.
        lr: f32,
        /// Multiplier per decay.
        gamma: f32,
        /// Epochs between decays.
        every: usize,
        /// Lower bound.
        floor: f32,
    },
    /// min_lr + ½(lr − min_lr)(1 + cos(π·epoch/total)).
    Cosine {
        /// Initial learning rate.
        lr: f32,
        /// Final learning rate.
        min_lr: f32,
        /// Epochs of the whole schedule.
        total: usize,
    },
}

impl Schedule {
    /// The learning rate for `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f32 {
        match *self {
            Schedule::Constant { lr } => lr,
            Schedule::Step {
                lr,
                gamma,
                every,
                floor,
            } => (lr * gamma.powi((epoch / every.max(1)) as i32)).max(floor),
            Schedule::Cosine { lr, min_lr, total } => {
                let t = (epoch.min(total) as f32) / total.max(1) as f32;
                min_lr + 0.5 * (lr - min_lr) * (1.0 + (std::f32::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_follow_their_formulas() {
        assert_eq!(Schedule::Constant { lr: 0.1 }.lr_at(50), 0.1);
        let s = Schedule::Step {
            lr: 1e-3,
            gamma: 0.5,
            every: 50,
            floor: 2e-4,
        };
        assert_eq!(s.lr_at(0), 1e-3);
        assert_eq!(s.lr_at(49), 1e-3);
        assert_eq!(s.lr_at(50), 5e-4);
        assert_eq!(s.lr_at(100), 2.5e-4);
        assert_eq!(s.lr_at(150), 2e-4, "floor holds");
        let c = Schedule::Cosine {
            lr: 1.0,
            min_lr: 0.0,
            total: 10,
        };
        assert!((c.lr_at(0) - 1.0).abs() < 1e-6);
        assert!((c.lr_at(5) - 0.5).abs() < 1e-6);
        assert!(c.lr_at(10).abs() < 1e-6);
        assert!(
            c.lr_at(20).abs() < 1e-6,
            "stays at the minimum past the end"
        );
    }
}
