//! `neighbours.bin`, the partners file `pretext neighbours` writes and a
//! later run reads: any bytes must load or fail with an error naming the
//! file; what loads must answer for every image and write back the same
//! bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pretext_data::Partners;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|data: &[u8]| {
    let path = scratch::file("neighbours.bin", data);
    if let Ok(p) = Partners::read(&path) {
        for i in 0..p.len().min(1000) {
            assert_eq!(p.of(i).len(), p.k());
            assert!(p.pick(i, 7) < p.len(), "a partner outside the table");
        }
        assert_eq!(p.to_bytes(), data);
    }
});
