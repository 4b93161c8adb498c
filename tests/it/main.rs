//! Integration tests, one binary so burn and eframe are linked once.

mod bad_input;
mod cli;
mod default_preset;
mod engine;
mod gui;
mod gui_ranges;
mod kill;
mod lessons;
mod loaders;
mod methods;
mod support;
mod sweep;
mod views;
