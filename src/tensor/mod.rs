//! `Tensor`: a shape plus contiguous row-major `f32` storage. Nothing more:
//! strides, views and broadcasting live in the ops that need them.

pub mod pool;
mod shape;

pub use shape::{broadcast_shapes, numel, Shape};

use crate::{Error, Result};

/// A dense row-major f32 array.
#[derive(Debug, PartialEq)]
pub struct Tensor {
    shape: Shape,
    data: Vec<f32>,
}

impl Clone for Tensor {
    fn clone(&self) -> Self {
        let mut data = pool::zeroed(self.data.len());
        data.copy_from_slice(&self.data);
        Tensor {
            shape: self.shape.clone(),
            data,
        }
    }
}

/// Large storage goes back to [`pool`] for the next step to reuse.
impl Drop for Tensor {
    fn drop(&mut self) {
        pool::give(std::mem::take(&mut self.data));
    }
}

impl Tensor {
    /// A tensor of `shape` filled with zeros.
    pub fn zeros(shape: &[usize]) -> Tensor {
        Tensor {
            shape: Shape::from(shape),
            data: pool::zeroed(numel(shape)),
        }
    }

    /// A tensor of `shape` whose every element the caller writes before reading any:
    /// its contents are unspecified until then (stale pooled values or zeros), which
    /// saves the zeroing pass of [`Tensor::zeros`].
    pub fn for_overwrite(shape: &[usize]) -> Tensor {
        Tensor {
            shape: Shape::from(shape),
            data: pool::for_overwrite(numel(shape)),
        }
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: f32) -> Tensor {
        Tensor {
            shape: Shape::from(shape),
            data: pool::filled(numel(shape), value),
        }
    }

    /// A 0-dimensional tensor holding `value`.
    pub fn scalar(value: f32) -> Tensor {
        Tensor {
            shape: Shape::from(&[][..]),
            data: vec![value],
        }
    }

    /// Wraps `data` as a tensor of `shape`; errors if the lengths disagree.
    pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
        if numel(shape) != data.len() {
            return Err(Error::Other(format!(
                "tensor of shape {:?} needs {} values, got {}",
                shape,
                numel(shape),
                data.len()
            )));
        }
        Ok(Tensor {
            shape: Shape::from(shape),
            data,
        })
    }

    /// Like `from_vec` but panics on a length mismatch: for internal use where
    /// the length was computed from the shape.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Tensor {
        assert_eq!(
            numel(shape),
            data.len(),
            "tensor shape {:?} vs {} values",
            shape,
            data.len()
        );
        Tensor {
            shape: Shape::from(shape),
            data,
        }
    }

    /// The dimensions.
    pub fn shape(&self) -> &[usize] {
        self.shape.dims()
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.dims().len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Consumes the tensor, returning its storage.
    pub fn into_vec(mut self) -> Vec<f32> {
        std::mem::take(&mut self.data)
    }

    /// The single value of a one-element tensor.
    pub fn item(&self) -> f32 {
        assert_eq!(
            self.data.len(),
            1,
            "item() on a tensor of shape {:?}",
            self.shape()
        );
        self.data[0]
    }

    /// The same storage under another shape with the same element count.
    pub fn reshape(mut self, shape: &[usize]) -> Tensor {
        assert_eq!(
            numel(shape),
            self.data.len(),
            "reshape {:?} -> {:?}",
            self.shape(),
            shape
        );
        self.shape = Shape::from(shape);
        self
    }

    /// Rows × columns view of a tensor of rank ≥ 1: the last axis is the
    /// column axis, everything before it is flattened into rows.
    pub fn rows_cols(&self) -> (usize, usize) {
        let dims = self.shape();
        match dims.len() {
            0 => (1, 1),
            _ => {
                let cols = dims[dims.len() - 1];
                (self.len().checked_div(cols).unwrap_or(0), cols)
            }
        }
    }

    /// True when every value is finite.
    pub fn all_finite(&self) -> bool {
        self.data.iter().all(|v| v.is_finite())
    }
}
