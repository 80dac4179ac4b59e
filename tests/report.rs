//! Reports end to end: a real run, evaluated and inspected, drawn into
//! figures and `report.html`, which a real browser (headless Chromium) must
//! load with every figure showing; and a run with a damaged metrics log.
use std::path::{Path, PathBuf};
use std::process::Command;

use pretext::eval::{EvaluatedRun, InspectConfig, TaskConfig, evaluate, inspect};
use pretext::report::{Report, ReportInputs, write_report};

use crate::common::{device, pretrain_small};
use crate::evaluate::task_toml;

fn names(report: &Report) -> Vec<String> {
    report.figures.iter().map(|f| f.name.clone()).collect()
}

/// Every figure file is a real PNG and SVG of some size.
fn assert_figure_files(report: &Report) {
    for f in &report.figures {
        let png = std::fs::read(&f.png).unwrap();
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 2000,
            "{}",
            f.png.display()
        );
        let svg = std::fs::read_to_string(&f.svg).unwrap();
        assert!(
            svg.contains("<svg") && svg.len() > 1000,
            "{}",
            f.svg.display()
        );
    }
}

#[test]
fn a_report_shows_every_figure_and_loads_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 640, tmp.path());
    let text = task_toml(600, "")
        .replace(
            r#"heads = ["linear", "knn", "mlp", "finetune"]"#,
            r#"heads = ["linear", "knn", "mlp"]"#,
        )
        .replace(
            r#"baselines = ["raw_pixels", "random_init", "supervised"]"#,
            r#"baselines = ["raw_pixels"]"#,
        );
    let task = TaskConfig::from_toml(&text, Path::new("task.toml"), &[]).unwrap();
    evaluate(&run, &task, &device(), &mut |_| {}).unwrap();

    let mut inputs = ReportInputs::read(&run).unwrap();
    let evaluated = EvaluatedRun::open(&run).unwrap();
    let config = InspectConfig {
        samples: 300,
        ..InspectConfig::default()
    };
    let inspection = inspect(&evaluated, Some(&task), &config, &device()).unwrap();
    assert_eq!(inspection.images.len(), 300);
    assert_eq!(inspection.embeddings.rows, 300);
    assert!(
        inspection.labels.is_some(),
        "the task's test set is labelled"
    );
    assert!(
        inspection.reconstructions.is_empty(),
        "SimCLR does not reconstruct"
    );
    inputs.inspection = Some(inspection);
    let report = write_report(&inputs).unwrap();

    assert_eq!(
        names(&report),
        [
            "training",
            "collapse",
            "label_efficiency",
            "head_curves",
            "confusion",
            "embedding_pca",
            "embedding_tsne",
            "neighbours",
            "augmentations"
        ]
    );
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert_figure_files(&report);
    assert!(!run.join("figures.partial").exists(), "staging left behind");
    let html = std::fs::read_to_string(&report.html).unwrap();
    assert_eq!(html.matches("<img src=\"data:image/png;base64,").count(), 9);
    assert!(
        html.contains("pretrained + linear") && html.contains("raw pixels + linear"),
        "results table"
    );
    assert!(html.contains("[method]"), "the experiment file");
    assert!(
        !html.contains("src=\"http") && !html.contains("<script"),
        "self-contained"
    );
    check_in_browser(&report.html, 9);
}

#[test]
fn a_damaged_metrics_log_is_noted_and_the_rest_drawn() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("autoencoder", 128, tmp.path());
    // A crash mid-write: the last line cut in half, and a stray line.
    let metrics = run.join("metrics.jsonl");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    let cut = &last[..last.len() / 2];
    lines.insert(1, "not json at all");
    let damaged = format!("{}\n{cut}", lines.join("\n"));
    std::fs::write(&metrics, damaged).unwrap();
    let total = lines.len() + 1;

    let mut inputs = ReportInputs::read(&run).unwrap();
    let evaluated = EvaluatedRun::open(&run).unwrap();
    let config = InspectConfig {
        samples: 64,
        ..InspectConfig::default()
    };
    let inspection = inspect(&evaluated, None, &config, &device()).unwrap();
    assert!(
        inspection.labels.is_none(),
        "the pretraining images are unlabelled"
    );
    assert!(inspection.augmented.is_empty(), "the run does not augment");
    assert_eq!(inspection.reconstructions.len(), 12);
    inputs.inspection = Some(inspection);
    let report = write_report(&inputs).unwrap();

    let notes = report.notes.join("\n");
    assert!(notes.contains("line 2: truncated or not JSON"), "{notes}");
    assert!(
        notes.contains(&format!("line {total}: truncated or not JSON")),
        "{notes}"
    );
    assert!(notes.contains("not evaluated yet"), "{notes}");
    let names = names(&report);
    for want in [
        "training",
        "collapse",
        "embedding_pca",
        "embedding_tsne",
        "neighbours",
        "reconstructions",
    ] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} missing from {names:?}"
        );
    }
    assert!(
        !names
            .iter()
            .any(|n| n == "label_efficiency" || n == "confusion"),
        "{names:?}"
    );
    assert_figure_files(&report);
    let html = std::fs::read_to_string(&report.html).unwrap();
    assert!(html.contains("Missing or unreadable") && html.contains("truncated or not JSON"));
}

/// Chromium on PATH, if any.
fn browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser", "google-chrome"].map(|b| dir.join(b)))
        .find(|p| p.is_file())
}

/// Loads `html` in headless Chromium and asserts that `expected` images
/// loaded and are laid out with a non-zero size. Without Chromium the check
/// is skipped, unless `PRETEXT_REQUIRE_BROWSER` is set (as `.ci/run` does).
fn check_in_browser(html: &Path, expected: usize) {
    let Some(chromium) = browser() else {
        assert!(
            std::env::var_os("PRETEXT_REQUIRE_BROWSER").is_none(),
            "PRETEXT_REQUIRE_BROWSER is set but no chromium is on PATH"
        );
        eprintln!("skipping the browser check: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The probe reports, after load, each image's state and laid-out size.
    let probe = r#"<script>
window.addEventListener('load', () => {
  const r = Array.from(document.images).map(i => {
    const b = i.getBoundingClientRect();
    return [i.complete && i.naturalWidth > 0 && i.naturalHeight > 0, Math.round(b.width), Math.round(b.height)];
  });
  const p = document.createElement('pre');
  p.id = 'figure-check';
  p.textContent = JSON.stringify(r);
  document.body.appendChild(p);
});
</script>"#;
    let page = std::fs::read_to_string(html)
        .unwrap()
        .replace("</body>", &format!("{probe}</body>"));
    let probed = dir.path().join("report.html");
    std::fs::write(&probed, page).unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", probed.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("<pre id=\"figure-check\">").unwrap_or_else(|| {
        panic!(
            "the page did not finish loading in chromium: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    }) + "<pre id=\"figure-check\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let images: Vec<(bool, u32, u32)> = serde_json::from_str(&dom[start..end]).unwrap();
    assert_eq!(images.len(), expected, "{images:?}");
    for (i, (loaded, w, h)) in images.iter().enumerate() {
        assert!(
            *loaded && *w > 0 && *h > 0,
            "figure {i} did not render: {images:?}"
        );
    }
}
