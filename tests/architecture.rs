//! The crate picture of `ARCHITECTURE.md` holds where the build can check
//! it: the reports and the run records they read build without burn, and
//! without the crates that hold tensors.
use std::path::Path;
use std::process::Command;

/// The crates `package` depends on, one name a line (`cargo tree`, normal
/// dependencies, with the features a build of `package` alone resolves).
fn dependencies(package: &str) -> Vec<String> {
    // The cargo that builds this test, so the same toolchain reads the lock file.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        // The host's dependencies: `--target all` would need every other
        // platform's crates downloaded, which an offline machine lacks.
        .args(["--format", "{p}", "-p", package])
        .arg("--manifest-path")
        .arg(&manifest)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("cargo prints UTF-8")
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_report_and_the_run_records_build_without_burn() {
    for package in ["pretext-report", "pretext-runs"] {
        let crates = dependencies(package);
        assert!(
            crates.iter().any(|c| c == "pretext-data") && crates.iter().any(|c| c == "serde"),
            "cargo tree -p {package} did not list its dependencies: {crates:?}"
        );
        let forbidden: Vec<&String> = crates
            .iter()
            .filter(|c| {
                c.starts_with("burn")
                    || c.starts_with("cubecl")
                    || [
                        "pretext-nn",
                        "pretext-methods",
                        "pretext-train",
                        "pretext-eval",
                    ]
                    .contains(&c.as_str())
            })
            .collect();
        assert!(
            forbidden.is_empty(),
            "{package} depends on {forbidden:?}; reports read run records as plain data"
        );
    }
}
