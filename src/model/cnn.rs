//! A LeNet-style CNN: conv (same padding) + ReLU + 2×2 max-pool stages, then a dense head.

use super::dropout::FastDropout;
use super::linear_kernel::{linear, linear_relu};
use crate::config::CnnSpec;
use crate::data::ImageShape;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;

#[derive(Module, Debug)]
pub struct Cnn {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    dense: Vec<Linear>,
    output: Linear,
    activation: Relu,
    dropout: FastDropout,
    channels: usize,
    height: usize,
    width: usize,
}

/// Height and width after `stages` 2×2 pools (floor division, as the pool does).
pub fn pooled_side(side: usize, stages: usize) -> usize {
    (0..stages).fold(side, |s, _| s / 2)
}

impl Cnn {
    pub fn new(
        spec: &CnnSpec,
        image: ImageShape,
        classes: usize,
        device: &Device,
    ) -> Result<Self, String> {
        let stages = spec.channels.len();
        let (h, w) = (
            pooled_side(image.height, stages),
            pooled_side(image.width, stages),
        );
        if h == 0 || w == 0 {
            return Err(format!(
                "{stages} pooling stages shrink {}×{} images to nothing; use at most {}",
                image.height,
                image.width,
                image.height.min(image.width).ilog2()
            ));
        }
        let k = spec.kernel_size;
        let mut in_ch = image.channels;
        let convs = spec
            .channels
            .iter()
            .map(|&out| {
                let conv = Conv2dConfig::new([in_ch, out], [k, k])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device);
                in_ch = out;
                conv
            })
            .collect();
        let mut width = in_ch * h * w;
        let dense = spec
            .hidden
            .iter()
            .map(|&d| {
                let layer = LinearConfig::new(width, d).init(device);
                width = d;
                layer
            })
            .collect();
        Ok(Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            dense,
            output: LinearConfig::new(width, classes).init(device),
            activation: Relu::new(),
            dropout: FastDropout::new(spec.dropout),
            channels: image.channels,
            height: image.height,
            width: image.width,
        })
    }

    /// - input: `[batch, channels·height·width]` flattened images
    /// - output: `[batch, classes]` logits
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        let [batch, _] = input.dims();
        // [batch, c, h, w]
        let x = input.reshape([batch, self.channels, self.height, self.width]);
        // Each stage: [batch, c_in, h, w] -> [batch, c_out, h/2, w/2]
        let x = self.convs.iter().fold(x, |x, conv| {
            self.pool.forward(self.activation.forward(conv.forward(x)))
        });
        // [batch, c·h·w]
        let x: Tensor<2> = x.flatten(1, 3);
        let x = self
            .dense
            .iter()
            .fold(x, |x, layer| self.dropout.forward(linear_relu(layer, x)));
        linear(&self.output, x)
    }
}
