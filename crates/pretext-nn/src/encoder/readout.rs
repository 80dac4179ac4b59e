//! What a frozen encoder hands its evaluation heads: the pooled embedding, or
//! its stages' feature maps average-pooled over a grid of the image and
//! concatenated, as Coates, Lee and Ng pool their k-means features by
//! quadrant. Nothing here trains: pretraining always uses the embedding.
use burn::tensor::Tensor;
use burn::tensor::module::adaptive_avg_pool2d;
use pretext_data::Readout;

use super::Encoder;

impl Encoder {
    /// Channels of each stage's output map, first to last; empty for an
    /// encoder without maps (an MLP, a ViT, a small CNN without stages).
    fn stage_widths(&self) -> Vec<usize> {
        match self {
            Encoder::SmallCnn(m) => m.stage_widths(),
            Encoder::ResNet(m) => m.stage_widths(),
            Encoder::ResNet9(m) => m.stage_widths(),
            Encoder::Mlp(_) | Encoder::Vit(_) => Vec::new(),
        }
    }

    /// Length of [`Encoder::forward_readout`]'s output, or why this encoder
    /// has no such readout (an MLP or a ViT has no feature map; an encoder
    /// has only so many stages).
    pub fn readout_dim(&self, readout: Readout) -> Result<usize, String> {
        if readout.is_embedding() {
            return Ok(self.out_dim());
        }
        let widths = self.stage_widths();
        let kind = match self {
            Encoder::SmallCnn(_) => "a small_cnn",
            Encoder::ResNet(_) => "a resnet18",
            Encoder::ResNet9(_) => "a resnet9",
            Encoder::Mlp(_) => "an mlp",
            Encoder::Vit(_) => "a vit",
        };
        if widths.is_empty() {
            return Err(format!(
                "{kind} encoder has no feature map to pool over a grid"
            ));
        }
        if readout.stages > widths.len() {
            return Err(format!(
                "readout.stages is {} but {kind} encoder has {} stages",
                readout.stages,
                widths.len()
            ));
        }
        let cells = readout.grid * readout.grid;
        Ok(widths[widths.len() - readout.stages..]
            .iter()
            .sum::<usize>()
            * cells)
    }

