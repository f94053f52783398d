//! Evaluating one node whose inputs are all known at import time (constants, or integers computed from the input's
//! static shape with the batch size symbolic): the ops that shape computations and exporters' constant
//! preprocessing use.

use super::array;
use super::sym::Sym;
use crate::model::onnx::attr::Attrs;
use crate::model::onnx::proto::NodeProto;
use crate::model::onnx::tensor::{self, Tensor, Values};

/// A value known at import time.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Known {
    Float { dims: Vec<usize>, values: Vec<f32> },
    Int { dims: Vec<usize>, values: Vec<Sym> },
}

/// The ops that folding evaluates (default domain).
pub(super) const FOLDABLE: &[&str] = &[
    "Shape",
    "Gather",
    "Unsqueeze",
    "Squeeze",
    "Concat",
    "Slice",
    "Cast",
    "ConstantOfShape",
    "Range",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Identity",
    "Reshape",
    "Transpose",
    "Flatten",
];

impl Known {
    pub fn from_tensor(t: Tensor) -> Known {
        match t.values {
            Values::F32(values) => Known::Float { dims: t.dims, values },
            Values::I64(v) => Known::Int {
                dims: t.dims,
                values: v.into_iter().map(Sym::Int).collect(),
            },
        }
    }

    /// A plain tensor, or `None` if some integer depends on the batch size.
    pub fn to_tensor(&self) -> Option<Tensor> {
        Some(match self {
            Known::Float { dims, values } => Tensor {
                dims: dims.clone(),
                values: Values::F32(values.clone()),
            },
            Known::Int { dims, values } => Tensor {
                dims: dims.clone(),
                values: Values::I64(values.iter().map(|v| v.int()).collect::<Option<_>>()?),
            },
        })
    }

    pub fn dims(&self) -> &[usize] {
        match self {
            Known::Float { dims, .. } | Known::Int { dims, .. } => dims,
        }
    }

    fn with_dims(self, dims: Vec<usize>) -> Known {
        match self {
            Known::Float { values, .. } => Known::Float { dims, values },
            Known::Int { values, .. } => Known::Int { dims, values },
        }
    }

    /// Integers that must not depend on the batch size (indices, axes, attributes given as inputs).
    pub fn ints(&self, what: &str) -> Result<Vec<i64>, String> {
        match self {
            Known::Int { values, .. } => values
                .iter()
                .map(|v| v.int().ok_or_else(|| format!("the {what} depends on the batch size")))
                .collect(),
            Known::Float { .. } => Err(format!("the {what} must be integers, found floats")),
        }
    }

    /// A shape given as a 1-D integer tensor, batch-dependent entries allowed.
    pub fn syms(&self, what: &str) -> Result<&[Sym], String> {
        match self {
            Known::Int { values, dims } if dims.len() <= 1 => Ok(values),
            _ => Err(format!("the {what} must be a 1-D integer tensor")),
        }
    }

    fn map2(
        self,
        f: impl Fn(Vec<usize>, Vec<f32>) -> (Vec<usize>, Vec<f32>),
        g: impl Fn(Vec<usize>, Vec<Sym>) -> (Vec<usize>, Vec<Sym>),
    ) -> Known {
        match self {
            Known::Float { dims, values } => {
                let (dims, values) = f(dims, values);
                Known::Float { dims, values }
            }
            Known::Int { dims, values } => {
                let (dims, values) = g(dims, values);
                Known::Int { dims, values }
            }
        }
    }
}

/// The value `Shape` gives for a tensor of shape `shape` (with `start`/`end` from opset 15).
pub(super) fn shape_value(node: &NodeProto, shape: &[Sym]) -> Result<Known, String> {
    let attrs = Attrs::new(node);
    let rank = shape.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = clamp(attrs.int_or("start", 0)?);
    let end = clamp(attrs.int_or("end", rank)?);
    let values = shape[start..end.max(start)].to_vec();
    Ok(Known::Int {
        dims: vec![values.len()],
        values,
    })
}

