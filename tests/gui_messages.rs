//! Messages float over the window without moving it, wrap, can be copied and dismissed (button or Escape); the
//! File menu's "Open a path" field can be typed into.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::Command;
use lrp_explorer::ui::messages::CARD_WIDTH;

#[path = "common/app_fixture.rs"]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture(size: [f32; 2]) -> Fixture {
    app_fixture::open_fixture_with("cnn", 4, size)
}

/// Where the heatmap, the rule picker and the layer list sit on screen.
fn layout(f: &Fixture) -> Vec<egui::Rect> {
    let h = &f.harness;
    ["Relevance for class 7", "zplus", "Explain tab", "sample 7"]
        .iter()
        .map(|label| h.get_by_label(label).rect())
        .collect()
}

#[test]
fn a_long_error_wraps_in_a_card_and_moves_nothing() {
    let mut f = open_fixture([1280.0, 800.0]);
    let before = layout(&f);
    let long = format!(
        "could not open the model /a/very/long/folder/name/{}/model.bin: unsupported model format; \
         supported: .onnx, .txt (LRP Toolbox), .npz, .mat (MATLAB) — END-OF-MESSAGE",
        "deeper".repeat(30)
    );
    f.harness.state_mut().session.error(long.clone());
    f.harness.run();
    assert_eq!(layout(&f), before, "an error must not move or resize any view");
    let h = &f.harness;
    let card = h.get_by_label_contains("END-OF-MESSAGE");
    // The whole text is there (nothing elided), on several lines no wider than the card.
    assert_eq!(card.value().as_deref(), Some(format!("Error: {long}").as_str()));
    let rect = card.rect();
    assert!(rect.width() <= CARD_WIDTH, "card text {rect:?} wider than {CARD_WIDTH}");
    assert!(rect.height() > 3.0 * 12.0, "text {rect:?} did not wrap");
    assert!(
        rect.right() <= 1280.0 && rect.bottom() <= 800.0,
        "card {rect:?} leaves the window"
    );
    // Copy puts the whole message on the clipboard.
    h.get_by_label("Copy").click();
    f.harness.step();
    let copied = f
        .harness
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if *t == format!("Error: {long}")));
    assert!(copied, "Copy did not copy the message");
    f.harness.run();
    // Escape closes it and the views are where they were.
    f.harness.key_press(egui::Key::Escape);
    f.harness.run();
    assert!(f.harness.state().session.messages.is_empty());
    assert!(f.harness.query_by_label_contains("END-OF-MESSAGE").is_none());
    assert_eq!(layout(&f), before);
}

#[test]
fn each_card_has_its_own_dismiss_and_a_saved_file_offers_its_folder() {
    let mut f = open_fixture([1024.0, 768.0]);
    let saved = f.dir.path().join("picture.png");
    {
        let s = &mut f.harness.state_mut().session;
        s.error("first problem");
        s.error("second problem");
        s.saved(saved.clone());
    }
    f.harness.run();
    let h = &f.harness;
    assert_eq!(h.get_all_by_label("Dismiss").count(), 3);
    h.get_by_label(&format!("saved {}", saved.display()));
    // Only the saved file has a folder to open; the card stays inside a 1024-point window.
    assert_eq!(h.get_all_by_label("Open folder").count(), 1);
    assert!(h.get_by_label("Open folder").rect().right() <= 1024.0);
    // Dismiss the middle card: the other two stay.
    let second = h.get_by_label("Error: second problem").rect();
    let dismiss = h
        .get_all_by_label("Dismiss")
        .find(|d| d.rect().top() > second.bottom() && d.rect().top() - second.bottom() < 30.0)
        .expect("a Dismiss button under the second card");
    dismiss.click();
    f.harness.run();
    let texts: Vec<_> = f
        .harness
        .state()
        .session
        .messages
        .iter()
        .map(|m| m.text.clone())
        .collect();
    assert_eq!(
        texts,
        ["first problem".to_string(), format!("saved {}", saved.display())]
    );
    f.harness.get_by_label("Dismiss all").click();
    f.harness.run();
    assert!(f.harness.state().session.messages.is_empty());
    assert!(f.harness.query_by_label("Dismiss").is_none());
}

#[test]
fn opening_a_missing_folder_is_an_error_not_a_crash() {
    let mut f = open_fixture([1280.0, 800.0]);
    let gone = f.dir.path().join("no-such-folder");
    f.harness.state_mut().run_command(Command::OpenFolder(gone));
    f.harness.run();
    f.harness.get_by_label_contains("could not open the folder");
    f.harness.get_by_label_contains("no such folder");
}

#[test]
fn a_path_typed_in_the_file_menu_opens() {
    let mut f = open_fixture([1280.0, 800.0]);
    let model = common::fixtures().join("models/mlp.onnx");
    f.harness.get_by_label("File").click();
    f.harness.run();
    let field = f.harness.get_by_label("path to open");
    field.click();
    f.harness.run();
    // Clicking into the field keeps the menu open; the typed text goes into the field.
    let field = f.harness.get_by_label("path to open");
    assert!(field.is_focused());
    field.type_text(&model.display().to_string());
    f.harness.run();
    assert_eq!(f.harness.state().view.path_text, model.display().to_string());
    // Typing does not step through the samples (the arrow keys belong to the field).
    f.harness.key_press(egui::Key::ArrowLeft);
    f.harness.run();
    f.harness.get_by_label("as model").click();
    f.harness.run();
    let h = &f.harness;
    assert_eq!(h.state().session.model_path.as_deref(), Some(model.as_path()));
    assert_eq!(h.state().session.model.as_ref().unwrap().name(), "mlp");
    assert_eq!(result(h).sample, 0);
    assert_eq!(result(h).target, 7);
    // The menu closed after opening; the model is first in the recent models.
    assert!(h.query_by_label("path to open").is_none());
    assert_eq!(h.state().settings.recent_models.first(), Some(&model));
}

#[test]
fn enter_in_the_path_field_opens_samples_with_their_labels() {
    let mut f = open_fixture([1280.0, 800.0]);
    let images = f.dir.path().join("t10k-images-idx3-ubyte");
    std::fs::copy(f.harness.state().session.data_path.clone().unwrap(), &images).unwrap();
    let labels = f.dir.path().join("t10k-labels-idx1-ubyte");
    std::fs::copy(f.harness.state().settings.recent_data[0].1.clone().unwrap(), &labels).unwrap();
    f.harness.get_by_label("File").click();
    f.harness.run();
    f.harness.get_by_label("path to open").click();
    f.harness.run();
    f.harness
        .get_by_label("path to open")
        .type_text(&images.display().to_string());
    f.harness.run();
    f.harness.key_press(egui::Key::Enter);
    f.harness.run();
    let h = &f.harness;
    assert_eq!(h.state().session.data_path.as_deref(), Some(images.as_path()));
    assert_eq!(h.state().settings.recent_data[0], (images.clone(), Some(labels)));
    assert_eq!(h.state().session.sample_count(), 8);
    h.get_by_label("accuracy 100.00 %");
}
