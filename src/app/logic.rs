//! Applying commands and job results to the state; queuing the work they imply.

use std::path::PathBuf;
use std::sync::Arc;

use super::file_kind::PendingExport;
use super::jobs::{ExplainRequest, Job, JobResult};
use super::rules;
use super::samples::{step_in, visible_samples};
use super::state::Predictions;
use super::{Command, LrpApp};
use crate::data::Dataset;
use crate::data::choose_preprocess;
use crate::data::preprocess::Preprocess;
use crate::lrp::{ResolvedMethod, Target};
use crate::model::LoadedModel;
use crate::model::Model;

impl LrpApp {
    /// Applies one command from the UI.
    pub fn run_command(&mut self, command: Command) {
        match command {
            Command::Dialog(kind) => self.ask_for_file(kind),
            Command::OpenModel(path) => self.submit(Job::LoadModel { path, output: None }),
            Command::ChooseOutput(output) => match self.session.model_path.clone() {
                Some(path) => self.submit(Job::LoadModel {
                    path,
                    output: Some(output),
                }),
                None => self.session.error("open a model before choosing its output"),
            },
            Command::OpenData { path, labels } => self.submit(Job::LoadData { path, labels }),
            Command::OpenLabels(labels) => match self.session.data_path.clone() {
                Some(path) => self.submit(Job::LoadData {
                    path,
                    labels: Some(labels),
                }),
                None => self.session.error("open samples before their labels"),
            },
            Command::SelectSample(i) => {
                if i < self.session.sample_count() && i != self.settings.sample {
                    self.settings.sample = i;
                    self.request_explain();
                }
            }
            Command::StepSample(delta) => {
                let visible = visible_samples(&self.settings, &self.session);
                if let Some(i) = step_in(&visible, self.settings.sample, delta) {
                    self.run_command(Command::SelectSample(i));
                }
            }
            Command::SelectClass(class) => {
                self.session.target = class;
                self.request_explain();
            }
            Command::ChooseRule(choice) => {
                self.settings.rule_choice = choice;
                self.settings.layer_rules = None;
                self.rebuild_plan();
                self.request_explain();
            }
            Command::SetLayerRule { layer, rule } => {
                if let Some(slot) = self.session.plan.get_mut(layer) {
                    *slot = rule;
                    if let Some(model) = &self.session.model {
                        self.settings.layer_rules = Some(rules::edits_of_plan(&self.session.plan, model));
                    }
                    self.request_explain();
                }
            }
            Command::SetPreprocess(spec) => match spec.parse::<Preprocess>() {
                Ok(p) => {
                    self.settings.preprocess = spec.clone();
                    self.session.preprocess = p;
                    self.session.preprocess_given = Some(spec);
                    self.session.preprocess_source = Some(crate::data::PreprocessSource::Given);
                    self.remember_preprocess(&p);
                    self.rebuild_plan();
                    self.request_predictions();
                    self.request_explain();
                }
                Err(e) => self.session.error(format!("preprocessing {spec:?}: {e}")),
            },
            Command::SelectLayer(k) => {
                let layers = self.session.model.as_ref().map_or(0, |m| m.layers().len());
                self.session.layer = k.min(layers);
            }
            Command::StepLayer(delta) => {
                let layers = self.session.model.as_ref().map_or(0, |m| m.layers().len()) as i64;
                self.session.layer = (self.session.layer as i64 + delta).clamp(0, layers) as usize;
            }
            Command::Export(kind) => {
                if let Some(path) = self.export_path(PendingExport::Quick(kind), &self.export_name(kind)) {
                    self.export_to(kind, path);
                }
            }
            Command::Recompute => self.request_explain(),
            Command::ClearMessages => self.session.messages.clear(),
            c @ (Command::DismissMessage(_)
            | Command::OpenFolder(_)
            | Command::FileChosen { .. }
            | Command::CloseBrowser) => self.run_file_command(c),
            other => self.run_analysis_command(other),
        }
    }

    /// Applies one job result (results of superseded requests are dropped).
    pub fn handle_result(&mut self, result: JobResult) {
        match result {
            JobResult::ModelLoaded { path, result } => match result {
                Ok(loaded) => self.model_loaded(path, loaded),
                Err(e) => self.session.error(format!("could not open the model: {e}")),
            },
            JobResult::DataLoaded { path, labels, result } => match result {
                Ok(d) => self.data_loaded(path, labels, d),
                Err(e) => self.session.error(format!("could not open the samples: {e}")),
            },
            JobResult::Explained { generation, result } => {
                if generation != self.session.generation {
                    return; // a newer request is on its way
                }
                match result {
                    Ok(r) => {
                        self.session.result = Some(Arc::new(r));
                        self.session.rule_error = None;
                    }
                    Err(e) => {
                        self.session.result = None;
                        self.session.rule_error = Some(e.to_string());
                    }
                }
            }
            JobResult::Predicted { generation, result } => {
                if generation == self.session.data_generation {
                    match result {
                        Ok(p) => self.session.predictions = Some(p),
                        Err(e) => self.session.error(format!("predicting the samples: {e}")),
                    }
                }
            }
            JobResult::Exported(Ok(path)) => self.session.saved(path),
            JobResult::Exported(Err(e)) => self.session.error(format!("export failed: {e}")),
            JobResult::DialogClosed {
                kind,
                path,
                duration_ms,
            } => self.dialog_closed(kind, path, duration_ms),
            other => self.handle_analysis_result(other),
        }
    }

