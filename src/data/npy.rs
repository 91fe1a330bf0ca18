//! NumPy `.npy` files, versions 1.0–3.0: read `f32`, `f64`, `u8`, `i32`,
//! `i64` (either byte order, C or Fortran order), write any of those in C order.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use super::source::{read_exact_bounded, SourceReader};
use super::SourceFile;
use crate::{Error, Result};

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// Longest header we accept (numpy writes well under 1 KiB).
const MAX_HEADER: u64 = 1 << 20;
/// Most dimensions we accept.
const MAX_DIMS: usize = 32;

/// The element data of an array, in C order.
#[derive(Clone, Debug, PartialEq)]
pub enum NpyData {
    /// `f4`
    F32(Vec<f32>),
    /// `f8`
    F64(Vec<f64>),
    /// `u1`
    U8(Vec<u8>),
    /// `i4`
    I32(Vec<i32>),
    /// `i8`
    I64(Vec<i64>),
}

/// A parsed `.npy` array.
#[derive(Clone, Debug, PartialEq)]
pub struct NpyArray {
    /// The shape, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The elements in C (row-major) order.
    pub data: NpyData,
}

impl NpyArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.data {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::U8(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::I64(v) => v.len(),
        }
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `f32`; NaN or ±Inf is an error naming `path` and the
    /// first offending index.
    pub fn to_f32(&self, path: &Path) -> Result<Vec<f32>> {
        let v: Vec<f32> = match &self.data {
            NpyData::F32(v) => v.clone(),
            NpyData::F64(v) => v.iter().map(|&a| a as f32).collect(),
            NpyData::U8(v) => v.iter().map(|&a| a as f32).collect(),
            NpyData::I32(v) => v.iter().map(|&a| a as f32).collect(),
            NpyData::I64(v) => v.iter().map(|&a| a as f32).collect(),
        };
        if let Some(i) = v.iter().position(|a| !a.is_finite()) {
            let what = if v[i].is_nan() {
                "NaN"
            } else {
                "an infinite value (or one beyond f32)"
            };
            return Err(Error::bad_input(path, format!("element {i} is {what}")));
        }
        Ok(v)
    }

    /// The elements as class labels: non-negative integers below
    /// `u32::MAX` (floats must be integral).
    pub fn to_labels(&self, path: &Path) -> Result<Vec<u32>> {
        let bad = |i: usize, v: String| {
            Error::bad_input(
                path,
                format!("label {i} is {v}, not a non-negative integer"),
            )
        };
        let as_label = |i: usize, v: f64| -> Result<u32> {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < u32::MAX as f64 {
                Ok(v as u32)
            } else {
                Err(bad(i, format!("{v}")))
            }
        };
        match &self.data {
            NpyData::U8(v) => Ok(v.iter().map(|&a| a as u32).collect()),
            NpyData::I32(v) => v
                .iter()
                .enumerate()
                .map(|(i, &a)| as_label(i, a as f64))
                .collect(),
            NpyData::I64(v) => v
                .iter()
                .enumerate()
                .map(|(i, &a)| {
                    if (0..u32::MAX as i64).contains(&a) {
                        Ok(a as u32)
                    } else {
                        Err(bad(i, a.to_string()))
                    }
                })
                .collect(),
            NpyData::F32(v) => v
                .iter()
                .enumerate()
                .map(|(i, &a)| as_label(i, a as f64))
                .collect(),
            NpyData::F64(v) => v.iter().enumerate().map(|(i, &a)| as_label(i, a)).collect(),
        }
    }
}

/// An element type `write_npy` can store.
pub trait NpyElement: Copy {
    /// The little-endian numpy descriptor, e.g. `<f4`.
    const DESCR: &'static str;
    /// Appends the little-endian bytes of `self`.
    fn put(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($t:ty, $d:literal) => {
        impl NpyElement for $t {
            const DESCR: &'static str = $d;
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
element!(f32, "<f4");
element!(f64, "<f8");
element!(u8, "|u1");
element!(i32, "<i4");
element!(i64, "<i8");

/// The bytes of a `.npy` file (version 1.0, or 2.0 if the header is long)
/// holding `data` with `shape` in C order.
pub fn encode_npy<T: NpyElement>(shape: &[usize], data: &[T]) -> Result<Vec<u8>> {
    let total: usize = shape.iter().product();
    if total != data.len() {
        return Err(Error::Usage(format!(
            "write_npy: shape {shape:?} does not match {} elements",
            data.len()
        )));
    }
    let dims = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {dims}, }}",
        T::DESCR
    );
    let v1 = header.len() + 11 <= u16::MAX as usize;
    let prefix = if v1 { 10 } else { 12 };
    while (prefix + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(prefix + header.len() + data.len() * 8);
    out.extend_from_slice(MAGIC);
    if v1 {
        out.extend_from_slice(&[1, 0]);
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&[2, 0]);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(header.as_bytes());
    for &v in data {
        v.put(&mut out);
    }
    Ok(out)
}

/// Writes `data` with `shape` to `path` as a C-order `.npy` file.
pub fn write_npy<T: NpyElement>(path: &Path, shape: &[usize], data: &[T]) -> Result<()> {
    let bytes = encode_npy(shape, data)?;
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    w.write_all(&bytes)
        .and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))
}

