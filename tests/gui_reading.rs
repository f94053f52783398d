//! What the views say, driven through egui_kittest with inline jobs: a drawn digit has no label, a class is never
//! contrasted with itself, thumbnail captions explain themselves, the difference map has a colour bar, the grid's
//! rows stay even, and the ledger writes numbers as the table does and says where z+'s relevance goes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use egui_kittest::kittest::Queryable;
use lrp_explorer::app::Command;
use lrp_explorer::app::state::{CANVAS_SIDE, CentralTab, Predictions, Settings};
use lrp_explorer::ui::fmt_num;
use lrp_explorer::ui::sample_browser::caption;

#[path = "common/app_fixture.rs"]
#[allow(dead_code)]
mod app_fixture;

use app_fixture::{Fixture, result};

fn open_fixture(model: &str) -> Fixture {
    app_fixture::open_fixture_with(model, 2, [1280.0, 1000.0])
}

/// A "1": a vertical bar in the middle of the canvas.
fn drawn_one() -> Vec<f32> {
    let mut c = vec![0.0; CANVAS_SIDE * CANVAS_SIDE];
    for y in 5..23 {
        for x in 13..16 {
            c[y * CANVAS_SIDE + x] = 1.0;
        }
    }
    c
}

#[test]
fn a_drawn_digit_has_no_label_and_every_view_says_it_is_drawn() {
    let mut f = open_fixture("cnn");
    // Sample #0 is a 7 (label 7): the drawn digit must not borrow that label.
    f.harness.state_mut().run_command(Command::Draw(drawn_one()));
    f.harness.run();
    let h = &f.harness;
    assert!(h.state().session.canvas.is_some());
    h.get_by_label("· drawn digit: no label");
    h.get_by_label("Drawn digit (no label)");
    h.get_by_label_contains("explained the drawn digit in");
    assert!(h.query_by_label_contains("explained #0").is_none());
    assert!(h.query_by_label("· label 7").is_none());
    assert!(h.query_by_label("wrong").is_none() && h.query_by_label("correct").is_none());
    f.harness.state_mut().settings.tab = CentralTab::Ledger;
    f.harness.run();
    f.harness.get_by_label_contains("the drawn digit (no label), class");
    // Back to the samples: #0 with its label again.
    f.harness.state_mut().run_command(Command::StopDrawing);
    f.harness.state_mut().settings.tab = CentralTab::Explain;
    f.harness.run();
    f.harness.get_by_label("· label 7");
    f.harness.get_by_label("correct");
    f.harness.get_by_label_contains("explained #0 in");
}

#[test]
fn the_explained_class_is_never_offered_as_its_own_contrast() {
    let mut f = open_fixture("cnn");
    assert_eq!(result(&f.harness).target, 7);
    f.harness.get_by_label("contrast with").click();
    f.harness.run();
    for c in (0..10).filter(|&c| c != 7) {
        f.harness.get_by_label(&format!("class {c}"));
    }
    assert!(
        f.harness.query_by_label("class 7").is_none(),
        "class 7 offered against itself"
    );
    f.harness.get_by_label("class 2").click();
    f.harness.run();
    assert_eq!(f.harness.state().session.contrast, Some(2));
    f.harness.get_by_label("Relevance for class 7 rather than 2");
    // Explaining class 2 while contrasting with 2 (e.g. chosen in this order): said plainly, with a way out,
    // and the heatmap is not titled "2 rather than 2".
    f.harness.get_by_label("explain class 2").click();
    f.harness.run();
    assert_eq!(result(&f.harness).target, 2);
    f.harness
        .get_by_label("class 2 rather than itself explains nothing: choose another class");
    f.harness.get_by_label("Relevance for class 2");
    f.harness.get_by_label("No contrast").click();
    f.harness.run();
    assert_eq!(f.harness.state().session.contrast, None);
    assert!(f.harness.query_by_label_contains("rather than itself").is_none());
}

