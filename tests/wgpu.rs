//! The GPU path: every encoder and loss gives on wgpu what it gives on the
//! CPU (flex), forward and backward, batch-norm statistics included; a run
//! checkpointed on the CPU continues on wgpu as it does on the CPU; and an
//! evaluation on wgpu scores what it scores on the CPU. On
//! an H100 (Vulkan, driver 580) the first three held; a fresh run on each
//! backend did not follow the other, because initial weights come from each
//! backend's own generator. CI runs this on Mesa's software Vulkan device (lavapipe); without
//! any adapter the group is skipped, unless `PRETEXT_REQUIRE_WGPU` is set
//! (as `.ci/run` does).
//!
//! Tolerances: forward outputs within 1e-4 (absolute, on values of order 1),
//! input gradients within 1e-3 relative to their largest magnitude. The GPU
//! sums in another order and fuses operations, so bitwise equality is not
//! expected; a wrong kernel is off by far more.
use std::path::Path;
use std::sync::OnceLock;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::wgpu::wgpu;
use burn::tensor::{Bytes, Device, DeviceKind, Tensor, TensorData};
use pretext::eval::{TaskConfig, evaluate};
use pretext::methods::loss::{ReconstructionLoss, nt_xent, reconstruction};
use pretext::nn::{EncoderConfig, InputShape, random_streams};
use pretext::train::{ExperimentConfig, NoObserver, RunInfo, pretrain, resume};

use crate::common::{experiment, pretrain_small};
use crate::evaluate::task_toml;

/// The wgpu device; `None` without an adapter. The lazy constructor is used,
/// not `wgpu_options().init()`: other tests in this binary may already have
/// registered the default wgpu runtime (burn's record loading touches the
/// default device), and a second registration is refused.
fn gpu() -> Option<Device> {
    static GPU: OnceLock<Option<Device>> = OnceLock::new();
    GPU.get_or_init(|| {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters =
            futures_lite::future::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        if adapters.is_empty() {
            assert!(
                std::env::var_os("PRETEXT_REQUIRE_WGPU").is_none(),
                "PRETEXT_REQUIRE_WGPU is set but wgpu has no adapter"
            );
            eprintln!("skipping the wgpu group: no adapter (apt-get install mesa-vulkan-drivers)");
            return None;
        }
        Some(Device::wgpu(DeviceKind::DefaultDevice))
    })
    .clone()
}

/// Deterministic values in [-1, 1].
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

/// Largest absolute difference, and the largest magnitude of `a`.
fn compare(a: &[f32], b: &[f32]) -> (f32, f32) {
    assert_eq!(a.len(), b.len());
    let diff = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let scale = a.iter().map(|x| x.abs()).fold(0.0, f32::max);
    (diff, scale)
}

/// The weights `config` starts from on `cpu` with seed 11, drawn while no
/// other test of this binary draws on that backend.
fn seeded_record(config: &EncoderConfig, shape: InputShape, cpu: &Device) -> Bytes {
    let _streams = random_streams::hold_seeded(cpu, 11);
    config.init(shape, cpu).into_record().into_bytes().unwrap()
}

/// Forward output and input gradient of `config` on `device` (autodiff),
/// with the weights of `record`.
fn run_encoder(
    config: &EncoderConfig,
    shape: InputShape,
    record: &Bytes,
    input: &[f32],
    device: &Device,
) -> (Vec<f32>, Vec<f32>) {
    let device = device.clone().autodiff();
    let record = ModuleRecord::from_bytes(record.clone()).unwrap();
    let encoder = config.init(shape, &device).load_record(record);
    let batch = input.len() / shape.numel();
    let x = Tensor::<4>::from_data(
        TensorData::new(
            input.to_vec(),
            [batch, shape.channels, shape.height, shape.width],
        ),
        &device,
    )
    .require_grad();
    let h = encoder.forward(x.clone()); // [batch, dim]
    let loss = (h.clone() * h.clone()).sum();
    let grads = loss.backward();
    let dx = x.grad(&grads).expect("the input has a gradient");
    (host(h.inner()), host(dx))
}

