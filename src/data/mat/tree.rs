//! A bounded reader of whole MATLAB Level 5 `.mat` files into a tree: numeric and char arrays, cell arrays and
//! structs (what `save('net.mat', 'nn')` writes for a hand-written network), compressed or not.
//!
//! `matfile` reads numeric arrays only; weights saved as `nn.layers{l}.W` or `nn.W{l}` need cells and structs.
//! Every size is checked against the bytes that hold it before anything is allocated: a sub-element must fit in
//! its parent, a cell or struct holds at most one element per 8 bytes of its body, nesting is at most
//! [`MAX_DEPTH`] deep, compressed variables inflate to at most [`MAX_DECODED_BYTES`] in total and the whole file
//! decodes to at most [`MAX_VALUES`] numbers. Sparse arrays, objects and function handles are kept as
//! [`MatKind::Other`] with their class, so that a caller can say what it skipped.
//!
//! Arrays stay column-major, as MATLAB stores them: element `(i, j)` of an `r × c` matrix is `values[i + j·r]`.

use std::path::Path;

use flate2::read::ZlibDecoder;

use crate::data::bytes::{self, MAX_DECODED_BYTES};
use crate::error::LoadError;

/// Deepest nesting of cells and structs accepted.
pub const MAX_DEPTH: usize = 32;
/// Most numbers (all variables together) a file may decode to: 256 MiB of `f32`.
pub const MAX_VALUES: usize = 1 << 26;

const HEADER_LEN: usize = 128;
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;

const MX_CELL: u32 = 1;
const MX_STRUCT: u32 = 2;
const MX_CHAR: u32 = 4;

/// One variable, cell element or struct field.
#[derive(Clone, Debug, PartialEq)]
pub struct MatArray {
    /// The variable name (empty inside cells and structs).
    pub name: String,
    /// MATLAB dimensions (at least two).
    pub dims: Vec<usize>,
    pub kind: MatKind,
}

