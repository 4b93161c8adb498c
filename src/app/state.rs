//! What the window remembers between launches (the experiment, the view settings), kept apart
//! from runtime handles such as the running training and open dialogs.

use crate::config::{Experiment, from_ron_str, to_ron_string};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    Curves,
    Probabilities,
    Temperature,
    Regions,
    Diagnostics,
    Sweep,
    Runs,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Curves,
        Tab::Probabilities,
        Tab::Temperature,
        Tab::Regions,
        Tab::Diagnostics,
        Tab::Sweep,
        Tab::Runs,
    ];

    /// The tab a command-line name (`curves`, `probabilities`, `temperature`, `regions`,
    /// `diagnostics`, `sweep`, `runs`) stands for.
    pub fn from_name(name: &str) -> Option<Tab> {
        Tab::ALL
            .into_iter()
            .find(|t| format!("{t:?}").eq_ignore_ascii_case(name))
    }

    pub fn title(self) -> &'static str {
        match self {
            Tab::Curves => "Curves",
            Tab::Probabilities => "Probabilities",
            Tab::Temperature => "Temperature",
            Tab::Regions => "Decision regions",
            Tab::Diagnostics => "Diagnostics",
            Tab::Sweep => "Sweep",
            Tab::Runs => "Runs",
        }
    }
}

/// View settings, persisted with eframe's storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ViewSettings {
    pub dark_mode: bool,
    pub tab: Tab,
    /// Exponential smoothing of step losses, 0 (none) to 0.99.
    pub smoothing: f32,
    pub log_scale: bool,
    /// Re-soften the Probabilities tab's cached logits at `view_temperature` instead of the
    /// run's own T (exploring; the run itself is not changed).
    pub explore_temperature: bool,
    /// Temperature the Probabilities tab explores at.
    pub view_temperature: f32,
    /// Test example shown in the Probabilities and Temperature tabs.
    pub sample: usize,
    /// The Temperature tab's hand-edited logits (used before any training).
    pub hand_logits: Vec<f32>,
    pub use_hand_logits: bool,
    /// Temperatures shown side by side in the Temperature tab.
    pub temperatures: Vec<f32>,
    pub current_file: Option<PathBuf>,
    pub recent_files: Vec<PathBuf>,
    /// Whether the Lessons panel is open.
    pub show_lessons: bool,
    /// The lesson in progress (a built-in name or a file's path), to reopen on launch.
    pub lesson: Option<String>,
    /// The step each lesson was left at, by name: progress kept between launches.
    pub lesson_progress: std::collections::BTreeMap<String, usize>,
    /// Presentation mode: no editor, large type, thick lines, high contrast.
    pub present: bool,
    /// The UI scale in presentation mode and out of it (Ctrl + / Ctrl −).
    pub present_zoom: f32,
    pub zoom: f32,
}

impl Default for ViewSettings {
    fn default() -> Self {
        Self {
            dark_mode: true,
            tab: Tab::Curves,
            smoothing: 0.6,
            log_scale: false,
            explore_temperature: false,
            view_temperature: 4.0,
            sample: 0,
            hand_logits: vec![6.0, 3.5, 2.0, 1.0, 0.5, 0.0, -0.5, -1.0, -2.0, -3.0],
            use_hand_logits: false,
            temperatures: vec![1.0, 2.0, 5.0, 10.0, 20.0],
            current_file: None,
            recent_files: Vec::new(),
            show_lessons: false,
            lesson: None,
            lesson_progress: Default::default(),
            present: false,
            present_zoom: super::present::PRESENT_ZOOM,
            zoom: 1.0,
        }
    }
}

impl ViewSettings {
    /// Remember a file at the top of the recent list.
    pub fn remember(&mut self, path: PathBuf) {
        self.recent_files.retain(|p| p != &path);
        self.recent_files.insert(0, path.clone());
        self.recent_files.truncate(8);
        self.current_file = Some(path);
    }
}

const EXPERIMENT_KEY: &str = "distillery.experiment";
const VIEW_KEY: &str = "distillery.view";

/// The experiment is stored as preset text in Distillery's own RON dialect, so a stored
/// experiment reads back exactly as a saved preset does.
pub fn load(storage: Option<&dyn eframe::Storage>) -> (Option<Experiment>, ViewSettings) {
    let Some(storage) = storage else {
        return (None, ViewSettings::default());
    };
    let experiment = storage
        .get_string(EXPERIMENT_KEY)
        .and_then(|text| from_ron_str(&text, "stored experiment").ok());
    let view = eframe::get_value(storage, VIEW_KEY).unwrap_or_default();
    (experiment, view)
}

pub fn save(storage: &mut dyn eframe::Storage, experiment: &Experiment, view: &ViewSettings) {
    storage.set_string(EXPERIMENT_KEY, to_ron_string(experiment));
    eframe::set_value(storage, VIEW_KEY, view);
}

#[cfg(test)]
mod tests {
    use super::*;
    use eframe::Storage as _;
    use std::collections::HashMap;

    #[derive(Default)]
    struct MemoryStorage(HashMap<String, String>);

    impl eframe::Storage for MemoryStorage {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_string(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn experiment_and_view_survive_a_restart() {
        let mut storage = MemoryStorage::default();
        let mut exp = crate::app::presets::built_in("ensemble").unwrap();
        exp.distill.temperature = 7.5;
        let view = ViewSettings {
            dark_mode: false,
            tab: Tab::Regions,
            smoothing: 0.3,
            show_lessons: true,
            lesson: Some("3-first-distillation".into()),
            lesson_progress: [("3-first-distillation".to_string(), 1)].into(),
            present: true,
            present_zoom: 1.8,
            ..ViewSettings::default()
        };
        save(&mut storage, &exp, &view);
        let (back, back_view) = load(Some(&storage));
        assert_eq!(back, Some(exp));
        assert_eq!(back_view, view);
    }

    #[test]
    fn a_damaged_store_falls_back_to_defaults() {
        let mut storage = MemoryStorage::default();
        storage.set_string(EXPERIMENT_KEY, "(distill: (".into());
        let (exp, view) = load(Some(&storage));
        assert_eq!(exp, None);
        assert_eq!(view, ViewSettings::default());
    }
}
