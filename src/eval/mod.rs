//! Evaluating explanations: pixel-flipping faithfulness curves (with AOPC) and the conservation ledger.

mod accuracy;
mod faithfulness;
mod ledger;

pub use accuracy::{Confusion, confusion, predict};
pub use faithfulness::{FlipOrder, FlipSettings, PerturbationCurve, aopc, perturbation_curves};
pub use ledger::{LedgerRow, Warning, conservation_ledger};
