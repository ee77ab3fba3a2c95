//! Progress of long analyses (replay, time in stage, attribution, simulate): the core reports
//! each block of customers done (`replay_with_progress`, `attribute_with_progress`,
//! `simulate_with_progress`) into an atomic counter on rayon's threads, while the calling thread,
//! GIL released, polls the counter and hands what is new to a progress bar (`jornada._progress`:
//! tqdm, or the user's callable) every 50 ms. Without a bar the work runs on the calling thread,
//! GIL released, as before.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

fn module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    MODULE
        .get_or_try_init(py, || {
            Ok::<_, PyErr>(py.import("jornada._progress")?.unbind())
        })
        .map(|m| m.bind(py))
}

/// How often the bar is updated.
const POLL: Duration = Duration::from_millis(50);

/// Runs `work` over `total` customers (of a log of `events` rows) with the GIL released.
/// `progress` is the keyword argument as given (`None`: automatic, `True`/`False`, or a
/// callable `f(done, total)`); `jornada._progress.start` decides whether to show a bar and
/// makes it. `work` gets the core's progress callback (customers done per block).
pub fn run<T: Send>(
    py: Python<'_>,
    progress: Option<&Bound<'_, PyAny>>,
    what: &str,
    total: usize,
    events: usize,
    work: impl FnOnce(&(dyn Fn(usize) + Sync)) -> T + Send,
) -> PyResult<T> {
    let bar = module(py)?.call_method1("start", (progress, what, total, events))?;
    if bar.is_none() {
        return Ok(py.detach(|| work(&|_| {})));
    }
    let done = AtomicUsize::new(0);
    let finished = AtomicBool::new(false);
    let mut failed: Option<PyErr> = None;
    let out = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let out = work(&|k| {
                done.fetch_add(k, Ordering::Relaxed);
            });
            finished.store(true, Ordering::Release);
            out
        });
        let mut shown = 0usize;
        loop {
            let over = py.detach(|| {
                let until = Instant::now() + POLL;
                while !finished.load(Ordering::Acquire) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(2));
                }
                finished.load(Ordering::Acquire)
            });
            let now = done.load(Ordering::Relaxed);
            if failed.is_none() && now > shown {
                if let Err(e) = bar.call_method1("update", (now - shown,)) {
                    failed = Some(e);
                }
                shown = now;
            }
            if failed.is_none() {
                // Ctrl-C: the core cannot stop midway; the interrupt is raised when it is done.
                if let Err(e) = py.check_signals() {
                    failed = Some(e);
                }
            }
            if over {
                break;
            }
        }
        py.detach(|| worker.join())
    });
    let closed = bar.call_method0("close");
    let out = match out {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let Some(e) = failed {
        return Err(e);
    }
    closed?;
    Ok(out)
}
