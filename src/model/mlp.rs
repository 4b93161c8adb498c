//! Multilayer perceptron (and, with no hidden layer, softmax regression).

use super::dropout::FastDropout;
use super::linear_kernel::{linear, linear_relu};
use crate::config::MlpSpec;
use burn::nn::activation::Activation;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

#[derive(Module, Debug)]
pub struct Mlp {
    hidden: Vec<Linear>,
    output: Linear,
    activation: Activation,
    dropout: FastDropout,
}

impl Mlp {
    pub fn new(spec: &MlpSpec, inputs: usize, classes: usize, device: &Device) -> Self {
        let mut width = inputs;
        let hidden = spec
            .hidden
            .iter()
            .map(|&w| {
                let layer = LinearConfig::new(width, w).init(device);
                width = w;
                layer
            })
            .collect();
        Self {
            hidden,
            output: LinearConfig::new(width, classes).init(device),
            activation: super::activation(spec.activation, device),
            dropout: FastDropout::new(spec.dropout),
        }
    }

    /// - input: `[batch, inputs]`
    /// - output: `[batch, classes]` logits
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let x = self.hidden.iter().fold(input, |x, layer| {
            // [batch, width_in] -> [batch, width_out]
            self.dropout.forward(self.hidden_layer(layer, x))
        });
        linear(&self.output, x)
    }

    /// A hidden layer and its activation; a ReLU is fused into the layer where it can be.
    fn hidden_layer(&self, layer: &Linear, x: Tensor<2>) -> Tensor<2> {
        match self.activation {
            Activation::Relu(_) => linear_relu(layer, x),
            _ => self.activation.forward(linear(layer, x)),
        }
    }
}
