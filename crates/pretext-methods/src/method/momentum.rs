//! Momentum (EMA) target networks, shared by BYOL and MoCo: after each
//! optimiser step the target's parameters move a fraction `1 - tau` towards
//! the online network's, `target = tau * target + (1 - tau) * online`, and
//! never receive gradients. Batch-norm running statistics are averaged the
//! same way.
use std::f64::consts::PI;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Where a step stands in its run, for updates that follow a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepProgress {
    /// Steps done, counting the one just taken (1-based).
    pub step: usize,
    /// Steps in the whole run.
    pub total_steps: usize,
}

/// BYOL's momentum schedule (Grill et al., 2020, section 3.2): from `base`
/// at the first step up to 1 at the last along a cosine,
/// `1 - (1 - base) (cos(pi k / K) + 1) / 2`.
pub fn cosine_momentum(base: f64, progress: StepProgress) -> f64 {
    let k = progress.step.min(progress.total_steps) as f64;
    let total = progress.total_steps.max(1) as f64;
    1.0 - (1.0 - base) * ((PI * k / total).cos() + 1.0) / 2.0
}

/// Collects every float tensor of a module, flattened and detached, in
/// visiting order.
struct Collect(Vec<Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().detach();
        let n = t.shape().num_elements();
        self.0.push(t.reshape([n]));
    }
}

/// Moves each float tensor of the target towards the matching online one.
struct Blend {
    online: std::vec::IntoIter<Tensor<1>>,
    tau: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let online = self
            .online
            .next()
            .expect("the target and online networks have the same parameters");
        let tau = self.tau;
        param
            .map(|t| {
                let shape = t.shape();
                let o: Tensor<D> = online.reshape(shape);
                (t.detach() * tau + o * (1.0 - tau)).detach()
            })
            .set_require_grad(false)
    }
}

/// `tau * target + (1 - tau) * online` for every float tensor; the result
/// needs no gradient.
///
/// # Panics
/// If `target` and `online` are not the same architecture.
pub fn ema_update<M: Module>(target: M, online: &M, tau: f64) -> M {
    let mut collect = Collect(Vec::new());
    online.visit(&mut collect);
    let mut blend = Blend {
        online: collect.0.into_iter(),
        tau,
    };
    let target = target.map(&mut blend);
    assert!(
        blend.online.next().is_none(),
        "the target and online networks have the same parameters"
    );
    target
}

/// Every float value of a module (parameters and batch-norm statistics) in
/// visiting order, for tests that compare two modules.
#[cfg(test)]
pub(crate) fn float_values<M: Module>(m: &M) -> Vec<f32> {
    let mut c = Collect(Vec::new());
    m.visit(&mut c);
    c.0.into_iter()
        .flat_map(|t| {
            t.into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Device;

    use super::*;

    fn values(m: &Linear) -> Vec<f32> {
        float_values(m)
    }

    #[test]
    fn the_update_matches_its_formula() {
        let d = Device::flex().autodiff();
        let _streams = pretext_nn::random_streams::hold_seeded(&d, 3);
        let online = LinearConfig::new(4, 3).init(&d);
        let target = LinearConfig::new(4, 3).init(&d).no_grad();
        let (t0, o) = (values(&target), values(&online));
        assert_eq!(t0.len(), 4 * 3 + 3);
        let updated = ema_update(target, &online, 0.9);
        for ((t1, t0), o) in values(&updated).iter().zip(&t0).zip(&o) {
            let want = 0.9 * t0 + 0.1 * o;
            assert!((t1 - want).abs() < 1e-6, "{t1} vs 0.9 * {t0} + 0.1 * {o}");
        }
        assert!(!updated.weight.val().is_require_grad());
    }

    #[test]
    fn the_cosine_schedule_runs_from_base_to_one() {
        let at = |step| {
            cosine_momentum(
                0.99,
                StepProgress {
                    step,
                    total_steps: 100,
                },
            )
        };
        assert!((at(0) - 0.99).abs() < 1e-12);
        assert!((at(50) - 0.995).abs() < 1e-12);
        assert!((at(100) - 1.0).abs() < 1e-12);
        assert!(at(30) < at(60));
    }
}
