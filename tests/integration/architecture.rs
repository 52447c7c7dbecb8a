//! The house rules of `docs/architecture.md`, checked on the source itself:
//! no import circle between files of `src/`, no function outside tests
//! longer than a screen and a half, no `too_many_lines` escape hatch.
//!
//! The import graph is read textually: every `crate::a::b` or `super::b`
//! path in a file (its `#[cfg(test)]` module excluded) is resolved to the
//! longest prefix that names a file of `src/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::repo;

/// The longest a function may be, in lines (a flat `match` or table
/// included; "about 80" is the aim).
const MAX_FN_LINES: usize = 120;

fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            // Code generated from proto/ (checked fresh by grpc.rs) is not
            // ours to shape.
            if p.is_dir() && !p.ends_with("generated") {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo().join("src"), &mut out);
    out.sort();
    out
}

/// The module path of a file: `src/a/b.rs` and `src/a/b/mod.rs` are `[a, b]`.
fn module_of(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(repo().join("src")).unwrap();
    let mut segs: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if matches!(
        segs.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segs.pop();
    }
    segs
}

/// The text before the file's test module.
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .or_else(|| text.find("\n#[cfg(test)]"))
        .map_or(text, |i| &text[..i])
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every `crate::…` / `super::…` path in `text`, as (root, segments), with
/// `use x::{a, b::c}` groups expanded one level.
fn paths(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for root in ["crate", "super"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(root).map(|i| i + from) {
            from = i + root.len();
            if i > 0 && text[..i].ends_with(|c: char| is_ident(c)) {
                continue;
            }
            let rest = &text[from..];
            let mut segs = Vec::new();
            let mut r = rest;
            while let Some(s) = r.strip_prefix("::") {
                let n = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
                if n == 0 {
                    // a group: `::{a, b::c}`
                    if let Some(g) = s.strip_prefix('{') {
                        let end = g.find('}').unwrap_or(g.len());
                        for item in g[..end].split(',') {
                            let item = item.split(" as ").next().unwrap().trim();
                            let mut full = segs.clone();
                            full.extend(item.split("::").map(str::to_string));
                            if !item.is_empty() {
                                out.push((root.to_string(), full));
                            }
                        }
                    }
                    break;
                }
                segs.push(s[..n].to_string());
                r = &s[n..];
            }
            out.push((root.to_string(), segs));
        }
    }
    out
}

/// The file-level reference graph of `src/`.
fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = sources();
    let by_module: BTreeMap<Vec<String>, PathBuf> = files
        .iter()
        .map(|(p, _)| (module_of(p), p.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for (p, text) in &files {
        let me = module_of(p);
        let mut targets = BTreeSet::new();
        for (root, segs) in paths(without_tests(text)) {
            let mut full: Vec<String> = if root == "crate" {
                Vec::new()
            } else {
                // `super::super::x`: one level up per `super`.
                let ups = 1 + segs.iter().take_while(|s| *s == "super").count();
                me[..me.len().saturating_sub(ups)].to_vec()
            };
            full.extend(segs.into_iter().filter(|s| s != "self" && s != "super"));
            let target = (0..=full.len())
                .rev()
                .find_map(|n| by_module.get(&full[..n]));
            if let Some(t) = target.filter(|t| *t != p) {
                targets.insert(t.clone());
            }
        }
        edges.insert(p.clone(), targets);
    }
    edges
}

/// Strongly connected components with more than one file (Tarjan).
fn circles(edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        edges: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        for w in &s.edges[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.stack.contains(&w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                comp.push(w.clone());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn no_import_circle_between_files() {
    let edges = graph();
    let found: Vec<String> = circles(&edges)
        .into_iter()
        .map(|c| {
            c.iter()
                .map(|p| p.strip_prefix(repo()).unwrap().display().to_string())
                .collect::<Vec<_>>()
                .join(" <-> ")
        })
        .collect();
    assert!(
        found.is_empty(),
        "import circles in src/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let a = PathBuf::from("a.rs");
    let b = PathBuf::from("b.rs");
    let c = PathBuf::from("c.rs");
    let edges = BTreeMap::from([
        (a.clone(), BTreeSet::from([b.clone()])),
        (b.clone(), BTreeSet::from([a.clone(), c.clone()])),
        (c.clone(), BTreeSet::new()),
    ]);
    let found = circles(&edges);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].len(), 2);
    let p = paths("use crate::x::{y, z::w as v};\nfn f() { super::q::r(); }");
    assert!(p.contains(&("crate".into(), vec!["x".into(), "y".into()])));
    assert!(p.contains(&("crate".into(), vec!["x".into(), "z".into(), "w".into()])));
    assert!(p.contains(&("super".into(), vec!["q".into(), "r".into()])));
}

/// Functions as (file, name, first line, length in lines), outside tests.
fn functions() -> Vec<(PathBuf, String, usize, usize)> {
    let mut out = Vec::new();
    for (p, text) in sources() {
        let lines: Vec<&str> = without_tests(&text).lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let Some(at) = t.find("fn ") else { continue };
            let head = &t[..at];
            let words_ok = head.split_whitespace().all(|w| {
                matches!(w, "pub" | "const" | "async" | "unsafe" | "extern")
                    || w.starts_with("pub(")
            });
            if !words_ok || t.starts_with("//") {
                continue;
            }
            let name: String = t[at + 3..].chars().take_while(|c| is_ident(*c)).collect();
            if let Some(n) = body_length(&lines[i..]) {
                out.push((p.clone(), name, i + 1, n));
            }
        }
    }
    out
}

/// Lines from a `fn` line to its closing brace (None for a declaration).
fn body_length(lines: &[&str]) -> Option<usize> {
    let mut depth = 0i64;
    let mut started = false;
    for (k, l) in lines.iter().enumerate() {
        let code = l.split("//").next().unwrap();
        let mut in_str = false;
        let mut prev = ' ';
        for c in code.chars() {
            match c {
                '"' if prev != '\\' && prev != '\'' => in_str = !in_str,
                '{' if !in_str => {
                    depth += 1;
                    started = true;
                }
                '}' if !in_str => depth -= 1,
                _ => {}
            }
            prev = c;
        }
        if started && depth <= 0 {
            return Some(k + 1);
        }
        if !started && code.trim_end().ends_with(';') {
            return None;
        }
    }
    None
}

#[test]
fn functions_fit_on_a_screen() {
    let long: Vec<String> = functions()
        .into_iter()
        .filter(|f| f.3 > MAX_FN_LINES)
        .map(|(p, name, line, n)| {
            format!(
                "{}:{line} fn {name}: {n} lines",
                p.strip_prefix(repo()).unwrap().display()
            )
        })
        .collect();
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into named steps):\n{}",
        long.join("\n")
    );
    let allows: Vec<String> = sources()
        .into_iter()
        .filter(|(_, t)| t.contains("too_many_lines"))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        allows.is_empty(),
        "#[allow(clippy::too_many_lines)] in {allows:?}"
    );
}
