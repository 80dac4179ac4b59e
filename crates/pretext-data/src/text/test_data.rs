//! Test helpers: the real corpora in the shared datasets folder, and files
//! written into a temporary directory.
use std::path::PathBuf;

/// `shared/datasets/text/<rel>` beside the project checkout.
///
/// # Panics
/// If the file is not there: these tests read the real data on purpose.
pub(crate) fn real(rel: &str) -> PathBuf {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/datasets/text"
    ))
    .join(rel);
    assert!(
        path.exists(),
        "{} is missing: the text tests read the shared datasets (see shared/datasets/README.md)",
        path.display()
    );
    path
}

/// Writes `bytes` to `dir/name` (creating parent folders) and returns the path.
pub(crate) fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}
