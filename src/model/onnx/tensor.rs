//! ONNX `TensorProto` → plain values: inline (`raw_data`, `float_data`, …) or in an external data file.
//!
//! Sizes are checked before anything is allocated: the element count from `dims` must match the bytes that are
//! actually present (inline) or fit inside the external file.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use super::proto::TensorProto;
use super::proto::tensor_proto::{DataLocation, DataType};

/// A decoded tensor: its dimensions and values (row-major).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Tensor {
    pub dims: Vec<usize>,
    pub values: Values,
}

/// Element values of a tensor, by kind.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Values {
    /// FLOAT (DOUBLE is narrowed).
    F32(Vec<f32>),
    /// INT64 (INT32 is widened).
    I64(Vec<i64>),
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::F32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    /// The values as floats, or an error naming the actual type.
    pub fn floats(&self) -> Result<&[f32], String> {
        match &self.values {
            Values::F32(v) => Ok(v),
            Values::I64(_) => Err("expected a float tensor, found an integer tensor".into()),
        }
    }

    /// The values as 64-bit integers, or an error naming the actual type.
    pub fn ints(&self) -> Result<&[i64], String> {
        match &self.values {
            Values::I64(v) => Ok(v),
            Values::F32(_) => Err("expected an integer tensor, found a float tensor".into()),
        }
    }
}

/// Decodes `tensor`; external data is looked for in `base_dir` (the model's folder).
pub(super) fn decode(tensor: &TensorProto, base_dir: &Path) -> Result<Tensor, String> {
    if tensor.segment.is_some() {
        return Err("segmented tensors are not supported".into());
    }
    let dims = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d} in {:?}", tensor.dims)))
        .collect::<Result<Vec<_>, _>>()?;
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    let data_type = tensor.data_type.unwrap_or(0);
    let kind = DataType::try_from(data_type).map_err(|_| format!("unknown data type {data_type}"))?;
    let elem_size = match kind {
        DataType::Float | DataType::Int32 => 4,
        DataType::Double | DataType::Int64 => 8,
        other => return Err(format!("data type {} is not supported", other.as_str_name())),
    };
    let external = tensor.data_location == Some(DataLocation::External as i32);
    let bytes = if external {
        Some(external_bytes(tensor, base_dir, count * elem_size)?)
    } else {
        tensor.raw_data.clone()
    };
    let values = match bytes {
        Some(bytes) => from_le_bytes(kind, &bytes, count)?,
        None => from_typed_fields(kind, tensor, count)?,
    };
    Ok(Tensor { dims, values })
}

