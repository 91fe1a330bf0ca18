//! Shapes and numpy-style broadcasting of shapes.

/// The dimensions of a tensor (row-major, last axis fastest).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
}

impl From<&[usize]> for Shape {
    fn from(d: &[usize]) -> Self {
        Shape(d.to_vec())
    }
}

/// Number of elements of a shape (1 for a scalar).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The broadcast of two shapes under numpy rules (align right; a dimension
/// of 1 stretches), or `None` when they are incompatible.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_rules() {
        assert_eq!(broadcast_shapes(&[4, 3], &[3]), Some(vec![4, 3]));
        assert_eq!(broadcast_shapes(&[4, 1], &[1, 5]), Some(vec![4, 5]));
        assert_eq!(broadcast_shapes(&[], &[2, 2]), Some(vec![2, 2]));
        assert_eq!(broadcast_shapes(&[4, 3], &[4]), None);
    }
}
