//! The memory a process may use, and the check every large allocation is
//! measured against before it is made: decoded images, decompressed files,
//! a model's parameters and activations. A size beyond the budget is
//! refused in one line that names the key or file and the estimate, instead
//! of the allocation aborting the process.
//!
//! The budget is what the process was told ([`set_budget`], the CLI's
//! `--max-memory`), else the memory the system has available
//! (`MemAvailable` of `/proc/meminfo`, and no more than `ulimit -v` leaves),
//! else none: where neither is known nothing is refused.
use std::sync::OnceLock;

static BUDGET: OnceLock<u64> = OnceLock::new();

/// Sets the process's budget in bytes; the first call wins (the CLI makes it
/// once, before any work).
pub fn set_budget(bytes: u64) {
    let _ = BUDGET.set(bytes);
}

/// Where the budget comes from, to say in a refusal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// Set by [`set_budget`] (`--max-memory`).
    Set,
    /// The memory available on this machine (`MemAvailable`, capped by
    /// `ulimit -v`).
    Available,
}

/// The memory a process may plan for, read once and then measured against
/// as often as needed (reading it costs three files under `/proc`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    /// Bytes.
    pub bytes: u64,
    /// Where they come from.
    pub source: Source,
}

/// The budget now, or `None` where it is not known.
pub fn budget() -> Option<Budget> {
    if let Some(&bytes) = BUDGET.get() {
        return Some(Budget {
            bytes,
            source: Source::Set,
        });
    }
    Some(Budget {
        bytes: available()?,
        source: Source::Available,
    })
}

impl Budget {
    /// `Err(reason)` when `need` bytes (an estimate, as a float so that
    /// absurd settings do not overflow) are more than `share` of the
    /// budget; the reason says the estimate, the budget and how to change it.
    pub fn allows(&self, need: f64, share: f64) -> Result<(), String> {
        let allowed = self.bytes as f64 * share;
        if need <= allowed {
            return Ok(());
        }
        let of = match self.source {
            Source::Set => "--max-memory",
            Source::Available => "the memory available (--max-memory sets another budget)",
        };
        let total = human(self.bytes as f64);
        let part = if share < 1.0 {
            format!("{} of the {total} of {of}", human(allowed))
        } else {
            format!("the {total} of {of}")
        };
        Err(format!("needs about {}, more than {part}", human(need)))
    }
}

/// [`Budget::allows`] on the budget now; nothing is refused where the
/// budget is not known.
pub fn check(need: f64, share: f64) -> Result<(), String> {
    budget().map_or(Ok(()), |b| b.allows(need, share))
}

/// `MemAvailable`, capped by the address space `ulimit -v` leaves.
fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib = |name: &str, text: &str| -> Option<u64> {
        text.lines()
            .find(|l| l.starts_with(name))?
            .split_whitespace()
            .nth(1)?
            .parse::<u64>()
            .ok()
    };
    let mut bytes = kib("MemAvailable:", &meminfo)? * 1024;
    if let Ok(limits) = std::fs::read_to_string("/proc/self/limits")
        && let Some(line) = limits.lines().find(|l| l.starts_with("Max address space"))
        && let Some(limit) = line
            .split_whitespace()
            .nth(3)
            .and_then(|v| v.parse::<u64>().ok())
    {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let used = kib("VmSize:", &status).unwrap_or(0) * 1024;
        bytes = bytes.min(limit.saturating_sub(used));
    }
    Some(bytes)
}

/// A size in binary units, as `--max-memory` takes them: `512 B`,
/// `3.1 MiB`, `1.2 TiB`.
pub fn human(bytes: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[0])
    } else if value >= 1024.0 {
        format!("{value:.1e} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(512.0), "512 B");
        assert_eq!(human(3.1 * 1024.0 * 1024.0), "3.1 MiB");
        assert_eq!(human(1.5 * 1024f64.powi(4)), "1.5 TiB");
        assert_eq!(human(4.0 * 1024f64.powi(7)), "4.1e3 EiB");
    }

    #[test]
    fn the_budget_is_known_here_and_absurd_sizes_are_refused() {
        // Linux CI has /proc/meminfo; the budget is not set in this test
        // process, so it is what the machine has available.
        let budget = budget().expect("a budget on Linux");
        assert!(budget.bytes > 0);
        assert!(check(1.0, 0.5).is_ok());
        let err = check(1e18, 0.5).unwrap_err();
        assert!(err.starts_with("needs about 888.2 PiB"), "{err}");
        assert!(err.contains("--max-memory"), "{err}");
    }
}
