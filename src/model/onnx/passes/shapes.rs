//! Shapes of computed tensors (batch first and symbolic), so that `Shape` of an intermediate tensor folds.
//!
//! Only the ops a classifier's data path uses are inferred; anything else gives "unknown", which matters only
//! if a `Shape` node reads it.

use super::eval::{Known, permutation};
use super::sym::Sym;
use crate::model::onnx::attr::Attrs;
use crate::model::onnx::proto::NodeProto;

/// One input as shape inference sees it: its shape, and its value when known at import time.
pub(super) struct Operand<'a> {
    pub shape: Option<Vec<Sym>>,
    pub value: Option<&'a Known>,
}

/// The shape of the first output of `node` (op `op`), or `None` if it cannot be inferred.
pub(super) fn infer(node: &NodeProto, op: &str, inputs: &[Operand<'_>]) -> Option<Vec<Sym>> {
    let attrs = Attrs::new(node);
    let x = inputs.first()?.shape.clone()?;
    let int = |s: &Sym| s.int().and_then(|v| usize::try_from(v).ok());
    match op {
        "Relu" | "Tanh" | "Sigmoid" | "LeakyRelu" | "Elu" | "Selu" | "Softplus" | "Cast" | "Identity" | "Dropout"
        | "Softmax" | "LogSoftmax" | "BatchNormalization" | "Neg" | "Abs" | "Exp" | "Log" | "Sqrt" | "Clip" | "Erf"
        | "HardSigmoid" | "HardSwish" | "Gelu" => Some(x),
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "PRelu" => {
            let mut out = x;
            for other in inputs.iter().skip(1) {
                out = broadcast(&out, other.shape.as_ref()?)?;
            }
            Some(out)
        }
        "Conv" | "MaxPool" | "AveragePool" => {
            let [n, c, h, w] = x.as_slice() else { return None };
            let (channels, kernel) = if op == "Conv" {
                let wd = inputs.get(1)?.shape.as_ref()?;
                let [o, _, kh, kw] = wd.as_slice() else { return None };
                (*o, [int(kh)?, int(kw)?])
            } else {
                let k = attrs.ints("kernel_shape").ok()??;
                (
                    *c,
                    [usize::try_from(*k.first()?).ok()?, usize::try_from(*k.get(1)?).ok()?],
                )
            };
            let pair = |name: &str| -> Option<[usize; 2]> {
                match attrs.ints(name).ok()? {
                    None => Some([1, 1]),
                    Some(&[a, b]) => Some([usize::try_from(a).ok()?, usize::try_from(b).ok()?]),
                    Some(_) => None,
                }
            };
            let (stride, dilation) = (pair("strides")?, pair("dilations")?);
            let pads = match attrs.ints("pads").ok()? {
                None => [0; 4],
                Some(&[a, b, c, d]) => [a, b, c, d].map(|p| usize::try_from(p).unwrap_or(0)),
                Some(_) => return None,
            };
            let auto = attrs.string("auto_pad").ok()?.unwrap_or_default();
            let ceil = attrs.int_or("ceil_mode", 0).ok()? != 0;
            let size = |axis: usize, input: usize| -> Option<usize> {
                let k = (kernel[axis] - 1) * dilation[axis] + 1;
                let s = stride[axis];
                match auto.as_str() {
                    "SAME_UPPER" | "SAME_LOWER" => Some(input.div_ceil(s)),
                    "VALID" => Some(input.checked_sub(k)? / s + 1),
                    _ => {
                        let span = (input + pads[axis] + pads[axis + 2]).checked_sub(k)?;
                        Some(if ceil { span.div_ceil(s) } else { span / s } + 1)
                    }
                }
            };
            let (oh, ow) = (size(0, int(h)?)?, size(1, int(w)?)?);
            Some(vec![*n, channels, Sym::Int(oh as i64), Sym::Int(ow as i64)])
        }
        "Gemm" => {
            let b = inputs.get(1)?.shape.as_ref()?;
            let trans_b = attrs.int_or("transB", 0).ok()? != 0;
            let out = if trans_b { b.first()? } else { b.get(1)? };
            Some(vec![*x.first()?, *out])
        }
        "MatMul" => {
            let b = inputs.get(1)?.shape.as_ref()?;
            let mut out = x.clone();
            *out.last_mut()? = *b.last()?;
            Some(out)
        }
        "Flatten" => {
            let rank = x.len() as i64;
            let a = attrs.int_or("axis", 1).ok()?;
            let a = usize::try_from(if a < 0 { a + rank } else { a }).ok()?.min(x.len());
            Some(vec![product(&x[..a])?, product(&x[a..])?])
        }
        "Transpose" => {
            let perm = permutation(attrs.ints("perm").ok()?, x.len()).ok()?;
            Some(perm.iter().map(|&p| x[p]).collect())
        }
        "Reshape" => {
            let target = inputs.get(1)?.value?.syms("target").ok()?;
            let allow_zero = attrs.int_or("allowzero", 0).ok()? != 0;
            reshape(&x, target, allow_zero)
        }
        "Unsqueeze" | "Squeeze" => {
            let axes = match inputs.get(1).and_then(|o| o.value) {
                Some(v) => Some(v.ints("axes").ok()?),
                None => attrs.ints("axes").ok()?.map(<[i64]>::to_vec),
            };
            let rank = if op == "Unsqueeze" {
                x.len() + axes.as_ref()?.len()
            } else {
                x.len()
            };
            let norm = |a: i64| usize::try_from(if a < 0 { a + rank as i64 } else { a }).ok();
            let axes: Option<Vec<usize>> = match axes {
                Some(a) => Some(a.iter().map(|&a| norm(a)).collect::<Option<Vec<_>>>()?),
                None => None,
            };
            if op == "Unsqueeze" {
                let axes = axes?;
                let mut rest = x.iter();
                (0..rank)
                    .map(|k| {
                        if axes.contains(&k) {
                            Some(Sym::Int(1))
                        } else {
                            rest.next().copied()
                        }
                    })
                    .collect()
            } else {
                Some(
                    x.iter()
                        .enumerate()
                        .filter(|(k, d)| match &axes {
                            Some(a) => !a.contains(k),
                            None => **d != Sym::Int(1),
                        })
                        .map(|(_, d)| *d)
                        .collect(),
                )
            }
        }
        "GlobalAveragePool" | "GlobalMaxPool" => {
            let mut out = x;
            for d in out.iter_mut().skip(2) {
                *d = Sym::Int(1);
            }
            Some(out)
        }
        _ => None,
    }
}

/// The product of symbolic dimensions (at most one may hold the batch).
fn product(dims: &[Sym]) -> Option<Sym> {
    dims.iter().try_fold(Sym::Int(1), |a, &d| a.mul(d).ok())
}

/// Numpy broadcasting of two symbolic shapes (the batch only broadcasts with itself or 1).
fn broadcast(a: &[Sym], b: &[Sym]) -> Option<Vec<Sym>> {
    let rank = a.len().max(b.len());
    let pad = |d: &[Sym], k: usize| {
        if k + d.len() < rank {
            Sym::Int(1)
        } else {
            d[k + d.len() - rank]
        }
    };
    (0..rank)
        .map(|k| match (pad(a, k), pad(b, k)) {
            (x, y) if x == y || y == Sym::Int(1) => Some(x),
            (Sym::Int(1), y) => Some(y),
            _ => None,
        })
        .collect()
}

/// The shape `Reshape` gives a tensor of symbolic shape `x` for a (possibly symbolic) `target`.
pub(super) fn reshape(x: &[Sym], target: &[Sym], allow_zero: bool) -> Option<Vec<Sym>> {
    let total = product(x)?;
    let mut infer = None;
    let mut out = Vec::with_capacity(target.len());
    for (k, t) in target.iter().enumerate() {
        match t {
            Sym::Int(-1) if infer.is_none() => {
                infer = Some(k);
                out.push(Sym::Int(1));
            }
            Sym::Int(0) if !allow_zero => out.push(*x.get(k)?),
            Sym::Int(v) if *v >= 0 => out.push(*t),
            Sym::Batch(_) => out.push(*t),
            _ => return None,
        }
    }
    let known = product(&out)?;
    if let Some(k) = infer {
        out[k] = total.div(known).ok()?;
    } else if known != total {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::Sym::{Batch, Int};
    use super::*;

    #[test]
    fn reshape_with_a_symbolic_batch() {
        let x = [Batch(1), Int(32), Int(5), Int(5)];
        assert_eq!(
            reshape(&x, &[Batch(1), Int(-1)], false).unwrap(),
            vec![Batch(1), Int(800)]
        );
        assert_eq!(
            reshape(&x, &[Int(-1), Int(800)], false).unwrap(),
            vec![Batch(1), Int(800)]
        );
        assert_eq!(
            reshape(&x, &[Int(0), Int(-1)], false).unwrap(),
            vec![Batch(1), Int(800)]
        );
        assert_eq!(
            reshape(&x, &[Int(-1), Int(400)], false).unwrap(),
            vec![Batch(2), Int(400)]
        );
        assert!(reshape(&x, &[Int(-1), Int(-1)], false).is_none());
        assert!(reshape(&x, &[Int(1), Int(800)], false).is_none());
        assert_eq!(
            broadcast(&[Batch(1), Int(3)], &[Int(1), Int(3)]).unwrap(),
            vec![Batch(1), Int(3)]
        );
    }
}
