//! Exclusive use of burn's random streams by one seeded section at a time.
//!
//! burn keeps one random stream per backend in a process: `Device::seed`
//! reseeds it for every device of that backend, and every draw (a weight
//! initialised on first use, a dropout mask, a noise tensor) advances it.
//! Two seeded sections running at once on one backend, say two pretraining
//! runs on threads of one program, would interleave their draws, and neither
//! would give what its seed promises.
//!
//! A section whose draws must follow from its seed holds its backends'
//! streams with [`hold`] from before it seeds until its last draw. Sections
//! on the same backend take turns; sections on different backends run at
//! once. A thread that already holds a backend's stream holds it again
//! without waiting, so sections nest (an evaluation that fine-tunes). A
//! nested section should name only its outer section's backends: one that
//! adds another may wait on a thread that waits on it.
//!
//! Devices of burn's cubecl backends (wgpu, CUDA, ...) are not held. cubecl
//! runs each device's work on threads of its own and its autotuner takes
//! the device exclusively; two wgpu sections in one process, the second
//! waiting for the first, hung there (Mesa's llvmpipe, through wgpu's GL
//! backend). Their draws are not protected: run concurrent GPU experiments
//! in separate processes.
//!
//! Loading a checkpoint draws nothing: burn initialises a parameter on its
//! first use, and a loaded parameter is replaced before that.

use std::cell::RefCell;
use std::sync::{Mutex, MutexGuard, PoisonError};

use burn::tensor::Device;

