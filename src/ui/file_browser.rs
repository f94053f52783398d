//! The in-window file browser, used where no desktop portal answers: folders first, then the files the purpose takes
//! (or every file), a folder field to type into, and Open / Save / Choose this folder / Cancel (Escape). It answers
//! with a [`Command::FileChosen`] or [`Command::CloseBrowser`]; what the chosen path means is the app's business.

use std::path::{Path, PathBuf};

use crate::app::Command;
use crate::app::file_kind::{BrowseRequest, DialogKind, DialogMode, home_folder};

/// One line of the listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub path: PathBuf,
    pub is_dir: bool,
    /// Size in bytes (0 for folders).
    pub size: u64,
}

/// The browser's state: the folder shown and its listing (read once per folder, not per frame).
pub struct FileBrowser {
    request: BrowseRequest,
    folder: PathBuf,
    entries: Vec<Entry>,
    list_error: Option<String>,
    selected: Option<PathBuf>,
    /// The file name when saving.
    file_name: String,
    folder_text: String,
    show_all: bool,
}

impl FileBrowser {
    /// A browser for `request`, listing its folder.
    pub fn new(request: BrowseRequest) -> Self {
        let mut browser = FileBrowser {
            file_name: request.file_name.clone(),
            folder: PathBuf::new(),
            request,
            entries: Vec::new(),
            list_error: None,
            selected: None,
            folder_text: String::new(),
            show_all: false,
        };
        browser.go_to(browser.request.folder.clone());
        browser
    }

    /// The request this browser answers.
    pub fn request(&self) -> &BrowseRequest {
        &self.request
    }

    /// The folder shown.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Folders, then the files offered for the purpose (every file with "show all files").
    pub fn visible_entries(&self) -> impl Iterator<Item = &Entry> {
        let kind = self.request.kind;
        let show_all = self.show_all;
        self.entries.iter().filter(move |e| {
            let hidden = e.name.starts_with('.');
            let offered = e.is_dir || kind.offers(&e.name) || show_all;
            offered && (show_all || !hidden)
        })
    }

    /// Shows `folder` (an unreadable folder leaves an error line and an empty list).
    pub fn go_to(&mut self, folder: PathBuf) {
        self.selected = None;
        self.folder_text = folder.display().to_string();
        match list_folder(&folder) {
            Ok(entries) => {
                self.entries = entries;
                self.list_error = None;
            }
            Err(e) => {
                self.entries.clear();
                self.list_error = Some(format!("cannot read {}: {e}", folder.display()));
            }
        }
        self.folder = folder;
    }

