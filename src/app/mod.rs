//! The desktop window: [`LrpApp`] polls the workers, draws the panels, then applies the panels' [`Command`]s.

mod analysis_logic;
pub mod check;
pub mod command;
pub mod compare;
pub mod explain_job;
pub mod export_job;
mod export_logic;
pub mod file_kind;
pub mod files;
mod input;
pub mod job_error;
pub mod jobs;
pub mod logic;
pub mod render;
pub mod rules;
pub mod runner;
pub mod samples;
pub mod settings_store;
pub mod state;

use std::path::PathBuf;

pub use command::Command;
pub use job_error::JobError;
pub use jobs::{DialogKind, ExportKind, Job, JobResult, JobRunner};
pub use settings_store::SETTINGS_KEY;
pub use state::{Session, Settings};

use crate::data::{default_asset, labels_next_to};
use crate::ui::ViewCache;

/// What the command line asks the window to open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuiOptions {
    pub model: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    /// Preprocessing spec (`range=lo,hi;normalize=m,s;pad=n`).
    pub preprocess: Option<String>,
    /// The ONNX graph output to explain (`--output`); `None`: the float scores.
    pub output: Option<String>,
    /// A relevance map to check: the window opens on the Check tab with it.
    pub relevance: Option<PathBuf>,
}

/// Opens the window and runs until it is closed.
pub fn run_gui(options: GuiOptions) -> anyhow::Result<()> {
    run_gui_with(options, |_| {})
}

/// As [`run_gui`], calling `setup` on the app before the first frame (e.g. to install a model built in memory).
pub fn run_gui_with(options: GuiOptions, setup: impl FnOnce(&mut LrpApp) + 'static) -> anyhow::Result<()> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("LRP Explorer")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size(crate::ui::MIN_WINDOW_SIZE)
            .with_drag_and_drop(true),
        persist_window: true,
        ..Default::default()
    };
    eframe::run_native(
        "lrp-explorer",
        native,
        Box::new(move |cc| {
            let mut app = LrpApp::new(cc, options)?;
            setup(&mut app);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// The application: persisted settings, this run's session, the job runner and the textures on screen.
pub struct LrpApp {
    pub settings: Settings,
    pub session: Session,
    jobs: JobRunner,
    pub view: ViewCache,
}

impl LrpApp {
    /// The app of a real window: settings from storage, worker threads, files from `options` or the defaults.
    pub fn new(cc: &eframe::CreationContext<'_>, options: GuiOptions) -> std::io::Result<Self> {
        let (settings, notices) = settings_store::load_settings(cc.storage);
        let jobs = JobRunner::threaded(cc.egui_ctx.clone())?;
        let mut app = LrpApp::with_runner(settings, jobs);
        for notice in notices {
            app.session.info(notice);
        }
        app.open(&options);
        Ok(app)
    }

    /// An app with no files open; tests pass [`JobRunner::inline`].
    pub fn with_runner(settings: Settings, jobs: JobRunner) -> Self {
        LrpApp {
            settings,
            session: Session::default(),
            jobs,
            view: ViewCache::default(),
        }
    }

    /// Queues loading what `options` names; whatever is missing comes from the bundled defaults.
    pub fn open(&mut self, options: &GuiOptions) {
        if let Some(spec) = &options.preprocess {
            self.run_command(Command::SetPreprocess(spec.clone()));
        }
        match options.model.clone().or_else(|| default_asset("models/cnn.onnx")) {
            Some(path) => self.submit(Job::LoadModel {
                path,
                output: options.output.clone(),
            }),
            None => self
                .session
                .info("No model given and no bundled model found: open one from the File menu."),
        }
        let data = options
            .data
            .clone()
            .or_else(|| default_asset("test-images-idx3-ubyte.gz"));
        match data {
            Some(path) => {
                let labels = options.labels.clone().or_else(|| labels_next_to(&path));
                self.run_command(Command::OpenData { path, labels });
            }
            None => self
                .session
                .info("No samples given and no bundled samples found: open them from the File menu."),
        }
        if let Some(path) = options.relevance.clone() {
            self.settings.tab = state::CentralTab::Check;
            self.run_command(Command::Check(check::CheckCommand::Open(path)));
        }
    }

    /// Installs a model built in memory, as if it had been loaded from `path`.
    pub fn set_model(&mut self, model: crate::model::Model, path: PathBuf) {
        self.model_loaded(
            path,
            crate::model::LoadedModel {
                model,
                notes: Vec::new(),
                metadata: Default::default(),
                import: None,
            },
        );
    }

    /// Installs samples held in memory, as if loaded from `path`.
    pub fn set_dataset(&mut self, dataset: crate::data::Dataset, path: PathBuf) {
        self.data_loaded(path, None, dataset);
    }

    /// Applies every result the workers have sent.
    pub fn poll_jobs(&mut self) {
        for result in self.jobs.poll() {
            self.session.pending = self.session.pending.saturating_sub(1);
            self.handle_result(result);
        }
    }

    fn submit(&mut self, job: Job) {
        if self.jobs.submit(job) {
            self.session.pending += 1;
        } else {
            self.session.error("the worker thread stopped; restart the app");
        }
        if self.jobs.is_inline() {
            self.poll_jobs();
        }
    }

    /// One frame: results in, keys and dropped files, panels drawn, commands applied.
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        self.poll_jobs();
        let ctx = ui.ctx().clone();
        let mut commands = input::keyboard_commands(&ctx);
        if self.settings.tab == state::CentralTab::Check {
            commands.extend(check::dropped_relevance_commands(&ctx));
        } else {
            commands.extend(input::dropped_file_commands(&ctx));
        }
        commands.extend(crate::ui::root_ui(
            ui,
            &mut self.settings,
            &self.session,
            &mut self.view,
        ));
        for command in commands {
            self.run_command(command);
        }
    }
}

impl eframe::App for LrpApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings);
    }
}
