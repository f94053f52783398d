//! The "Draw" tab: a 28×28 canvas (brush, eraser, clear, stroke thickness). While drawing, the drawn digit,
//! centred MNIST-style, is the current sample: prediction and heatmap follow every stroke.

use egui::{Color32, Pos2, Rect, Sense, Vec2};

use super::fmt_num;
use super::panel::PanelCx;
use crate::app::Command;
use crate::app::state::CANVAS_SIDE;

/// Paints a round dab of radius `radius` (canvas pixels) at `(x, y)`: ink 1 with the brush, 0 with the eraser.
pub fn dab(canvas: &mut [f32], x: f32, y: f32, radius: f32, erase: bool) {
    let n = CANVAS_SIDE as i64;
    let r = radius.max(0.3);
    let reach = r.ceil() as i64 + 1;
    for py in (y.floor() as i64 - reach)..=(y.floor() as i64 + reach) {
        for px in (x.floor() as i64 - reach)..=(x.floor() as i64 + reach) {
            if !(0..n).contains(&px) || !(0..n).contains(&py) {
                continue;
            }
            let d = ((px as f32 + 0.5 - x).powi(2) + (py as f32 + 0.5 - y).powi(2)).sqrt();
            // Full ink inside the radius, a soft edge one pixel wide.
            let ink = (r + 0.5 - d).clamp(0.0, 1.0);
            let cell = &mut canvas[py as usize * CANVAS_SIDE + px as usize];
            *cell = if erase { (*cell - ink).max(0.0) } else { cell.max(ink) };
        }
    }
}

/// Paints a straight stroke from `a` to `b` (canvas pixel coordinates).
pub fn stroke(canvas: &mut [f32], a: (f32, f32), b: (f32, f32), radius: f32, erase: bool) {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let steps = (len * 3.0).ceil().max(1.0) as usize;
    for s in 0..=steps {
        let t = s as f32 / steps as f32;
        dab(canvas, a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1), radius, erase);
    }
}

/// Transient drawing state: the tool and the last pointer position of the stroke.
#[derive(Default)]
pub struct DrawState {
    pub erase: bool,
    last: Option<(f32, f32)>,
}

/// The drawing tab.
pub fn draw_panel_ui(ui: &mut egui::Ui, cx: &mut PanelCx<'_>) -> Vec<Command> {
    let (settings, session, view) = (&mut *cx.settings, cx.session, &mut *cx.view);
    let mut commands = Vec::new();
    let state = &mut view.draw;
    ui.heading("Draw a digit");
    let mut canvas = session
        .canvas
        .clone()
        .unwrap_or_else(|| vec![0.0; CANVAS_SIDE * CANVAS_SIDE]);
    ui.horizontal_wrapped(|ui| {
        ui.radio_value(&mut state.erase, false, "brush");
        ui.radio_value(&mut state.erase, true, "eraser");
        ui.add(egui::Slider::new(&mut settings.brush_radius, 0.5..=3.0).text("thickness"))
            .accessible_name("stroke thickness");
        if ui.button("Clear").clicked() {
            commands.push(Command::Draw(vec![0.0; CANVAS_SIDE * CANVAS_SIDE]));
        }
        if session.canvas.is_some() && ui.button("Back to the samples").clicked() {
            commands.push(Command::StopDrawing);
        }
    });
    let side = 336.0;
    let mut canvas_response = None;
    ui.horizontal(|ui| {
        let (response, painter) = ui.allocate_painter(Vec2::splat(side), Sense::drag());
        canvas_response = Some((response, painter));
        if session.canvas.is_some()
            && let Some(tex) = view.input(ui.ctx(), settings, session)
        {
            ui.vertical(|ui| {
                ui.label(egui::RichText::new("As the model sees it").strong());
                super::framed_image(
                    ui,
                    egui::Image::new(&tex.digit).fit_to_exact_size(Vec2::splat(side / 2.0)),
                );
                ui.label(egui::RichText::new("Relevance").strong());
                super::framed_image(
                    ui,
                    egui::Image::new(&tex.heat).fit_to_exact_size(Vec2::splat(side / 2.0)),
                );
            });
        }
    });
    let Some((response, painter)) = canvas_response else {
        return commands;
    };
    let state = &mut view.draw;
    let response = response.accessible_name("drawing canvas");
    let cell = side / CANVAS_SIDE as f32;
    let rect = response.rect;
    if let Some(pos) = response
        .interact_pointer_pos()
        .filter(|_| response.dragged() || response.drag_started())
    {
        let p = ((pos.x - rect.min.x) / cell, (pos.y - rect.min.y) / cell);
        let from = state.last.unwrap_or(p);
        stroke(&mut canvas, from, p, settings.brush_radius, state.erase);
        state.last = Some(p);
        commands.push(Command::Draw(canvas.clone()));
    }
    if response.drag_stopped() || !response.is_pointer_button_down_on() {
        state.last = None;
    }
    painter.rect_filled(rect, 0.0, Color32::BLACK);
    for (k, &v) in canvas.iter().enumerate() {
        if v > 0.0 {
            let (x, y) = ((k % CANVAS_SIDE) as f32, (k / CANVAS_SIDE) as f32);
            let min = Pos2::new(rect.min.x + x * cell, rect.min.y + y * cell);
            let g = (v.clamp(0.0, 1.0) * 255.0) as u8;
            painter.rect_filled(Rect::from_min_size(min, Vec2::splat(cell)), 0.0, Color32::from_gray(g));
        }
    }
    match (&session.canvas, &session.result) {
        (Some(_), Some(r)) => {
            ui.label(
                egui::RichText::new(format!(
                    "predicted {} ({:.1} %) · logit {} · a drawn digit has no label",
                    r.predicted(),
                    100.0 * r.probabilities.get(r.predicted()).copied().unwrap_or(0.0),
                    fmt_num(r.logits.get(r.predicted()).copied().unwrap_or(0.0))
                ))
                .strong(),
            );
            ui.weak("the drawn digit is the current sample: see the Explain tab for the heatmap");
        }
        _ => {
            ui.weak("draw with the mouse; the digit is centred MNIST-style and explained as you draw");
        }
    }
    commands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stroke_inks_its_path_and_the_eraser_removes_it() {
        let mut c = vec![0.0; CANVAS_SIDE * CANVAS_SIDE];
        stroke(&mut c, (5.5, 14.5), (20.5, 14.5), 1.0, false);
        assert_eq!(c[14 * CANVAS_SIDE + 10], 1.0);
        assert_eq!(c[2 * CANVAS_SIDE + 10], 0.0);
        stroke(&mut c, (5.5, 14.5), (20.5, 14.5), 2.0, true);
        assert_eq!(c[14 * CANVAS_SIDE + 10], 0.0);
    }
}