    /// Features of a batch of images for frozen heads: the last
    /// `readout.stages` stages' maps, each average-pooled over a
    /// `readout.grid` x `readout.grid` partition and flattened
    /// channel-major, concatenated earliest stage first. The default
    /// readout is [`Encoder::forward`] itself.
    ///
    /// # Panics
    /// On a readout the encoder does not have ([`Encoder::readout_dim`]
    /// says why; check it first).
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - output: `[batch, readout_dim]`
    pub fn forward_readout(&self, x: Tensor<4>, readout: Readout) -> Tensor<2> {
        if readout.is_embedding() {
            return self.forward(x);
        }
        if let Err(why) = self.readout_dim(readout) {
            panic!("{why} (check readout_dim first)");
        }
        let maps = match self {
            Encoder::SmallCnn(m) => m.stage_maps(x, readout.stages),
            Encoder::ResNet(m) => m.stage_maps(x, readout.stages),
            Encoder::ResNet9(m) => m.stage_maps(x, readout.stages),
            Encoder::Mlp(_) | Encoder::Vit(_) => unreachable!("readout_dim refused it"),
        };
        let parts: Vec<Tensor<2>> = maps
            .into_iter()
            .map(|m| adaptive_avg_pool2d(m, [readout.grid, readout.grid]).flatten(1, 3))
            .collect();
        Tensor::cat(parts, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InputShape;
    use crate::encoder::EncoderConfig;
    use burn::tensor::{Device, Distribution};

    fn values(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    #[test]
    fn a_quadrant_readout_holds_the_quadrant_means_of_the_pooled_embedding() {
        let device = Device::flex();
        let input = InputShape::new(3, 32, 32);
        let x = Tensor::random([2, 3, 32, 32], Distribution::Default, &device);
        let quadrants = Readout { grid: 2, stages: 1 };
        for text in [
            "kind = \"resnet9\"\nwidth = 4",
            "kind = \"small_cnn\"\nwidths = [8, 16]",
            "kind = \"resnet18\"\nwidth = 2",
        ] {
            let config: EncoderConfig = toml::from_str(text).unwrap();
            let encoder = config.init(input, &device);
            let dim = encoder.out_dim();
            assert_eq!(encoder.readout_dim(quadrants), Ok(4 * dim));
            let pooled = values(encoder.forward(x.clone()));
            let grid = encoder.forward_readout(x.clone(), quadrants);
            assert_eq!(grid.dims(), [2, 4 * dim], "{text}");
            let grid = values(grid);
            // Channel-major: channel c holds its four quadrants at 4c..4c+4,
            // and on an even map their mean is the global mean.
            for (b, c) in (0..2).flat_map(|b| (0..dim).map(move |c| (b, c))) {
                let mean = grid[b * 4 * dim + 4 * c..][..4].iter().sum::<f32>() / 4.0;
                let want = pooled[b * dim + c];
                assert!(
                    (mean - want).abs() < 1e-4 * (1.0 + want.abs()),
                    "{text}: {mean} vs {want}"
                );
            }
        }
    }

    #[test]
    fn two_stages_put_the_earlier_stage_first_and_the_last_stage_after_it() {
        let device = Device::flex();
        let config: EncoderConfig = toml::from_str("kind = \"resnet9\"\nwidth = 4").unwrap();
        let encoder = config.init(InputShape::new(3, 32, 32), &device);
        let x = Tensor::random([3, 3, 32, 32], Distribution::Default, &device);
        let both = Readout { grid: 2, stages: 2 };
        // ResNet-9 at width 4: stages of 8, 16 and 32 channels.
        assert_eq!(encoder.readout_dim(both), Ok((16 + 32) * 4));
        let got = values(encoder.forward_readout(x.clone(), both));
        let last = values(encoder.forward_readout(x, Readout { grid: 2, stages: 1 }));
        for b in 0..3 {
            assert_eq!(
                got[b * 192 + 64..][..128],
                last[b * 128..][..128],
                "image {b}"
            );
        }
        let e = encoder
            .readout_dim(Readout { grid: 1, stages: 4 })
            .unwrap_err();
        assert_eq!(e, "readout.stages is 4 but a resnet9 encoder has 3 stages");
    }

    #[test]
    fn every_stage_count_reads_as_many_maps_as_it_says_on_each_encoder() {
        let device = Device::flex();
        let x = Tensor::random([2, 3, 32, 32], Distribution::Default, &device);
        for (text, stages) in [
            ("kind = \"resnet9\"\nwidth = 4", 3),
            ("kind = \"small_cnn\"\nwidths = [8, 16, 24]", 3),
            ("kind = \"resnet18\"\nwidth = 2", 4),
        ] {
            let config: EncoderConfig = toml::from_str(text).unwrap();
            let encoder = config.init(InputShape::new(3, 32, 32), &device);
            let last = values(encoder.forward_readout(x.clone(), Readout { grid: 2, stages: 1 }));
            let per_image = last.len() / 2;
            for n in 1..=stages {
                let readout = Readout { grid: 2, stages: n };
                let dim = encoder.readout_dim(readout).unwrap();
                let got = encoder.forward_readout(x.clone(), readout);
                assert_eq!(got.dims(), [2, dim], "{text}, {n} stages");
                // The last stage's part is always at the end.
                let got = values(got);
                for b in 0..2 {
                    assert_eq!(
                        got[b * dim + dim - per_image..][..per_image],
                        last[b * per_image..][..per_image],
                        "{text}, {n} stages, image {b}"
                    );
                }
            }
            assert!(
                encoder
                    .readout_dim(Readout {
                        grid: 1,
                        stages: stages + 1
                    })
                    .is_err()
            );
        }
    }

    #[test]
    fn encoders_without_maps_and_settings_out_of_range_are_refused() {
        let device = Device::flex();
        let input = InputShape::new(1, 28, 28);
        let mlp: EncoderConfig = toml::from_str("kind = \"mlp\"\nhidden = [8]").unwrap();
        let mlp = mlp.init(input, &device);
        assert_eq!(mlp.readout_dim(Readout::default()), Ok(8));
        let e = mlp.readout_dim(Readout { grid: 2, stages: 1 }).unwrap_err();
        assert!(e.contains("mlp encoder has no feature map"), "{e}");
        let e = Readout { grid: 5, stages: 1 }.validate().unwrap_err();
        assert_eq!(e, "readout.grid must be 1 to 4, got 5");
        let e = Readout { grid: 1, stages: 0 }.validate().unwrap_err();
        assert_eq!(e, "readout.stages must be 1 to 4, got 0");
    }
}