#[test]
fn every_encoder_agrees_with_the_cpu_forward_and_backward() {
    let Some(gpu) = gpu() else { return };
    let cases = [
        (
            r#"kind = "small_cnn"
widths = [8, 16]"#,
            InputShape::new(1, 28, 28),
        ),
        (
            r#"kind = "resnet18"
width = 8"#,
            InputShape::new(3, 32, 32),
        ),
        (
            r#"kind = "mlp"
hidden = [64]"#,
            InputShape::new(1, 28, 28),
        ),
        (
            r#"kind = "vit"
patch_size = 7
dim = 16
depth = 1
heads = 2"#,
            InputShape::new(1, 28, 28),
        ),
    ];
    for (toml_text, shape) in cases {
        let config: EncoderConfig = toml::from_str(toml_text).unwrap();
        let cpu = Device::flex();
        let record = seeded_record(&config, shape, &cpu);
        let input = values(4 * shape.numel(), 5);
        let (h_cpu, g_cpu) = run_encoder(&config, shape, &record, &input, &cpu);
        let (h_gpu, g_gpu) = run_encoder(&config, shape, &record, &input, &gpu);
        let (diff, _) = compare(&h_cpu, &h_gpu);
        assert!(diff <= 1e-4, "{toml_text}: forward differs by {diff}");
        let (diff, scale) = compare(&g_cpu, &g_gpu);
        assert!(
            diff <= 1e-3 * scale.max(1e-6),
            "{toml_text}: input gradient differs by {diff} (scale {scale})"
        );
    }
}

/// Eval-mode output of `config` on `device` after `steps` train-mode forward
/// passes (which move the batch-norm running statistics), with the weights of
/// `record`. Validation and embedding use this path.
fn eval_after_training_forwards(
    config: &EncoderConfig,
    shape: InputShape,
    record: &Bytes,
    steps: usize,
    device: &Device,
) -> Vec<f32> {
    let device = device.clone().autodiff();
    let record = ModuleRecord::from_bytes(record.clone()).unwrap();
    let encoder = config.init(shape, &device).load_record(record);
    let batch = |seed: u64| {
        Tensor::<4>::from_data(
            TensorData::new(
                values(8 * shape.numel(), seed),
                [8, shape.channels, shape.height, shape.width],
            ),
            &device,
        )
    };
    for step in 0..steps {
        // Each batch shifted and scaled differently, so the statistics move.
        let x = batch(100 + step as u64) * (1.0 + step as f32) + step as f32;
        let _ = encoder.forward(x);
    }
    let eval = encoder.valid();
    host(eval.forward(batch(7).inner()))
}

#[test]
fn batch_norm_running_statistics_agree_with_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let config: EncoderConfig = toml::from_str("kind = \"small_cnn\"\nwidths = [8, 16]").unwrap();
    let shape = InputShape::new(1, 28, 28);
    let cpu = Device::flex();
    let record = seeded_record(&config, shape, &cpu);
    let on_cpu = eval_after_training_forwards(&config, shape, &record, 5, &cpu);
    let untouched = eval_after_training_forwards(&config, shape, &record, 0, &cpu);
    let (moved, _) = compare(&on_cpu, &untouched);
    assert!(
        moved > 1e-2,
        "the training forwards must move the statistics"
    );
    let on_gpu = eval_after_training_forwards(&config, shape, &record, 5, &gpu);
    let (diff, scale) = compare(&on_cpu, &on_gpu);
    assert!(
        diff <= 1e-3 * scale.max(1e-6),
        "eval-mode output after 5 training forwards differs by {diff} (scale {scale})"
    );
}

/// A loss and the gradient of its first argument on `device`.
fn loss_and_grad<const D: usize>(
    f: &dyn Fn(Tensor<D>, Tensor<D>) -> Tensor<1>,
    a: (&[f32], [usize; D]),
    b: (&[f32], [usize; D]),
    device: &Device,
) -> (f32, Vec<f32>) {
    let device = device.clone().autodiff();
    let x = Tensor::<D>::from_data(TensorData::new(a.0.to_vec(), a.1), &device).require_grad();
    let y = Tensor::<D>::from_data(TensorData::new(b.0.to_vec(), b.1), &device);
    let loss = f(x.clone(), y);
    let value = host(loss.clone().inner())[0];
    let grads = loss.backward();
    (value, host(x.grad(&grads).unwrap()))
}

