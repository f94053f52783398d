//! Parameter updates: SGD with momentum and Adam, on flat parameter and gradient vectors.

use super::Optimizer;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

/// An optimizer with its per-parameter state.
pub(crate) enum State {
    /// PyTorch's form: `v ← μ·v + g`, `p ← p − lr·v`.
    Sgd { lr: f32, momentum: f32, velocity: Vec<f32> },
    /// Kingma & Ba (2015) with bias correction, β = (0.9, 0.999), ε = 1e-8.
    Adam {
        lr: f32,
        step: i32,
        m: Vec<f32>,
        v: Vec<f32>,
    },
}

impl State {
    pub fn new(optimizer: &Optimizer, params: usize) -> Self {
        match *optimizer {
            Optimizer::Sgd { lr, momentum } => State::Sgd {
                lr,
                momentum,
                velocity: vec![0.0; params],
            },
            Optimizer::Adam { lr } => State::Adam {
                lr,
                step: 0,
                m: vec![0.0; params],
                v: vec![0.0; params],
            },
        }
    }

    /// Applies one update to `params` from `grads`.
    pub fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        match self {
            State::Sgd { lr, momentum, velocity } => {
                for ((p, v), g) in params.iter_mut().zip(velocity.iter_mut()).zip(grads) {
                    *v = *momentum * *v + g;
                    *p -= *lr * *v;
                }
            }
            State::Adam { lr, step, m, v } => {
                *step = step.saturating_add(1);
                let c1 = 1.0 - BETA1.powi(*step);
                let c2 = 1.0 - BETA2.powi(*step);
                for (((p, m), v), g) in params.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grads) {
                    *m = BETA1 * *m + (1.0 - BETA1) * g;
                    *v = BETA2 * *v + (1.0 - BETA2) * g * g;
                    *p -= *lr * (*m / c1) / ((*v / c2).sqrt() + EPSILON);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_adam_step_moves_each_parameter_by_lr_against_the_gradient_sign() {
        let mut state = State::new(&Optimizer::Adam { lr: 0.1 }, 2);
        let mut params = [1.0f32, 1.0];
        state.step(&mut params, &[0.5, -2.0]);
        assert!((params[0] - 0.9).abs() < 1e-6, "{params:?}");
        assert!((params[1] - 1.1).abs() < 1e-6, "{params:?}");
    }

    #[test]
    fn sgd_momentum_accumulates_velocity() {
        let mut state = State::new(&Optimizer::Sgd { lr: 0.1, momentum: 0.5 }, 1);
        let mut params = [0.0f32];
        state.step(&mut params, &[1.0]);
        state.step(&mut params, &[1.0]);
        // v = 1 then 1.5: p = −0.1 − 0.15.
        assert!((params[0] + 0.25).abs() < 1e-6, "{params:?}");
    }
}
