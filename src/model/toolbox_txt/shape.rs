//! Shapes through a toolbox block list (in the toolbox's NHWC terms), and inference of the input size.

use super::parse::{Block, BlockKind};
use crate::model::Pool2d;

/// A per-sample activation shape as the toolbox sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TbShape {
    Flat(usize),
    /// `H × W × C` (channel-last).
    Image {
        h: usize,
        w: usize,
        c: usize,
    },
}

impl TbShape {
    /// The same shape in our channel-first convention.
    pub fn ours(self) -> Vec<usize> {
        match self {
            TbShape::Flat(n) => vec![n],
            TbShape::Image { h, w, c } => vec![c, h, w],
        }
    }

    /// A vector, or an image of one pixel: its flattening is the same in NHWC and NCHW order.
    fn is_vector_like(self) -> bool {
        match self {
            TbShape::Flat(_) => true,
            TbShape::Image { h, w, .. } => h * w == 1,
        }
    }
}

/// Shapes at the input of every block (and, last, the output), and whether every window tiled its input exactly.
pub(super) struct Trace {
    pub shapes: Vec<TbShape>,
    pub exact: bool,
}

/// Follows `input` through the blocks; errors are `line N: problem`.
pub(super) fn trace(blocks: &[Block], input: TbShape) -> Result<Trace, String> {
    let mut shapes = vec![input];
    let mut exact = true;
    let mut shape = input;
    for block in blocks {
        let (next, tiles) = step(&block.kind, shape).map_err(|m| format!("line {}: {m}", block.line))?;
        exact &= tiles;
        shape = next;
        shapes.push(shape);
    }
    Ok(Trace { shapes, exact })
}

/// Output shape of one block, and whether its windows tiled the input with nothing left over.
fn step(kind: &BlockKind, shape: TbShape) -> Result<(TbShape, bool), String> {
    let keyword = kind.keyword();
    let image = || match shape {
        TbShape::Image { h, w, c } => Ok((h, w, c)),
        TbShape::Flat(n) => Err(format!("{keyword} needs an image input, but gets a flat vector of {n}")),
    };
    let window = |h: usize, w: usize, k: [usize; 2], s: [usize; 2]| -> Result<(usize, usize, bool), String> {
        let oh = Pool2d::output_len(h, k[0], s[0], 0, 0);
        let ow = Pool2d::output_len(w, k[1], s[1], 0, 0);
        match (oh, ow) {
            (Some(oh), Some(ow)) => Ok((
                oh,
                ow,
                (h - k[0]).is_multiple_of(s[0]) && (w - k[1]).is_multiple_of(s[1]),
            )),
            _ => Err(format!(
                "{keyword} window {}x{} does not fit its {h}x{w} input",
                k[0], k[1]
            )),
        }
    };
    match *kind {
        BlockKind::Linear { m, n, .. } => match shape {
            TbShape::Flat(len) if len == m => Ok((TbShape::Flat(n), true)),
            // numpy's dot contracts the channel axis only: a 1×1 convolution.
            TbShape::Image { h, w, c } if c == m && h * w > 1 => Ok((TbShape::Image { h, w, c: n }, true)),
            TbShape::Image { h, w, c } if c == m || h * w * c == m => Ok((TbShape::Flat(n), true)),
            TbShape::Flat(len) => Err(format!("Linear {m} {n} expects {m} inputs, gets {len}")),
            TbShape::Image { h, w, c } => Err(format!(
                "Linear {m} {n} expects {m} inputs, gets an image {h}x{w}x{c} (H×W×C)"
            )),
        },
        BlockKind::Convolution {
            h: kh,
            w: kw,
            d,
            n,
            stride,
            ..
        } => {
            let (h, w, c) = image()?;
            if c != d {
                return Err(format!(
                    "Convolution filters have depth {d}, the input has {c} channels"
                ));
            }
            let (oh, ow, tiles) = window(h, w, [kh, kw], stride)?;
            Ok((TbShape::Image { h: oh, w: ow, c: n }, tiles))
        }
        BlockKind::SumPool { pool, stride } | BlockKind::MaxPool { pool, stride } => {
            let (h, w, c) = image()?;
            let (oh, ow, tiles) = window(h, w, pool, stride)?;
            Ok((TbShape::Image { h: oh, w: ow, c }, tiles))
        }
        BlockKind::Flatten => match shape {
            TbShape::Image { h, w, c } => Ok((TbShape::Flat(h * w * c), true)),
            flat => Ok((flat, true)),
        },
        BlockKind::Rect | BlockKind::Tanh | BlockKind::SoftMax => Ok((shape, true)),
    }
}

