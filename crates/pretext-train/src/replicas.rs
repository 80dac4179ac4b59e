//! Data-parallel pretraining: copies of the method on the other devices of a
//! run, refreshed from the first device's method before every step.
//!
//! The first device holds the method, its optimiser state and checkpoints.
//! Before each step every copy's parameters become transfers of the first
//! device's parameters that autodiff records, so the backward pass of the
//! step's loss carries each copy's gradient back to the first device, summed
//! over copies: the all-reduce of data-parallel training, done by burn's own
//! device transfers (burn 0.22.1's collective `all_reduce` serves only CUDA
//! devices of one process or one server; see docs/guide/scale-out.md). Buffers
//! (batch-norm running statistics, MoCo's queue, momentum targets) are copied
//! from the first device too, as PyTorch's DistributedDataParallel broadcasts
//! them; the first device's copy is the one kept.
use std::any::Any;
use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor};
use pretext_methods::{Replica, StepReplicas};

/// The copies of a method on the devices after the first (autodiff devices).
pub(crate) struct Replicas<M> {
    devices: Vec<Device>,
    /// Made on first use: see [`Replicas::step`].
    copies: Vec<M>,
}

impl<M: Module> Replicas<M> {
    /// No copies yet, for `devices`, the training (autodiff) devices after
    /// the first.
    pub fn new(devices: Vec<Device>) -> Self {
        Self {
            devices,
            copies: Vec::new(),
        }
    }

    /// The devices after the first.
    pub fn devices(&self) -> &[Device] {
        &self.devices
    }

    /// One step's replicas: `method` on `device`, then the copies, refreshed
    /// from `method` once it has run its rows (burn initialises parameters
    /// on first use, so they are drawn in the order one device draws them).
    pub fn step<'a>(&'a mut self, method: &'a M, device: &'a Device) -> StepReplicas<'a, M> {
        StepReplicas {
            first: Replica {
                device,
                model: method,
            },
            count: self.devices.len() + 1,
            others: Box::new(move || self.refreshed(method)),
        }
    }

    /// The copies with every tensor a transfer of `method`'s, recorded by
    /// autodiff so gradients flow back to `method`'s parameters.
    fn refreshed<'a>(&'a mut self, method: &M) -> Vec<Replica<'a, M>> {
        if self.copies.is_empty() {
            // Each copy owns its buffers: burn's batch-norm running statistics
            // are shared between clones of a module, so a clone moved to another
            // device would move the first device's statistics with it. `valid`
            // builds fresh ones; `train` puts the copy on the autodiff twin.
            self.copies = self
                .devices
                .iter()
                .map(|d| method.valid().to_device(&d.clone().inner()).train())
                .collect();
        }
        let mut values = Values::default();
        method.visit(&mut values);
        self.copies = std::mem::take(&mut self.copies)
            .into_iter()
            .zip(&self.devices)
            .map(|(copy, device)| {
                copy.map(&mut Rebind {
                    values: &values.0,
                    device,
                })
            })
            .collect();
        self.devices
            .iter()
            .zip(&self.copies)
            .map(|(device, model)| Replica { device, model })
            .collect()
    }
}

/// Every float tensor of a module (parameters and buffers) by id.
#[derive(Default)]
struct Values(HashMap<ParamId, Box<dyn Any>>);

impl ModuleVisitor for Values {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.insert(param.id, Box::new(param.val()));
    }
}

/// Replaces a copy's float tensors by transfers of the first device's.
struct Rebind<'a> {
    values: &'a HashMap<ParamId, Box<dyn Any>>,
    device: &'a Device,
}

impl ModuleMapper for Rebind<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let tensor = match self
            .values
            .get(&id)
            .and_then(|v| v.downcast_ref::<Tensor<D>>())
        {
            Some(first) => first.clone().to_device(self.device),
            None => tensor,
        };
        Param::from_mapped_value(id, tensor, mapper)
    }
}
