use super::*;
use burn::nn::LinearConfig;
use burn::tensor::{Distribution, Tolerance, activation};

fn random<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), device)
}

/// Value and every gradient of the kernel against burn's linear (and ReLU), on a shape
/// large enough to be split (`[128, 800] → 800`), one too small to be (`→ 10`), and one
/// whose split is ragged (`→ 203`).
#[test]
fn matches_burns_linear_value_and_gradients() {
    for relu in [false, true] {
        for (inputs, outputs) in [(800, 800), (800, 10), (784, 203)] {
            compare_with_burn(inputs, outputs, relu);
        }
    }
}

fn compare_with_burn(inputs: usize, outputs: usize, relu: bool) {
    let device = Device::flex().autodiff();
    {
        device.seed(7);
        let layer = LinearConfig::new(inputs, outputs).init(&device);
        let x = random([128, inputs], &device).require_grad();
        let dy = random([128, outputs], &device);

        let (ours, burns) = if relu {
            let burns = activation::relu(layer.forward(x.clone()));
            // About half the outputs are cut: the masked gradient is tested, not skipped.
            let zeros = burns
                .clone()
                .equal_elem(0.0)
                .int()
                .sum()
                .into_scalar::<i64>() as usize;
            assert!(zeros > 128 * outputs / 4, "{zeros} of {}", 128 * outputs);
            (linear_relu(&layer, x.clone()), burns)
        } else {
            (linear(&layer, x.clone()), layer.forward(x.clone()))
        };
        ours.to_data()
            .assert_approx_eq::<f32>(&burns.to_data(), Tolerance::rel_abs(1e-5, 1e-5));

        let g_ours = (ours * dy.clone()).sum().backward();
        let g_burn = (burns * dy).sum().backward();
        let pairs = [
            (x.grad(&g_ours).unwrap(), x.grad(&g_burn).unwrap()),
            (
                layer.weight.val().grad(&g_ours).unwrap(),
                layer.weight.val().grad(&g_burn).unwrap(),
            ),
        ];
        for (a, b) in pairs {
            a.to_data()
                .assert_approx_eq::<f32>(&b.to_data(), Tolerance::rel_abs(1e-5, 1e-5));
        }
        let bias = layer.bias.as_ref().unwrap().val();
        bias.grad(&g_ours)
            .unwrap()
            .to_data()
            .assert_approx_eq::<f32>(
                &bias.grad(&g_burn).unwrap().to_data(),
                Tolerance::rel_abs(1e-5, 1e-5),
            );
    }
}

/// An input that needs no gradient (a batch of data) gets none, and the weights still do.
#[test]
fn skips_the_input_gradient_of_data() {
    let device = Device::flex().autodiff();
    let layer = LinearConfig::new(64, 32).init(&device);
    let x = random([16, 64], &device);
    let grads = linear(&layer, x.clone()).sum().backward();
    assert!(x.grad(&grads).is_none());
    let dw = layer.weight.val().grad(&grads).unwrap();
    // Σ_b x[b, i] for every output column.
    let expected = x.sum_dim(0).reshape([64, 1]).inner().repeat_dim(1, 32);
    dw.to_data()
        .assert_approx_eq::<f32>(&expected.to_data(), Tolerance::rel_abs(1e-5, 1e-5));
}

/// Without the autodiff wrapper (evaluation) the kernel gives burn's values too.
#[test]
fn evaluates_without_autodiff() {
    let device = Device::flex();
    let layer = LinearConfig::new(300, 500).init(&device);
    let x = random([128, 300], &device);
    linear(&layer, x.clone())
        .to_data()
        .assert_approx_eq::<f32>(&layer.forward(x).to_data(), Tolerance::rel_abs(1e-5, 1e-5));
}
