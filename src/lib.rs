//! Distillery: a workbench for knowledge distillation.
//!
//! The engine (`config`, `data`, `model`, `distill`, `train`, `run`) knows nothing of the
//! window; `app` drives it through commands and events, and `cli` runs it headless.

pub mod app;
pub mod cli;
pub mod config;
pub mod data;
pub mod distill;
pub mod model;
pub mod run;
pub mod train;
