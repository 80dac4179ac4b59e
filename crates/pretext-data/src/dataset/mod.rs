//! Image datasets: the in-memory [`ImageDataset`] and the readers for each
//! on-disk format, chosen by one [`DatasetConfig`].

mod cifar;
mod config;
mod digits;
pub(crate) mod folder;
mod idx;
mod image_dataset;
pub(crate) mod read;
mod stl10;

pub use config::DatasetConfig;
pub use image_dataset::ImageDataset;
