//! lrp-explorer: Layer-wise Relevance Propagation on small vision networks.
//!
//! The engine ([`model`], [`lrp`], [`ops`], [`eval`]), the file formats ([`model`], [`data`]), the rendering
//! ([`heatmap`]) and the batch [`export`] know nothing of the GUI; only [`app`] and [`ui`] import egui.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod app;
pub mod atomic_file;
pub mod cli;
pub mod data;
pub mod diagnose;
pub mod error;
pub mod eval;
pub mod export;
pub mod heatmap;
pub mod lrp;
pub mod model;
pub mod ops;
pub mod train;
pub mod ui;
