//! Settings files and `--set` overrides: any text must parse or fail with a
//! one-line error, for the data and augmentation tables of an experiment.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::{AugmentConfig, DatasetConfig, from_toml_with_overrides};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Lines after a `---` line are `--set key=value` overrides.
    let (file, overrides) = text.split_once("\n---\n").unwrap_or((text, ""));
    let overrides: Vec<String> = overrides.lines().map(str::to_string).collect();
    for result in [
        from_toml_with_overrides::<DatasetConfig>(file, &overrides).map(|_| ()),
        from_toml_with_overrides::<AugmentConfig>(file, &overrides)
            .and_then(|a| a.validate()),
    ] {
        if let Err(message) = result {
            assert!(!message.contains('\n'), "errors are one line: {message:?}");
        }
    }
});
