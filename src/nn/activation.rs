//! Activation functions as a value, so architectures can be configured.

use crate::autograd::{Tape, Var};
use crate::ops;

/// A pointwise nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// No-op.
    Identity,
    /// max(x, 0).
    Relu,
    /// x or slope·x.
    LeakyRelu(f32),
    /// x or α(eˣ − 1).
    Elu(f32),
    /// log(1 + eˣ).
    Softplus,
    /// tanh x.
    Tanh,
    /// 1/(1 + e⁻ˣ).
    Sigmoid,
}

impl Activation {
    /// Applies the activation.
    pub fn apply(self, tape: &mut Tape, x: Var) -> Var {
        match self {
            Activation::Identity => x,
            Activation::Relu => ops::relu(tape, x),
            Activation::LeakyRelu(s) => ops::leaky_relu(tape, x, s),
            Activation::Elu(a) => ops::elu(tape, x, a),
            Activation::Softplus => ops::softplus(tape, x),
            Activation::Tanh => ops::tanh(tape, x),
            Activation::Sigmoid => ops::sigmoid(tape, x),
        }
    }

    /// The activation as a rectifier a layer can apply to its own output
    /// (ReLU, or leaky ReLU with a slope in [0, 1)), if it is one.
    pub fn rectifier(self) -> Option<ops::Rectifier> {
        match self {
            Activation::Relu => Some(ops::Rectifier { slope: 0.0 }),
            Activation::LeakyRelu(s) if (0.0..1.0).contains(&s) => {
                Some(ops::Rectifier { slope: s })
            }
            _ => None,
        }
    }

    /// Parses `relu`, `leaky-relu`, `elu`, `softplus`, `tanh`, `sigmoid`, `identity`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "identity" | "linear" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky-relu" | "leaky_relu" => Activation::LeakyRelu(0.01),
            "elu" => Activation::Elu(1.0),
            "softplus" => Activation::Softplus,
            "tanh" => Activation::Tanh,
            "sigmoid" => Activation::Sigmoid,
            _ => return None,
        })
    }
}