fn from_le_bytes(kind: DataType, bytes: &[u8], count: usize) -> Result<Values, String> {
    let size = match kind {
        DataType::Float | DataType::Int32 => 4,
        _ => 8,
    };
    if bytes.len() != count * size {
        return Err(format!(
            "holds {} bytes of data, but its dimensions need {count} values of {size} bytes",
            bytes.len()
        ));
    }
    Ok(match kind {
        DataType::Float => Values::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        DataType::Double => Values::F32(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
                .collect(),
        ),
        DataType::Int32 => Values::I64(
            bytes
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        _ => Values::I64(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        ),
    })
}

fn from_typed_fields(kind: DataType, tensor: &TensorProto, count: usize) -> Result<Values, String> {
    let check = |found: usize, field: &str| {
        if found == count {
            Ok(())
        } else {
            Err(format!(
                "has {found} values in {field}, but its dimensions {:?} need {count}",
                tensor.dims
            ))
        }
    };
    Ok(match kind {
        DataType::Float => {
            check(tensor.float_data.len(), "float_data")?;
            Values::F32(tensor.float_data.clone())
        }
        DataType::Double => {
            check(tensor.double_data.len(), "double_data")?;
            Values::F32(tensor.double_data.iter().map(|&v| v as f32).collect())
        }
        DataType::Int32 => {
            check(tensor.int32_data.len(), "int32_data")?;
            Values::I64(tensor.int32_data.iter().map(|&v| i64::from(v)).collect())
        }
        _ => {
            check(tensor.int64_data.len(), "int64_data")?;
            Values::I64(tensor.int64_data.clone())
        }
    })
}

/// Reads `len` bytes of external data, after checking that the location stays inside `base_dir` and that
/// `offset + len` fits in the file.
fn external_bytes(tensor: &TensorProto, base_dir: &Path, len: usize) -> Result<Vec<u8>, String> {
    let mut location = None;
    let mut offset = 0u64;
    let mut length = None;
    for entry in &tensor.external_data {
        let value = entry.value.as_deref().unwrap_or("");
        match entry.key.as_deref().unwrap_or("") {
            "location" => location = Some(value),
            "offset" => offset = parse_u64("offset", value)?,
            "length" => length = Some(parse_u64("length", value)?),
            _ => {}
        }
    }
    let location = location.ok_or("external data without a location")?;
    if let Some(length) = length
        && length != len as u64
    {
        return Err(format!(
            "external data length {length} does not match the {len} bytes its dimensions need"
        ));
    }
    let file_path = resolve_location(base_dir, location)?;
    let shown = file_path.display();
    let mut file = std::fs::File::open(&file_path).map_err(|e| format!("external data file {shown}: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("external data file {shown}: {e}"))?
        .len();
    let end = offset.checked_add(len as u64);
    if end.is_none_or(|end| end > size) {
        return Err(format!(
            "external data at offset {offset} with length {len} runs past the end of {shown} ({size} bytes)"
        ));
    }
    let mut bytes = vec![0u8; len];
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| format!("external data file {shown}: {e}"))?;
    Ok(bytes)
}

fn parse_u64(key: &str, value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("external data {key} {value:?} is not a non-negative integer"))
}

/// Joins a relative `location` to `base_dir`, refusing absolute paths and anything that leaves the folder.
fn resolve_location(base_dir: &Path, location: &str) -> Result<PathBuf, String> {
    let relative = Path::new(location);
    let plain = relative
        .components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if location.is_empty() || relative.is_absolute() || !plain {
        return Err(format!(
            "external data location {location:?} must be a relative path inside the model's folder"
        ));
    }
    let joined = base_dir.join(relative);
    // Symbolic links could still point elsewhere: compare the resolved paths when both exist.
    if let (Ok(base), Ok(target)) = (base_dir.canonicalize(), joined.canonicalize())
        && !target.starts_with(&base)
    {
        return Err(format!(
            "external data location {location:?} resolves to {}, outside the model's folder",
            target.display()
        ));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_outside_the_folder_are_refused() {
        let base = Path::new("/some/models");
        for bad in ["../x.bin", "/etc/passwd", "a/../../x", "", "sub/../../../x"] {
            assert!(resolve_location(base, bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            resolve_location(base, "./w/model.onnx.data").unwrap(),
            Path::new("/some/models/./w/model.onnx.data")
        );
    }

    #[test]
    fn inline_sizes_are_checked() {
        let mut t = TensorProto {
            dims: vec![2, 3],
            data_type: Some(DataType::Float as i32),
            float_data: vec![1.0; 5],
            ..Default::default()
        };
        assert!(decode(&t, Path::new(".")).unwrap_err().contains("need 6"));
        t.float_data.push(2.0);
        let decoded = decode(&t, Path::new(".")).unwrap();
        assert_eq!(decoded.dims, vec![2, 3]);
        assert_eq!(decoded.floats().unwrap()[5], 2.0);
        t.dims = vec![i64::MAX, i64::MAX];
        assert!(decode(&t, Path::new(".")).unwrap_err().contains("too large"));
    }

    #[test]
    fn raw_int64_and_double_decode() {
        let t = TensorProto {
            dims: vec![2],
            data_type: Some(DataType::Int64 as i32),
            raw_data: Some([(-1i64).to_le_bytes(), 7i64.to_le_bytes()].concat()),
            ..Default::default()
        };
        assert_eq!(decode(&t, Path::new(".")).unwrap().ints().unwrap(), &[-1, 7]);
        let t = TensorProto {
            dims: vec![],
            data_type: Some(DataType::Double as i32),
            double_data: vec![0.25],
            ..Default::default()
        };
        assert_eq!(decode(&t, Path::new(".")).unwrap().floats().unwrap(), &[0.25]);
    }
}
