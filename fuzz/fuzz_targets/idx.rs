//! IDX images (and labels): any bytes must load or fail with an error, never
//! panic, hang or allocate what the file cannot hold.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::DatasetConfig;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    // First byte: whether a labels file follows, where it starts, and a limit.
    let Some((&control, rest)) = data.split_first() else { return };
    let split = (control as usize * rest.len()) / 255;
    let (images, labels) = rest.split_at(split.min(rest.len()));
    let images = scratch::file("x-images-idx3-ubyte", images);
    let labels = (control & 1 == 1).then(|| scratch::file("x-labels-idx1-ubyte", labels));
    let limit = (control & 2 == 2).then_some(1 + (control as usize >> 2));
    let config = DatasetConfig::Idx { images, labels, limit };
    if let Ok(d) = config.load(std::path::Path::new("/")) {
        assert!(!d.is_empty());
        let (c, h, w) = d.shape();
        assert_eq!(d.image(d.len() - 1).len(), c * h * w);
    }
});
