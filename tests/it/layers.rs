//! The import graph of `src/`: every `crate::` path names a top-level module, and each
//! module may reach only its own layer or the ones below, with no loop even inside a layer.
//! Read from the source, so a new upward import fails here rather than in a review.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

/// Lowest first. A module not listed fails the test, so a new one gets a place on purpose.
const LAYERS: &[(&str, &[&str])] = &[
    ("pure", &["domain", "backoff", "replica"]),
    // Send, verify, read: below config, which holds and checks each channel's settings, and
    // below the roles, which act on what a channel read.
    ("channels", &["channels"]),
    (
        "settings and observability",
        &["config", "metrics", "telemetry", "health"],
    ),
    ("outside systems", &["store", "amqp"]),
    (
        "roles",
        &[
            "ingest",
            "dispatch",
            "inbound",
            "aggregate",
            "http",
            "events",
            "housekeeping",
        ],
    ),
    ("app", &["app"]),
    ("tools", &["demo"]),
];

/// Imports between modules of one layer: each a deliberate dependency, so that no role grows
/// a hidden one on another (dispatch once ran inbound's expiry sweep).
const WITHIN_A_LAYER: &[(&str, &str)] = &[
    ("telemetry", "config"),
    ("http", "inbound"),
    ("housekeeping", "inbound"),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
        .unwrap_or_else(|| panic!("src/{module} has no layer in tests/it/layers.rs"))
}

/// The top-level modules named by one `crate::…` path, `crate::{a::x, b}` naming two.
fn targets(after: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after)];
    };
    let (mut depth, mut start, mut found) = (0, 0, Vec::new());
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                found.push(ident(&group[start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                found.push(ident(&group[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    found.retain(|t| !t.is_empty());
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The files behind `#[cfg(test)] mod x;` (x.rs, x/mod.rs and all under x/). Layers bind
/// what ships: a unit test may read the shipped configuration to judge the parser with the
/// labels it ships with, though `domain` itself never reads `config`.
fn test_only(files: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy();
        let dir = file.parent().unwrap();
        let base = if stem == "mod" || stem == "lib" || stem == "main" {
            dir.to_path_buf()
        } else {
            dir.join(&*stem)
        };
        let code = fs::read_to_string(file).unwrap();
        let mut lines = code.lines().map(str::trim).filter(|l| !l.is_empty());
        while let Some(line) = lines.next() {
            if line != "#[cfg(test)]" {
                continue;
            }
            let Some(next) = lines.next() else { break };
            let name = next
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub(super) ")
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let Some(name) = name {
                found.push(base.join(format!("{name}.rs")));
                found.push(base.join(name));
            }
        }
    }
    found
}

/// module → the other top-level modules it imports, each with the files that do.
fn edges() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let unit_tests = test_only(&files);
    files.retain(|f| !unit_tests.iter().any(|t| f.starts_with(t)));
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        // The binaries and the crate root sit above every layer.
        if rel.starts_with("bin/") || rel == "lib.rs" || rel == "main.rs" {
            continue;
        }
        let module = rel
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_owned();
        let code: String = fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        for (at, _) in code.match_indices("crate::") {
            for target in targets(&code[at + "crate::".len()..]) {
                if target != module && target != "self" {
                    let into = graph.entry(module.clone()).or_default();
                    into.entry(target).or_default().insert(rel.clone());
                }
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let mut upward = Vec::new();
    for (from, to) in edges() {
        for (target, files) in to {
            if layer_of(&target) > layer_of(&from) {
                upward.push(format!("{from} → {target} ({files:?})"));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn imports_within_a_layer_are_the_known_ones() {
    let mut unknown = Vec::new();
    for (from, to) in edges() {
        for (target, files) in to {
            let known = WITHIN_A_LAYER.contains(&(from.as_str(), target.as_str()));
            if layer_of(&target) == layer_of(&from) && !known {
                unknown.push(format!("{from} → {target} ({files:?})"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "imports within a layer:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_imports_between_modules_have_no_loop() {
    let graph = edges();
    // Depth-first search; a module met again while still on the path closes a loop.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut cycle: Vec<String> = path[at..].iter().map(|m| m.to_string()).collect();
            cycle.push(module.to_owned());
            return Some(cycle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for target in graph.get(module).into_iter().flat_map(|t| t.keys()) {
            if let Some(cycle) = visit(target, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        if let Some(cycle) = visit(module, &graph, &mut Vec::new(), &mut done) {
            panic!("import loop: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_parser_reads_grouped_and_nested_imports() {
    assert_eq!(targets("app::replica_name()"), ["app"]);
    assert_eq!(
        targets("{\n    aggregate::{self, Aggregator},\n    backoff,\n}"),
        ["aggregate", "backoff"]
    );
}
