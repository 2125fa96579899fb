//! The module layering of `docs/architecture.md`, enforced: every
//! `crate::<module>` path in `src/` must point down the layers, the pure and
//! storage layers stay free of web-framework crates, and no source file grows
//! past 500 lines without saying why at its top.
//!
//! `cargo test --test layering -- --nocapture` prints the import graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lower layers first. A module may import a module of a lower layer, and
/// `config`, the leaf everyone reads; never its own layer's siblings or
/// anything above.
const LAYERS: &[&[&str]] = &[
    &["config"],
    &["domain"],
    &["store"],
    &["registry", "verify"],
    &["access", "analytics"],
    &["webhooks"],
    &["http"],
    &["server"],
    &["app", "probe", "pre_stop", "telemetry"],
    &["cli"],
];

/// Crates a layer must not use, so its types never leak into it.
const FORBIDDEN_CRATES: &[(&str, &[&str])] = &[
    (
        "domain",
        &[
            "axum", "sqlx", "utoipa", "serde", "hyper", "tower", "reqwest", "tokio",
        ],
    ),
    ("store", &["axum", "utoipa", "hyper", "tower", "reqwest"]),
    ("registry", &["axum", "utoipa", "hyper", "tower", "sqlx"]),
    ("access", &["axum", "utoipa", "hyper", "tower", "sqlx"]),
    ("verify", &["axum", "utoipa", "sqlx"]),
    ("webhooks", &["axum", "utoipa", "hyper", "tower", "sqlx"]),
    ("config", &["axum", "utoipa", "sqlx"]),
];

const MAX_LINES: usize = 500;
/// What a longer file must say in its opening comment.
const LENGTH_REASON: &str = "Longer than 500 lines because";

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/http/auth.rs` → `http`);
/// `None` for the crate roots.
fn owner(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let module = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(module, "lib" | "main")).then(|| module.to_string())
}

/// The top-level modules a file names through `crate::`, including grouped
/// imports such as `use crate::{config, domain::Release};`.
fn imported_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let code: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Whether `text` uses the crate `name` (`use name::…`, `name::…` paths or
/// `#[derive(name::…)]`), outside comments.
fn uses_crate(text: &str, name: &str) -> bool {
    let needle = format!("{name}::");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .any(|line| {
            line.match_indices(&needle).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            })
        })
}

struct Tree {
    src: PathBuf,
    files: Vec<(PathBuf, String)>,
}

impl Tree {
    fn read() -> Self {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paths = Vec::new();
        source_files(&src, &mut paths);
        paths.sort();
        let files = paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect();
        Self { src, files }
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(self.src.parent().unwrap())
            .unwrap()
            .display()
            .to_string()
    }
}

#[test]
fn imports_only_point_down_the_layers() {
    let tree = Tree::read();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut violations = Vec::new();
    for (path, text) in &tree.files {
        let Some(module) = owner(&tree.src, path) else {
            continue;
        };
        let Some(own_rank) = rank(&module) else {
            violations.push(format!(
                "{}: module `{module}` has no layer in LAYERS (add it, and to docs/architecture.md)",
                tree.display(path)
            ));
            continue;
        };
        for imported in imported_modules(text) {
            if imported == module {
                continue;
            }
            graph
                .entry(module.clone())
                .or_default()
                .insert(imported.clone());
            let allowed = match rank(&imported) {
                _ if module == "config" => false,
                _ if imported == "config" => true,
                Some(r) => r < own_rank,
                None => false,
            };
            if !allowed {
                violations.push(format!(
                    "{}: `{module}` (layer {own_rank}) imports `crate::{imported}` (layer {})",
                    tree.display(path),
                    rank(&imported).map_or("none".to_string(), |r| r.to_string())
                ));
            }
        }
    }
    println!("module imports (layer: module -> what it imports):");
    for (module, imports) in &graph {
        let imports: Vec<&str> = imports.iter().map(String::as_str).collect();
        println!(
            "  {}: {module} -> {}",
            rank(module).unwrap_or(usize::MAX),
            imports.join(", ")
        );
    }
    assert!(
        violations.is_empty(),
        "imports against the layering rule:\n{}",
        violations.join("\n")
    );
}

#[test]
fn lower_layers_stay_free_of_framework_crates() {
    let tree = Tree::read();
    let mut violations = Vec::new();
    for (path, text) in &tree.files {
        let Some(module) = owner(&tree.src, path) else {
            continue;
        };
        let Some((_, crates)) = FORBIDDEN_CRATES.iter().find(|(m, _)| *m == module) else {
            continue;
        };
        for name in *crates {
            if uses_crate(text, name) {
                violations.push(format!("{}: `{module}` uses `{name}`", tree.display(path)));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "framework types below their layer:\n{}",
        violations.join("\n")
    );
}

#[test]
fn long_files_say_why() {
    let tree = Tree::read();
    let mut unexplained = Vec::new();
    for (path, text) in &tree.files {
        let lines = text.lines().count();
        let opening: String = text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        if lines > MAX_LINES && !opening.contains(LENGTH_REASON) {
            unexplained.push(format!("{} ({lines} lines)", tree.display(path)));
        }
    }
    assert!(
        unexplained.is_empty(),
        "files over {MAX_LINES} lines whose opening comment does not say \"{LENGTH_REASON} …\":\n{}",
        unexplained.join("\n")
    );
}

#[test]
fn the_checks_catch_what_they_claim_to() {
    let grouped = imported_modules("use crate::{config::Settings, http::AppState};\n");
    assert_eq!(
        grouped,
        BTreeSet::from(["config".to_string(), "http".to_string()])
    );
    let inline = imported_modules("let x = crate::registry::Registry::open(s);\n// crate::cli\n");
    assert_eq!(inline, BTreeSet::from(["registry".to_string()]));
    assert!(uses_crate("#[derive(serde::Serialize)]", "serde"));
    assert!(uses_crate("use axum::Json;", "axum"));
    assert!(!uses_crate("use my_axum::Json;", "axum"));
    assert!(!uses_crate("// axum::Json", "axum"));
    assert!(rank("http") > rank("access") && rank("access") > rank("registry"));
}