/// What an array holds.
#[derive(Clone, Debug, PartialEq)]
pub enum MatKind {
    /// A real numeric or logical array, column-major, converted to `f32`.
    Numeric { class: &'static str, values: Vec<f32> },
    /// A complex numeric array (its values are not kept).
    Complex { class: &'static str },
    /// A char array, as text (rows joined column-major, which is the text for a 1×n string).
    Char(String),
    /// A cell array, elements column-major.
    Cell(Vec<MatArray>),
    /// A struct array: field names, then per element (column-major) one array per field, in field order.
    Struct {
        fields: Vec<String>,
        elements: Vec<Vec<MatArray>>,
    },
    /// Anything else (sparse, object, function handle…), by MATLAB class name.
    Other(&'static str),
}

impl MatArray {
    /// Number of elements (product of the dimensions).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `"double 300×784"`, `"struct 1×1"`, `"cell 1×3"`.
    pub fn describe(&self) -> String {
        let dims: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
        let class = match &self.kind {
            MatKind::Numeric { class, .. } | MatKind::Complex { class } | MatKind::Other(class) => class,
            MatKind::Char(_) => "char",
            MatKind::Cell(_) => "cell",
            MatKind::Struct { .. } => "struct",
        };
        format!("{class} {}", dims.join("×"))
    }

    /// The field `name` (ASCII case-insensitive) of element `index` of a struct array.
    pub fn field(&self, index: usize, name: &str) -> Option<&MatArray> {
        let MatKind::Struct { fields, elements } = &self.kind else {
            return None;
        };
        let f = fields.iter().position(|f| f.eq_ignore_ascii_case(name))?;
        elements.get(index)?.get(f)
    }

    /// The real values, if numeric.
    pub fn values(&self) -> Option<&[f32]> {
        match &self.kind {
            MatKind::Numeric { values, .. } => Some(values),
            _ => None,
        }
    }
}

/// Reads every variable of the `.mat` at `path`.
pub fn read(path: &Path) -> Result<Vec<MatArray>, LoadError> {
    let data = bytes::read_capped(path, bytes::open(path)?, MAX_DECODED_BYTES)?;
    parse(path, &data)
}

/// Parses a whole file already in memory (`path` names it in errors).
pub fn parse(path: &Path, data: &[u8]) -> Result<Vec<MatArray>, LoadError> {
    if data.starts_with(b"MATLAB 7.3") || data.get(512..516) == Some(b"\x89HDF") {
        return Err(LoadError::format(
            path,
            "MATLAB v7.3 (HDF5) files are not supported; save with -v7 or -v6",
        ));
    }
    if !data.starts_with(b"MATLAB 5.0") || data.len() < HEADER_LEN {
        return Err(LoadError::format(
            path,
            "not a MATLAB Level 5 file (no 'MATLAB 5.0' header)",
        ));
    }
    let little = match &data[126..128] {
        b"IM" => true,
        b"MI" => false,
        _ => return Err(LoadError::format(path, "bad endianness indicator in the MATLAB header")),
    };
    let mut p = Parser {
        path,
        little,
        values_left: MAX_VALUES,
        inflated: 0,
    };
    let mut out = vec![];
    let mut at = HEADER_LEN;
    while at + 8 <= data.len() {
        let tag = p.tag(data, at)?;
        let body = &data[tag.body..tag.end];
        at = tag.next.min(data.len());
        match tag.kind {
            MI_COMPRESSED => {
                let budget = MAX_DECODED_BYTES.saturating_sub(p.inflated);
                let inflated = bytes::read_capped(path, ZlibDecoder::new(body), budget)?;
                p.inflated += inflated.len() as u64;
                // A compressed element holds one whole element (tag included).
                if inflated.len() >= 8 {
                    let inner = p.tag(&inflated, 0)?;
                    if inner.kind == MI_MATRIX {
                        out.push(p.matrix(&inflated[inner.body..inner.end], 0)?);
                    }
                }
            }
            MI_MATRIX => out.push(p.matrix(body, 0)?),
            _ => {} // other top-level elements carry nothing we read
        }
    }
    Ok(out)
}

/// A data element's tag: its type and where its body lies.
struct Tag {
    kind: u32,
    /// Start and end of the body.
    body: usize,
    end: usize,
    /// Start of the next element (after padding).
    next: usize,
}

struct Parser<'p> {
    path: &'p Path,
    little: bool,
    /// Numbers that may still be decoded (see [`MAX_VALUES`]).
    values_left: usize,
    inflated: u64,
}

impl Parser<'_> {
    fn err(&self, message: impl Into<String>) -> LoadError {
        LoadError::format(self.path, message)
    }

    fn u32_at(&self, d: &[u8], at: usize) -> Option<u32> {
        let b: [u8; 4] = d.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// The tag at `at` in `d` (normal or small element), checked to fit in `d`.
    fn tag(&self, d: &[u8], at: usize) -> Result<Tag, LoadError> {
        let first = self
            .u32_at(d, at)
            .ok_or_else(|| self.err(format!("truncated element at byte {at}")))?;
        if first >> 16 != 0 {
            // Small element: size in the upper half, data in the next 4 bytes.
            let size = (first >> 16) as usize;
            if size > 4 || at + 8 > d.len() {
                return Err(self.err(format!("bad small element at byte {at}")));
            }
            return Ok(Tag {
                kind: first & 0xffff,
                body: at + 4,
                end: at + 4 + size,
                next: at + 8,
            });
        }
        let size = self
            .u32_at(d, at + 4)
            .ok_or_else(|| self.err(format!("truncated element at byte {at}")))? as usize;
        let body = at + 8;
        let end = body
            .checked_add(size)
            .filter(|&e| e <= d.len())
            .ok_or_else(|| self.err(format!("truncated: an element at byte {at} ends past its container")))?;
        // Compressed elements are not padded; the others are padded to 8 bytes.
        let next = if first == MI_COMPRESSED {
            end
        } else {
            body + size.div_ceil(8) * 8
        };
        Ok(Tag {
            kind: first,
            body,
            end,
            next,
        })
    }

    /// The sub-elements of a body, in order.
    fn sub_elements(&self, body: &[u8]) -> Result<Vec<Tag>, LoadError> {
        let mut tags = vec![];
        let mut at = 0;
        while at + 8 <= body.len() {
            let t = self.tag(body, at)?;
            at = t.next;
            tags.push(t);
        }
        Ok(tags)
    }

    /// A `miMATRIX` body at nesting `depth`.
    fn matrix(&mut self, body: &[u8], depth: usize) -> Result<MatArray, LoadError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("cells or structs nested more than {MAX_DEPTH} deep")));
        }
        if body.is_empty() {
            // MATLAB writes an empty cell element or struct field as a bare miMATRIX tag.
            return Ok(MatArray {
                name: String::new(),
                dims: vec![0, 0],
                kind: MatKind::Numeric {
                    class: "double",
                    values: vec![],
                },
            });
        }
        let mut at = 0;
        let mut next = |p: &Self| -> Result<Tag, LoadError> {
            if at + 8 > body.len() {
                return Err(p.err("an array ends before its header is complete"));
            }
            let t = p.tag(body, at)?;
            at = t.next;
            Ok(t)
        };
        let flags = next(self)?;
        let flag_word = self
            .u32_at(body, flags.body)
            .filter(|_| flags.end - flags.body >= 8)
            .ok_or_else(|| self.err("an array has no flags"))?;
        let class = flag_word & 0xff;
        let complex = flag_word & 0x800 != 0;
        let logical = flag_word & 0x200 != 0;
        let dims_tag = next(self)?;
        if dims_tag.kind != MI_INT32 || (dims_tag.end - dims_tag.body) % 4 != 0 || dims_tag.end - dims_tag.body < 8 {
            return Err(self.err("an array's dimensions are not a list of int32"));
        }
        let mut dims = vec![];
        let mut count = 1usize;
        for k in (dims_tag.body..dims_tag.end).step_by(4) {
            let d = self.u32_at(body, k).unwrap_or(0);
            let d = usize::try_from(i32::try_from(d).map_err(|_| self.err("a negative dimension"))?)
                .map_err(|_| self.err("a negative dimension"))?;
            count = count
                .checked_mul(d)
                .filter(|&c| c <= i32::MAX as usize)
                .ok_or_else(|| self.err("an array's dimensions are too large"))?;
            dims.push(d);
        }
        let name_tag = next(self)?;
        let name = String::from_utf8_lossy(&body[name_tag.body..name_tag.end]).into_owned();
        let rest = &body[at..];
        let kind = match class {
            MX_CELL => {
                let tags = self.sub_elements(rest)?;
                if tags.len() != count {
                    return Err(self.err(format!(
                        "cell {name:?} of {count} elements holds {} elements",
                        tags.len()
                    )));
                }
                let mut cells = Vec::new();
                for t in tags {
                    if t.kind != MI_MATRIX {
                        return Err(self.err(format!("cell {name:?} holds a non-array element")));
                    }
                    cells.push(self.matrix(&rest[t.body..t.end], depth + 1)?);
                }
                MatKind::Cell(cells)
            }
            MX_STRUCT | 3 => {
                let mut tags = self.sub_elements(rest)?.into_iter();
                if class == 3 {
                    tags.next(); // the class name of an object
                }
                let (Some(len_tag), Some(names_tag)) = (tags.next(), tags.next()) else {
                    return Err(self.err(format!("struct {name:?} has no field names")));
                };
                let field_len = self.u32_at(rest, len_tag.body).unwrap_or(0) as usize;
                let names = &rest[names_tag.body..names_tag.end];
                if field_len == 0 || !names.len().is_multiple_of(field_len) {
                    return Err(self.err(format!("struct {name:?}: bad field-name table")));
                }
                let fields: Vec<String> = names
                    .chunks_exact(field_len)
                    .map(|c| {
                        let end = c.iter().position(|&b| b == 0).unwrap_or(c.len());
                        String::from_utf8_lossy(&c[..end]).into_owned()
                    })
                    .collect();
                let values: Vec<Tag> = tags.collect();
                if values.len() != count.saturating_mul(fields.len()) {
                    return Err(self.err(format!(
                        "struct {name:?} of {count} elements and {} fields holds {} values",
                        fields.len(),
                        values.len()
                    )));
                }
                let mut elements = Vec::new();
                for chunk in values.chunks(fields.len().max(1)) {
                    let mut element = Vec::new();
                    for (t, field) in chunk.iter().zip(&fields) {
                        if t.kind != MI_MATRIX {
                            return Err(self.err(format!("field {field:?} of struct {name:?} is not an array")));
                        }
                        let mut value = self.matrix(&rest[t.body..t.end], depth + 1)?;
                        value.name.clone_from(field);
                        element.push(value);
                    }
                    elements.push(element);
                }
                if class == 3 {
                    MatKind::Other("object")
                } else {
                    MatKind::Struct { fields, elements }
                }
            }
            MX_CHAR => {
                let text = match self.sub_elements(rest)?.first() {
                    Some(t) => self.text(t.kind, &rest[t.body..t.end]),
                    None => String::new(),
                };
                MatKind::Char(text)
            }
            6..=15 => {
                let class_name = class_name(class, logical);
                if complex {
                    MatKind::Complex { class: class_name }
                } else {
                    let real = self.sub_elements(rest)?;
                    let t = real
                        .first()
                        .ok_or_else(|| self.err(format!("{name:?} has no values")))?;
                    let values = self.numbers(t.kind, &rest[t.body..t.end], &name)?;
                    if values.len() != count {
                        return Err(self.err(format!("{name:?} claims {count} values but holds {}", values.len())));
                    }
                    MatKind::Numeric {
                        class: class_name,
                        values,
                    }
                }
            }
            5 => MatKind::Other("sparse"),
            16 => MatKind::Other("function handle"),
            _ => MatKind::Other("unknown class"),
        };
        Ok(MatArray { name, dims, kind })
    }

    /// Numbers stored as `kind`, as `f32`, counted against [`MAX_VALUES`].
    fn numbers(&mut self, kind: u32, d: &[u8], name: &str) -> Result<Vec<f32>, LoadError> {
        let width = match kind {
            MI_INT8 | MI_UINT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
            other => return Err(self.err(format!("{name:?}: unknown number type {other}"))),
        };
        let n = d.len() / width;
        if n > self.values_left {
            return Err(self.err(format!("more than {MAX_VALUES} numbers in the file")));
        }
        self.values_left -= n;
        let little = self.little;
        let word = |c: &[u8]| -> u64 {
            let mut b = [0u8; 8];
            if little {
                b[..c.len()].copy_from_slice(c);
                u64::from_le_bytes(b)
            } else {
                b[8 - c.len()..].copy_from_slice(c);
                u64::from_be_bytes(b)
            }
        };
        let out = d
            .chunks_exact(width)
            .map(|c| {
                let w = word(c);
                match kind {
                    MI_INT8 => f32::from(w as u8 as i8),
                    MI_UINT8 => f32::from(w as u8),
                    MI_INT16 => f32::from(w as u16 as i16),
                    MI_UINT16 => f32::from(w as u16),
                    MI_INT32 => w as u32 as i32 as f32,
                    MI_UINT32 => w as u32 as f32,
                    MI_SINGLE => f32::from_bits(w as u32),
                    MI_DOUBLE => f64::from_bits(w) as f32,
                    MI_INT64 => w as i64 as f32,
                    _ => w as f32,
                }
            })
            .collect();
        Ok(out)
    }

    fn text(&self, kind: u32, d: &[u8]) -> String {
        match kind {
            MI_UTF16 | MI_UINT16 => {
                let units: Vec<u16> = d
                    .chunks_exact(2)
                    .map(|c| {
                        if self.little {
                            u16::from_le_bytes([c[0], c[1]])
                        } else {
                            u16::from_be_bytes([c[0], c[1]])
                        }
                    })
                    .collect();
                String::from_utf16_lossy(&units)
            }
            MI_UTF32 => d
                .chunks_exact(4)
                .filter_map(|c| self.u32_at(c, 0).and_then(char::from_u32))
                .collect(),
            // miUTF8 (16), miINT8/miUINT8 and anything else: bytes as UTF-8.
            _ => String::from_utf8_lossy(d).into_owned(),
        }
    }
}

