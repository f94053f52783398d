//! The one shape every panel has: `fn(ui, &mut PanelCx) -> Vec<Command>`.
//!
//! A panel reads [`Session`] (what this run holds; changed only through the [`Command`]s it returns), may change
//! [`Settings`] directly for display choices that need no work (a colormap, a toggle, the open tab), and keeps its
//! textures and widget state in [`ViewCache`]. To add a panel: write `src/ui/<name>_panel.rs` with one
//! `pub fn <name>_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command>` (the Ledger tab,
//! `ledger_panel.rs`, is the smallest example), then list it in [`super::tab_panel`] (a central tab) or in
//! [`super::root_ui`] (a side panel).

use super::ViewCache;
use crate::app::Command;
use crate::app::state::{Session, Settings};

/// What a panel is given.
pub struct PanelCx<'a> {
    pub settings: &'a mut Settings,
    pub session: &'a Session,
    pub view: &'a mut ViewCache,
}

impl<'a> PanelCx<'a> {
    pub fn new(settings: &'a mut Settings, session: &'a Session, view: &'a mut ViewCache) -> Self {
        PanelCx {
            settings,
            session,
            view,
        }
    }
}

/// Every panel's signature.
pub type PanelFn = fn(&mut egui::Ui, &mut PanelCx<'_>) -> Vec<Command>;
