//! PDQ hashing against the reference implementation (Python `pdqhash`
//! 0.2.8, the C++ code of facebook/ThreatExchange), on generated images and
//! their transformed copies.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::support::{liaison, python, stderr, stdout};

fn distance(a: &str, b: &str) -> u32 {
    let a = liaison_core::pdq::PdqHash::parse(a).unwrap();
    let b = liaison_core::pdq::PdqHash::parse(b).unwrap();
    a.distance(&b)
}

#[test]
fn hashes_match_the_reference_and_survive_transformations() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("images");
    let out = Command::new(python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/python/pdq_reference.py"
        ))
        .arg(&dir)
        .arg("8")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let reference: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(reference.len() >= 8 * 13);

    let files: Vec<String> = reference
        .keys()
        .map(|n| dir.join(n).to_string_lossy().into_owned())
        .collect();
    let mut args = vec!["--json", "hash", "image"];
    args.extend(files.iter().map(String::as_str));
    let out = liaison(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let ours: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(ours.len(), reference.len());

    let mut compared_at_80 = 0;
    let mut ours_by_name = BTreeMap::new();
    for item in &ours {
        let path = item["file"].as_str().unwrap();
        let name = path.rsplit('/').next().unwrap().to_owned();
        let r = &reference[&name];
        let (hash, quality) = (
            item["hash"].as_str().unwrap(),
            item["quality"].as_i64().unwrap(),
        );
        let (ref_hash, ref_quality) = (r["hash"].as_str().unwrap(), r["quality"].as_i64().unwrap());
        assert!(
            (quality - ref_quality).abs() <= 2,
            "{name}: quality {quality}, reference {ref_quality}"
        );
        if ref_quality >= 80 {
            compared_at_80 += 1;
            let d = distance(hash, ref_hash);
            assert!(
                d <= 10,
                "{name}: distance {d} from the reference ({hash} vs {ref_hash})"
            );
        }
        ours_by_name.insert(name, (hash.to_owned(), quality));
    }
    assert!(
        compared_at_80 >= 8 * 10,
        "only {compared_at_80} images of quality ≥ 80"
    );

    // Re-encoded, resized, blurred, grey and RGBA copies stay within the
    // match radius of their original.
    for i in 0..8 {
        let (original, _) = &ours_by_name[&format!("img{i:02}.png")];
        for suffix in [
            "-q95.jpg",
            "-q85.jpg",
            ".webp",
            "-lossless.webp",
            "-half.png",
            "-resized.jpg",
            "-blur.png",
            "-grey.png",
            "-rgba.png",
            "-twice.jpg",
        ] {
            let (copy, _) = &ours_by_name[&format!("img{i:02}{suffix}")];
            let d = distance(original, copy);
            assert!(d <= 31, "img{i:02}{suffix} is {d} bits from its original");
        }
        // Near-flat copies have no detail left to match on.
        assert!(ours_by_name[&format!("img{i:02}-faint.png")].1 < 50);
    }
}

#[test]
fn unreadable_files_are_named_and_the_others_still_hashed() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("not-an-image.jpg");
    std::fs::write(&bad, b"\xff\xd8\xff\xe0 truncated").unwrap();
    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, b"hello").unwrap();
    let good = tmp.path().join("good.png");
    Command::new(python())
        .args([
            "-c",
            "import sys\nfrom PIL import Image\nImage.radial_gradient('L').resize((300, 200)).save(sys.argv[1])",
        ])
        .arg(&good)
        .status()
        .unwrap();
    let out = liaison(&[
        "hash",
        "image",
        bad.to_str().unwrap(),
        good.to_str().unwrap(),
        text.to_str().unwrap(),
        "/nonexistent/x.png",
    ]);
    assert!(!out.status.success());
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(&format!(",{}", good.display())),
        "{}",
        lines[0]
    );
    assert_eq!(lines[0].split(',').next().unwrap().len(), 64);
    let err = stderr(&out);
    assert!(
        err.contains("not-an-image.jpg")
            && err.contains("notes.txt")
            && err.contains("/nonexistent/x.png"),
        "{err}"
    );
    assert!(err.contains("3 of 4 files could not be hashed"), "{err}");
}
