//! Errors and notices as a stack of cards floating above the bottom right corner: the text wraps inside a fixed
//! width (no panel ever grows), can be selected and copied, and each card closes with its button or all with Escape.

use super::theme::ACCENT;
use crate::app::Command;
use crate::app::state::{Message, Session};

/// How many of the newest messages are shown at once.
pub const MESSAGES_SHOWN: usize = 3;

/// The widest a card gets, in points.
pub const CARD_WIDTH: f32 = 480.0;

/// Room left for the status bar below the cards.
const ABOVE_STATUS_BAR: f32 = 34.0;

/// The newest messages with Copy, Open folder (for saved files) and Dismiss; Escape dismisses them all.
pub fn messages_ui(ctx: &egui::Context, session: &Session) -> Vec<Command> {
    let mut commands = Vec::new();
    let messages = &session.messages;
    if messages.is_empty() {
        return commands;
    }
    // Escape belongs to an open menu or dialog first.
    let escape_free = !egui::Popup::is_any_open(ctx) && session.browse.is_none();
    if escape_free && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape)) {
        commands.push(Command::ClearMessages);
    }
    let width = card_width(ctx.content_rect().width());
    let first = messages.len().saturating_sub(MESSAGES_SHOWN);
    egui::Area::new(egui::Id::unique("messages"))
        .anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -ABOVE_STATUS_BAR])
        .order(egui::Order::Foreground)
        .show(ctx, |ui| {
            ui.set_width(width);
            if first > 0 {
                ui.label(
                    egui::RichText::new(format!("{first} older message(s) hidden"))
                        .small()
                        .weak(),
                );
            }
            for (index, message) in messages.iter().enumerate().skip(first) {
                commands.extend(card_ui(ui, index, message, width));
                ui.add_space(4.0);
            }
            if messages.len() - first > 1 {
                let all = ui.button("Dismiss all").on_hover_text("Escape");
                if all.clicked() {
                    commands.push(Command::ClearMessages);
                }
            }
        });
    commands
}

/// The width of the cards in a window `window_width` points wide.
pub fn card_width(window_width: f32) -> f32 {
    (window_width - 24.0).clamp(160.0, CARD_WIDTH)
}

fn card_ui(ui: &mut egui::Ui, index: usize, message: &Message, width: f32) -> Vec<Command> {
    let mut commands = Vec::new();
    let colour = if message.is_error {
        ui.visuals().error_fg_color
    } else {
        ACCENT
    };
    egui::Frame::popup(ui.style())
        .stroke(egui::Stroke::new(1.0, colour))
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(width - 18.0);
            let prefix = if message.is_error { "Error: " } else { "" };
            let text = format!("{prefix}{}", message.text);
            ui.add(
                egui::Label::new(egui::RichText::new(&text).color(colour))
                    .wrap()
                    .selectable(true),
            );
            ui.horizontal(|ui| {
                if ui.button("Copy").on_hover_text("Copy the whole message").clicked() {
                    ui.ctx().copy_text(text.clone());
                }
                if let Some(folder) = message.file.as_ref().and_then(|f| f.parent()) {
                    let open = ui.button("Open folder").on_hover_text(folder.display().to_string());
                    if open.clicked() {
                        commands.push(Command::OpenFolder(folder.to_path_buf()));
                    }
                }
                if ui
                    .button("Dismiss")
                    .on_hover_text("Escape dismisses every message")
                    .clicked()
                {
                    commands.push(Command::DismissMessage(index));
                }
            });
        });
    commands
}
