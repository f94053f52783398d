//! The comparison grid as an exported picture that says what it shows: a title (model, sample(s), class, how the
//! cells are scaled), each cell under its name with its scale, gaps between the cells, rows as long as the window's,
//! and a colour bar. Text is drawn with plotters and the bundled font, as for the line plots.

use image::{Rgba, RgbaImage};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Colormap;
use super::plot::{FONT, PlotError, register_font};

/// One cell: its heatmap (already upscaled; `None` when it could not be computed), its name and a note under it
/// (its scale, or why it is missing).
#[derive(Clone, Debug)]
pub struct GridCell {
    pub image: Option<RgbaImage>,
    pub caption: String,
    pub note: String,
}

/// What the picture says around the cells.
#[derive(Clone, Debug)]
pub struct GridText {
    /// First line, e.g. `cnn · sample #3 (label 2) · class 2`.
    pub title: String,
    /// Second line, e.g. `every rule · each cell scaled to its own max |R|`.
    pub subtitle: String,
    /// The colour bar's end labels, e.g. `−max |R|` / `+max |R|` or `−0.4210` / `+0.4210`.
    pub bar_ends: (String, String),
}

const GAP: u32 = 16;
const MARGIN: u32 = 16;
const TITLE: u32 = 26;
const SUBTITLE: u32 = 22;
const CAPTION: u32 = 22;
const NOTE: u32 = 20;
const BAR: u32 = 14;
const BAR_LABELS: u32 = 22;
const MIN_WIDTH: u32 = 560;
const DARK: RGBColor = RGBColor(20, 20, 20);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// Where things go in a labelled grid picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridLayout {
    pub width: u32,
    pub height: u32,
    /// Top-left corner of each tile.
    pub tiles: Vec<(u32, u32)>,
    /// The colour bar: `(x, y, width)`.
    pub bar: (u32, u32, u32),
}

/// The layout of `n` tiles of `tw×th` pixels in rows of `columns` (at most `n`).
pub fn layout(n: usize, columns: usize, (tw, th): (u32, u32)) -> GridLayout {
    let columns = columns.clamp(1, n.max(1));
    let cols = columns as u32;
    let rows = n.div_ceil(columns).max(1) as u32;
    let grid_w = cols * tw + (cols - 1) * GAP;
    let width = (grid_w + 2 * MARGIN).max(MIN_WIDTH);
    let cell_h = CAPTION + th + NOTE;
    let top = MARGIN + TITLE + SUBTITLE + GAP / 2;
    let bar_top = top + rows * cell_h + (rows - 1) * GAP + GAP;
    let height = bar_top + BAR + BAR_LABELS + MARGIN;
    let left = (width - grid_w) / 2;
    let tiles = (0..n)
        .map(|k| {
            let (c, r) = ((k % columns) as u32, (k / columns) as u32);
            (left + c * (tw + GAP), top + r * (cell_h + GAP) + CAPTION)
        })
        .collect();
    let bar_w = grid_w.min(480);
    GridLayout {
        width,
        height,
        tiles,
        bar: ((width - bar_w) / 2, bar_top, bar_w),
    }
}

/// The labelled grid: `cells` in rows of `columns`, on white.
///
/// # Errors
/// [`PlotError::Font`] when the bundled font cannot be registered, [`PlotError::Draw`] when text cannot be drawn.
pub fn labelled_grid(
    text: &GridText,
    cells: &[GridCell],
    columns: usize,
    cmap: Colormap,
) -> Result<RgbaImage, PlotError> {
    register_font()?;
    let (tw, th) = cells
        .iter()
        .find_map(|c| c.image.as_ref().map(|i| (i.width(), i.height())))
        .unwrap_or((112, 112));
    let GridLayout {
        width,
        height,
        tiles,
        bar: (bar_x, bar_top, bar_w),
    } = layout(cells.len(), columns, (tw, th));
    let mut canvas = RgbaImage::from_pixel(width, height, Rgba([255, 255, 255, 255]));
    // A tile's top-left corner; its name sits above it, its note below.
    let origin = |k: usize| {
        let (x, y) = tiles[k];
        (x, y - CAPTION)
    };
    for (k, cell) in cells.iter().enumerate() {
        let (x, y) = tiles[k];
        match &cell.image {
            Some(img) => image::imageops::overlay(&mut canvas, img, i64::from(x), i64::from(y)),
            None => draw_rect(&mut canvas, x, y, tw, th, [235, 235, 235]),
        }
        frame(&mut canvas, x, y, tw, th);
    }
    let bar = super::colorbar_image(cmap, bar_w, BAR);
    image::imageops::overlay(&mut canvas, &bar, i64::from(bar_x), i64::from(bar_top));
    frame(&mut canvas, bar_x, bar_top, bar_w, BAR);

    let mut rgb: Vec<u8> = canvas.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        let draw = |e: &dyn std::fmt::Display| PlotError::Draw { message: e.to_string() };
        let centred = |size: u32, color: &'static RGBColor| {
            TextStyle::from((FONT, size).into_font())
                .color(color)
                .pos(Pos::new(HPos::Center, VPos::Top))
        };
        let (dark, grey) = (&DARK, &GREY);
        let mid = (width / 2) as i32;
        root.draw_text(&text.title, &centred(20, dark), (mid, MARGIN as i32))
            .map_err(|e| draw(&e))?;
        root.draw_text(&text.subtitle, &centred(15, grey), (mid, (MARGIN + TITLE) as i32))
            .map_err(|e| draw(&e))?;
        for (k, cell) in cells.iter().enumerate() {
            let (x, y) = origin(k);
            let cx = (x + tw / 2) as i32;
            let caption = fit(&root, &cell.caption, 15, tw);
            root.draw_text(&caption, &centred(15, dark), (cx, (y + 3) as i32))
                .map_err(|e| draw(&e))?;
            let note = fit(&root, &cell.note, 13, tw);
            root.draw_text(&note, &centred(13, grey), (cx, (y + CAPTION + th + 3) as i32))
                .map_err(|e| draw(&e))?;
        }
        let label_y = (bar_top + BAR + 4) as i32;
        let style = |h: HPos| {
            TextStyle::from((FONT, 14).into_font())
                .color(grey)
                .pos(Pos::new(h, VPos::Top))
        };
        root.draw_text(&text.bar_ends.0, &style(HPos::Left), (bar_x as i32, label_y))
            .map_err(|e| draw(&e))?;
        root.draw_text("0", &style(HPos::Center), (mid, label_y))
            .map_err(|e| draw(&e))?;
        root.draw_text(&text.bar_ends.1, &style(HPos::Right), ((bar_x + bar_w) as i32, label_y))
            .map_err(|e| draw(&e))?;
        root.present().map_err(|e| draw(&e))?;
    }
    Ok(RgbaImage::from_fn(width, height, |x, y| {
        let i = 3 * (y as usize * width as usize + x as usize);
        Rgba([rgb[i], rgb[i + 1], rgb[i + 2], 255])
    }))
}

