//! Per-channel mean and standard deviation, computed from the data.
use serde::{Deserialize, Serialize};

use crate::ImageDataset;

/// Channel means and standard deviations in `[0, 1]` pixel units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelStats {
    /// Mean of each channel.
    pub mean: Vec<f32>,
    /// Standard deviation of each channel (never below `1e-3`).
    pub std: Vec<f32>,
}

impl ChannelStats {
    /// Statistics of every pixel of `data`, channel by channel.
    pub fn of(data: &ImageDataset) -> Self {
        let (c, h, w) = data.shape();
        let plane = h * w;
        let mut sum = vec![0f64; c];
        let mut sq = vec![0f64; c];
        for i in 0..data.len() {
            let img = data.image(i);
            for ch in 0..c {
                for &p in &img[ch * plane..(ch + 1) * plane] {
                    let v = p as f64 / 255.0;
                    sum[ch] += v;
                    sq[ch] += v * v;
                }
            }
        }
        let n = (data.len() * plane).max(1) as f64;
        let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let std = sq
            .iter()
            .zip(&sum)
            .map(|(q, s)| {
                let m = s / n;
                ((q / n - m * m).max(0.0).sqrt() as f32).max(1e-3)
            })
            .collect();
        Self { mean, std }
    }

    /// Identity statistics (mean 0, std 1) for `channels` channels.
    pub fn identity(channels: usize) -> Self {
        Self {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }
}