    /// The browser as a modal window; `Some` when the user chose a path or cancelled.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Command> {
        let screen = ctx.content_rect();
        let width = (screen.width() - 40.0).clamp(280.0, 640.0);
        let list_height = (screen.height() - 280.0).clamp(120.0, 360.0);
        let modal = egui::Modal::new(egui::Id::unique("file_browser")).show(ctx, |ui| {
            ui.set_width(width);
            self.contents_ui(ui, list_height)
        });
        let cancelled = modal.should_close();
        modal.inner.or(cancelled.then_some(Command::CloseBrowser))
    }

    fn contents_ui(&mut self, ui: &mut egui::Ui, list_height: f32) -> Option<Command> {
        let kind = self.request.kind;
        let mut answer = None;
        let mut go = None;
        ui.heading(kind.title());
        ui.horizontal(|ui| {
            let up = ui.add_enabled(self.folder.parent().is_some(), egui::Button::new("Up"));
            if up.on_hover_text("The parent folder").clicked() {
                go = self.folder.parent().map(Path::to_path_buf);
            }
            if let Some(home) = home_folder()
                && ui.button("Home").on_hover_text(home.display().to_string()).clicked()
            {
                go = Some(home);
            }
            let field = ui
                .add(egui::TextEdit::singleline(&mut self.folder_text).desired_width(f32::INFINITY))
                .accessible_name("folder");
            if field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                let typed = PathBuf::from(self.folder_text.trim());
                if typed.is_file() && kind.mode() == DialogMode::Open {
                    answer = Some(chosen(kind, typed));
                } else {
                    go = Some(typed);
                }
            }
        });
        if let Some(e) = &self.list_error {
            ui.add(egui::Label::new(egui::RichText::new(e).color(ui.visuals().error_fg_color)).wrap());
        }
        ui.separator();
        egui::ScrollArea::vertical()
            .id_salt("file_browser_list")
            .max_height(list_height)
            .auto_shrink([false, true])
            .show(ui, |ui| {
                let visible: Vec<Entry> = self.visible_entries().cloned().collect();
                for entry in &visible {
                    let selected = self.selected.as_ref() == Some(&entry.path);
                    let text = if entry.is_dir {
                        format!("{}/", entry.name)
                    } else {
                        format!("{}    {}", entry.name, size_text(entry.size))
                    };
                    let what = if entry.is_dir { "folder" } else { "file" };
                    let r = ui
                        .selectable_label(selected, text)
                        .accessible_name(format!("{what} {}", entry.name));
                    if entry.is_dir && r.clicked() {
                        go = Some(entry.path.clone());
                    } else if r.double_clicked() && kind.mode() == DialogMode::Open {
                        answer = Some(chosen(kind, entry.path.clone()));
                    } else if r.clicked() {
                        self.selected = Some(entry.path.clone());
                        if kind.mode() == DialogMode::Save {
                            self.file_name = entry.name.clone();
                        }
                    }
                }
                if visible.is_empty() && self.list_error.is_none() {
                    ui.label(egui::RichText::new("no folders or matching files here").weak());
                }
            });
        ui.separator();
        ui.checkbox(&mut self.show_all, "Show all files");
        if kind.mode() == DialogMode::Save {
            ui.horizontal(|ui| {
                ui.label("File name");
                ui.add(egui::TextEdit::singleline(&mut self.file_name).desired_width(f32::INFINITY))
                    .accessible_name("file name");
            });
        }
        ui.horizontal(|ui| {
            answer = answer.take().or_else(|| self.buttons_ui(ui));
        });
        if let Some(folder) = go {
            self.go_to(folder);
        }
        answer
    }

    /// Open / Save / Choose this folder, and Cancel.
    fn buttons_ui(&mut self, ui: &mut egui::Ui) -> Option<Command> {
        let kind = self.request.kind;
        let mut answer = None;
        match kind.mode() {
            DialogMode::Open => {
                let open = ui.add_enabled(self.selected.is_some(), egui::Button::new("Open"));
                if open.clicked()
                    && let Some(path) = self.selected.clone()
                {
                    answer = Some(chosen(kind, path));
                }
            }
            DialogMode::Save => {
                let name = self.file_name.trim();
                let ok = !name.is_empty() && !name.contains('/');
                if ui.add_enabled(ok, egui::Button::new("Save")).clicked() {
                    answer = Some(chosen(kind, self.folder.join(name)));
                }
            }
            DialogMode::Folder => {}
        }
        if kind.takes_folders() {
            let text = if kind.mode() == DialogMode::Folder {
                "Choose this folder"
            } else {
                "Open this folder"
            };
            if ui
                .button(text)
                .on_hover_text(self.folder.display().to_string())
                .clicked()
            {
                answer = Some(chosen(kind, self.folder.clone()));
            }
        }
        if ui.button("Cancel").on_hover_text("Escape").clicked() {
            answer = Some(Command::CloseBrowser);
        }
        answer
    }
}

fn chosen(kind: DialogKind, path: PathBuf) -> Command {
    Command::FileChosen { kind, path }
}

/// The entries of `folder`: folders first, then files, each sorted by name regardless of case.
pub fn list_folder(folder: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for item in std::fs::read_dir(folder)? {
        let Ok(item) = item else { continue };
        let path = item.path();
        // `metadata` follows symbolic links, so a link to a folder is a folder.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        entries.push(Entry {
            name: item.file_name().to_string_lossy().into_owned(),
            is_dir: meta.is_dir(),
            size: if meta.is_dir() { 0 } else { meta.len() },
            path,
        });
    }
    entries.sort_by_cached_key(|e| (!e.is_dir, e.name.to_lowercase()));
    Ok(entries)
}

/// `310.9 kB`, `2.1 MB`, `512 B`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_come_first_and_sizes_read_well() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.onnx"), [0u8; 1500]).unwrap();
        std::fs::write(dir.path().join("A.txt"), b"x").unwrap();
        std::fs::create_dir(dir.path().join("zoo")).unwrap();
        let names: Vec<_> = list_folder(dir.path()).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["zoo", "A.txt", "b.onnx"]);
        assert_eq!(size_text(1500), "1.5 kB");
        assert_eq!(size_text(2_071_172), "2.1 MB");
        assert_eq!(size_text(12), "12 B");
    }
}
