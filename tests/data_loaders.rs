//! Loaders: IDX, npy, CSV and PNG-folder round trips, dataset specs, splits.

use std::fs;
use std::path::{Path, PathBuf};

use sparselabel::data::csv::{read_csv, LabelColumn};
use sparselabel::data::idx::{parse_idx_bytes, read_idx_file, write_idx};
use sparselabel::data::npy::{encode_npy, parse_npy_bytes, read_npy, write_npy, NpyData};
use sparselabel::data::{self, UNKNOWN_LABEL};

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sl-data-loaders-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a tiny IDX dataset: `n` train and `m` test images of h×w.
fn write_idx_dir(dir: &Path, n: usize, m: usize, gz: bool, dotted: bool) -> (Vec<u8>, Vec<u8>) {
    let (h, w) = (3, 2);
    let imgs: Vec<u8> = (0..n * h * w).map(|i| (i * 37 % 256) as u8).collect();
    let labs: Vec<u8> = (0..n).map(|i| (i % 4) as u8).collect();
    let timgs: Vec<u8> = (0..m * h * w).map(|i| (i * 11 % 256) as u8).collect();
    let tlabs: Vec<u8> = (0..m).map(|i| (i % 3) as u8).collect();
    let sfx = if gz { ".gz" } else { "" };
    let name = |stem: &str, kind: &str, d: u32| {
        if dotted {
            format!("{stem}-{kind}.idx{d}-ubyte{sfx}")
        } else {
            format!("{stem}-{kind}-idx{d}-ubyte{sfx}")
        }
    };
    write_idx(&dir.join(name("train", "images", 3)), &[n, h, w], &imgs).unwrap();
    write_idx(&dir.join(name("train", "labels", 1)), &[n], &labs).unwrap();
    write_idx(&dir.join(name("t10k", "images", 3)), &[m, h, w], &timgs).unwrap();
    write_idx(&dir.join(name("t10k", "labels", 1)), &[m], &tlabs).unwrap();
    (imgs, labs)
}

#[test]
fn idx_round_trip_raw_and_gz() {
    let d = tmp("idx-rt");
    for gz in [false, true] {
        let p = d.join(if gz { "a.gz" } else { "a" });
        let data: Vec<u8> = (0..60).map(|i| i as u8).collect();
        write_idx(&p, &[5, 3, 4], &data).unwrap();
        let (arr, src) = read_idx_file(&p).unwrap();
        assert_eq!(arr.magic, 2051);
        assert_eq!(arr.dims, vec![5, 3, 4]);
        assert_eq!(arr.data, data);
        assert_eq!(src.sha256.len(), 64);
        let bytes = fs::read(&p).unwrap();
        assert_eq!(parse_idx_bytes(&bytes, &p).unwrap(), arr);
    }
}

#[test]
fn idx_dir_spec_both_name_styles() {
    for (gz, dotted) in [(false, false), (true, true), (true, false)] {
        let d = tmp(&format!("idx-dir-{gz}-{dotted}"));
        let (imgs, labs) = write_idx_dir(&d, 12, 5, gz, dotted);
        let s = data::load(&format!("idx:{}", d.display())).unwrap();
        // 12 training examples: last 12/6 = 2 are validation.
        assert_eq!((s.train.n, s.validation.n, s.test.n), (10, 2, 5));
        assert_eq!(s.train.image_shape, Some([1, 3, 2]));
        assert_eq!(s.train.num_classes, 4);
        assert_eq!(s.train.row(1)[0], imgs[6] as f32 / 255.0);
        assert_eq!(s.validation.labels.as_ref().unwrap()[0], labs[10] as u32);
        assert_eq!(s.sources.len(), 4);
    }
}

#[test]
fn npy_round_trip_all_dtypes() {
    let d = tmp("npy-rt");
    let p = d.join("a.npy");
    write_npy(&p, &[2, 3], &[1.5f32, -2.0, 3.25, 0.0, 1e-3, 7.0]).unwrap();
    let a = read_npy(&p).unwrap();
    assert_eq!(a.shape, vec![2, 3]);
    assert_eq!(a.data, NpyData::F32(vec![1.5, -2.0, 3.25, 0.0, 1e-3, 7.0]));
    write_npy(&p, &[3], &[1i64, -5, 1 << 40]).unwrap();
    assert_eq!(
        read_npy(&p).unwrap().data,
        NpyData::I64(vec![1, -5, 1 << 40])
    );
    write_npy(&p, &[2, 2], &[1.0f64, 2.0, 3.0, 4.5]).unwrap();
    assert_eq!(
        read_npy(&p).unwrap().data,
        NpyData::F64(vec![1.0, 2.0, 3.0, 4.5])
    );
    write_npy(&p, &[4], &[0u8, 1, 255, 7]).unwrap();
    assert_eq!(read_npy(&p).unwrap().data, NpyData::U8(vec![0, 1, 255, 7]));
    write_npy(&p, &[2], &[-3i32, 9]).unwrap();
    assert_eq!(read_npy(&p).unwrap().data, NpyData::I32(vec![-3, 9]));
    // Header is padded so the data starts on a 64-byte boundary.
    let bytes = encode_npy(&[2, 3], &[0f32; 6]).unwrap();
    assert_eq!((bytes.len() - 24) % 64, 0);
}

