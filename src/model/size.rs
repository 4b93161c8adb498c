//! Parameter counts and multiply–accumulates per example, from the spec alone, so the window
//! can show a model's size and the compression ratio before anything is built.

use super::IoShape;
use super::cnn::pooled_side;
use crate::config::ArchSpec;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ModelSize {
    pub parameters: usize,
    /// Multiply–accumulates of one forward pass for one example.
    pub macs: usize,
}

impl std::ops::Add for ModelSize {
    type Output = ModelSize;
    fn add(self, o: ModelSize) -> ModelSize {
        ModelSize {
            parameters: self.parameters + o.parameters,
            macs: self.macs + o.macs,
        }
    }
}

fn dense(widths: impl Iterator<Item = usize>) -> ModelSize {
    let widths: Vec<usize> = widths.collect();
    widths
        .windows(2)
        .map(|w| ModelSize {
            parameters: w[0] * w[1] + w[1],
            macs: w[0] * w[1],
        })
        .fold(ModelSize::default(), |a, b| a + b)
}

/// Size of `spec` for the given input and output shapes.
pub fn arch_size(spec: &ArchSpec, io: IoShape) -> ModelSize {
    match spec {
        ArchSpec::Mlp(m) => dense(
            std::iter::once(io.inputs)
                .chain(m.hidden.iter().copied())
                .chain(std::iter::once(io.classes)),
        ),
        ArchSpec::SoftmaxRegression => dense([io.inputs, io.classes].into_iter()),
        ArchSpec::Cnn(c) => {
            let Some(image) = io.image else {
                return ModelSize::default();
            };
            let k2 = c.kernel_size * c.kernel_size;
            let mut size = ModelSize::default();
            let (mut ch, mut h, mut w) = (image.channels, image.height, image.width);
            for &out in &c.channels {
                // Same padding: the conv keeps h × w; the pool then halves it.
                size = size
                    + ModelSize {
                        parameters: ch * out * k2 + out,
                        macs: h * w * ch * out * k2,
                    };
                ch = out;
                h = pooled_side(h, 1);
                w = pooled_side(w, 1);
            }
            size + dense(
                std::iter::once(ch * h * w)
                    .chain(c.hidden.iter().copied())
                    .chain(std::iter::once(io.classes)),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CnnSpec, MlpSpec};
    use crate::data::ImageShape;

    #[test]
    fn mlp_counts_match_hand_arithmetic() {
        let io = IoShape {
            inputs: 784,
            classes: 10,
            image: None,
        };
        let spec = ArchSpec::Mlp(MlpSpec {
            hidden: vec![1200, 1200],
            ..MlpSpec::default()
        });
        // 784·1200+1200 + 1200·1200+1200 + 1200·10+10
        assert_eq!(
            arch_size(&spec, io),
            ModelSize {
                parameters: 2_395_210,
                macs: 2_392_800
            }
        );
        assert_eq!(arch_size(&ArchSpec::SoftmaxRegression, io).parameters, 7850);
    }

    #[test]
    fn cnn_counts_match_hand_arithmetic() {
        let io = IoShape {
            inputs: 64,
            classes: 10,
            image: Some(ImageShape {
                channels: 1,
                height: 8,
                width: 8,
            }),
        };
        let spec = ArchSpec::Cnn(CnnSpec {
            channels: vec![4],
            kernel_size: 3,
            hidden: vec![],
            dropout: 0.0,
        });
        // conv: 1·4·9+4 = 40 params, 8·8·1·4·9 = 2304 MACs; dense 4·4·4=64 -> 10: 650 params.
        assert_eq!(
            arch_size(&spec, io),
            ModelSize {
                parameters: 690,
                macs: 2304 + 640
            }
        );
    }
}