/// Evaluates `node` (op `op`, default domain) on known `inputs` (`None` for an absent optional input).
pub(super) fn eval(node: &NodeProto, op: &str, inputs: &[Option<Known>], opset: i64) -> Result<Known, String> {
    let attrs = Attrs::new(node);
    let arg = |k: usize| -> Result<&Known, String> {
        inputs
            .get(k)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("input {k} is missing"))
    };
    let opt = |k: usize| inputs.get(k).and_then(Option::as_ref);
    let x = arg(0)?.clone();
    match op {
        "Identity" => Ok(x),
        "Shape" => {
            let dims: Vec<Sym> = x.dims().iter().map(|&d| Sym::Int(d as i64)).collect();
            shape_value(node, &dims)
        }
        "Gather" => {
            let indices = arg(1)?;
            let idx = indices.ints("indices")?;
            let axis = array::axis(attrs.int_or("axis", 0)?, x.dims().len())?;
            let index_dims = indices.dims().to_vec();
            match x {
                Known::Float { dims, values } => {
                    let (dims, values) = array::gather(&dims, &values, axis, &index_dims, &idx)?;
                    Ok(Known::Float { dims, values })
                }
                Known::Int { dims, values } => {
                    let (dims, values) = array::gather(&dims, &values, axis, &index_dims, &idx)?;
                    Ok(Known::Int { dims, values })
                }
            }
        }
        "Unsqueeze" | "Squeeze" => {
            let axes = match opt(1) {
                Some(a) if opset >= 13 => Some(a.ints("axes")?),
                _ => attrs.ints("axes")?.map(<[i64]>::to_vec),
            };
            let dims = if op == "Unsqueeze" {
                unsqueeze_dims(x.dims(), &axes.ok_or("Unsqueeze needs axes")?)?
            } else {
                squeeze_dims(x.dims(), axes.as_deref())?
            };
            Ok(x.with_dims(dims))
        }
        "Concat" => {
            let parts: Vec<&Known> = inputs.iter().flatten().collect();
            let rank = x.dims().len();
            let axis = array::axis(attrs.int("axis")?.ok_or("Concat needs an axis")?, rank)?;
            if parts.iter().all(|p| matches!(p, Known::Int { .. })) {
                let p: Vec<_> = parts
                    .iter()
                    .map(|p| match p {
                        Known::Int { dims, values } => (dims.clone(), values.clone()),
                        Known::Float { .. } => (vec![], vec![]),
                    })
                    .collect();
                let (dims, values) = array::concat(&p, axis)?;
                Ok(Known::Int { dims, values })
            } else if parts.iter().all(|p| matches!(p, Known::Float { .. })) {
                let p: Vec<_> = parts
                    .iter()
                    .map(|p| match p {
                        Known::Float { dims, values } => (dims.clone(), values.clone()),
                        Known::Int { .. } => (vec![], vec![]),
                    })
                    .collect();
                let (dims, values) = array::concat(&p, axis)?;
                Ok(Known::Float { dims, values })
            } else {
                Err("cannot concatenate integers with floats".into())
            }
        }
        "Slice" => {
            let list = |k: usize, attr: &str, what: &str| -> Result<Option<Vec<i64>>, String> {
                if opset >= 10 {
                    opt(k).map(|v| v.ints(what)).transpose()
                } else {
                    Ok(attrs.ints(attr)?.map(<[i64]>::to_vec))
                }
            };
            let starts = list(1, "starts", "starts")?.ok_or("Slice needs starts")?;
            let ends = list(2, "ends", "ends")?.ok_or("Slice needs ends")?;
            let axes = list(3, "axes", "axes")?;
            let steps = if opset >= 10 { list(4, "", "steps")? } else { None };
            let ranges = slice_ranges(x.dims(), &starts, &ends, axes.as_deref(), steps.as_deref())?;
            Ok(x.map2(
                |d, v| array::slice(&d, &v, &ranges),
                |d, v| array::slice(&d, &v, &ranges),
            ))
        }
        "Cast" => cast(x, attrs.int("to")?.ok_or("Cast needs `to`")?),
        "ConstantOfShape" => {
            let dims = x
                .ints("shape")
                .map_err(|e| format!("{e}: the tensor would be as large as the batch"))?;
            let dims = dims
                .iter()
                .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
                .collect::<Result<Vec<_>, _>>()?;
            let n = array::count(&dims)
                .filter(|&n| n <= 1 << 24)
                .ok_or("the tensor is too large")?;
            let fill = match attrs.tensor("value")? {
                Some(t) => Known::from_tensor(tensor::decode(t, std::path::Path::new("."))?),
                None => Known::Float {
                    dims: vec![1],
                    values: vec![0.0],
                },
            };
            Ok(match fill {
                Known::Float { values, .. } => Known::Float {
                    dims,
                    values: vec![values.first().copied().unwrap_or(0.0); n],
                },
                Known::Int { values, .. } => Known::Int {
                    dims,
                    values: vec![values.first().copied().unwrap_or(Sym::Int(0)); n],
                },
            })
        }
        "Range" => range(&x, arg(1)?, arg(2)?),
        "Add" | "Sub" | "Mul" | "Div" => binary(op, x, arg(1)?.clone()),
        "Reshape" => {
            let target = arg(1)?.ints("target shape")?;
            let allow_zero = attrs.int_or("allowzero", 0)? != 0;
            let dims = reshape_dims(x.dims(), &target, allow_zero)?;
            Ok(x.with_dims(dims))
        }
        "Flatten" => {
            let rank = x.dims().len();
            let a = attrs.int_or("axis", 1)?;
            let a = if a < 0 { a + rank as i64 } else { a }.clamp(0, rank as i64) as usize;
            let dims = vec![x.dims()[..a].iter().product(), x.dims()[a..].iter().product()];
            Ok(x.with_dims(dims))
        }
        "Transpose" => {
            let rank = x.dims().len();
            let perm = permutation(attrs.ints("perm")?, rank)?;
            Ok(x.map2(
                |d, v| array::transpose(&d, &v, &perm),
                |d, v| array::transpose(&d, &v, &perm),
            ))
        }
        other => Err(format!("{other} is not evaluated at import time")),
    }
}

