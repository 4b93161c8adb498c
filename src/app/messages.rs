//! Messages the user reads and dismisses: information fades, warnings and errors stay.

use super::command::Command;
use super::workbench::Workbench;
use crate::train::Severity;
use egui::{RichText, Ui};
use std::time::Instant;

/// A message the user reads and dismisses.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub severity: Severity,
    pub shown_at: Instant,
}

impl Message {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Information fades; warnings and errors stay until dismissed.
    pub(super) fn expired(&self) -> bool {
        self.severity == Severity::Info && self.shown_at.elapsed().as_secs_f64() >= INFO_SECONDS
    }
}

/// Information goes away with the first frame drawn this long after it appeared (no frame
/// is drawn just for that); warnings and errors stay until dismissed.
const INFO_SECONDS: f64 = 8.0;

impl Workbench {
    pub(super) fn info(&mut self, text: impl Into<String>) {
        self.say(Severity::Info, text);
    }

    pub(super) fn error(&mut self, text: impl Into<String>) {
        self.say(Severity::Error, text);
    }

    /// Show a message once: the same words already on screen are not repeated.
    pub(super) fn say(&mut self, severity: Severity, text: impl Into<String>) {
        let text = text.into();
        if let Some(m) = self.messages.iter_mut().find(|m| m.text == text) {
            m.severity = m.severity.max(severity);
            m.shown_at = Instant::now();
            return;
        }
        self.messages.push(Message {
            text,
            severity,
            shown_at: Instant::now(),
        });
    }

    /// Drop the information that has been on screen long enough.
    pub(super) fn expire_messages(&mut self) {
        self.messages.retain(|m| !m.expired());
    }

    pub(super) fn messages_ui(&mut self, ui: &mut Ui) {
        for (i, m) in self.messages.iter().enumerate() {
            ui.horizontal(|ui| {
                if ui.small_button("Dismiss").clicked() {
                    self.commands.push(Command::DismissMessage(i));
                }
                let text = RichText::new(&m.text);
                if m.is_error() {
                    ui.colored_label(super::style::ERROR, text);
                } else {
                    ui.label(text);
                }
            });
        }
    }
}
