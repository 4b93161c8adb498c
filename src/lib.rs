//! Distillery: a workbench for knowledge distillation.
//!
//! The engine (`config`, `data`, `model`, `distill`, `train`, `run`) knows nothing of the
//! window; `app` drives it through commands and events, and `cli` runs it headless.
//! Features: none builds the parsers alone (`config`, `data`); `engine` adds training and run
//! folders; `cli` the command line; `app` (the default) the window.

pub mod config;
pub mod data;

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "engine")]
pub mod distill;
#[cfg(feature = "engine")]
pub mod model;
#[cfg(feature = "engine")]
pub mod run;
#[cfg(feature = "engine")]
pub mod sweep;
#[cfg(feature = "engine")]
pub mod train;
