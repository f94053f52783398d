//! lrp-explorer: Layer-wise Relevance Propagation on small vision networks.
//!
//! The engine ([`model`], [`lrp`], [`ops`]) and the file formats know nothing of the GUI.

#![warn(clippy::unwrap_used, clippy::expect_used)]

pub mod cli;
pub mod data;
pub mod error;
pub mod lrp;
pub mod model;
pub mod ops;
