//! Evaluating explanations and models over many samples: pixel-flipping faithfulness curves (with AOPC), the
//! conservation ledger, a unit's conditional relevance and gallery, predictions and accuracy. Shared by the
//! command line and the window (which runs these on its worker threads, with [`Progress`] and cancellation).

mod accuracy;
mod faithfulness;
mod gallery;
mod ledger;
mod mean_curves;
mod progress;
mod samples;
mod units;

pub use accuracy::{Confusion, Predictions, confusion, predict, predict_dataset};
pub use faithfulness::{FlipOrder, FlipSettings, PerturbationCurve, aopc, perturbation_curves};
pub use gallery::{GALLERY_CHUNK, GalleryRequest, GalleryResult, run_gallery};
pub use ledger::{LedgerRow, Warning, conservation_ledger};
pub use mean_curves::{CHUNK as FAITH_CHUNK, FaithCurve, FaithRequest, FaithResult, RANDOM_LABEL, run_faithfulness};
pub use progress::Progress;
pub use samples::batch;
pub use units::{ConditionalRequest, ConditionalResult, run_conditional, unit_count, unit_totals};