/// Reads a `.npy` file and its SHA-256; trailing bytes are an error.
pub fn read_npy_with_source(path: &Path) -> Result<(NpyArray, SourceFile)> {
    let mut r = SourceReader::open(path)?;
    let arr = parse_npy(&mut r, path)?;
    let src = r.finish()?;
    Ok((arr, src))
}

/// Reads a `.npy` file.
pub fn read_npy(path: &Path) -> Result<NpyArray> {
    read_npy_with_source(path).map(|(a, _)| a)
}

/// Parses a whole `.npy` file held in memory; trailing bytes are an error.
pub fn parse_npy_bytes(bytes: &[u8], path: &Path) -> Result<NpyArray> {
    let mut r = bytes;
    let arr = parse_npy(&mut r, path)?;
    if !r.is_empty() {
        return Err(Error::bad_input(path, "unexpected bytes after the data"));
    }
    Ok(arr)
}

/// Parses the header and payload of a `.npy` stream.
pub fn parse_npy<R: Read>(r: &mut R, path: &Path) -> Result<NpyArray> {
    let pre = read_exact_bounded(r, 8, path, "the npy preamble")?;
    if &pre[..6] != MAGIC {
        return Err(Error::bad_input(path, "not a .npy file (bad magic string)"));
    }
    let (major, minor) = (pre[6], pre[7]);
    let hlen = match major {
        1 => {
            let b = read_exact_bounded(r, 2, path, "the npy header length")?;
            u16::from_le_bytes([b[0], b[1]]) as u64
        }
        2 | 3 => {
            let b = read_exact_bounded(r, 4, path, "the npy header length")?;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64
        }
        _ => {
            return Err(Error::bad_input(
                path,
                format!("unsupported npy format version {major}.{minor}"),
            ))
        }
    };
    if hlen > MAX_HEADER {
        return Err(Error::bad_input(
            path,
            format!("npy header length {hlen} is implausible"),
        ));
    }
    let raw = read_exact_bounded(r, hlen, path, "the npy header")?;
    let text = std::str::from_utf8(&raw)
        .map_err(|_| Error::bad_input(path, "npy header is not valid text"))?;
    let header = parse_header(text).map_err(|p| Error::bad_input(path, p))?;
    let (elem, big) = parse_descr(&header.descr).map_err(|p| Error::bad_input(path, p))?;
    let mut total: u64 = 1;
    for &d in &header.shape {
        total = total.checked_mul(d as u64).ok_or_else(|| {
            Error::bad_input(path, format!("npy shape {:?} overflows", header.shape))
        })?;
    }
    let bytes = total
        .checked_mul(elem.size())
        .ok_or_else(|| Error::bad_input(path, format!("npy shape {:?} overflows", header.shape)))?;
    let payload = read_exact_bounded(r, bytes, path, "npy data")?;
    let mut data = decode(elem, big, &payload);
    if header.fortran_order && header.shape.len() > 1 {
        data = fortran_to_c(data, &header.shape);
    }
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

#[derive(Clone, Copy)]
enum Elem {
    F32,
    F64,
    U8,
    I32,
    I64,
}

impl Elem {
    fn size(self) -> u64 {
        match self {
            Elem::U8 => 1,
            Elem::F32 | Elem::I32 => 4,
            Elem::F64 | Elem::I64 => 8,
        }
    }
}

/// Returns the element type and whether it is big-endian.
fn parse_descr(d: &str) -> std::result::Result<(Elem, bool), String> {
    let unsupported = || format!("unsupported npy dtype '{d}' (use f4, f8, u1, i4 or i8)");
    let mut chars = d.chars();
    let order = chars.next().ok_or_else(unsupported)?;
    let (big, rest) = match order {
        '<' | '=' | '|' => (false, chars.as_str()),
        '>' => (true, chars.as_str()),
        _ => (false, d),
    };
    let elem = match rest {
        "f4" => Elem::F32,
        "f8" => Elem::F64,
        "u1" => Elem::U8,
        "i4" => Elem::I32,
        "i8" => Elem::I64,
        _ => return Err(unsupported()),
    };
    Ok((elem, big))
}

fn decode(elem: Elem, big: bool, p: &[u8]) -> NpyData {
    macro_rules! conv {
        ($t:ty, $n:literal) => {
            p.chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().unwrap_or([0; $n]);
                    if big {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }
                })
                .collect()
        };
    }
    match elem {
        Elem::U8 => NpyData::U8(p.to_vec()),
        Elem::F32 => NpyData::F32(conv!(f32, 4)),
        Elem::F64 => NpyData::F64(conv!(f64, 8)),
        Elem::I32 => NpyData::I32(conv!(i32, 4)),
        Elem::I64 => NpyData::I64(conv!(i64, 8)),
    }
}

