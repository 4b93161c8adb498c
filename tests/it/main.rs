//! Integration tests, one binary so burn and eframe are linked once.

mod cli;
mod engine;
mod loaders;
mod support;
