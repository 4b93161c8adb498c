//! Architectures built from [`ArchSpec`]s, and their size accounting.

mod cnn;
pub mod dropout;
mod gemm_parts;
pub mod linear_kernel;
mod mlp;
mod size;

pub use cnn::Cnn;
pub use mlp::Mlp;
pub use size::{ModelSize, arch_size};

use crate::config::{ArchSpec, MlpSpec};
use crate::data::ImageShape;
use burn::prelude::*;

/// What a network's input and output look like, fixed by the data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IoShape {
    pub inputs: usize,
    pub classes: usize,
    pub image: Option<ImageShape>,
}

/// Any network Distillery trains: maps `[batch, inputs]` features to `[batch, classes]` logits.
#[derive(Module, Debug)]
pub enum Net {
    Mlp(Mlp),
    Cnn(Cnn),
}

impl Net {
    /// Build a freshly initialised network. Call `device.seed(..)` first for reproducibility.
    pub fn build(spec: &ArchSpec, io: IoShape, device: &Device) -> Result<Net, String> {
        match spec {
            ArchSpec::Mlp(m) => Ok(Net::Mlp(Mlp::new(m, io.inputs, io.classes, device))),
            ArchSpec::SoftmaxRegression => {
                let linear = MlpSpec {
                    hidden: Vec::new(),
                    ..MlpSpec::default()
                };
                Ok(Net::Mlp(Mlp::new(&linear, io.inputs, io.classes, device)))
            }
            ArchSpec::Cnn(c) => {
                let image = io
                    .image
                    .ok_or("a CNN needs image data; this dataset's examples are not images")?;
                Ok(Net::Cnn(Cnn::new(c, image, io.classes, device)?))
            }
        }
    }

    /// Logits for a batch of flattened examples.
    ///
    /// - input: `[batch, inputs]`
    /// - output: `[batch, classes]`
    pub fn forward(&self, input: Tensor<2>) -> Tensor<2> {
        match self {
            Net::Mlp(m) => m.forward(input),
            Net::Cnn(c) => c.forward(input),
        }
    }
}

/// Map our activation names onto burn's activation layer.
pub(crate) fn activation(
    kind: crate::config::ActivationKind,
    device: &Device,
) -> burn::nn::activation::Activation {
    use crate::config::ActivationKind::*;
    let config = match kind {
        Relu => burn::nn::activation::ActivationConfig::Relu,
        Gelu => burn::nn::activation::ActivationConfig::Gelu,
        Tanh => burn::nn::activation::ActivationConfig::Tanh,
    };
    config.init(device)
}
