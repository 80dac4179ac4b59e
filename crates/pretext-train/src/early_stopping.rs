//! Early stopping on a validation score: training stops once the score has not
//! improved for `patience` evaluations, and the best epoch is where
//! overfitting begins (the caller restores that epoch's weights).

/// What one new validation score means for training.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A new best score: keep these weights.
    Improved,
    /// No improvement yet, but patience is not spent.
    Continue,
    /// Patience is spent: stop and restore the best weights.
    Stop,
}

/// Tracks the best validation score (higher is better) and its epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStopping {
    patience: usize,
    best: f32,
    best_epoch: usize,
    since_best: usize,
}

impl EarlyStopping {
    /// Stops after `patience` evaluations without a strictly better score.
    pub fn new(patience: usize) -> Self {
        Self {
            patience,
            best: f32::NEG_INFINITY,
            best_epoch: 0,
            since_best: 0,
        }
    }

    /// Records the score of `epoch` (1-based). Ties do not count as progress,
    /// so the earliest epoch reaching the best score is the one kept.
    pub fn update(&mut self, epoch: usize, score: f32) -> Verdict {
        if score > self.best {
            self.best = score;
            self.best_epoch = epoch;
            self.since_best = 0;
            Verdict::Improved
        } else {
            self.since_best += 1;
            if self.since_best >= self.patience {
                Verdict::Stop
            } else {
                Verdict::Continue
            }
        }
    }

    /// The best score so far (−∞ before any update).
    pub fn best_score(&self) -> f32 {
        self.best
    }

    /// The epoch of the best score: after it, validation stopped improving
    /// (0 before any update).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience_without_improvement_and_keeps_the_first_best() {
        let mut es = EarlyStopping::new(2);
        let scores = [0.5, 0.7, 0.7, 0.6];
        let verdicts: Vec<Verdict> = scores
            .iter()
            .enumerate()
            .map(|(i, &s)| es.update(i + 1, s))
            .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Improved,
                Verdict::Improved,
                Verdict::Continue,
                Verdict::Stop
            ]
        );
        assert_eq!(es.best_epoch(), 2);
        assert_eq!(es.best_score(), 0.7);
    }

    #[test]
    fn an_improvement_resets_patience() {
        let mut es = EarlyStopping::new(2);
        assert_eq!(es.update(1, 0.1), Verdict::Improved);
        assert_eq!(es.update(2, 0.0), Verdict::Continue);
        assert_eq!(es.update(3, 0.2), Verdict::Improved);
        assert_eq!(es.update(4, 0.0), Verdict::Continue);
        assert_eq!(es.update(5, 0.1), Verdict::Stop);
        assert_eq!(es.best_epoch(), 3);
    }
}