/// Builds a .npy file by hand with the given version and header.
fn npy_with(version: u8, header: &str, payload: &[u8]) -> Vec<u8> {
    let mut b = b"\x93NUMPY".to_vec();
    b.push(version);
    b.push(0);
    if version == 1 {
        b.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        b.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    b.extend_from_slice(header.as_bytes());
    b.extend_from_slice(payload);
    b
}

#[test]
fn npy_versions_fortran_order_and_big_endian() {
    let p = Path::new("hand.npy");
    let payload: Vec<u8> = [1f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    for v in [1u8, 2, 3] {
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
        let a = parse_npy_bytes(&npy_with(v, h, &payload), p).unwrap();
        assert_eq!(a.data, NpyData::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]));
    }
    // Fortran order: column-major storage of [[1,3,5],[2,4,6]].
    let h = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n";
    let a = parse_npy_bytes(&npy_with(1, h, &payload), p).unwrap();
    assert_eq!(a.data, NpyData::F32(vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]));
    // Big-endian f8, double-quoted keys, no trailing comma.
    let be: Vec<u8> = [1.5f64, -2.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let h = "{\"descr\": \">f8\", \"shape\": (2,), \"fortran_order\": False}";
    let a = parse_npy_bytes(&npy_with(1, h, &be), p).unwrap();
    assert_eq!(a.data, NpyData::F64(vec![1.5, -2.0]));
}

#[test]
fn npy_spec_with_labels_splits_80_10_10() {
    let d = tmp("npy-spec");
    let n = 100;
    let x: Vec<f32> = (0..n * 3).map(|i| i as f32).collect();
    let y: Vec<i64> = (0..n as i64).map(|i| i % 5).collect();
    write_npy(&d.join("x.npy"), &[n, 3], &x).unwrap();
    write_npy(&d.join("y.npy"), &[n], &y).unwrap();
    let spec = format!(
        "npy:{},{}",
        d.join("x.npy").display(),
        d.join("y.npy").display()
    );
    let s = data::load(&spec).unwrap();
    assert_eq!((s.train.n, s.validation.n, s.test.n), (80, 10, 10));
    assert_eq!(s.train.num_classes, 5);
    // Rows keep their labels, and the rule is deterministic.
    let again = data::load(&spec).unwrap();
    assert_eq!(s, again);
    let all: Vec<f32> = [&s.train, &s.validation, &s.test]
        .iter()
        .flat_map(|d| (0..d.n).map(|i| d.row(i)[0]))
        .collect();
    let mut sorted = all.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, (0..n).map(|i| (i * 3) as f32).collect::<Vec<_>>());
    for ds in [&s.train, &s.test] {
        for i in 0..ds.n {
            let row = (ds.row(i)[0] as usize) / 3;
            assert_eq!(ds.labels.as_ref().unwrap()[i], (row % 5) as u32);
        }
    }
}

#[test]
fn csv_header_label_column_and_string_labels() {
    let d = tmp("csv");
    let p = d.join("t.csv");
    fs::write(&p, "a,b,label\n1,2,cat\n3,4.5,dog\r\n\n5,6,cat\n7,8,\n").unwrap();
    let (t, _) = read_csv(&p, &LabelColumn::Auto).unwrap();
    assert_eq!((t.n, t.dim), (4, 2));
    assert_eq!(t.x, vec![1.0, 2.0, 3.0, 4.5, 5.0, 6.0, 7.0, 8.0]);
    assert_eq!(t.class_names, vec!["cat", "dog"]);
    assert_eq!(t.labels.unwrap(), vec![0, 1, 0, UNKNOWN_LABEL]);
    assert_eq!(t.feature_names.unwrap(), vec!["a", "b"]);
    // No header, label in the first column, integer labels.
    fs::write(&p, "2,0.5,1\n0,0.25,2\n").unwrap();
    let (t, _) = read_csv(&p, &LabelColumn::Index(0)).unwrap();
    assert_eq!(t.labels.unwrap(), vec![2, 0]);
    assert_eq!(t.class_names.len(), 3);
    let (t, _) = read_csv(&p, &LabelColumn::Auto).unwrap();
    assert!(t.labels.is_none());
    assert_eq!(t.dim, 3);
    // Spec with an explicit label column.
    let s = data::load(&format!("csv:{},label=last", p.display())).unwrap();
    assert_eq!(s.train.dim + s.validation.dim, 4);
}

