//! The files of `src/` import each other without cycles: a file that uses another (through a
//! `crate::`, `super::` or `self::` path, in a `use` or inline) depends on it, and no chain of
//! such dependencies leads back to where it started. Re-exports (`pub use`: a folder's
//! `mod.rs` presenting its children's items) and unit-test modules at the end of a file
//! (`#[cfg(test)] mod tests`, which may use anything) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["data", "jets"]`) for each file under `src/` (lib.rs is `[]`).
fn modules(src: &Path) -> BTreeMap<Vec<String>, PathBuf> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            let mut parts: Vec<String> = rel
                .iter()
                .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            match parts.last().map(String::as_str) {
                Some("main") => continue,
                Some("lib") | Some("mod") => {
                    parts.pop();
                }
                _ => {}
            }
            found.insert(parts, path);
        }
    }
    found
}

/// The text of a file without line comments, re-exports (`pub use`, `pub(crate) use`: a
/// module's public face, not what its code depends on) and its trailing test module.
fn code(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    let mut in_reexport = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("pub use ") || t.starts_with("pub(crate) use ") {
            in_reexport = true;
        }
        if !in_reexport && !t.starts_with("//") {
            out.push_str(line);
        }
        out.push('\n');
        if in_reexport && line.trim_end().ends_with(';') {
            in_reexport = false;
        }
    }
    out
}

/// Every path starting with `crate`, `super` or `self` in `code`, brace groups expanded one
/// level deep per brace (`super::{a::B, c}` gives `super::a::B` and `super::c`).
fn paths(code: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if starts_word {
            for head in ["crate::", "super::", "self::"] {
                let h: Vec<char> = head.chars().collect();
                if chars[i..].starts_with(&h) {
                    let (found, end) = parse_path(&chars, i);
                    out.extend(found);
                    i = end;
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

/// The path(s) starting at `i`, and where they end.
fn parse_path(chars: &[char], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    loop {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
            i += 1;
        }
        if i > start {
            prefix.push(chars[start..i].iter().collect::<String>());
        }
        if chars[i..].starts_with(&[':', ':']) {
            i += 2;
            if i < chars.len() && chars[i] == '{' {
                // A group: each comma-separated item is a path below the prefix.
                let mut depth = 0;
                let mut item_start = i + 1;
                let mut found = Vec::new();
                let mut j = i;
                while j < chars.len() {
                    match chars[j] {
                        '{' => depth += 1,
                        '}' | ',' if depth == 1 => {
                            let item: String = chars[item_start..j].iter().collect();
                            let item = item.trim();
                            if !item.is_empty() && item != "self" {
                                let sub: Vec<char> = item.chars().collect();
                                let (inner, _) = parse_path(&sub, 0);
                                for p in inner {
                                    found.push([prefix.clone(), p].concat());
                                }
                            } else {
                                found.push(prefix.clone());
                            }
                            item_start = j + 1;
                            if chars[j] == '}' {
                                return (found, j);
                            }
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                return (found, j);
            }
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The module a path refers to from `module`: the longest prefix that is a file's module.
fn target(
    module: &[String],
    path: &[String],
    files: &BTreeMap<Vec<String>, PathBuf>,
) -> Option<Vec<String>> {
    let (base, rest): (Vec<String>, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") | Some("super") => {
            // `self` is the file's module (a `mod.rs` is its folder's), `super` its parent.
            let mut base = module.to_vec();
            let mut k = usize::from(path[0] == "self");
            while k < path.len() && path[k] == "super" {
                base.pop();
                k += 1;
            }
            (base, &path[k..])
        }
        _ => return None,
    };
    let mut full = base;
    full.extend(rest.iter().cloned());
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| files.contains_key(m))
}

#[test]
fn no_file_of_src_imports_itself_through_others() {
    let cycles = cycles_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        cycles.is_empty(),
        "import cycles between files of src/ (each line one cycle):\n{}",
        cycles
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The import cycles between the files under `src`, each as its files' paths (sorted).
fn cycles_in(src: &Path) -> Vec<Vec<String>> {
    let files = modules(src);
    let name = |m: &[String]| -> String {
        let p = files[m].strip_prefix(src).unwrap();
        p.to_string_lossy().into_owned()
    };
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let from = name(module);
        let entry = edges.entry(from.clone()).or_default();
        for p in paths(&code(&text)) {
            if let Some(t) = target(module, &p, &files) {
                let to = name(&t);
                if to != from {
                    entry.insert(to);
                }
            }
        }
    }
    strongly_connected(&edges)
}

/// The strongly connected components of more than one file (Tarjan's algorithm).
fn strongly_connected(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(ws) = s.edges.get(v) {
            for w in ws {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(lw));
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low[v];
                    s.low.insert(v, lv.min(iw));
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v.as_str());
        }
    }
    s.out
}

#[test]
fn the_checker_sees_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges
        .entry("a.rs".into())
        .or_default()
        .insert("b.rs".into());
    edges
        .entry("b.rs".into())
        .or_default()
        .insert("c.rs".into());
    edges
        .entry("c.rs".into())
        .or_default()
        .insert("a.rs".into());
    edges
        .entry("d.rs".into())
        .or_default()
        .insert("a.rs".into());
    assert_eq!(
        strongly_connected(&edges),
        vec![vec!["a.rs".to_string(), "b.rs".into(), "c.rs".into()]]
    );
    let found = paths("use super::{a::B, c};\nlet x = crate::data::EventSet::new();");
    let strings: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        strings,
        ["super::a::B", "super::c", "crate::data::EventSet::new"]
    );
}

#[test]
fn the_checker_finds_a_cycle_in_a_source_tree() {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("lib.rs", "pub mod a;\npub mod b;\npub use a::Thing;\n");
    write(
        "a/mod.rs",
        "pub mod x;\npub mod y;\npub use self::x::Thing;\n",
    );
    // x -> y through a group, y -> x inline: a cycle. b -> a only; its test module and the
    // re-exports do not count.
    write("a/x.rs", "use super::{y::Other, z};\npub struct Thing;\n");
    write(
        "a/y.rs",
        "pub struct Other;\nfn f() { let _ = crate::a::x::Thing; }\n",
    );
    write(
        "b.rs",
        "use crate::a::Thing;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\n",
    );
    assert_eq!(
        cycles_in(dir.path()),
        vec![vec!["a/x.rs".to_string(), "a/y.rs".into()]]
    );
    write("a/y.rs", "pub struct Other;\n");
    assert!(cycles_in(dir.path()).is_empty());
}