    pub(super) fn model_loaded(&mut self, path: PathBuf, loaded: LoadedModel) {
        let s = &mut self.session;
        s.layer = loaded.model.layers().len();
        s.model = Some(Arc::new(loaded.model));
        s.model_notes = loaded.notes;
        s.model_metadata = loaded.metadata;
        s.model_import = loaded.import;
        s.model_path = Some(path.clone());
        s.result = None;
        s.target = None;
        s.contrast = None;
        // Results go; the generation counters stay, so that answers still on their way are recognised as old.
        s.compare.result = None;
        s.faith.result = None;
        s.unit.chosen = None;
        s.unit.conditional = None;
        s.unit.gallery = None;
        self.settings.remember_model(path);
        self.fit_preprocess();
        self.rebuild_plan();
        self.request_predictions();
        self.request_explain();
    }

    pub(super) fn data_loaded(&mut self, path: PathBuf, labels: Option<PathBuf>, dataset: Dataset) {
        let count = dataset.len();
        self.session.dataset = Some(Arc::new(dataset));
        self.session.data_path = Some(path.clone());
        self.session.result = None;
        self.session.compare.result = None;
        self.session.unit.gallery = None;
        self.settings.remember_data(path, labels);
        if self.settings.sample >= count {
            self.settings.sample = 0;
        }
        self.fit_preprocess();
        self.rebuild_plan();
        self.request_predictions();
        self.request_explain();
    }

    /// Remembers a preprocessing chosen by the user next to the model file (`<model>.preprocess`).
    fn remember_preprocess(&mut self, p: &Preprocess) {
        if let Some(path) = self.session.model_path.clone().filter(|p| p.is_file()) {
            match crate::data::write_sidecar(&path, p) {
                Ok(()) => self.session.info(format!(
                    "preprocessing {p} remembered in {}",
                    crate::data::sidecar_path(&path).display()
                )),
                Err(e) => self.session.info(format!("preprocessing {p} not remembered: {e}")),
            }
        }
    }

    /// The preprocessing for the current model and data: given in this run, else remembered for the model
    /// (sidecar, file metadata), else implied by the input size.
    fn fit_preprocess(&mut self) {
        let (Some(model), Some(data)) = (&self.session.model, &self.session.dataset) else {
            return;
        };
        let path = self.session.model_path.clone().unwrap_or_default();
        match choose_preprocess(
            self.session.preprocess_given.as_deref(),
            &path,
            &self.session.model_metadata,
            model.input_len(),
            data.height,
            data.width,
        ) {
            Ok((p, source)) => {
                self.session.preprocess = p;
                self.session.preprocess_source = Some(source);
                self.settings.preprocess = p.to_string();
            }
            Err(e) => {
                self.session.preprocess_source = None;
                self.session.error(e.to_string());
            }
        }
    }

    /// Recomputes the per-layer rules from the picker choice (and the persisted table edits when they fit).
    fn rebuild_plan(&mut self) {
        let Some(model) = self.session.model.clone() else {
            return;
        };
        let choice = &self.settings.rule_choice;
        let edited = self
            .settings
            .layer_rules
            .as_ref()
            .filter(|_| !choice.is_baseline())
            .and_then(|c| c.resolve(&model).ok());
        let plan = match edited {
            Some(plan) => Ok(plan),
            None => choice
                .method(Some(self.session.preprocess.box_bounds()))
                .and_then(|m| m.resolve(&model))
                .map(|m| m.plan().map(<[_]>::to_vec).unwrap_or_default()),
        };
        match plan {
            Ok(plan) => {
                self.session.plan = plan;
                self.session.rule_error = None;
            }
            Err(e) => {
                self.session.plan = Vec::new();
                self.session.rule_error = Some(e.to_string());
            }
        }
    }

    /// The method of the current choice and table, resolved for `model`; the error is the message shown.
    pub(super) fn current_method(&self, model: &Model) -> Result<ResolvedMethod, String> {
        let choice = &self.settings.rule_choice;
        if choice.is_baseline() {
            return choice
                .method(Some(self.session.preprocess.box_bounds()))
                .and_then(|m| m.resolve(model))
                .map_err(|e| e.to_string());
        }
        if self.session.plan.len() != model.layers().len() {
            return Err(self
                .session
                .rule_error
                .clone()
                .unwrap_or_else(|| "no rules chosen".into()));
        }
        ResolvedMethod::lrp(self.session.plan.clone(), model).map_err(|e| e.to_string())
    }

    /// Sends the current sample, rules and class to the explain worker; older answers will be dropped.
    pub(super) fn request_explain(&mut self) {
        let Some(model) = self.session.model.clone() else {
            return;
        };
        let (Some((sample, input)), Some(image)) = (self.current_input(), self.session.input_size()) else {
            return;
        };
        self.session.generation += 1;
        self.session.compare.stale = true;
        let method = match self.current_method(&model) {
            Ok(m) => m,
            Err(e) => {
                self.session.rule_error = Some(e);
                return;
            }
        };
        let target = self.session.target.map_or(Target::Predicted, Target::Class);
        self.submit(Job::Explain(ExplainRequest {
            generation: self.session.generation,
            sample,
            model,
            input,
            image,
            method,
            target,
            contrast: self.session.contrast,
            init: self.settings.init,
        }));
        self.request_conditional(false);
        self.request_check();
    }

    fn request_predictions(&mut self) {
        self.session.data_generation += 1;
        self.session.predictions = None::<Predictions>;
        let (Some(model), Some(dataset)) = (self.session.model.clone(), self.session.dataset.clone()) else {
            return;
        };
        self.submit(Job::Predict {
            generation: self.session.data_generation,
            model,
            dataset,
            preprocess: self.session.preprocess,
        });
    }
}
