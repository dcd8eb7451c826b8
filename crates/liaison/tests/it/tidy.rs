//! Tidiness that review would otherwise have to catch: every source file
//! says what it is for, none is over 800 lines, no crate's top-level
//! modules form a cycle, ARCHITECTURE.md's code map names every module,
//! and the README names every configuration key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crates() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn every_source_file_says_what_it_is_for_and_stays_under_800_lines() {
    let mut files = Vec::new();
    for c in crates() {
        rust_files(&c.join("src"), &mut files);
        if c.join("tests").exists() {
            rust_files(&c.join("tests"), &mut files);
        }
    }
    rust_files(&root().join("fuzz/fuzz_targets"), &mut files);
    assert!(files.len() > 100);
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        if !text.starts_with("//!") {
            problems.push(format!("{} does not start with a //! line", f.display()));
        }
        let n = text.lines().count();
        if n > 800 {
            problems.push(format!("{} has {n} lines (at most 800)", f.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The top-level modules of a crate (files and directories beside
/// `lib.rs`/`main.rs`), each with every file it is made of.
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" || name == "tests" {
            continue;
        }
        let mut files = Vec::new();
        if path.is_dir() {
            rust_files(&path, &mut files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        } else {
            continue;
        }
        out.entry(name).or_default().extend(files);
    }
    out
}

/// Which other top-level modules each module names (`crate::x`), outside
/// its tests.
fn uses(mods: &BTreeMap<String, Vec<PathBuf>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut g = BTreeMap::new();
    for (m, files) in mods {
        let mut used = BTreeSet::new();
        for f in files {
            let text = std::fs::read_to_string(f).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + 7..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if mods.contains_key(&name) && &name != m {
                    used.insert(name);
                }
            }
        }
        g.insert(m.clone(), used);
    }
    g
}

fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut cycle = stack[i..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_owned());
        for next in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, next, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(c) = visit(g, m, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_modules_of_each_crate_form_no_cycle() {
    for c in crates() {
        let mods = modules(&c.join("src"));
        if let Some(cycle) = find_cycle(&uses(&mods)) {
            panic!("{}: modules in a cycle: {}", c.display(), cycle.join(" → "));
        }
    }
    // The check sees a cycle where there is one.
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
    ]
    .into();
    assert!(find_cycle(&g).is_some());
}

#[test]
fn the_code_map_names_every_module() {
    let arch = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for c in crates() {
        for m in modules(&c.join("src")).keys() {
            if !arch.contains(&format!("`{m}`")) && !arch.contains(&format!("`{m}::")) {
                missing.push(format!("{}::{m}", c.file_name().unwrap().to_string_lossy()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name: {missing:?}"
    );
}

#[test]
fn the_readme_names_every_configuration_key() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let config = liaison_node::Config::from_toml_with_env(
        &std::fs::read_to_string(root().join("crates/liaison/tests/it/tidy_config.toml")).unwrap(),
        |_| None,
    )
    .unwrap();
    let mut missing = Vec::new();
    for (var, _) in config.variables().unwrap() {
        // LIAISON_<SECTION>_<KEY>: sections have no underscore.
        let rest = var.strip_prefix("LIAISON_").unwrap().to_ascii_lowercase();
        let (section, key) = rest.split_once('_').unwrap();
        let named = readme.contains(&format!("`{section}.{key}`"))
            || readme.contains(&format!("`{section}.*`"))
            || readme.contains(&format!("{section}.{key}` "))
            || readme.contains(&format!("`{key}`"));
        if !named {
            missing.push(format!("{section}.{key}"));
        }
    }
    assert!(missing.is_empty(), "README.md does not name: {missing:?}");
}

#[test]
fn only_the_node_reaches_the_store() {
    // The listeners and the command line go through `liaison_node` (its
    // fields are private; `Node::store` is for tests); only the benchmarks,
    // which measure the store itself, read it directly. No SQL either.
    let mut files = Vec::new();
    rust_files(&root().join("crates/server/src"), &mut files);
    rust_files(&root().join("crates/liaison/src"), &mut files);
    let bench = root().join("crates/liaison/src/bench");
    let mut problems = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&bench)) {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("liaison_store") || code.contains(".store()") {
                problems.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    // SQL text lives in the store (the benchmarks' reference queries aside),
    // and so does SQLite: the node and the listeners know the store's
    // operations and its opaque `Connection`, never the database library (a
    // second backend implements the same operations behind them).
    let mut node_files = Vec::new();
    rust_files(&root().join("crates/node/src"), &mut node_files);
    for f in node_files
        .iter()
        .chain(files.iter().filter(|f| !f.starts_with(&bench)))
    {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let sql = [
                "SELECT ",
                "INSERT INTO",
                "UPDATE ",
                "DELETE FROM",
                "CREATE TABLE",
            ]
            .iter()
            .any(|k| code.contains(&format!("\"{k}")) || code.trim_start().starts_with(k));
            if sql {
                problems.push(format!("{}:{}: SQL: {}", f.display(), n + 1, line.trim()));
            }
            if code.contains("rusqlite") || code.contains("sqlite(") {
                problems.push(format!(
                    "{}:{}: SQLite: {}",
                    f.display(),
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let server = std::fs::read_to_string(root().join("crates/server/Cargo.toml")).unwrap();
    assert!(
        !server.contains("liaison-store"),
        "the server depends on the store"
    );
    for krate in ["node", "server"] {
        let manifest =
            std::fs::read_to_string(root().join(format!("crates/{krate}/Cargo.toml"))).unwrap();
        assert!(
            !manifest.contains("rusqlite"),
            "crates/{krate} depends on rusqlite"
        );
    }
}
