//! Opens the window on a fixture model built from `tests/fixtures/models/<mlp|cnn>.npz`, for development and
//! screenshots while no model reader is available.
//!
//! `cargo run --example fixture_gui -- [cnn|mlp] [SAMPLES.idx3-ubyte.gz]`

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use lrp_explorer::app::{GuiOptions, run_gui_with};
use lrp_explorer::model::{Conv2d, Dense, Layer, Model, OutputActivation, Pool2d};
use ndarray::{Array1, Array2, Array4};
use ndarray_npy::NpzReader;

fn fixture_model(name: &str) -> Result<Model> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/models/{name}.npz"));
    let file = std::fs::File::open(&path).with_context(|| path.display().to_string())?;
    let mut npz = NpzReader::new(file)?;
    let dense = |npz: &mut NpzReader<std::fs::File>, k: usize| -> Result<Layer> {
        let weight: Array2<f32> = npz.by_name(&format!("{k}.weight"))?;
        let bias: Array1<f32> = npz.by_name(&format!("{k}.bias"))?;
        Ok(Layer::Dense(Dense {
            weight,
            bias: Some(bias),
        }))
    };
    if name == "mlp" {
        let layers = vec![
            dense(&mut npz, 0)?,
            Layer::Relu,
            dense(&mut npz, 2)?,
            Layer::Relu,
            dense(&mut npz, 4)?,
        ];
        return Ok(Model::new("mlp", vec![784], layers, OutputActivation::None)?);
    }
    let conv = |npz: &mut NpzReader<std::fs::File>, k: usize| -> Result<Layer> {
        let weight: Array4<f32> = npz.by_name(&format!("{k}.weight"))?;
        let bias: Array1<f32> = npz.by_name(&format!("{k}.bias"))?;
        Ok(Layer::Conv2d(Conv2d {
            weight,
            bias: Some(bias),
            stride: [1, 1],
            padding: [0; 4],
        }))
    };
    let pool = Pool2d {
        kernel: [2, 2],
        stride: [2, 2],
        padding: [0; 4],
    };
    let layers = vec![
        conv(&mut npz, 0)?,
        Layer::Relu,
        Layer::MaxPool2d(pool),
        conv(&mut npz, 3)?,
        Layer::Relu,
        Layer::MaxPool2d(pool),
        Layer::Flatten,
        dense(&mut npz, 7)?,
        Layer::Relu,
        dense(&mut npz, 9)?,
    ];
    Ok(Model::new("cnn", vec![1, 28, 28], layers, OutputActivation::None)?)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "cnn".into());
    let data = args.next().map(PathBuf::from);
    let model = fixture_model(&name)?;
    let path = PathBuf::from(format!("tests/fixtures/models/{name}.npz"));
    let options = GuiOptions {
        model: None,
        data,
        ..GuiOptions::default()
    };
    run_gui_with(options, move |app| {
        app.session.messages.clear();
        app.set_model(model, path);
    })
}
