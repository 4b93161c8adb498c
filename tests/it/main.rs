//! Integration tests, one binary so burn and eframe are linked once.

mod cli;
mod engine;
mod gui;
mod loaders;
mod support;
