//! The window at 1024×768 and at its minimum size, driven through egui_kittest with inline jobs: every key view
//! beside the side panels and inside the window, no jumps when a filter, the colormap or a baseline is chosen, and
//! what a click changes scrolled into view (a sample chosen by index, a layer chosen by the keys, a neuron's
//! conditional heatmap).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use egui::Rect;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use lrp_explorer::app::{Command, JobRunner, LrpApp, Settings};
use lrp_explorer::data::Dataset;
use lrp_explorer::ui::MIN_WINDOW_SIZE;

#[path = "common/app_fixture.rs"]
#[allow(dead_code)]
mod app_fixture;

fn rect(h: &Harness<'_, LrpApp>, label: &str) -> Rect {
    h.get_by_label(label).rect()
}

/// The right edge of the sample browser's content and the left edge of the Rules panel's content.
fn side_edges(h: &Harness<'_, LrpApp>) -> (f32, f32) {
    let left = [
        "sample index",
        "preprocessing",
        "misclassified only",
        "sample 0",
        "Samples",
    ]
    .iter()
    .map(|l| rect(h, l).right())
    .fold(0.0, f32::max);
    (left, rect(h, "Rules").left())
}

/// Whether a selectable widget is shown selected (accesskit "toggled").
fn marked(node: &egui_kittest::Node<'_>) -> bool {
    node.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
}

/// The views of the Explain tab: the three pictures and the controls and charts under them.
const EXPLAIN_VIEWS: [&str; 9] = [
    "digit image",
    "heatmap image",
    "overlay image",
    "overlay opacity",
    "Output",
    "Layers",
    "layer position 10",
    "relevance bars",
    "relevance per layer",
];

#[test]
fn at_1024_by_768_and_the_minimum_size_every_view_is_beside_the_panels() {
    for size in [[1024.0, 768.0], MIN_WINDOW_SIZE] {
        let mut f = app_fixture::open_fixture_with("cnn", 2, size);
        // The layer sums sit below the fold: scroll to them like a user would.
        f.harness.get_by_label("relevance per layer").scroll_to_me();
        f.harness.run();
        let h = &f.harness;
        let (left, right) = side_edges(h);
        assert!(left < right, "{size:?}: panels {left} {right}");
        for view in EXPLAIN_VIEWS {
            let r = rect(h, view);
            assert!(
                r.left() > left && r.right() < right - 4.0,
                "{size:?}: {view} at {r:?} is under a side panel ({left}..{right})"
            );
            assert!(r.width() > 10.0, "{size:?}: {view} has no room: {r:?}");
        }
        // The three pictures side by side, none over another, large enough to read a digit.
        let pictures = ["digit image", "heatmap image", "overlay image"].map(|l| rect(h, l));
        for (i, a) in pictures.iter().enumerate() {
            assert!(a.width() >= 110.0, "{size:?}: picture {i} is {a:?}");
            for b in &pictures[i + 1..] {
                assert!(!a.intersects(*b), "{size:?}: pictures overlap: {a:?} {b:?}");
            }
        }
        // The Rules panel's content fits in the window: no parameter name is cut off at its edge.
        for symbol in ["ε", "rule of layer 0", "rule of layer 9"] {
            for node in h.get_all_by_label(symbol) {
                let r = node.rect();
                assert!(r.right() <= size[0], "{size:?}: {symbol} at {r:?} is cut off");
                assert!(r.left() >= right - 1.0, "{size:?}: {symbol} at {r:?} left of the panel");
            }
        }
    }
}

#[test]
fn at_1024_by_768_the_pictures_are_above_the_status_bar() {
    let f = app_fixture::open_fixture_with("mlp", 2, [1024.0, 768.0]);
    let h = &f.harness;
    let status = rect(h, "model mlp");
    for picture in ["digit image", "heatmap image", "overlay image"] {
        let r = rect(h, picture);
        assert!(
            r.bottom() < status.top(),
            "{picture} at {r:?} is below the status bar {status:?}"
        );
        assert!(r.top() > rect(h, "Explain tab").bottom());
    }
}