#[test]
fn captions_show_the_label_and_a_wrong_prediction_with_a_legend() {
    assert_eq!(caption(Some(7), Some(7)), ("7".to_string(), false));
    assert_eq!(caption(Some(7), Some(2)), ("7 ≠ 2".to_string(), true));
    assert_eq!(caption(Some(7), None), ("7".to_string(), false));
    assert_eq!(caption(None, Some(3)), ("pred 3".to_string(), false));
    assert_eq!(caption(None, None), ("…".to_string(), false));
    let mut f = open_fixture("cnn");
    f.harness
        .get_by_label("caption: the label; \"label ≠ prediction\" in red where the model is wrong");
    // Every fixture digit is right: the captions are the labels 7 2 1 0 4 1 4 9.
    assert_eq!(f.harness.get_all_by_label("4").count(), 2);
    // No caption in the old "label / prediction" form.
    for a in 0..10 {
        for b in 0..10 {
            assert!(
                f.harness.query_by_label(&format!("{a} / {b}")).is_none(),
                "caption {a} / {b}"
            );
        }
    }
    // A wrong prediction of sample 3 (a 0) shows as "0 ≠ 6".
    let mut p = f.harness.state().session.predictions.clone().unwrap();
    p.classes[3] = 6;
    f.harness.state_mut().session.predictions = Some(Predictions {
        accuracy: Some(7.0 / 8.0),
        ..p
    });
    f.harness.run();
    f.harness.get_by_label("0 ≠ 6");
}

#[test]
fn the_difference_map_has_a_colour_bar_and_the_grid_rows_are_even() {
    let mut f = open_fixture("cnn");
    f.harness.get_by_label("Compare tab").click();
    f.harness.run();
    f.harness.get_by_label_contains("every rule on sample #0 (label 7)");
    let grid = f.harness.state().session.compare.result.clone().unwrap();
    // Every cell of a row starts at the same height, however long the rule's name.
    let tops: Vec<f32> = grid
        .cells
        .iter()
        .map(|c| {
            f.harness
                .get_by_label(&format!("compare cell {}", c.label))
                .rect()
                .top()
        })
        .collect();
    for a in &tops {
        for b in &tops {
            assert!((a - b).abs() < 0.5 || (a - b).abs() > 60.0, "ragged row: {a} vs {b}");
        }
    }
    let (a, b) = (grid.cells[0].label.clone(), grid.cells[4].label.clone());
    f.harness.get_by_label(&format!("compare cell {a}")).click();
    f.harness.run();
    f.harness.get_by_label(&format!("compare cell {b}")).click();
    f.harness.run();
    f.harness.get_by_label(&format!("Difference: {a} − {b}"));
    let (ra, rb) = (
        grid.cells[0].relevance.as_ref().unwrap(),
        grid.cells[4].relevance.as_ref().unwrap(),
    );
    let max = ra.iter().zip(rb.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
    assert!(max > 1e-3);
    f.harness.get_by_label(&format!("+{}", fmt_num(max)));
    f.harness.get_by_label(&format!("−{}", fmt_num(max)));
}

#[test]
fn the_ledger_writes_numbers_as_the_table_and_says_where_z_plus_relevance_goes() {
    let mut f = open_fixture("cnn");
    f.harness.state_mut().settings.tab = CentralTab::Ledger;
    f.harness.run();
    // epsilon_plus: ε = 1e-6 on the dense layers, z+ on the convolutions.
    assert!(!f.harness.get_all_by_label("ε 1.00e-6").collect::<Vec<_>>().is_empty());
    assert!(f.harness.query_by_label_contains("epsilon:").is_none());
    let zplus = f
        .harness
        .get_all_by_label("z+: negatives ignored, b+ keeps a share")
        .count();
    assert_eq!(zplus, 2, "one note per convolution");
    f.harness
        .get_by_label_contains("sample #0 (label 7), class 7, rules epsilon_plus");
}

#[test]
fn the_faithfulness_default_covers_a_hundred_samples() {
    assert_eq!(Settings::default().faith_samples, 100);
}
