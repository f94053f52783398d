//! Integers that may be a multiple of the batch size, as shape computations produce them (`x.size(0)`).
//!
//! The batch axis stays symbolic during folding, so a model exported with a fixed batch of 1 or a dynamic one
//! folds the same way and runs any batch size.

use std::fmt;

/// One integer of a shape computation: a number, or `k·N` for the batch size `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::model::onnx) enum Sym {
    Int(i64),
    /// `k·N`.
    Batch(i64),
}

impl fmt::Display for Sym {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sym::Int(v) => write!(f, "{v}"),
            Sym::Batch(1) => write!(f, "N"),
            Sym::Batch(k) => write!(f, "{k}·N"),
        }
    }
}

/// Why an integer operation could not stay in the form `a` or `k·N`.
const BATCH_MIX: &str = "mixes the batch size with other numbers in a way that cannot be folded";

impl Sym {
    /// The number, if it does not depend on the batch size.
    pub fn int(self) -> Option<i64> {
        match self {
            Sym::Int(v) => Some(v),
            Sym::Batch(_) => None,
        }
    }

    pub fn add(self, other: Sym) -> Result<Sym, String> {
        match (self, other) {
            (Sym::Int(a), Sym::Int(b)) => a.checked_add(b).map(Sym::Int).ok_or_else(overflow),
            (Sym::Batch(a), Sym::Batch(b)) => Ok(batch(a.checked_add(b).ok_or_else(overflow)?)),
            (Sym::Batch(a), Sym::Int(0)) | (Sym::Int(0), Sym::Batch(a)) => Ok(Sym::Batch(a)),
            _ => Err(format!("adding {self} and {other} {BATCH_MIX}")),
        }
    }

    pub fn sub(self, other: Sym) -> Result<Sym, String> {
        self.add(other.mul(Sym::Int(-1))?)
    }

    pub fn mul(self, other: Sym) -> Result<Sym, String> {
        match (self, other) {
            (Sym::Int(a), Sym::Int(b)) => a.checked_mul(b).map(Sym::Int).ok_or_else(overflow),
            (Sym::Batch(a), Sym::Int(b)) | (Sym::Int(b), Sym::Batch(a)) => {
                Ok(batch(a.checked_mul(b).ok_or_else(overflow)?))
            }
            _ => Err(format!("multiplying {self} by {other} {BATCH_MIX}")),
        }
    }

    /// Integer division rounding toward zero, as ONNX `Div` does on integers.
    pub fn div(self, other: Sym) -> Result<Sym, String> {
        match (self, other) {
            (_, Sym::Int(0)) => Err(format!("division of {self} by zero")),
            (Sym::Int(a), Sym::Int(b)) => a.checked_div(b).map(Sym::Int).ok_or_else(overflow),
            (Sym::Batch(a), Sym::Int(b)) if a % b == 0 => Ok(batch(a / b)),
            (Sym::Batch(a), Sym::Batch(b)) if a % b == 0 => Ok(Sym::Int(a / b)),
            _ => Err(format!("dividing {self} by {other} {BATCH_MIX}")),
        }
    }
}

fn batch(k: i64) -> Sym {
    if k == 0 { Sym::Int(0) } else { Sym::Batch(k) }
}

fn overflow() -> String {
    "integer overflow in a shape computation".into()
}

/// Symbolic integers as text, `[N, 1, 28, 28]`.
pub(in crate::model::onnx) fn show(values: &[Sym]) -> String {
    let parts: Vec<String> = values.iter().map(Sym::to_string).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::Sym::{Batch, Int};

    #[test]
    fn batch_arithmetic_stays_symbolic_or_refuses() {
        assert_eq!(Batch(1).mul(Int(800)).unwrap(), Batch(800));
        assert_eq!(Batch(800).div(Int(800)).unwrap(), Batch(1));
        assert_eq!(Int(7).div(Int(-2)).unwrap(), Int(-3));
        assert_eq!(Batch(2).sub(Batch(2)).unwrap(), Int(0));
        assert!(Batch(1).add(Int(1)).unwrap_err().contains("batch size"));
        assert!(Batch(3).div(Int(2)).is_err());
        assert!(Batch(1).mul(Batch(1)).is_err());
        assert!(Int(1).div(Int(0)).is_err());
    }
}
