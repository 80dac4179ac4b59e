//! Data parallelism inside one step: the batch is split by rows over copies of
//! a method on several devices, each copy runs its rows, and what the loss
//! needs comes back to the first device.
//!
//! The copies' parameters are transfers of the first device's parameters that
//! autodiff records (see `pretext-train`'s `replicas.rs`), so the backward pass
//! carries every copy's gradient back to the first device, summed there: one
//! optimiser step sees the gradient of the whole batch.
use burn::tensor::{Device, Tensor};

/// A method's copy on one device, for one step.
#[derive(Debug)]
pub struct Replica<'a, M> {
    /// Where this copy computes.
    pub device: &'a Device,
    /// The copy (on the first device: the method itself).
    pub model: &'a M,
}

impl<M> Clone for Replica<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for Replica<'_, M> {}

impl<'a, M> Replica<'a, M> {
    /// The same device with a part of the model, e.g. one variant's inner value.
    pub fn map<T>(self, part: impl FnOnce(&'a M) -> &'a T) -> Replica<'a, T> {
        Replica {
            device: self.device,
            model: part(self.model),
        }
    }
}

/// The copies of a method one step runs on.
///
/// `others` is called only once `first` has run its rows: burn initialises
/// parameters lazily, on first use, so the method's first forward pass draws
/// them in the order a single device would, and copying them to the other
/// devices comes after.
pub struct StepReplicas<'a, M> {
    /// The method itself, on the views' device.
    pub first: Replica<'a, M>,
    /// How many devices in all, the first included.
    pub count: usize,
    /// The copies on the other devices, in order.
    pub others: Box<dyn FnOnce() -> Vec<Replica<'a, M>> + 'a>,
}

impl<'a, M> StepReplicas<'a, M> {
    /// The same replicas seen through `part` of each copy (one variant's
    /// inner value, say).
    pub fn map<T>(self, part: fn(&'a M) -> &'a T) -> StepReplicas<'a, T>
    where
        M: 'a,
    {
        let others = self.others;
        StepReplicas {
            first: self.first.map(part),
            count: self.count,
            others: Box::new(move || others().into_iter().map(|r| r.map(part)).collect()),
        }
    }

    /// Runs `run` on each replica's rows of a batch of `n` (the first
    /// replica's first), and returns the results in batch order with the rows
    /// each covered.
    pub(crate) fn each_rows<T>(
        self,
        n: usize,
        mut run: impl FnMut(Replica<'a, M>, (usize, usize)) -> T,
    ) -> Vec<(T, (usize, usize))> {
        let ranges = row_ranges(n, self.count);
        let mut out = vec![(run(self.first, ranges[0]), ranges[0])];
        if ranges.len() > 1 {
            for (r, rows) in (self.others)().into_iter().zip(&ranges[1..]) {
                out.push((run(r, *rows), *rows));
            }
        }
        out
    }
}

/// The rows each of `parts` devices takes of a batch of `n`: contiguous
/// `(start, len)` ranges as even as possible, earlier ones one longer; a
/// device left without rows gets none.
pub fn row_ranges(n: usize, parts: usize) -> Vec<(usize, usize)> {
    let parts = parts.max(1);
    let (base, extra) = (n / parts, n % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = (start, len);
            start += len;
            range
        })
        .filter(|&(_, len)| len > 0)
        .collect()
}

/// The rows `start..start + len` of `x`, moved to `device`.
pub(crate) fn rows_on<const D: usize>(
    x: &Tensor<D>,
    (start, len): (usize, usize),
    device: &Device,
) -> Tensor<D> {
    moved(x.clone().narrow(0, start, len), device)
}

/// Tensors computed on several devices, moved to `device` and concatenated
/// along rows.
pub(crate) fn gather<const D: usize>(parts: Vec<Tensor<D>>, device: &Device) -> Tensor<D> {
    Tensor::cat(parts.into_iter().map(|t| moved(t, device)).collect(), 0)
}

/// `t` on `device` (itself when it is there already).
pub(crate) fn moved<const D: usize>(t: Tensor<D>, device: &Device) -> Tensor<D> {
    if &t.device() == device {
        t
    } else {
        t.to_device(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_ranges_cover_the_batch_evenly() {
        assert_eq!(row_ranges(10, 3), vec![(0, 4), (4, 3), (7, 3)]);
        assert_eq!(row_ranges(8, 2), vec![(0, 4), (4, 4)]);
        assert_eq!(row_ranges(2, 3), vec![(0, 1), (1, 1)]);
        assert_eq!(row_ranges(5, 1), vec![(0, 5)]);
    }
}
