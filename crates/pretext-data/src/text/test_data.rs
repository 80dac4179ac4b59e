//! Test helpers: the real corpora in the external datasets folder, and
//! files written into a temporary directory.
use std::path::PathBuf;

/// `text/<rel>` under the external datasets folder
/// ([`crate::external::test_data`]): `None`, said in one line, where it is
/// absent, and the test returns early; a failure with `PRETEXT_REQUIRE_DATA`.
pub(crate) fn real(rel: &str) -> Option<PathBuf> {
    crate::external::test_data(&format!("text/{rel}"))
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
