//! What the import did to a file: the producer, the passes' counts, the input layout and the explained output,
//! in words for `info` and for the window's model line.

use std::collections::BTreeMap;

/// How the file lays out one sample of its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputLayout {
    /// `[N, features]`.
    #[default]
    Flat,
    /// `[N, H, W]`: a single-channel image without a channel axis.
    Image,
    /// `[N, C, H, W]`.
    Nchw,
    /// `[N, H, W, C]` (Keras, TensorFlow), transposed to channel-first inside the graph.
    Nhwc,
}

impl InputLayout {
    pub fn name(self) -> &'static str {
        match self {
            InputLayout::Flat => "flat",
            InputLayout::Image => "image",
            InputLayout::Nchw => "NCHW",
            InputLayout::Nhwc => "NHWC",
        }
    }
}

/// The import of one ONNX file, as the passes and the layer builder saw it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportReport {
    /// `producer_name producer_version`, e.g. `pytorch 2.15.0`.
    pub producer: String,
    pub opset: i64,
    /// Folded nodes by op.
    pub folded: BTreeMap<String, usize>,
    /// Reshapes whose folded target `[N, -1]` became a Flatten.
    pub reshapes_to_flatten: usize,
    /// Pass-through nodes removed, by op.
    pub removed: BTreeMap<String, usize>,
    /// Transposes cancelled in pairs or absorbed into the layers around them.
    pub absorbed_transposes: usize,
    /// Transposes kept as permutation layers.
    pub permutation_layers: usize,
    /// Separate bias `Add`s folded into the layer before them.
    pub folded_biases: usize,
    pub input_layout: InputLayout,
    /// Per-sample input shape as the file declares it.
    pub input_shape: Vec<usize>,
    /// The batch size the file fixes, if any (any batch size runs all the same).
    pub fixed_batch: Option<usize>,
    /// Float-score outputs that could be explained (`--output`).
    pub outputs: Vec<String>,
    /// The explained output.
    pub output: String,
    /// Other graph outputs that were ignored (labels).
    pub ignored_outputs: Vec<String>,
    /// Nodes dropped because they do not lead to the explained output, by op.
    pub ignored: BTreeMap<String, usize>,
    /// A final activation that the explanation starts before (`Softmax`, `LogSoftmax`).
    pub final_activation: Option<String>,
}

fn counts(map: &BTreeMap<String, usize>) -> String {
    map.iter()
        .map(|(op, n)| format!("{n} {op}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ImportReport {
    /// The input layout with the file's shape, e.g. `NHWC [N,28,28,1]`.
    pub fn input_text(&self) -> String {
        let dims: Vec<String> = self.input_shape.iter().map(usize::to_string).collect();
        format!("{} [N,{}]", self.input_layout.name(), dims.join(","))
    }

    /// One sentence per thing the import did, for `info`.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "producer {}, opset {}",
            if self.producer.is_empty() {
                "unknown"
            } else {
                &self.producer
            },
            self.opset
        )];
        let mut input = format!("input layout {}", self.input_text());
        if let Some(b) = self.fixed_batch {
            input.push_str(&format!("; the file fixes the batch size to {b}, any batch size runs"));
        }
        lines.push(input);
        if !self.folded.is_empty() {
            let total: usize = self.folded.values().sum();
            let mut s = format!("folded {total} constant/shape nodes ({})", counts(&self.folded));
            if self.reshapes_to_flatten > 0 {
                s.push_str(&format!(
                    "; {} Reshape to [N,-1] became Flatten",
                    self.reshapes_to_flatten
                ));
            }
            lines.push(s);
        }
        if !self.removed.is_empty() {
            lines.push(format!("removed {}", counts(&self.removed)));
        }
        if self.absorbed_transposes > 0 || self.permutation_layers > 0 {
            lines.push(format!(
                "absorbed {} Transpose (engine runs channel-first){}",
                self.absorbed_transposes,
                if self.permutation_layers > 0 {
                    format!("; {} kept as permutation layers", self.permutation_layers)
                } else {
                    String::new()
                }
            ));
        }
        if self.folded_biases > 0 {
            lines.push(format!("folded {} bias Add into the layer before", self.folded_biases));
        }
        let mut out = format!("explaining output {:?}", self.output);
        if let Some(a) = &self.final_activation {
            out.push_str(&format!(" before its {a}"));
        }
        if self.outputs.len() > 1 {
            out.push_str(&format!(" (other scores: {:?}, choose with --output)", self.others()));
        }
        lines.push(out);
        if !self.ignored.is_empty() || !self.ignored_outputs.is_empty() {
            lines.push(format!(
                "ignored output {:?} ({})",
                self.ignored_outputs,
                if self.ignored.is_empty() {
                    "no nodes".to_string()
                } else {
                    counts(&self.ignored)
                }
            ));
        }
        lines
    }

    /// The short facts for the window's model line: producer, input layout, explained output.
    pub fn model_line(&self) -> String {
        let producer = if self.producer.is_empty() {
            "ONNX"
        } else {
            &self.producer
        };
        format!("{producer} · input {} · output {}", self.input_text(), self.output)
    }

    fn others(&self) -> Vec<&str> {
        self.outputs
            .iter()
            .filter(|o| **o != self.output)
            .map(String::as_str)
            .collect()
    }
}
