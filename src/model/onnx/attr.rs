//! Typed access to a node's attributes, with the type checked against what the op expects.

use super::proto::attribute_proto::AttributeType;
use super::proto::{AttributeProto, NodeProto, TensorProto};

/// The attributes of one node.
pub(super) struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    pub fn new(node: &'a NodeProto) -> Self {
        Attrs { node }
    }

    fn get(&self, name: &str, expected: AttributeType) -> Result<Option<&'a AttributeProto>, String> {
        let Some(attr) = self.node.attribute.iter().find(|a| a.name.as_deref() == Some(name)) else {
            return Ok(None);
        };
        if attr.ref_attr_name.is_some() {
            return Err(format!(
                "attribute {name:?} refers to a function attribute, which is not supported"
            ));
        }
        match attr.r#type.map(AttributeType::try_from) {
            None | Some(Ok(AttributeType::Undefined)) => Ok(Some(attr)),
            Some(Ok(found)) if found == expected => Ok(Some(attr)),
            Some(found) => Err(format!(
                "attribute {name:?} should be {}, found {}",
                expected.as_str_name(),
                found.map_or("an unknown type", |t| t.as_str_name())
            )),
        }
    }

    /// An `INT` attribute.
    pub fn int(&self, name: &str) -> Result<Option<i64>, String> {
        Ok(self.get(name, AttributeType::Int)?.and_then(|a| a.i))
    }

    /// An `INT` attribute with a default.
    pub fn int_or(&self, name: &str, default: i64) -> Result<i64, String> {
        Ok(self.int(name)?.unwrap_or(default))
    }

    /// A `FLOAT` attribute.
    pub fn float(&self, name: &str) -> Result<Option<f32>, String> {
        Ok(self.get(name, AttributeType::Float)?.and_then(|a| a.f))
    }

    /// A `FLOAT` attribute with a default.
    pub fn float_or(&self, name: &str, default: f32) -> Result<f32, String> {
        Ok(self.float(name)?.unwrap_or(default))
    }

    /// An `INTS` attribute.
    pub fn ints(&self, name: &str) -> Result<Option<&'a [i64]>, String> {
        Ok(self.get(name, AttributeType::Ints)?.map(|a| a.ints.as_slice()))
    }

    /// A `FLOATS` attribute.
    pub fn floats(&self, name: &str) -> Result<Option<&'a [f32]>, String> {
        Ok(self.get(name, AttributeType::Floats)?.map(|a| a.floats.as_slice()))
    }

    /// A `STRING` attribute (lossily decoded as UTF-8).
    pub fn string(&self, name: &str) -> Result<Option<String>, String> {
        Ok(self
            .get(name, AttributeType::String)?
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned()))
    }

    /// A `TENSOR` attribute.
    pub fn tensor(&self, name: &str) -> Result<Option<&'a TensorProto>, String> {
        Ok(self.get(name, AttributeType::Tensor)?.and_then(|a| a.t.as_ref()))
    }

    /// Names of all attributes, for error messages.
    pub fn names(&self) -> Vec<&'a str> {
        self.node.attribute.iter().filter_map(|a| a.name.as_deref()).collect()
    }
}
