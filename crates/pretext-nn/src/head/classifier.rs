//! The classification head of downstream evaluation: a linear layer, or an
//! MLP with one hidden layer and dropout (`Linear → ReLU → Dropout → Linear`).
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

/// Settings of [`ClassifierHead`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierHeadConfig {
    /// Width of the hidden layer; `None` gives a linear classifier.
    pub hidden_dim: Option<usize>,
    /// Dropout probability before the output layer (MLP only).
    pub dropout: f64,
}

impl ClassifierHeadConfig {
    /// A linear classifier.
    pub fn linear() -> Self {
        Self {
            hidden_dim: None,
            dropout: 0.0,
        }
    }

    /// Builds a head mapping `in_dim` features to `classes` logits.
    pub fn init(&self, in_dim: usize, classes: usize, device: &Device) -> ClassifierHead {
        match self.hidden_dim {
            Some(hidden) => ClassifierHead {
                fc1: Some(LinearConfig::new(in_dim, hidden).init(device)),
                dropout: DropoutConfig::new(self.dropout).init(),
                fc2: LinearConfig::new(hidden, classes).init(device),
            },
            None => ClassifierHead {
                fc1: None,
                dropout: DropoutConfig::new(0.0).init(),
                fc2: LinearConfig::new(in_dim, classes).init(device),
            },
        }
    }
}

/// A linear or one-hidden-layer classifier.
#[derive(Module, Debug)]
pub struct ClassifierHead {
    fc1: Option<Linear>,
    dropout: Dropout,
    fc2: Linear,
}

impl ClassifierHead {
    /// # Shapes
    /// `[b, in_dim]` → `[b, classes]`
    pub fn forward(&self, h: Tensor<2>) -> Tensor<2> {
        let x = match &self.fc1 {
            Some(fc1) => self.dropout.forward(relu(fc1.forward(h))), // [b, hidden]
            None => h,
        };
        self.fc2.forward(x) // [b, classes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_and_mlp_heads_give_one_logit_per_class() {
        let device = Device::flex();
        let x = Tensor::<2>::ones([4, 6], &device);
        for cfg in [
            ClassifierHeadConfig::linear(),
            ClassifierHeadConfig {
                hidden_dim: Some(5),
                dropout: 0.5,
            },
        ] {
            let head = cfg.init(6, 3, &device);
            assert_eq!(head.forward(x.clone()).dims(), [4, 3]);
        }
    }
}
