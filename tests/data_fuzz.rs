//! Fuzzing the IDX and npy parsers with proptest: random bytes and mutated
//! valid files must give `Ok` or an error, never a panic, and never an
//! allocation larger than the input justifies (headers claiming huge sizes
//! are rejected or fail on truncation before allocating).

use std::path::Path;

use proptest::prelude::*;
use sparselabel::data::idx::{parse_idx_bytes, write_idx};
use sparselabel::data::npy::{encode_npy, parse_npy_bytes};

fn valid_idx(gz: bool) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("sl-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(if gz { "v.gz" } else { "v" });
    let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
    write_idx(&p, &[2, 3, 4], &data).unwrap();
    std::fs::read(&p).unwrap()
}

fn valid_npy() -> Vec<u8> {
    encode_npy(&[3, 4], &(0..12).map(|v| v as f32).collect::<Vec<_>>()).unwrap()
}

/// Applies (position, value) byte overwrites and an optional truncation.
fn mutate(mut b: Vec<u8>, edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    for &(i, v) in edits {
        if !b.is_empty() {
            let n = b.len();
            b[i % n] = v;
        }
    }
    if let Some(c) = cut {
        let n = b.len();
        b.truncate(c % (n + 1));
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn idx_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_idx_bytes(&bytes, Path::new("fuzz.idx"));
    }

    #[test]
    fn idx_mutated_valid_never_panic(
        gz in any::<bool>(),
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let b = mutate(valid_idx(gz), &edits, cut);
        if let Ok(arr) = parse_idx_bytes(&b, Path::new("fuzz.idx")) {
            // Whatever parses is self-consistent.
            prop_assert_eq!(arr.dims.iter().product::<usize>(), arr.data.len());
        }
    }

    #[test]
    fn idx_header_dims_fuzz(dims in proptest::collection::vec(any::<u32>(), 1..5), tail in 0usize..32) {
        let mut b = vec![0u8, 0, 8, dims.len() as u8];
        for d in &dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend(std::iter::repeat_n(1u8, tail));
        let res = parse_idx_bytes(&b, Path::new("fuzz.idx"));
        let total: u128 = dims.iter().map(|&d| d as u128).product();
        prop_assert_eq!(res.is_ok(), total == tail as u128);
    }

    #[test]
    fn npy_random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = parse_npy_bytes(&bytes, Path::new("fuzz.npy"));
        // Also behind a valid magic and version, to reach the header parser.
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        b.extend_from_slice(&bytes);
        let _ = parse_npy_bytes(&b, Path::new("fuzz.npy"));
    }

    #[test]
    fn npy_mutated_valid_never_panic(
        edits in proptest::collection::vec((0usize..80, any::<u8>()), 0..6),
        cut in proptest::option::of(any::<usize>()),
    ) {
        let b = mutate(valid_npy(), &edits, cut);
        if let Ok(arr) = parse_npy_bytes(&b, Path::new("fuzz.npy")) {
            prop_assert_eq!(arr.shape.iter().product::<usize>(), arr.len());
        }
    }

    #[test]
    fn npy_header_text_fuzz(
        descr in "[<>|=]?[fiuc][1248]",
        fortran in any::<bool>(),
        shape in proptest::collection::vec(0u64..4_000_000_000_000, 0..4),
        payload in 0usize..64,
    ) {
        let dims = shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
        let h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': ({dims}{}), }}\n",
            if fortran { "True" } else { "False" },
            if shape.len() == 1 { "," } else { "" }
        );
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend(std::iter::repeat_n(0u8, payload));
        let _ = parse_npy_bytes(&b, Path::new("fuzz.npy"));
    }
}

#[test]
fn header_claiming_ten_to_the_twelve_items_is_an_error() {
    // IDX: 10^6 × 10^6 × 1 bytes.
    let mut b = vec![0u8, 0, 8, 3];
    for d in [1_000_000u32, 1_000_000, 1] {
        b.extend_from_slice(&d.to_be_bytes());
    }
    let e = parse_idx_bytes(&b, Path::new("big.idx")).unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    // npy: 10^12 f4 elements.
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }\n";
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    let e = parse_npy_bytes(&b, Path::new("big.npy")).unwrap_err();
    assert!(e.to_string().contains("limit"), "{e}");
    // Just under the limit but absent: a truncation error, after reading only
    // what exists (no 16 GiB allocation).
    let h = "{'descr': '|u1', 'fortran_order': False, 'shape': (4000000000,), }\n";
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(&[0u8; 10]);
    let e = parse_npy_bytes(&b, Path::new("big.npy")).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}
