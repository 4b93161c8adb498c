//! Distillery: a workbench for knowledge distillation.
//!
//! The engine (`config`, `data`, `model`, `distill`, `train`, `run`) knows nothing of the
//! window; `app` drives it through commands and events, and `cli` runs it headless.
//! Without the default `app` feature only the parsers (`config`, `data`) are built.

pub mod config;
pub mod data;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod cli;
#[cfg(feature = "app")]
pub mod distill;
#[cfg(feature = "app")]
pub mod model;
#[cfg(feature = "app")]
pub mod run;
#[cfg(feature = "app")]
pub mod train;