#[test]
fn every_loss_agrees_with_the_cpu_value_and_gradient() {
    let Some(gpu) = gpu() else { return };
    let (z1, z2) = (values(16 * 8, 1), values(16 * 8, 2));
    let nt = |a: Tensor<2>, b: Tensor<2>| nt_xent(a, b, 0.5);
    let (l_cpu, g_cpu) = loss_and_grad(&nt, (&z1, [16, 8]), (&z2, [16, 8]), &Device::flex());
    let (l_gpu, g_gpu) = loss_and_grad(&nt, (&z1, [16, 8]), (&z2, [16, 8]), &gpu);
    assert!((l_cpu - l_gpu).abs() <= 1e-4, "nt_xent: {l_cpu} vs {l_gpu}");
    let (diff, scale) = compare(&g_cpu, &g_gpu);
    assert!(diff <= 1e-3 * scale, "nt_xent gradient differs by {diff}");

    let shape = [2, 1, 8, 8];
    let out = values(128, 3);
    let target: Vec<f32> = values(128, 4).iter().map(|v| v.abs()).collect();
    for kind in [ReconstructionLoss::Mse, ReconstructionLoss::Bce] {
        let f = |a: Tensor<4>, b: Tensor<4>| reconstruction(a, b, kind);
        let (l_cpu, g_cpu) = loss_and_grad(&f, (&out, shape), (&target, shape), &Device::flex());
        let (l_gpu, g_gpu) = loss_and_grad(&f, (&out, shape), (&target, shape), &gpu);
        assert!(
            (l_cpu - l_gpu).abs() <= 1e-4,
            "{kind:?}: {l_cpu} vs {l_gpu}"
        );
        let (diff, scale) = compare(&g_cpu, &g_gpu);
        assert!(diff <= 1e-3 * scale, "{kind:?} gradient differs by {diff}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A run checkpointed on the CPU resumes on the GPU and follows the CPU's
/// course. Both continuations start from the same weights and optimiser
/// state: a fresh run on each would not, because each backend draws its
/// initial weights from its own random generator (wgpu's depends on the
/// GPU's thread layout), so two fresh runs differ by more than arithmetic.
#[test]
fn a_cpu_checkpoint_resumes_on_wgpu_and_trains_like_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let text = experiment("simclr", 320).replace("epochs = 3", "epochs = 1");
    let config = ExperimentConfig::from_toml(&text, Path::new("e.toml"), &[]).unwrap();
    let info = |b: &str| RunInfo {
        backend: b.into(),
        git_revision: None,
    };
    let first = pretrain(
        &config,
        &tmp.path().join("start"),
        &info("flex"),
        &[Device::flex()],
        &mut NoObserver,
    )
    .unwrap();
    // Two more epochs from the epoch-1 checkpoint, once per backend.
    let mut longer = config.clone();
    longer.train.epochs = 3;
    let resumed = |name: &str, device: &Device| {
        let run = tmp.path().join(name);
        copy_dir(&first.run_dir, &run);
        std::fs::write(run.join("config.toml"), longer.to_toml()).unwrap();
        resume(
            &run,
            &info(name),
            std::slice::from_ref(device),
            &mut NoObserver,
        )
        .unwrap()
    };
    let on_gpu = resumed("wgpu", &gpu);
    let on_cpu = resumed("flex", &Device::flex());
    assert!(
        on_gpu.last_train_loss < first.first_train_loss,
        "{on_gpu:?}"
    );
    // Same weights, same data: the runs follow each other (not bitwise: see
    // the tolerances above).
    let train_gap = (on_gpu.last_train_loss - on_cpu.last_train_loss).abs();
    let (g, c) = (on_gpu.last_val_loss.unwrap(), on_cpu.last_val_loss.unwrap());
    assert!(
        train_gap < 0.01 * on_cpu.last_train_loss && (g - c).abs() < 0.01 * c,
        "wgpu {on_gpu:?} vs flex {on_cpu:?}"
    );
}

/// One run evaluated on each backend, with the same label draws: the GPU
/// embeds and probes to the same test accuracies as the CPU, within 3 of
/// the 300 test images (the two sum in different orders, so a probe can
/// flip a borderline image; a wrong kernel moves far more).
#[test]
fn an_evaluation_on_wgpu_scores_like_one_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let run = pretrain_small("simclr", 320, &tmp.path().join("pretrained"));
    let overrides = ["heads=[\"linear\", \"knn\"]", "baselines=[]", "knn.k=[20]"].map(String::from);
    let task = TaskConfig::from_toml(&task_toml(300, ""), Path::new("t.toml"), &overrides).unwrap();
    // Each backend evaluates its own copy: the embedding cache is per run.
    let scores = |name: &str, device: &Device| {
        let copy = tmp.path().join(name);
        copy_dir(&run, &copy);
        evaluate(&copy, &task, device, &mut |_| {}).unwrap().rows
    };
    let on_gpu = scores("wgpu", &gpu);
    let on_cpu = scores("flex", &Device::flex());
    // 2 seeds x (linear, knn-20).
    assert_eq!(on_gpu.len(), 4);
    for (g, c) in on_gpu.iter().zip(&on_cpu) {
        assert_eq!((&g.head, g.seed), (&c.head, c.seed));
        assert!(c.test_accuracy > 0.3, "{c:?}");
        assert!(
            (g.test_accuracy - c.test_accuracy).abs() <= 0.01,
            "{} seed {}: wgpu {} vs flex {}",
            g.head,
            g.seed,
            g.test_accuracy,
            c.test_accuracy
        );
    }
}
