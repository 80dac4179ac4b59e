//! Library import: an encoder loaded from a run embeds images as evaluation
//! does; exported to safetensors and imported again it gives the same
//! embeddings on each CPU backend; the export opens in Python's
//! `safetensors` with the names and shapes `config.json` lists.
use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use pretext::data::{DatasetConfig, ImageDataset};
use pretext::eval::EvaluatedRun;
use pretext::eval::embed::embed_images;
use pretext::{Encoder, Error, export_safetensors, import_safetensors};

use crate::common::{pretrain_small, root};

fn test_images(limit: usize) -> ImageDataset {
    DatasetConfig::Idx {
        images: root().join("datasets/mnist/t10k-images-idx3-ubyte.gz"),
        labels: None,
        limit: Some(limit),
    }
    .load(Path::new("."))
    .unwrap()
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

#[test]
fn export_then_import_gives_the_same_embeddings_on_each_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 320, tmp.path());
    let data = test_images(300);
    // ndarray is deprecated upstream but still a backend users can pick.
    #[allow(deprecated)]
    let ndarray = Device::ndarray();
    for (name, device) in [("flex", Device::flex()), ("ndarray", ndarray)] {
        let encoder = Encoder::load(&run, &device).unwrap();
        let direct = encoder.embed_dataset(&data).unwrap();
        assert_eq!((direct.len(), direct[0].len()), (300, encoder.dim()));

        // The same numbers evaluation computes for this run.
        let evaluated = EvaluatedRun::open(&run).unwrap();
        let features = embed_images(
            &evaluated.encoder(&device).unwrap(),
            &Arc::new(data.clone()),
            &evaluated.stats(),
            Default::default(),
            &device,
        );
        let rows: Vec<Vec<f32>> = features
            .data
            .chunks(features.dim)
            .map(<[f32]>::to_vec)
            .collect();
        assert!(
            max_diff(&direct, &rows) <= 1e-6,
            "{name}: library vs evaluation"
        );

        let dir = tmp.path().join(format!("export-{name}"));
        let config = export_safetensors(&encoder, &dir).unwrap();
        let imported = import_safetensors(&dir, &device).unwrap();
        let again = imported.embed_dataset(&data).unwrap();
        let diff = max_diff(&direct, &again);
        assert!(diff <= 1e-6, "{name}: round trip differs by {diff}");

        // PyTorch names: no enum variant, batch norm as weight/bias, linear [out, in].
        let names: Vec<&String> = config.tensors.keys().collect();
        assert!(
            config.tensors.contains_key("stages.0.conv.weight"),
            "{names:?}"
        );
        assert!(
            config.tensors.contains_key("stages.0.norm.weight"),
            "{names:?}"
        );
        assert!(
            config.tensors.contains_key("stages.0.norm.running_var"),
            "{names:?}"
        );
        assert!(
            !names
                .iter()
                .any(|n| n.contains("SmallCnn") || n.contains("gamma")),
            "{names:?}"
        );
        assert_eq!(config.tensors["stages.0.conv.weight"], vec![8, 1, 3, 3]);
        check_in_python(&dir);
    }
}

#[test]
fn images_in_memory_and_files_embed_like_the_dataset_and_bad_ones_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 320, tmp.path());
    let device = Device::flex();
    let encoder = Encoder::load(&run, &device).unwrap();
    let data = test_images(4);
    let expected = encoder.embed_dataset(&data).unwrap();
    let images: Vec<image::DynamicImage> = (0..4)
        .map(|i| {
            image::GrayImage::from_raw(28, 28, data.image(i).to_vec())
                .unwrap()
                .into()
        })
        .collect();
    assert!(max_diff(&encoder.embed_images(&images).unwrap(), &expected) <= 1e-6);
    let paths: Vec<_> = images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let p = tmp.path().join(format!("{i}.png"));
            img.save(&p).unwrap();
            p
        })
        .collect();
    assert!(max_diff(&encoder.embed_paths(&paths).unwrap(), &expected) <= 1e-6);

    // A larger image is resized to the input size.
    let big: image::DynamicImage = image::GrayImage::from_pixel(56, 56, image::Luma([9])).into();
    assert_eq!(
        encoder.embed_images(&[big]).unwrap()[0].len(),
        encoder.dim()
    );
    // A colour image for a grey encoder, an undecodable file, a run without a checkpoint.
    let rgb: image::DynamicImage = image::RgbImage::new(28, 28).into();
    let e = encoder.embed_images(&[rgb]).unwrap_err().to_string();
    assert!(
        e.contains("image 0") && e.contains("3 channels") && e.contains("takes 1"),
        "{e}"
    );
    std::fs::write(tmp.path().join("bad.png"), b"not a png").unwrap();
    let e = encoder
        .embed_paths(&[tmp.path().join("bad.png")])
        .unwrap_err();
    assert!(
        matches!(e, Error::Image { .. }) && e.to_string().contains("bad.png"),
        "{e}"
    );
    // A finished run's latest checkpoint loads without a word.
    assert!(encoder.warnings().is_empty(), "{:?}", encoder.warnings());
    // One flipped byte in the latest weights: the previous checkpoint (epoch
    // 2 of 3) is used, with a warning; a strict load refuses.
    let model = run.join("checkpoint/model.bpk");
    let mut bytes = std::fs::read(&model).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&model, bytes).unwrap();
    let fallen_back = Encoder::load(&run, &device).unwrap();
    assert!(fallen_back.source().ends_with("checkpoint.prev"));
    let warnings = fallen_back.warnings().join("\n");
    assert!(
        warnings.starts_with("warning: ")
            && warnings.contains("model.bpk")
            && warnings.contains("using the previous checkpoint (epoch 2)"),
        "{warnings}"
    );
    let e = Encoder::load_strict(&run, &device).unwrap_err();
    assert!(
        matches!(e, Error::Stale { .. }) && e.to_string().contains("refused (strict)"),
        "{e}"
    );
    std::fs::remove_dir_all(run.join("checkpoint")).unwrap();
    std::fs::remove_dir_all(run.join("checkpoint.prev")).unwrap();
    let e = Encoder::load(&run, &device).unwrap_err().to_string();
    assert!(e.contains("no checkpoint"), "{e}");
}

/// Opens the export with Python's `safetensors` and checks every name and
/// shape against `config.json`. Skipped without Python's `safetensors`,
/// unless `PRETEXT_REQUIRE_PYTHON` is set (as `.ci/run` does).
pub(crate) fn check_in_python(dir: &Path) {
    let script = r#"
import json, sys
from safetensors.numpy import load_file
d = sys.argv[1]
tensors = load_file(d + "/encoder.safetensors")
config = json.load(open(d + "/config.json"))
assert set(tensors) == set(config["tensors"]), (sorted(tensors), sorted(config["tensors"]))
for name, t in tensors.items():
    assert list(t.shape) == config["tensors"][name], (name, t.shape)
    assert str(t.dtype) == "float32", (name, t.dtype)
print(len(tensors))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output();
    let available = out.as_ref().is_ok_and(|o| {
        o.status.success() || !String::from_utf8_lossy(&o.stderr).contains("No module named")
    });
    if !available {
        assert!(
            std::env::var_os("PRETEXT_REQUIRE_PYTHON").is_none(),
            "PRETEXT_REQUIRE_PYTHON is set but python3 cannot import safetensors"
        );
        eprintln!("skipping the Python check: pip install safetensors numpy");
        return;
    }
    let out = out.unwrap();
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
