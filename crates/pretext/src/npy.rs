//! NumPy `.npy` files (format version 1.0), for embeddings and labels to
//! go to NumPy, scikit-learn or a vector database.
use std::path::Path;

use crate::Error;
use crate::export::write;

/// The bytes of a C-order `.npy` array of `descr` (`<f4`, `<i8`) and `shape`.
fn npy(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header + newline, padded to 64.
    let pad = (64 - (10 + header.len() + 1) % 64) % 64;
    header.push_str(&" ".repeat(pad));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Writes `rows` (all of one length) as a 2-D `float32` array.
pub fn write_f32_matrix(path: &Path, rows: &[Vec<f32>]) -> Result<(), Error> {
    let cols = rows.first().map_or(0, Vec::len);
    assert!(rows.iter().all(|r| r.len() == cols), "rows of one length");
    let data: Vec<u8> = rows
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    write(path, &npy("<f4", &[rows.len(), cols], &data))
}

/// Writes `values` as a 1-D `int64` array.
pub fn write_i64_vector(path: &Path, values: &[i64]) -> Result<(), Error> {
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    write(path, &npy("<i8", &[values.len()], &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_64_bytes_and_describes_the_array() {
        let bytes = npy("<f4", &[2, 3], &[0; 24]);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with('\n'));
        assert_eq!(bytes.len(), 10 + len + 24);
        let one = npy("<i8", &[5], &[0; 40]);
        assert!(String::from_utf8_lossy(&one).contains("'shape': (5,)"));
    }
}