/// `text` cut with "…" until it fits `max_width` pixels at `size`.
fn fit<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    size: u32,
    max_width: u32,
) -> String {
    let style = TextStyle::from((FONT, size).into_font());
    let fits = |t: &str| root.estimate_text_size(t, &style).is_ok_and(|(w, _)| w <= max_width);
    if fits(text) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (1..chars.len()).rev() {
        let cut: String = chars[..n].iter().collect::<String>() + "…";
        if fits(&cut) {
            return cut;
        }
    }
    "…".into()
}

fn draw_rect(img: &mut RgbaImage, x: u32, y: u32, w: u32, h: u32, c: [u8; 3]) {
    for yy in y..(y + h).min(img.height()) {
        for xx in x..(x + w).min(img.width()) {
            img.put_pixel(xx, yy, Rgba([c[0], c[1], c[2], 255]));
        }
    }
}

/// A one-pixel grey frame just outside the rectangle, so white heatmaps stand out on the white page.
fn frame(img: &mut RgbaImage, x: u32, y: u32, w: u32, h: u32) {
    let c = Rgba([170, 170, 170, 255]);
    let (x0, y0) = (x.saturating_sub(1), y.saturating_sub(1));
    let (x1, y1) = ((x + w).min(img.width() - 1), (y + h).min(img.height() - 1));
    for xx in x0..=x1 {
        img.put_pixel(xx, y0, c);
        img.put_pixel(xx, y1, c);
    }
    for yy in y0..=y1 {
        img.put_pixel(x0, yy, c);
        img.put_pixel(x1, yy, c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(side: u32, caption: &str, v: u8) -> GridCell {
        GridCell {
            image: Some(RgbaImage::from_pixel(side, side, Rgba([v, 0, 0, 255]))),
            caption: caption.into(),
            note: "±1.0000".into(),
        }
    }

    #[test]
    fn cells_sit_in_rows_of_the_given_length_with_gaps_and_text_around() {
        let cells: Vec<GridCell> = (0..7).map(|k| cell(100, &format!("rule{k}"), 200 + k as u8)).collect();
        let text = GridText {
            title: "cnn · sample #3".into(),
            subtitle: "every rule".into(),
            bar_ends: ("−1".into(), "+1".into()),
        };
        let img = labelled_grid(&text, &cells, 6, Colormap::Bwr).unwrap();
        // Six columns: 6 tiles and 5 gaps, centred in the picture; two rows.
        let l = layout(7, 6, (100, 100));
        assert_eq!((img.width(), img.height()), (l.width, l.height));
        assert_eq!(img.width(), 6 * 100 + 5 * GAP + 2 * MARGIN);
        let (left, top) = l.tiles[0];
        assert_eq!(
            l.tiles[6],
            (left, top + 100 + CAPTION + NOTE + GAP),
            "the seventh starts the second row"
        );
        for (k, &(x, y)) in l.tiles.iter().enumerate() {
            assert_eq!(img.get_pixel(x + 50, y + 50).0, [200 + k as u8, 0, 0, 255], "tile {k}");
        }
        // A gap between tiles 0 and 1 stays white; the title row holds dark text pixels.
        assert_eq!(img.get_pixel(left + 100 + GAP / 2, top + 50).0, [255, 255, 255, 255]);
        // The names are drawn above the tiles.
        let named = (left..left + 100).any(|x| (top - CAPTION..top).any(|y| img.get_pixel(x, y).0[1] < 100));
        assert!(named, "a caption above the first tile");
        let dark = (0..img.width()).any(|x| (MARGIN..MARGIN + TITLE).any(|y| img.get_pixel(x, y).0[0] < 100));
        assert!(dark, "the title is drawn");
    }

    #[test]
    fn a_long_name_is_cut_to_its_cell() {
        let mut buf = vec![255u8; 300 * 50 * 3];
        register_font().unwrap();
        let root = BitMapBackend::with_buffer(&mut buf, (300, 50)).into_drawing_area();
        let cut = fit(&root, "epsilon_gamma_box_with_a_long_tail", 15, 80);
        assert!(cut.ends_with('…') && cut.chars().count() < 20, "{cut}");
        assert_eq!(fit(&root, "zplus", 15, 80), "zplus");
    }
}