/// Whether the output of the last Linear, Convolution or pooling block is a vector (a Linear, or a 1×1 map):
/// what a classifier ends in. A trailing Flatten of a larger map does not count.
fn ends_in_vector(blocks: &[Block], t: &Trace) -> bool {
    let last = blocks.iter().rposition(|b| {
        !matches!(
            b.kind,
            BlockKind::Rect | BlockKind::Tanh | BlockKind::SoftMax | BlockKind::Flatten
        )
    });
    last.and_then(|i| t.shapes.get(i + 1))
        .is_some_and(|s| s.is_vector_like())
}

/// The largest square side tried when inferring a convolutional model's input size.
const MAX_SIDE: usize = 1024;

/// The input shape of a model, with a note saying how it was found.
pub(super) fn infer_input(blocks: &[Block], given: Option<&[usize]>) -> Result<(TbShape, String), String> {
    let first = blocks.iter().find(|b| {
        !matches!(
            b.kind,
            BlockKind::Rect | BlockKind::Tanh | BlockKind::SoftMax | BlockKind::Flatten
        )
    });
    if let Some(given) = given {
        let shape = match (given, first.map(|b| &b.kind)) {
            ([n], _) => TbShape::Flat(*n),
            ([h, w], Some(BlockKind::Convolution { d, .. })) => TbShape::Image { h: *h, w: *w, c: *d },
            ([h, w], _) => TbShape::Image { h: *h, w: *w, c: 1 },
            ([c, h, w], _) => TbShape::Image { h: *h, w: *w, c: *c },
            _ => return Err(format!("input shape {given:?} must be [features], [H, W] or [C, H, W]")),
        };
        trace(blocks, shape)?;
        return Ok((shape, format!("input {:?} (C, H, W) as given", shape.ours())));
    }
    let Some(first) = first else {
        return Err("the model has no Linear, Convolution or pooling layer".into());
    };
    match first.kind {
        BlockKind::Linear { m, .. } => Ok((TbShape::Flat(m), format!("input [{m}] from the first Linear"))),
        BlockKind::Convolution { d, .. } => search_square(blocks, d, first.line),
        _ => Err(format!(
            "line {}: the model starts with a pooling layer, so its number of channels is unknown; \
             give the input shape",
            first.line
        )),
    }
}

/// Tries square inputs of `channels` channels: the candidates are the sizes for which every block fits and the
/// network ends in a vector. Prefers sizes where every window tiles its input exactly, then the smallest.
fn search_square(blocks: &[Block], channels: usize, line: usize) -> Result<(TbShape, String), String> {
    let mut exact = vec![];
    let mut loose = vec![];
    for side in 1..=MAX_SIDE {
        let input = TbShape::Image {
            h: side,
            w: side,
            c: channels,
        };
        let Ok(t) = trace(blocks, input) else { continue };
        if ends_in_vector(blocks, &t) {
            if t.exact { &mut exact } else { &mut loose }.push(side);
        }
    }
    let (side, how) = match (exact.as_slice(), loose.as_slice()) {
        ([only], _) => (
            *only,
            format!("the only square size up to {MAX_SIDE} for which every window tiles its input exactly"),
        ),
        ([first, ..], _) => (
            *first,
            format!(
                "the smallest of {} square sizes for which every window tiles its input exactly",
                exact.len()
            ),
        ),
        ([], [first, ..]) => (
            *first,
            format!(
                "the smallest of {} square sizes that fit (none tiles exactly)",
                loose.len()
            ),
        ),
        ([], []) => {
            return Err(format!(
                "line {line}: no square input up to {MAX_SIDE}x{MAX_SIDE} makes this network end in a vector; \
                 give the input shape"
            ));
        }
    };
    let shape = TbShape::Image {
        h: side,
        w: side,
        c: channels,
    };
    let note = format!(
        "input {:?} (C, H, W) inferred from the first Convolution (NHWC [{side}, {side}, {channels}] in the \
         toolbox): {how} and the last layer outputs a vector (a Linear or a 1x1 map)",
        shape.ours()
    );
    Ok((shape, note))
}