/// Rects of what must not move when a display option or the rules change.
fn landmarks(h: &Harness<'_, LrpApp>) -> Vec<(&'static str, Rect)> {
    [
        "digit image",
        "heatmap image",
        "overlay image",
        "overlay opacity",
        "Rules",
        "Per layer",
        "sample index",
    ]
    .into_iter()
    .map(|l| (l, rect(h, l)))
    .collect()
}

fn assert_still(before: &[(&str, Rect)], h: &Harness<'_, LrpApp>, after_what: &str) {
    for (label, r) in before {
        let now = rect(h, label);
        assert!(
            (now.min - r.min).length() < 0.5 && (now.size() - r.size()).length() < 0.5,
            "{label} moved from {r:?} to {now:?} after {after_what}"
        );
    }
}

#[test]
fn filters_colormaps_scales_and_baselines_do_not_move_the_layout() {
    let mut f = app_fixture::open_fixture_with("cnn", 2, [1024.0, 768.0]);
    let before = landmarks(&f.harness);
    let first_cells = [rect(&f.harness, "sample 0"), rect(&f.harness, "sample 1")];
    // Class 1: samples 2 and 5 take the first two cells, exactly where 0 and 1 were.
    f.harness.state_mut().settings.class_filter = Some(1);
    f.harness.run();
    assert_eq!(rect(&f.harness, "sample 2"), first_cells[0]);
    assert_eq!(rect(&f.harness, "sample 5"), first_cells[1]);
    assert_still(&before, &f.harness, "a class filter");
    f.harness.state_mut().settings.class_filter = None;
    f.harness.get_by_label("misclassified only").click();
    f.harness.run();
    assert_still(&before, &f.harness, "misclassified only");
    f.harness.get_by_label("misclassified only").click();
    f.harness.run();
    for cmap in lrp_explorer::heatmap::Colormap::ALL {
        f.harness.state_mut().settings.colormap = cmap;
        f.harness.run();
        assert_still(&before, &f.harness, cmap.name());
    }
    f.harness.get_by_label("shared").click();
    f.harness.run();
    assert_still(&before, &f.harness, "a shared scale");
    // A baseline: no per-layer table, yet neither the panel nor the pictures change size.
    let landmarks_without_table: Vec<_> = before.iter().filter(|(l, _)| *l != "Per layer").cloned().collect();
    f.harness.get_by_label("gradient").click();
    f.harness.run();
    assert_eq!(f.harness.state().settings.rule_choice.to_string(), "gradient");
    assert_still(&landmarks_without_table, &f.harness, "a baseline");
    f.harness.get_by_label("epsilon_plus").click();
    f.harness.run();
    assert_still(&before, &f.harness, "back to a preset");
}

/// The app on `n` digits (the 8 fixture digits repeated), at 1024×768.
fn open_many(model: &str, n: usize) -> Harness<'static, LrpApp> {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = common::write_idx(dir.path());
    let eight = lrp_explorer::data::load_dataset(&images, Some(&labels)).unwrap();
    let per = eight.height * eight.width;
    let mut data = Dataset {
        images: Vec::with_capacity(n * per),
        labels: Some(Vec::with_capacity(n)),
        source: "repeated fixture digits".into(),
        ..eight.clone()
    };
    for i in 0..n {
        data.images.extend_from_slice(eight.image(i % 8));
        data.labels.as_mut().unwrap().push(eight.label(i % 8).unwrap());
    }
    let mut app = LrpApp::with_runner(Settings::default(), JobRunner::inline());
    app.set_model(common::npz_model(model), PathBuf::from(format!("{model}.npz")));
    app.set_dataset(data, PathBuf::from("digits"));
    let mut h = Harness::builder()
        .with_size([1024.0, 768.0])
        .build_ui_state(|ui, app: &mut LrpApp| app.frame_ui(ui), app);
    h.run();
    h
}

