//! The digits CSV: any bytes (not UTF-8, short lines, huge numbers) must
//! load or fail with an error naming the line.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::DatasetConfig;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    let path = scratch::file("digits.csv", data);
    let config = DatasetConfig::DigitsCsv { path, limit: None };
    if let Ok(d) = config.load(std::path::Path::new("/")) {
        assert_eq!(d.shape(), (1, 8, 8));
        assert!(d.labels().is_some_and(|l| l.iter().all(|&c| c < 10)));
    }
});
