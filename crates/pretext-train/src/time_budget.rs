//! A run's wall-clock budget (`train.budget_minutes`). After the first
//! epoch the run fixes its length, and its schedule's, at as many epochs as
//! the budget holds at that epoch's speed (at most `train.epochs`); the
//! decision goes into the resolved experiment, so the checkpoints and a
//! resumed run keep it. Should later epochs run slower, the run stops once
//! the budget is spent; a run resumed after that runs the rest.

/// What the budget says after an epoch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BudgetCall {
    /// The run lasts `epochs` epochs (said after the first).
    Length {
        /// The decided number of epochs.
        epochs: usize,
        /// The decision, as printed and kept in `run.json`.
        note: String,
    },
    /// The budget is spent: the run stops after this epoch.
    Stop {
        /// Why, as printed and kept in `run.json`.
        note: String,
    },
}

/// The budget of one process's share of a run.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    minutes: f64,
    /// `train.epochs`, the most the run may last.
    most: usize,
    /// Seconds of the epochs run so far, by this process and before it.
    spent: f64,
    /// Whether the budget was spent before this process started.
    spent_before: bool,
}

impl Budget {
    /// The budget of a run with `train.budget_minutes = minutes` and
    /// `train.epochs = most`, resumed after `seconds_before` of epochs.
    pub fn new(minutes: Option<f64>, most: usize, seconds_before: f64) -> Option<Self> {
        minutes.map(|minutes| Self {
            minutes,
            most,
            spent: seconds_before,
            spent_before: seconds_before >= minutes * 60.0,
        })
    }

    /// The length decided after epoch 1 took `seconds` (training,
    /// validation and monitor); `None` after any other epoch.
    pub fn length(&self, epoch: usize, seconds: f64) -> Option<BudgetCall> {
        if epoch != 1 {
            return None;
        }
        let fits = (self.minutes * 60.0 / seconds.max(1e-9)).floor();
        let epochs = (fits.min(self.most as f64) as usize).max(1);
        let capped = if epochs == self.most {
            " (train.epochs, the most it may run)"
        } else {
            ""
        };
        Some(BudgetCall::Length {
            epochs,
            note: format!(
                "budget {} min: epoch 1 took {seconds:.1} s, so the run and its schedule last \
                 {epochs} epoch{}{capped}",
                self.minutes,
                if epochs == 1 { "" } else { "s" }
            ),
        })
    }

    /// Counts an epoch of `seconds` (as logged) and says whether the run
    /// stops after `epoch` of `epochs`: when the budget is spent, unless it
    /// was spent before this process started. `run` names the run in the
    /// note.
    pub fn spend(
        &mut self,
        epoch: usize,
        epochs: usize,
        seconds: f64,
        run: &std::path::Path,
    ) -> Option<BudgetCall> {
        self.spent += seconds;
        (self.spent >= self.minutes * 60.0 && epoch < epochs && !self.spent_before).then(|| {
            BudgetCall::Stop {
                note: format!(
                    "budget {} min spent after epoch {epoch} of {epochs} ({:.1} min): the run \
                     stops here (pretext pretrain --resume {} runs the rest)",
                    self.minutes,
                    self.spent / 60.0,
                    run.display()
                ),
            }
        })
    }
}

/// The resolved experiment `toml_text` with `train.epochs = epochs`.
pub(crate) fn with_epochs(toml_text: &str, epochs: usize) -> Result<String, String> {
    let mut table: toml::Table = toml_text
        .parse()
        .map_err(|e| format!("the resolved experiment does not parse back: {e}"))?;
    if let Some(toml::Value::Table(train)) = table.get_mut("train") {
        train.insert("epochs".into(), toml::Value::Integer(epochs as i64));
    }
    Ok(toml::to_string_pretty(&table).expect("a TOML table serialises"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn epochs(call: Option<BudgetCall>) -> usize {
        match call {
            Some(BudgetCall::Length { epochs, .. }) => epochs,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_epoch_sets_the_length_within_one_and_train_epochs() {
        let b = Budget::new(Some(10.0), 50, 0.0).unwrap();
        assert_eq!(epochs(b.length(1, 59.0)), 10);
        assert_eq!(epochs(b.length(1, 1000.0)), 1);
        assert_eq!(epochs(b.length(1, 1.0)), 50);
        assert_eq!(b.length(2, 59.0), None);
        assert!(Budget::new(None, 50, 0.0).is_none());
    }

    #[test]
    fn a_spent_budget_stops_the_run_unless_it_was_spent_before() {
        let mut b = Budget::new(Some(1.0), 50, 0.0).unwrap();
        let run = Path::new("runs/r");
        assert_eq!(b.spend(1, 5, 30.0, run), None);
        assert!(matches!(
            b.spend(2, 5, 30.0, run),
            Some(BudgetCall::Stop { .. })
        ));
        // The last epoch ends the run anyway: nothing to stop.
        let mut b = Budget::new(Some(1.0), 50, 0.0).unwrap();
        assert_eq!(b.spend(5, 5, 90.0, run), None);
        // Resumed after the budget was spent: it runs the rest.
        let mut b = Budget::new(Some(1.0), 50, 60.0).unwrap();
        assert_eq!(b.spend(3, 5, 30.0, run), None);
    }

    #[test]
    fn the_decided_length_replaces_train_epochs_only() {
        let text = "name = \"r\"\n[train]\nepochs = 200\nbudget_minutes = 120.0\n";
        let decided: toml::Table = with_epochs(text, 42).unwrap().parse().unwrap();
        assert_eq!(decided["train"]["epochs"].as_integer(), Some(42));
        assert_eq!(decided["train"]["budget_minutes"].as_float(), Some(120.0));
        assert_eq!(decided["name"].as_str(), Some("r"));
    }
}
