//! CTKD's temperature parameter θ and its optimiser: one scalar, trained by Adam on the
//! device next to the student (its gradient comes reversed through the loss, so a descent
//! step raises the KD loss). Kept apart from the student's optimiser so the student's
//! training is exactly what it would be under any other method.

use crate::config::CtkdParams;
use burn::prelude::*;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

pub(super) struct LearnedTemperature {
    /// θ on the plain device; a fresh tracked copy enters each step.
    theta: Tensor<1>,
    m: Tensor<1>,
    v: Tensor<1>,
    steps: i32,
    lr: f64,
}

impl LearnedTemperature {
    pub(super) fn new(params: &CtkdParams, device: &Device) -> Self {
        let zero = || Tensor::<1>::zeros([1], device);
        Self {
            theta: Tensor::from_floats([params.theta as f32], device),
            m: zero(),
            v: zero(),
            steps: 0,
            lr: params.lr,
        }
    }

    /// θ for this step's loss, tracked so its gradient can be taken.
    pub(super) fn tracked(&self) -> Tensor<1> {
        self.theta.clone().autodiff().require_grad()
    }

    /// One Adam step on θ with its gradient (from the inner device).
    pub(super) fn update(&mut self, grad: Tensor<1>) {
        self.steps += 1;
        self.m = self.m.clone() * BETA1 + grad.clone() * (1.0 - BETA1);
        self.v = self.v.clone() * BETA2 + grad.square() * (1.0 - BETA2);
        let m_hat = self.m.clone() / (1.0 - BETA1.powi(self.steps));
        let v_hat = self.v.clone() / (1.0 - BETA2.powi(self.steps));
        self.theta = self.theta.clone() - m_hat / (v_hat.sqrt() + EPSILON) * self.lr;
    }
}
