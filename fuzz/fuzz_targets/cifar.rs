//! CIFAR-10/100 binary batches: any bytes must load or fail with an error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::DatasetConfig;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else { return };
    let file = scratch::file("data_batch_1.bin", rest);
    let classes = if control & 1 == 1 { 100 } else { 10 };
    let limit = (control & 2 == 2).then_some(1 + (control as usize >> 2));
    let config = DatasetConfig::Cifar { files: vec![file], classes, limit };
    if let Ok(d) = config.load(std::path::Path::new("/")) {
        assert_eq!(d.shape(), (3, 32, 32));
        assert!(d.labels().is_some_and(|l| l.iter().all(|&c| (c as usize) < classes)));
    }
});
