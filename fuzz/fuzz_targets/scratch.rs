//! A scratch file per fuzzing process, in memory where the system allows.
use std::path::PathBuf;

/// `<tmp>/pretext-fuzz-<pid>/<name>`, holding `bytes`.
pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    let dir = base.join(format!("pretext-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("scratch directory");
    }
    std::fs::write(&path, bytes).expect("scratch file");
    path
}