fn write_png(path: &Path, w: u32, h: u32, rgb: bool, seed: u8) {
    let file = fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(if rgb {
        png::ColorType::Rgb
    } else {
        png::ColorType::Grayscale
    });
    enc.set_depth(png::BitDepth::Eight);
    let c = if rgb { 3 } else { 1 };
    let data: Vec<u8> = (0..(w * h) as usize * c)
        .map(|i| (i as u8).wrapping_mul(seed))
        .collect();
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

#[test]
fn image_folder_nested_classes_unlabelled_and_resize() {
    let d = tmp("images");
    for (sub, count) in [
        ("animals/cat", 3),
        ("animals/dog", 2),
        ("car", 4),
        ("unlabelled", 2),
    ] {
        fs::create_dir_all(d.join(sub)).unwrap();
        for i in 0..count {
            write_png(
                &d.join(sub).join(format!("{i}.png")),
                4,
                3,
                false,
                i as u8 + 1,
            );
        }
    }
    fs::write(d.join("car").join("notes.txt"), "ignored").unwrap();
    let (ds, layout, src) =
        data::images::read_folder(&d, &Default::default(), None, "imgs").unwrap();
    assert_eq!(ds.n, 11);
    assert_eq!(ds.image_shape, Some([1, 3, 4]));
    assert_eq!(ds.class_names, vec!["animals/cat", "animals/dog", "car"]);
    let coarse = ds.coarse.as_ref().unwrap();
    assert_eq!(coarse.names, vec!["animals", "car"]);
    assert_eq!(coarse.fine_to_coarse, vec![0, 0, 1]);
    assert!(layout.nested);
    assert_eq!(ds.unknown_count(), 2);
    assert_eq!(ds.class_counts(), vec![3, 2, 4]);
    assert_eq!(src.sha256.len(), 64);
    // Pixel (0,1) of the first cat image (seed 1) is 1/255.
    assert_eq!(ds.row(0)[1], 1.0 / 255.0);
    // A colour image turns everything RGB; a different size needs resizing.
    write_png(&d.join("car").join("big.png"), 8, 6, true, 3);
    let err = data::images::read_folder(&d, &Default::default(), None, "imgs").unwrap_err();
    assert!(err.to_string().contains("big.png"), "{err}");
    let s = data::load(&format!("images:{},size=3x4", d.display())).unwrap();
    assert_eq!(s.train.image_shape, Some([3, 3, 4]));
    // Unlabelled examples stay in train.
    assert_eq!(s.train.unknown_count(), 2);
    assert_eq!(s.train.n + s.validation.n + s.test.n, 12);
}

#[test]
fn image_folder_train_test_convention() {
    let d = tmp("images-tt");
    for part in ["train", "test"] {
        for cls in ["a", "b"] {
            fs::create_dir_all(d.join(part).join(cls)).unwrap();
            for i in 0..10 {
                write_png(
                    &d.join(part).join(cls).join(format!("{i}.png")),
                    2,
                    2,
                    false,
                    i,
                );
            }
        }
    }
    let s = data::load(&format!("images:{}", d.display())).unwrap();
    assert_eq!(s.test.n, 20);
    assert_eq!(s.train.n + s.validation.n, 20);
    assert_eq!(s.validation.n, 2);
    assert_eq!(s.test.class_names, vec!["a", "b"]);
}

#[test]
fn embedded_mnist_loads_with_verified_digests() {
    let s = data::load("mnist").unwrap();
    assert_eq!(
        (s.train.n, s.validation.n, s.test.n),
        (50_000, 10_000, 10_000)
    );
    assert_eq!(s.train.dim, 784);
    assert_eq!(s.train.image_shape, Some([1, 28, 28]));
    assert_eq!(s.train.labels.as_ref().unwrap()[0], 5); // the famous first "5"
    assert!(s.train.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert_eq!(s.sources.len(), 4);
    assert!(data::embedded_dir().join("mnist").is_dir());
}
