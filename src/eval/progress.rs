//! Progress of a long analysis, shared between the thread that runs it and the one that shows it: samples done,
//! samples in all, and a flag that asks the run to stop (it then returns [`EvalError::Cancelled`]).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::EvalError;

/// Counters and the cancel flag of one run.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: AtomicUsize,
    pub total: AtomicUsize,
    pub cancel: AtomicBool,
}

impl Progress {
    /// `(done, total)` as last reported.
    pub fn counts(&self) -> (usize, usize) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }

    /// Asks the run to stop after its current chunk.
    pub fn request_cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// `Err(EvalError::Cancelled)` once a stop was asked for: for `?` between chunks.
    pub fn check(&self) -> Result<(), EvalError> {
        if self.cancelled() {
            Err(EvalError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Starts a run of `total` samples.
    pub(crate) fn start(&self, total: usize) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// `samples` more are done.
    pub(crate) fn advance(&self, samples: usize) {
        self.done.fetch_add(samples, Ordering::Relaxed);
    }
}