/// One lock per backend seen so far, in the order they were first seen:
/// sections take several locks in that order, so two never wait on each other.
static STREAMS: Mutex<Vec<(String, &'static Mutex<()>)>> = Mutex::new(Vec::new());

thread_local! {
    /// The backends whose streams this thread holds.
    static HELD: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// The random streams a section holds, released when it is dropped.
#[must_use = "the streams are released as soon as this is dropped"]
pub struct HeldStreams {
    held: Vec<(String, MutexGuard<'static, ()>)>,
}

/// Holds the random streams of `devices`' backends for this thread, waiting
/// while another thread holds one of them (cubecl devices excepted).
pub fn hold<'a>(devices: impl IntoIterator<Item = &'a Device>) -> HeldStreams {
    let mut wanted: Vec<(usize, String, &'static Mutex<()>)> = Vec::new();
    for device in devices {
        let backend = backend_of(device);
        if backend == "Cube" {
            continue;
        }
        let mine = HELD.with(|held| held.borrow().contains(&backend));
        if mine || wanted.iter().any(|w| w.1 == backend) {
            continue;
        }
        let (order, lock) = lock_of(&backend);
        wanted.push((order, backend, lock));
    }
    wanted.sort_by_key(|w| w.0);
    let held = wanted
        .into_iter()
        .map(|(_, backend, lock)| {
            // A section that panicked leaves nothing half-done in a stream.
            let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
            HELD.with(|held| held.borrow_mut().push(backend.clone()));
            (backend, guard)
        })
        .collect();
    HeldStreams { held }
}

/// Holds the random stream of `device`'s backend, as [`hold`] does, and
/// seeds it: the start of a section whose draws follow from `seed` alone.
pub fn hold_seeded(device: &Device, seed: u64) -> HeldStreams {
    let streams = hold([device]);
    device.seed(seed);
    streams
}

impl Drop for HeldStreams {
    fn drop(&mut self) {
        HELD.with(|held| {
            held.borrow_mut()
                .retain(|b| !self.held.iter().any(|(mine, _)| mine == b))
        });
    }
}

/// Which backend's stream `device` draws from: the name of its dispatch
/// variant (`Flex`, `NdArray`, `Cube` for every cubecl runtime, ...), with or
/// without autodiff (an autodiff device draws from the stream it wraps). Read
/// from the name because the variants present depend on burn's features.
pub(crate) fn backend_of(device: &Device) -> String {
    let plain = device.clone().without_autodiff();
    let name = format!("{:?}", plain.as_dispatch());
    name.split('(').next().unwrap_or_default().to_string()
}

/// Runs `f` on a rayon pool of one thread, which meanwhile counts as holding
/// the streams this thread holds: this thread only waits for `f`, so the
/// streams still serve one section at a time. A section that holds its
/// streams and moves work onto a pool (see `pretext-eval`'s fine-tuning)
/// would otherwise wait on itself. When no pool can be made, `f` runs here.
pub fn on_one_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() else {
        return f();
    };
    let mine: Vec<String> = HELD.with(|held| held.borrow().clone());
    pool.install(move || {
        /// Gives the lent streams back even if `f` panics.
        struct Lent(Vec<String>);
        impl Drop for Lent {
            fn drop(&mut self) {
                HELD.with(|held| held.borrow_mut().retain(|b| !self.0.contains(b)));
            }
        }
        HELD.with(|held| held.borrow_mut().extend(mine.iter().cloned()));
        let _lent = Lent(mine);
        f()
    })
}

/// The lock of `backend`'s stream and its place in the locking order.
fn lock_of(backend: &str) -> (usize, &'static Mutex<()>) {
    let mut streams = STREAMS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(i) = streams.iter().position(|s| s.0 == backend) {
        return (i, streams[i].1);
    }
    // A handful of backends at most, each leaked once.
    let lock: &'static Mutex<()> = Box::leak(Box::new(Mutex::new(())));
    streams.push((backend.to_string(), lock));
    (streams.len() - 1, lock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, Tensor};
    use std::sync::Barrier;

    /// The ndarray backend: no other test of this crate draws from its
    /// stream, so only these tests' own threads meet there.
    fn device() -> Device {
        #[allow(deprecated)] // burn-ndarray is deprecated upstream
        Device::ndarray()
    }

    /// Seeds, draws four numbers, calls `between`, draws four more.
    fn seeded_draws(device: &Device, between: impl FnOnce()) -> Vec<f32> {
        device.seed(7);
        let a = Tensor::<1>::random([4], Distribution::Default, device);
        between();
        let b = Tensor::<1>::random([4], Distribution::Default, device);
        let mut v = a.into_data().try_to_vec::<f32>().unwrap();
        v.extend(b.into_data().try_to_vec::<f32>().unwrap());
        v
    }

    /// Two threads seed and draw on one backend at once, each pausing
    /// between its draws. Held, each gets the draws of its seed. The control
    /// shows what holding prevents: a draw from another thread in that pause
    /// changes the second half.
    #[test]
    fn sections_that_hold_their_stream_draw_what_their_seed_gives() {
        let device = device();
        let alone = {
            let _streams = hold([&device]);
            seeded_draws(&device, || {})
        };
        let pause = || std::thread::sleep(std::time::Duration::from_millis(30));
        let (first, second) = std::thread::scope(|s| {
            let run = || {
                let _streams = hold([&device]);
                seeded_draws(&device, pause)
            };
            let (a, b) = (s.spawn(run), s.spawn(run));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(first, alone);
        assert_eq!(second, alone);

        let _streams = hold([&device]); // no other test draws here meanwhile
        let barrier = Barrier::new(2);
        let disturbed = std::thread::scope(|s| {
            let a = s.spawn(|| {
                seeded_draws(&device, || {
                    barrier.wait(); // the other thread draws now
                    barrier.wait();
                })
            });
            barrier.wait();
            let _ = Tensor::<1>::random([64], Distribution::Default, &device);
            barrier.wait();
            a.join().unwrap()
        });
        assert_eq!(disturbed[..4], alone[..4]);
        assert_ne!(
            disturbed[4..],
            alone[4..],
            "the other thread's draw changed nothing"
        );
    }

    /// Work moved onto a one-thread pool by a thread that holds a stream
    /// holds it there too, instead of waiting on its own caller; the lent
    /// stream is given back afterwards.
    #[test]
    fn a_one_thread_pool_holds_what_its_caller_holds() {
        let device = device();
        let outer = hold([&device]);
        let inner_held = on_one_thread(|| {
            let inner = hold([&device]);
            assert_eq!(rayon::current_num_threads(), 1);
            inner.held.len()
        });
        assert_eq!(inner_held, 0, "the pool's thread took the lock again");
        drop(outer);
        std::thread::spawn(move || drop(hold([&device])))
            .join()
            .unwrap();
    }

    /// A thread holds again what it holds without waiting on itself, and an
    /// autodiff device shares its backend's stream.
    #[test]
    fn a_thread_holds_its_streams_again_and_autodiff_shares_them() {
        let device = device();
        assert_eq!(backend_of(&device.clone().autodiff()), "NdArray");
        let outer = hold([&device]);
        let inner = hold([&device.clone().autodiff(), &device]);
        assert!(inner.held.is_empty());
        drop(inner);
        assert_eq!(outer.held.len(), 1);
        drop(outer);
        // Released: another thread takes it.
        std::thread::spawn(move || drop(hold([&device])))
            .join()
            .unwrap();
    }
}