#[test]
fn going_to_a_sample_scrolls_the_browser_to_it_and_marks_it() {
    let mut h = open_many("mlp", 2000);
    assert!(
        h.query_by_label("sample 1999").is_none(),
        "only the first rows are drawn"
    );
    h.get_by_label("sample index").set_value_accesskit(1999.0);
    h.run();
    assert_eq!(h.state().settings.sample, 1999);
    let thumb = rect(&h, "sample 1999");
    let top = rect(&h, "sample index").bottom();
    let bottom = rect(&h, "model mlp").top();
    assert!(
        thumb.top() > top && thumb.bottom() < bottom,
        "#1999 at {thumb:?} is outside the browser's view ({top}..{bottom})"
    );
    assert!(marked(&h.get_by_label("sample 1999")));
    h.get_by_label("Input #1999 (label 9)");
    // Stepping back scrolls along.
    h.get_by_label("sample index").set_value_accesskit(1000.0);
    h.run();
    let thumb = rect(&h, "sample 1000");
    assert!(thumb.top() > top && thumb.bottom() < bottom, "#1000 at {thumb:?}");
}

#[test]
fn stepping_down_the_layers_keeps_the_selected_row_in_view() {
    let mut f = app_fixture::open_fixture_with("cnn", 2, [1024.0, 768.0]);
    let stepper_top = rect(&f.harness, "Layers").bottom();
    for _ in 0..7 {
        f.harness.key_press(egui::Key::ArrowDown);
        f.harness.run();
    }
    assert_eq!(f.harness.state().session.layer, 3);
    let row = f.harness.get_by_label("layer position 3");
    assert!(marked(&row));
    let r = row.rect();
    // The stepper list is at most 150 points high, below its hint line.
    let hint = rect(
        &f.harness,
        "up/down keys or click: relevance at each layer, output first",
    );
    assert!(
        r.top() >= hint.bottom() - 0.5 && r.bottom() <= hint.bottom() + 160.0,
        "row at {r:?}, list from {}",
        hint.bottom()
    );
    assert!(r.bottom() < 768.0 && r.top() > stepper_top - 200.0);
}

#[test]
fn clicking_a_neuron_bar_brings_its_conditional_heatmap_and_gallery_into_view() {
    let mut f = app_fixture::open_fixture_with("mlp", 2, [1024.0, 768.0]);
    let m = common::npz_model("mlp");
    let position = m.layers().len() - 1;
    f.harness.state_mut().run_command(Command::SelectLayer(position));
    f.harness.run();
    f.harness.get_by_label("relevance bars").scroll_to_me();
    f.harness.run();
    let bars = f.harness.get_by_label("relevance bars").rect();
    let pos = egui::pos2(bars.left() + 0.5 / 100.0 * bars.width() + 1.0, bars.center().y);
    f.harness.hover_at(pos);
    f.harness.run();
    for pressed in [true, false] {
        f.harness.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    }
    f.harness.run();
    let (p, unit) = f.harness.state().session.unit.chosen.expect("a unit is chosen");
    assert_eq!(p, position);
    let status = rect(&f.harness, "model mlp").top();
    let tabs = rect(&f.harness, "Explain tab").bottom();
    let through = rect(&f.harness, &format!("Through unit {unit}"));
    assert!(
        through.top() > tabs && through.bottom() < status,
        "conditional heatmap at {through:?}, view {tabs}..{status}"
    );
    let g = f
        .harness
        .state()
        .session
        .unit
        .gallery
        .clone()
        .expect("gallery computed");
    let first = rect(&f.harness, &format!("gallery sample {}", g.top[0].0));
    assert!(first.top() > tabs && first.bottom() < status, "gallery at {first:?}");
}