/// Reorders column-major data of `shape` into row-major order.
fn fortran_to_c(data: NpyData, shape: &[usize]) -> NpyData {
    fn reorder<T: Copy>(v: Vec<T>, shape: &[usize]) -> Vec<T> {
        let nd = shape.len();
        // Fortran strides: the first index varies fastest.
        let mut fstride = vec![1usize; nd];
        for a in 1..nd {
            fstride[a] = fstride[a - 1] * shape[a - 1];
        }
        let mut idx = vec![0usize; nd];
        let mut out = Vec::with_capacity(v.len());
        for _ in 0..v.len() {
            let off: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
            out.push(v[off]);
            for a in (0..nd).rev() {
                idx[a] += 1;
                if idx[a] < shape[a] {
                    break;
                }
                idx[a] = 0;
            }
        }
        out
    }
    match data {
        NpyData::F32(v) => NpyData::F32(reorder(v, shape)),
        NpyData::F64(v) => NpyData::F64(reorder(v, shape)),
        NpyData::U8(v) => NpyData::U8(reorder(v, shape)),
        NpyData::I32(v) => NpyData::I32(reorder(v, shape)),
        NpyData::I64(v) => NpyData::I64(reorder(v, shape)),
    }
}

struct Header {
    descr: String,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parses the Python dict literal of a `.npy` header.
fn parse_header(text: &str) -> std::result::Result<Header, String> {
    let mut p = Lexer {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.expect(b'{')?;
    loop {
        p.skip_ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        match key.as_str() {
            "descr" => descr = Some(p.string()?),
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(format!("npy header has an unknown key '{other}'")),
        }
        p.skip_ws();
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    p.skip_ws();
    if p.i != p.s.len() {
        return Err("npy header has text after the dictionary".into());
    }
    Ok(Header {
        descr: descr.ok_or("npy header lacks 'descr'")?,
        fortran_order: fortran.ok_or("npy header lacks 'fortran_order'")?,
        shape: shape.ok_or("npy header lacks 'shape'")?,
    })
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!(
                "malformed npy header: expected '{}' at byte {}",
                c as char, self.i
            ))
        }
    }
    fn string(&mut self) -> std::result::Result<String, String> {
        self.skip_ws();
        let q = *self
            .s
            .get(self.i)
            .ok_or("malformed npy header: unexpected end")?;
        if q != b'\'' && q != b'"' {
            return Err(format!(
                "malformed npy header: expected a string at byte {}",
                self.i
            ));
        }
        let start = self.i + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == q)
            .ok_or("malformed npy header: unterminated string")?;
        self.i = start + len + 1;
        Ok(String::from_utf8_lossy(&self.s[start..start + len]).into_owned())
    }
    fn boolean(&mut self) -> std::result::Result<bool, String> {
        self.skip_ws();
        for (word, v) in [("True", true), ("False", false)] {
            if self.s[self.i..].starts_with(word.as_bytes()) {
                self.i += word.len();
                return Ok(v);
            }
        }
        Err(format!(
            "malformed npy header: expected True or False at byte {}",
            self.i
        ))
    }
    fn tuple(&mut self) -> std::result::Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            if start == self.i {
                return Err(format!(
                    "malformed npy header: expected a dimension at byte {start}"
                ));
            }
            let d: usize = std::str::from_utf8(&self.s[start..self.i])
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or("npy shape dimension is too large")?;
            dims.push(d);
            if dims.len() > MAX_DIMS {
                return Err("npy shape has too many dimensions".into());
            }
            if !self.eat(b',') {
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}
