//! File dialogs behind a small trait: native dialogs (rfd's async dialog on a worker thread)
//! in the app, scripted answers in tests, so no test ever opens a real dialog.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};

/// The answer to a dialog, arriving later: `None` when the user cancelled.
pub type PendingPath = Receiver<Option<PathBuf>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogKind {
    OpenFile,
    SaveFile,
    PickFolder,
}

/// What to ask the user for.
#[derive(Debug, Clone)]
pub struct DialogRequest {
    pub kind: DialogKind,
    pub title: String,
    /// (filter name, extensions)
    pub filter: Option<(String, Vec<String>)>,
    pub file_name: Option<String>,
}

pub trait FileDialogs {
    /// Start a dialog; the answer arrives on the returned receiver.
    fn ask(&self, request: DialogRequest) -> PendingPath;
}

/// Native dialogs through rfd, each on its own thread so the window keeps drawing.
#[derive(Debug, Default)]
pub struct RfdDialogs;

impl FileDialogs for RfdDialogs {
    fn ask(&self, request: DialogRequest) -> PendingPath {
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut dialog = rfd::AsyncFileDialog::new().set_title(&request.title);
            if let Some((name, exts)) = &request.filter {
                dialog = dialog.add_filter(name, exts);
            }
            if let Some(name) = &request.file_name {
                dialog = dialog.set_file_name(name);
            }
            let answer = pollster::block_on(async move {
                match request.kind {
                    DialogKind::OpenFile => dialog.pick_file().await,
                    DialogKind::SaveFile => dialog.save_file().await,
                    DialogKind::PickFolder => dialog.pick_folder().await,
                }
            });
            let _ = tx.send(answer.map(|h| h.path().to_path_buf()));
        });
        rx
    }
}

/// Answers queued by a test, handed out in order; every request is recorded.
#[derive(Debug, Clone, Default)]
pub struct ScriptedDialogs {
    pub answers: Arc<Mutex<VecDeque<Option<PathBuf>>>>,
    pub asked: Arc<Mutex<Vec<DialogRequest>>>,
}

impl ScriptedDialogs {
    pub fn answer_next(&self, path: Option<PathBuf>) {
        self.answers.lock().unwrap().push_back(path);
    }
}

impl FileDialogs for ScriptedDialogs {
    fn ask(&self, request: DialogRequest) -> PendingPath {
        self.asked.lock().unwrap().push(request);
        let (tx, rx) = channel();
        let _ = tx.send(self.answers.lock().unwrap().pop_front().flatten());
        rx
    }
}
