//! A progress bar (indicatif) that follows a run: epoch, loss, images/s, ETA.
use indicatif::{ProgressBar, ProgressStyle};
use pretext::train::{EpochRecord, Observer, Plan, StepRecord};

/// Shows a run's progress on stderr.
pub struct Progress {
    bar: ProgressBar,
    epochs: usize,
    /// First epoch of this process and steps an epoch (the bar's length).
    first_epoch: usize,
    steps_per_epoch: usize,
    /// `img/s` or `texts/s`.
    unit: &'static str,
}

impl Progress {
    /// A hidden bar until the run starts.
    pub fn new() -> Self {
        Self {
            bar: ProgressBar::hidden(),
            epochs: 0,
            first_epoch: 1,
            steps_per_epoch: 0,
            unit: "img/s",
        }
    }
}

impl Observer for Progress {
    fn on_start(&mut self, plan: &Plan<'_>) {
        self.epochs = plan.epochs;
        self.first_epoch = plan.first_epoch;
        self.steps_per_epoch = plan.steps_per_epoch;
        self.unit = plan.modality.rate_unit();
        eprintln!(
            "run {}: {} training / {} validation {}, {} steps per epoch, {:.2}M parameters",
            plan.run_dir.display(),
            plan.train_samples,
            plan.val_samples,
            plan.modality.samples(),
            plan.steps_per_epoch,
            plan.parameters as f64 / 1e6
        );
        let total = (plan.epochs + 1 - plan.first_epoch) * plan.steps_per_epoch;
        self.bar = ProgressBar::new(total as u64);
        self.bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} steps  {msg}  ETA {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        self.bar
            .set_prefix(format!("epoch {}/{}", plan.first_epoch, plan.epochs));
    }

    fn on_length(&mut self, epochs: usize) {
        self.epochs = epochs;
        let total = (epochs + 1).saturating_sub(self.first_epoch) * self.steps_per_epoch;
        self.bar.set_length(total as u64);
    }

    fn on_step(&mut self, r: &StepRecord) {
        self.bar
            .set_prefix(format!("epoch {}/{}", r.epoch, self.epochs));
        self.bar.set_message(format!(
            "loss {:.4}  {:.0} {}",
            r.loss,
            r.throughput.per_sec(),
            self.unit
        ));
        self.bar.inc(1);
    }

    fn on_epoch(&mut self, r: &EpochRecord) {
        let val = r
            .val_loss
            .map(|v| format!("  validation {v:.4}"))
            .unwrap_or_default();
        let std = r
            .embedding_std
            .map(|v| format!("  emb-std {v:.3}"))
            .unwrap_or_default();
        let rank = r
            .effective_rank
            .map(|v| format!("  rank {v:.1}"))
            .unwrap_or_default();
        let monitor: String = r
            .monitor
            .iter()
            .map(|m| format!("  kNN-{} {:.1}%", m.k, 100.0 * m.accuracy))
            .collect();
        let line = format!(
            "epoch {}/{}: train loss {:.4}{val}{std}{rank}{monitor}  {:.0} {}  {:.1}s",
            r.epoch,
            self.epochs,
            r.train_loss,
            r.throughput.per_sec(),
            self.unit,
            r.seconds
        );
        // `suspend` prints even when the bar is hidden (stderr not a terminal).
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn on_message(&mut self, message: &str) {
        self.bar.suspend(|| eprintln!("{message}"));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
