//! Maaløe et al.'s skip deep generative model (SDGM, 2016): the ADGM with
//! the auxiliary variable moved into the generative model as a second
//! stochastic layer with a skip connection to x.
//!
//! Generative model: p(y) = Cat(1/K), p(z) = N(0, I),
//! p(a | z, y) = N(μ_θ(z, y), diag e^{lv_θ(z, y)}),
//! p(x | a, z, y) = Bernoulli(σ(f_θ(a, z, y))).
//! Inference model (as ADGM): q(a | x), q(y | a, x), q(z | a, y, x).
//!
//! Objective: the ADGM objective ([`super::adgm`]) with
//! ℓ(x, y, a) = E_q(z|a,y,x)[−log p(x|a,z,y) − log p(a|z,y) + log q(a|x)]
//!              + KL(q(z|a,y,x) ‖ p(z)) − log p(y),
//! y enumerated for unlabelled examples with one a shared by the K classes.
//!
//! Batch-norm: every hidden layer of every network is normalised before its
//! activation. The statistics count each distinct input once: q(a|x) and
//! q(y|a,x) see the B_l + B_u inputs once; the networks over the bound's
//! B_l + K·B_u rows weigh a labelled row 1 and each of an unlabelled
//! example's K class rows 1/K (never the K-fold tiled copies counted K
//! times, the mixed-batch trap of the public code). Evaluation uses the
//! running averages; ε = 10⁻⁴ (Lasagne's). The papers' code clamps no
//! log-variance; its Gaussian output layers start near zero, which we copy.

use super::adgm::{Adgm, AdgmConfig};
use crate::autograd::ParamStore;
use crate::rng::StreamRng;

/// Builds an SDGM: `config` with `skip` and `batch_norm` set.
pub fn new(store: &mut ParamStore, config: AdgmConfig, rng: &mut StreamRng) -> crate::Result<Adgm> {
    Adgm::new(
        store,
        AdgmConfig {
            skip: true,
            batch_norm: true,
            ..config
        },
        rng,
    )
}
