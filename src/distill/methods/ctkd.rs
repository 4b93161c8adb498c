//! Curriculum temperature (Li et al., AAAI 2023), after `zhengli97/CTKD`: the temperature is a
//! learned parameter, `T = t_start + t_range·σ(θ)`, trained *against* the student through a
//! gradient-reversal layer so that it raises the KD loss: the task grows harder as the
//! student improves. The reversal's strength follows a cosine from 0 to 1 over the first
//! epochs (the reference's `CosineDecay(max_value=0, min_value=-1, num_loops)`, whose value
//! multiplies θ's gradient).

use burn::prelude::*;
use burn::tensor::activation::{log_softmax, sigmoid};

/// The gradient multiplier at `epoch` (from 0): `(cos(π·e/n) + 1)/2 − 1`, from 0 down to −1.
pub fn reversal_lambda(epoch: usize, ramp_epochs: usize) -> f64 {
    if ramp_epochs == 0 {
        return -1.0;
    }
    let e = epoch.min(ramp_epochs) as f64;
    (((e * std::f64::consts::PI / ramp_epochs as f64).cos() + 1.0) * 0.5) * (0.0 - -1.0) + -1.0
}

/// Identity forward; backward multiplies the gradient by `lambda` (negative reverses it).
pub fn scale_gradient(x: Tensor<1>, lambda: f64) -> Tensor<1> {
    x.clone() * lambda + (x * (1.0 - lambda)).detach()
}

/// `t_start + t_range·σ(θ)` with θ's gradient multiplied by `lambda`. Shape `[1]`.
pub fn learned_temperature(theta: Tensor<1>, lambda: f64, t_start: f64, t_range: f64) -> Tensor<1> {
    sigmoid(scale_gradient(theta, lambda)) * t_range + t_start
}

/// `T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))`, batch mean, with T a tensor (so it learns).
pub fn kd_at_learned_temperature(
    student: Tensor<2>,
    teacher: Tensor<2>,
    t: Tensor<1>,
) -> Tensor<1> {
    let t2 = t.clone().reshape([1, 1]);
    let log_p = log_softmax(teacher / t2.clone(), 1);
    let log_q = log_softmax(student / t2, 1);
    super::kl_from_logs(log_p, log_q) * t.square()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reversal_ramps_from_zero_to_minus_one_by_a_cosine() {
        assert_eq!(reversal_lambda(0, 10), 0.0);
        assert!((reversal_lambda(5, 10) + 0.5).abs() < 1e-12);
        assert_eq!(reversal_lambda(10, 10), -1.0);
        assert_eq!(reversal_lambda(25, 10), -1.0);
    }

    /// The learned temperature's gradient is the true one times λ: reversed at λ = −1, so a
    /// descent step on θ *raises* the KD loss.
    #[test]
    fn the_temperature_learns_against_the_student() {
        let ad = Device::flex().autodiff();
        let p = crate::config::CtkdParams::default();
        let student = || Tensor::<2>::from_floats([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0]], &ad);
        let teacher = || Tensor::<2>::from_floats([[4.0, -2.0, 1.0], [-1.0, 5.0, 2.0]], &ad);
        let loss_at = |theta: f64, lambda: f64| {
            let th = Tensor::<1>::from_floats([theta as f32], &ad).require_grad();
            let t = learned_temperature(th.clone(), lambda, p.t_start, p.t_range);
            let loss = kd_at_learned_temperature(student(), teacher(), t.clone());
            let grads = loss.backward();
            let g: f32 = th.grad(&grads).unwrap().into_scalar();
            (
                loss.into_scalar::<f32>() as f64,
                g as f64,
                t.into_scalar::<f32>() as f64,
            )
        };
        let (_, _, t) = loss_at(p.theta, -1.0);
        // 1 + 20·σ(1)
        assert!((t - 15.621171).abs() < 1e-4, "{t}");
        // PyTorch, float64, the same formula: dL/dθ at θ = 1 is −0.012690554.
        let want = -0.012690554;
        let (_, plain, _) = loss_at(1.0, 1.0);
        let (_, reversed, _) = loss_at(1.0, -1.0);
        let (_, off, _) = loss_at(1.0, 0.0);
        assert!(
            (plain - want).abs() < 2e-3 * want.abs(),
            "{plain} vs {want}"
        );
        assert!((reversed + want).abs() < 2e-3 * want.abs(), "{reversed}");
        // And the loss itself moves that way: in f32 a T²-scaled KL needs a wide step.
        let h = 0.25;
        let numeric = (loss_at(1.0 + h, 0.0).0 - loss_at(1.0 - h, 0.0).0) / (2.0 * h);
        assert!((numeric - want).abs() < 0.05 * want.abs(), "{numeric}");
        assert_eq!(off, 0.0, "λ = 0 freezes θ");
    }
}
