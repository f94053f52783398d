//! Samples as the analyses receive them (flat vectors of `model.input_len()` values, the way the window and the
//! command line preprocess them) turned into one batch for the engine.

use ndarray::{ArrayD, IxDyn};

use crate::error::EvalError;
use crate::model::Model;

/// Samples (`model.input_len()` values each) as one batch `[N, input_shape...]`.
pub fn batch(model: &Model, inputs: &[Vec<f32>]) -> Result<ArrayD<f32>, EvalError> {
    let mut shape = vec![inputs.len()];
    shape.extend_from_slice(model.input_shape());
    let bad = inputs.iter().find(|x| x.len() != model.input_len());
    if let Some(x) = bad {
        return Err(EvalError::InputSize {
            values: x.len(),
            input_shape: model.input_shape().to_vec(),
            input_len: model.input_len(),
        });
    }
    ArrayD::from_shape_vec(IxDyn(&shape), inputs.concat()).map_err(|_| EvalError::InputSize {
        values: inputs.first().map_or(0, Vec::len),
        input_shape: model.input_shape().to_vec(),
        input_len: model.input_len(),
    })
}