fn class_name(class: u32, logical: bool) -> &'static str {
    if logical {
        return "logical";
    }
    match class {
        6 => "double",
        7 => "single",
        8 => "int8",
        9 => "uint8",
        10 => "int16",
        11 => "uint16",
        12 => "int32",
        13 => "uint32",
        14 => "int64",
        _ => "uint64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian element: tag + body + padding.
    fn element(kind: u32, body: &[u8]) -> Vec<u8> {
        let mut out = kind.to_le_bytes().to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(8) * 8, 0);
        out
    }

    fn matrix(class: u32, dims: &[i32], name: &str, rest: &[u8]) -> Vec<u8> {
        let mut body = element(MI_UINT32, &[class as u8, 0, 0, 0, 0, 0, 0, 0]);
        let d: Vec<u8> = dims.iter().flat_map(|d| d.to_le_bytes()).collect();
        body.extend(element(MI_INT32, &d));
        body.extend(element(MI_INT8, name.as_bytes()));
        body.extend_from_slice(rest);
        element(MI_MATRIX, &body)
    }

    fn file(elements: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![b' '; HEADER_LEN];
        out[..10].copy_from_slice(b"MATLAB 5.0");
        out[124..126].copy_from_slice(&[0, 1]);
        out[126..128].copy_from_slice(b"IM");
        for e in elements {
            out.extend_from_slice(e);
        }
        out
    }

    fn doubles(v: &[f64]) -> Vec<u8> {
        element(MI_DOUBLE, &v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>())
    }

    #[test]
    fn reads_a_cell_of_structs() {
        let w = matrix(6, &[2, 1], "", &doubles(&[1.0, 2.0]));
        let mut fields = element(MI_INT32, &8i32.to_le_bytes());
        fields.extend(element(MI_INT8, b"W\0\0\0\0\0\0\0"));
        let layer = matrix(MX_STRUCT, &[1, 1], "", &[fields, w].concat());
        let cell = matrix(MX_CELL, &[1, 1], "layers", &layer);
        let arrays = parse(Path::new("t.mat"), &file(&[cell])).unwrap();
        let MatKind::Cell(cells) = &arrays[0].kind else {
            panic!("{arrays:?}")
        };
        assert_eq!(cells[0].field(0, "w").unwrap().values(), Some(&[1.0f32, 2.0][..]));
    }

    #[test]
    fn refuses_impossible_counts_and_depth() {
        // A cell claiming 1000×1000 elements with none inside.
        let cell = matrix(MX_CELL, &[1000, 1000], "c", &[]);
        let e = parse(Path::new("t.mat"), &file(&[cell])).unwrap_err().to_string();
        assert!(e.contains("holds 0 elements"), "{e}");
        let mut inner = matrix(6, &[0, 0], "", &[]);
        for _ in 0..40 {
            inner = matrix(MX_CELL, &[1, 1], "", &inner);
        }
        let e = parse(Path::new("t.mat"), &file(&[inner])).unwrap_err().to_string();
        assert!(e.contains("nested"), "{e}");
        // A value element that claims more bytes than its array.
        let mut bad = matrix(6, &[1, 1], "x", &doubles(&[1.0]));
        let len = bad.len();
        bad[len - 12..len - 8].copy_from_slice(&1000u32.to_le_bytes());
        assert!(parse(Path::new("t.mat"), &file(&[bad])).is_err());
    }
}
