//! Matrix products on `f32` slices through the `gemm` crate, the one flex
//! itself calls: strided views (so a transpose is free) and accumulation
//! into the destination, behind a bounds-checked safe function.

/// A `rows × cols` matrix inside a slice: element `(i, j)` is
/// `values[i * row_stride + j * col_stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Matrix<'a> {
    values: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    /// `values` read as a row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// If `values` does not hold exactly `rows * cols` values.
    pub(crate) fn row_major(values: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(values.len(), rows * cols, "a {rows}x{cols} matrix");
        Self {
            values,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose, as a view of the same values.
    pub(crate) fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Whether every element lies inside `values`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.values.len()
    }
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` when `accumulate`, with `dst`
/// row-major `lhs.rows × rhs.cols`. Runs on the calling thread: callers
/// parallelise over images.
///
/// # Panics
/// If the shapes do not match or a view reaches outside its slice.
pub(crate) fn matmul(dst: &mut [f32], lhs: Matrix<'_>, rhs: Matrix<'_>, accumulate: bool) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions {k} and {}", rhs.rows);
    assert_eq!(dst.len(), m * n, "matmul: a {m}x{n} destination");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: a view out of bounds"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    // SAFETY: `dst` is an exclusive borrow of exactly m*n values written
    // row-major (row stride n, column stride 1); `lhs` and `rhs` are shared
    // borrows whose every element (i, j) < (rows, cols) lies inside their
    // slices (`in_bounds`), with non-negative strides; the shapes agree
    // (m×k · k×n). A shared and an exclusive borrow cannot alias.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.values.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.values.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product by the definition, element by element.
    fn naive(lhs: Matrix<'_>, rhs: Matrix<'_>) -> Vec<f32> {
        let at = |m: &Matrix<'_>, i: usize, j: usize| m.values[i * m.row_stride + j * m.col_stride];
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                out[i * rhs.cols + j] =
                    (0..lhs.cols).map(|p| at(&lhs, i, p) * at(&rhs, p, j)).sum();
            }
        }
        out
    }

    #[test]
    fn products_of_plain_and_transposed_views_match_the_definition() {
        let a: Vec<f32> = (0..35).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..20).map(|i| ((i * 5) % 9) as f32 * 0.5 - 2.0).collect();
        let (a57, b54) = (Matrix::row_major(&a, 5, 7), Matrix::row_major(&b, 5, 4));
        // aᵀ (7×5) · b (5×4)
        let mut out = vec![0.0; 28];
        matmul(&mut out, a57.t(), b54, false);
        assert_eq!(out, naive(a57.t(), b54));
        // and accumulated a second time: twice the product
        matmul(&mut out, a57.t(), b54, true);
        let twice: Vec<f32> = naive(a57.t(), b54).iter().map(|v| 2.0 * v).collect();
        assert_eq!(out, twice);
        // b (5×4) as bᵀ's transpose, times a transposed view of itself: bᵀ · b
        let mut gram = vec![0.0; 16];
        matmul(&mut gram, b54.t(), b54, false);
        assert_eq!(gram, naive(b54.t(), b54));
    }

    #[test]
    #[should_panic(expected = "inner dimensions")]
    fn mismatched_shapes_are_refused() {
        let a = vec![0.0; 6];
        let mut out = vec![0.0; 4];
        matmul(
            &mut out,
            Matrix::row_major(&a, 2, 3),
            Matrix::row_major(&a, 2, 3),
            false,
        );
    }
}
