//! What a text run's report shows of its encoder, as plain data: a sample
//! of texts with their embeddings, for the embedding maps and the
//! nearest-neighbour table. The text counterpart of `inspect.rs`.

use burn::tensor::Device;

use crate::text::embed::embed_texts;
use crate::text::load_task_data;
use crate::{EvalError, TextRun, TextTaskConfig};
use pretext_runs::TextInspection;

/// Samples up to `samples` texts, evenly spaced, of the test set of `task`
/// (labelled: the maps are coloured by class), or of the run's pretraining
/// data without one, and embeds them with the checkpoint's encoder.
pub fn inspect_text(
    run: &TextRun,
    task: Option<&TextTaskConfig>,
    samples: usize,
    device: &Device,
) -> Result<TextInspection, EvalError> {
    let data = match task {
        Some(task) => load_task_data(task)?.1,
        None => run.config.data.load(&run.config.base_dir)?,
    };
    if data.is_empty() {
        return Err(EvalError::Mismatch {
            path: data.source().to_path_buf(),
            reason: "holds no texts to inspect".into(),
        });
    }
    let n = samples.clamp(1, data.len());
    let picked: Vec<usize> = (0..n).map(|i| i * data.len() / n).collect();
    let sample = data.subset(&picked);
    let tokens = run.tokenizer().encode_all(sample.docs()).ids;
    let encoder = run.encoder(device)?;
    Ok(TextInspection {
        source: data.source().to_path_buf(),
        texts: sample.docs().to_vec(),
        labels: sample.labels().map(<[u32]>::to_vec),
        class_names: data.class_names().to_vec(),
        embeddings: embed_texts(&encoder, &tokens, device),
    })
}