/// `perm` (default: reversed axes) checked to be a permutation of `rank` axes.
pub(in crate::model::onnx) fn permutation(perm: Option<&[i64]>, rank: usize) -> Result<Vec<usize>, String> {
    let perm: Vec<usize> = match perm {
        Some(p) => p.iter().map(|&a| array::axis(a, rank)).collect::<Result<_, _>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = vec![false; rank];
    for &p in &perm {
        if std::mem::replace(&mut seen[p], true) {
            return Err(format!("perm {perm:?} is not a permutation of {rank} axes"));
        }
    }
    if perm.len() != rank {
        return Err(format!("perm {perm:?} is not a permutation of {rank} axes"));
    }
    Ok(perm)
}

fn unsqueeze_dims(dims: &[usize], axes: &[i64]) -> Result<Vec<usize>, String> {
    let rank = dims.len() + axes.len();
    let mut axes = axes
        .iter()
        .map(|&a| array::axis(a, rank))
        .collect::<Result<Vec<_>, _>>()?;
    axes.sort_unstable();
    let mut out = Vec::with_capacity(rank);
    let mut rest = dims.iter();
    for k in 0..rank {
        if axes.binary_search(&k).is_ok() {
            out.push(1);
        } else {
            out.push(*rest.next().ok_or("repeated axes")?);
        }
    }
    Ok(out)
}

fn squeeze_dims(dims: &[usize], axes: Option<&[i64]>) -> Result<Vec<usize>, String> {
    let Some(axes) = axes else {
        return Ok(dims.iter().copied().filter(|&d| d != 1).collect());
    };
    let axes = axes
        .iter()
        .map(|&a| array::axis(a, dims.len()))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(&a) = axes.iter().find(|&&a| dims[a] != 1) {
        return Err(format!("cannot squeeze axis {a} of size {}", dims[a]));
    }
    Ok(dims
        .iter()
        .enumerate()
        .filter(|(k, _)| !axes.contains(k))
        .map(|(_, &d)| d)
        .collect())
}

/// Per-axis `(start, step, len)` of an ONNX `Slice`, with its clamping rules.
fn slice_ranges(
    dims: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Vec<(usize, i64, usize)>, String> {
    let mut ranges: Vec<(usize, i64, usize)> = dims.iter().map(|&d| (0, 1, d)).collect();
    let axes: Vec<usize> = match axes {
        Some(a) => a
            .iter()
            .map(|&a| array::axis(a, dims.len()))
            .collect::<Result<_, _>>()?,
        None => (0..starts.len()).collect(),
    };
    if starts.len() != axes.len() || ends.len() != axes.len() {
        return Err("starts, ends and axes of Slice differ in length".into());
    }
    for (k, &a) in axes.iter().enumerate() {
        let n = dims.get(a).copied().ok_or("axis out of range")? as i64;
        let step = steps.and_then(|s| s.get(k)).copied().unwrap_or(1);
        if step == 0 {
            return Err("Slice step 0".into());
        }
        let fix = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
        let (start, end) = (fix(starts[k]), fix(ends[k]));
        let (start, len) = if step > 0 {
            let (s, e) = (start.clamp(0, n), end.clamp(0, n));
            (s, if e > s { (e - s + step - 1) / step } else { 0 })
        } else {
            let (s, e) = (start.clamp(0, n - 1), end.clamp(-1, n - 1));
            (s, if s > e { (s - e - step - 1) / -step } else { 0 })
        };
        ranges[a] = (start.max(0) as usize, step, len as usize);
    }
    Ok(ranges)
}

/// Output dims of reshaping `dims` to `target` (`-1` inferred, `0` copies unless `allow_zero`).
pub(super) fn reshape_dims(dims: &[usize], target: &[i64], allow_zero: bool) -> Result<Vec<usize>, String> {
    let len: usize = dims.iter().product();
    let mut infer = None;
    let mut out = Vec::with_capacity(target.len());
    for (k, &t) in target.iter().enumerate() {
        match t {
            -1 if infer.is_none() => {
                infer = Some(k);
                out.push(1);
            }
            0 if !allow_zero => out.push(*dims.get(k).ok_or("target copies a missing dimension")?),
            t if t >= 0 => out.push(t as usize),
            _ => return Err(format!("target shape {target:?} is not valid")),
        }
    }
    let known: usize = out.iter().product();
    if let Some(k) = infer {
        if known == 0 || !len.is_multiple_of(known) {
            return Err(format!("cannot reshape {dims:?} to {target:?}"));
        }
        out[k] = len / known;
    } else if known != len {
        return Err(format!("cannot reshape {dims:?} to {target:?}"));
    }
    Ok(out)
}

fn cast(x: Known, to: i64) -> Result<Known, String> {
    const FLOATS: [i64; 4] = [1, 10, 11, 16];
    match x {
        Known::Float { dims, values } if FLOATS.contains(&to) => Ok(Known::Float { dims, values }),
        Known::Float { dims, values } => Ok(Known::Int {
            dims,
            values: values
                .iter()
                .map(|&v| Sym::Int(if to == 9 { i64::from(v != 0.0) } else { v.trunc() as i64 }))
                .collect(),
        }),
        Known::Int { dims, values } if FLOATS.contains(&to) => Ok(Known::Float {
            dims,
            values: values
                .iter()
                .map(|v| {
                    v.int()
                        .map(|v| v as f32)
                        .ok_or("a batch-dependent integer cast to float")
                })
                .collect::<Result<_, _>>()?,
        }),
        Known::Int { dims, values } if to == 9 => Ok(Known::Int {
            dims,
            values: values
                .iter()
                .map(|v| match v {
                    Sym::Int(v) => Sym::Int(i64::from(*v != 0)),
                    Sym::Batch(_) => Sym::Int(1),
                })
                .collect(),
        }),
        int => Ok(int),
    }
}

fn range(start: &Known, limit: &Known, delta: &Known) -> Result<Known, String> {
    let limit_of = |n: f64| -> Result<usize, String> {
        let n = n.ceil().max(0.0);
        if n > (1 << 24) as f64 {
            Err("the range is too long".into())
        } else {
            Ok(n as usize)
        }
    };
    match (start, limit, delta) {
        (Known::Int { .. }, Known::Int { .. }, Known::Int { .. }) => {
            let [s, l, d] =
                [start, limit, delta].map(|v| v.ints("range bound").map(|v| v.first().copied().unwrap_or(0)));
            let (s, l, d) = (s?, l?, d?);
            if d == 0 {
                return Err("Range with delta 0".into());
            }
            let n = limit_of((l - s) as f64 / d as f64)?;
            Ok(Known::Int {
                dims: vec![n],
                values: (0..n as i64).map(|k| Sym::Int(s + k * d)).collect(),
            })
        }
        (Known::Float { values: s, .. }, Known::Float { values: l, .. }, Known::Float { values: d, .. }) => {
            let [s, l, d] = [s, l, d].map(|v| v.first().copied().unwrap_or(0.0));
            if d == 0.0 {
                return Err("Range with delta 0".into());
            }
            let n = limit_of(f64::from((l - s) / d))?;
            Ok(Known::Float {
                dims: vec![n],
                values: (0..n).map(|k| s + k as f32 * d).collect(),
            })
        }
        _ => Err("Range bounds of different types".into()),
    }
}

fn binary(op: &str, a: Known, b: Known) -> Result<Known, String> {
    match (a, b) {
        (Known::Int { dims: da, values: va }, Known::Int { dims: db, values: vb }) => {
            let f = |x: &Sym, y: &Sym| match op {
                "Add" => x.add(*y),
                "Sub" => x.sub(*y),
                "Mul" => x.mul(*y),
                _ => x.div(*y),
            };
            let (dims, values) = array::broadcast((&da, &va), (&db, &vb), f)?;
            Ok(Known::Int { dims, values })
        }
        (Known::Float { dims: da, values: va }, Known::Float { dims: db, values: vb }) => {
            let f = |x: &f32, y: &f32| {
                Ok(match op {
                    "Add" => x + y,
                    "Sub" => x - y,
                    "Mul" => x * y,
                    _ => x / y,
                })
            };
            let (dims, values) = array::broadcast((&da, &va), (&db, &vb), f)?;
            Ok(Known::Float { dims, values })
        }
        _ => Err(format!("{op} of an integer and a float tensor")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_and_reshapes_follow_onnx() {
        assert_eq!(
            slice_ranges(&[4], &[1], &[i64::MAX], None, None).unwrap(),
            vec![(1, 1, 3)]
        );
        assert_eq!(
            slice_ranges(&[4], &[-1], &[-5], None, Some(&[-1])).unwrap(),
            vec![(3, -1, 4)]
        );
        assert_eq!(
            slice_ranges(&[4], &[0], &[-1], Some(&[0]), None).unwrap(),
            vec![(0, 1, 3)]
        );
        assert_eq!(reshape_dims(&[2, 3, 4], &[0, -1], false).unwrap(), vec![2, 12]);
        assert!(reshape_dims(&[2, 3, 4], &[-1, -1], false).is_err());
        assert_eq!(unsqueeze_dims(&[], &[0]).unwrap(), vec![1]);
        assert_eq!(squeeze_dims(&[1, 3, 1], Some(&[-1])).unwrap(), vec![1, 3]);
        assert!(permutation(Some(&[0, 0]), 2).is_err());
        assert_eq!(permutation(None, 3).unwrap(), vec![2, 1, 0]);
    }
}
