//! `cargo xtask modules <crate-dir>...`: check that the modules of a crate import each other without cycles.
//!
//! The check reads source text only (it never compiles), so it is cheap enough to be a `cargo xtask ci` step.
//!
//! # Which modules
//!
//! The module tree is found the way rustc finds it: from the crate root (`src/lib.rs`, or `src/main.rs` for a
//! crate without a library) through every `mod x;` declaration (`x.rs` or `x/mod.rs`, or the file named by a
//! `#[path = "…"]` attribute). So `src/lib.rs` is the root `crate`, `src/foo.rs` and `src/foo/mod.rs` are `foo`,
//! `src/foo/bar.rs` is `foo::bar`. Files that no declaration reaches are not modules and are skipped; that covers
//! `src/bin/` and `src/main.rs` next to a `src/lib.rs` (separate crates that import the library by its name,
//! so they cannot close a cycle inside it), and test-only file modules (`#[cfg(test)] mod tests;`).
//! Inline modules (`mod x { … }`) belong to their file: the graph has one node per file.
//!
//! # Which imports
//!
//! An edge `a -> b` means that the file of module `a` names a path into module `b`:
//!
//! - in `use` declarations, with nested braces, `self`, globs and renames (`use crate::a::{self, b::{C, D as E}, *}`),
//!   whatever their visibility: a re-export (`pub use x::Y`) in a parent is an edge from the parent to `x`;
//! - in code: `crate::commands::pubsub::Registry`, `super::zsets::g17(…)`, `self::x::y`, `$crate::x` in macros,
//!   and paths that start with a name the module has in scope: a child module (`writer::Writer` in
//!   `store/mod.rs`), a name bound by a `use` (`use crate::format; … format::encode(…)`), or a name that a glob
//!   import brings in (`use super::*; … zsets::g17(…)`).
//!
//! `super` and `self` are relative to the module the path is written in (inline modules included); a path is
//! resolved to the longest prefix that is a module of the crate (`crate::commands::pubsub::Registry` is module
//! `commands::pubsub`). When the first name after that prefix is an import of the module rather than an item of
//! its own, the import is followed: `crate::Error` where `lib.rs` has `pub use error::Error` is an edge to
//! `error`, not to the root (the root only passes the name on), and a name re-exported from another crate
//! (`pub use bytes::Bytes`) is no edge at all. Without this every crate that re-exports its API from `lib.rs`
//! and uses `crate::Error` inside would be one big cycle.
//!
//! Not edges: `mod x;` declarations (a parent declaring its children is structure, not a dependency),
//! references of a module to itself, anything inside comments, doc comments and string literals, attributes
//! (`#[…]`, so `#[path]` and `pub(in crate::x)` visibilities add nothing), and any item under `#[cfg(test)]`
//! (test modules use their parent freely; `#[cfg(all(test, …))]` counts too, `#[cfg(any(test, …))]` does not).
//!
//! This is a lexer and a small parser, not rustc: a path built by a macro, a name shadowed by a local item of
//! the same name, or a name brought in by a glob import of an external crate can fool it, in the direction of
//! extra or missing edges. Block-scoped `use`s count as if they were at module level.
//!
//! # Output
//!
//! One line per crate (`modules: crates/redkit-cache: 7 modules, 14 imports, no cycles`), then, for every
//! strongly connected component of more than one module, its modules and one concrete cycle through them
//! with the file and line of each import. `--verbose` lists every edge, and the files that are not modules.
//! The command fails when any crate has a cycle.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::Result;

/// How deep re-exports and globs are followed before giving up (a guard against `use` loops).
const MAX_DEPTH: usize = 16;

/// A module path below the crate root: `[]` is `crate`, `["commands", "strings"]` is `commands::strings`.
type ModPath = Vec<String>;

/// `1 module`, `2 modules`.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `crate` for the root, `a::b` otherwise.
fn show(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        path.join("::")
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Command line and CI step.
// ---------------------------------------------------------------------------------------------------------------

/// `cargo xtask modules [--verbose] <crate-dir>...`.
pub(crate) fn main(args: &[String]) -> Result {
    const USAGE: &str = "usage: cargo xtask modules [--verbose] <crate-dir>...";
    let mut verbose = false;
    let mut dirs = Vec::new();
    for arg in args {
        match arg.as_str() {
            "-v" | "--verbose" => verbose = true,
            "--report" => verbose = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag:?}; {USAGE}")),
            dir => dirs.push(dir.to_owned()),
        }
    }
    if dirs.is_empty() {
        return Err(USAGE.into());
    }
    let mut cyclic = Vec::new();
    for dir in &dirs {
        // Relative to the current directory, as a user typed it; else relative to the workspace.
        let path = if Path::new(dir).exists() {
            PathBuf::from(dir)
        } else {
            crate::workspace_root().join(dir)
        };
        let report = check(&path, dir.trim_end_matches('/'))?;
        print!("{}", report.render(verbose));
        if report.has_cycles() {
            cyclic.push(report.name.clone());
        }
    }
    if cyclic.is_empty() {
        Ok(())
    } else {
        Err(format!("import cycles between modules in {}", cyclic.join(", ")))
    }
}

/// The `cargo xtask ci` step: every crate under `crates/` must be free of cycles.
pub(crate) fn ci(root: &Path) -> Result {
    let crates_dir = root.join("crates");
    let entries =
        std::fs::read_dir(&crates_dir).map_err(|e| format!("listing {}: {e}", crates_dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("listing {}: {e}", crates_dir.display()))?;
        let path = entry.path();
        if path.join("Cargo.toml").is_file() && path.join("src").is_dir() {
            names.push(format!("crates/{}", entry.file_name().to_string_lossy()));
        }
    }
    names.sort();
    let mut failed = Vec::new();
    for name in &names {
        let report = check(&root.join(name), name)?;
        print!("{}", report.render(false));
        if report.has_cycles() {
            failed.push(name.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("import cycles between modules in {}", failed.join(", ")))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Report.
// ---------------------------------------------------------------------------------------------------------------

/// Where an edge comes from: the first place in the importing file that names the imported module.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Witness {
    file: String,
    line: u32,
    /// The path as written, e.g. `use super::Reply` or `super::zsets::g17`.
    text: String,
}

/// A strongly connected component of more than one module.
#[derive(Debug)]
struct Cycle {
    /// Its modules, sorted.
    modules: Vec<usize>,
    /// One cycle through its first module, as a list of edges.
    path: Vec<(usize, usize)>,
}

/// The module graph of one crate.
#[derive(Debug)]
pub(crate) struct Report {
    /// The crate directory as given (used in messages).
    name: String,
    /// File modules, sorted; graph nodes are indices into this.
    modules: Vec<ModPath>,
    /// `(from, to)` → where the first import of `to` in the file of `from` is.
    edges: BTreeMap<(usize, usize), Witness>,
    /// Strongly connected components of more than one module.
    cycles: Vec<Cycle>,
    /// Source files under `src/` that are not modules of the crate (bins, test-only modules, strays).
    not_modules: Vec<String>,
}

impl Report {
    fn has_cycles(&self) -> bool {
        !self.cycles.is_empty()
    }

    fn render(&self, verbose: bool) -> String {
        let mut out = String::new();
        let verdict = match self.cycles.len() {
            0 => "no cycles".to_owned(),
            n => {
                let sizes: Vec<String> = self.cycles.iter().map(|c| c.modules.len().to_string()).collect();
                format!(
                    "{} (strongly connected components of {} modules)",
                    plural(n, "cycle"),
                    sizes.join(", ")
                )
            }
        };
        let _ = writeln!(
            out,
            "modules: {}: {}, {}, {verdict}",
            self.name,
            plural(self.modules.len(), "module"),
            plural(self.edges.len(), "import"),
        );
        let edge = |out: &mut String, (from, to): (usize, usize)| {
            if let Some(w) = self.edges.get(&(from, to)) {
                let _ = writeln!(
                    out,
                    "    {} -> {} ({}:{} {})",
                    show(&self.modules[from]),
                    show(&self.modules[to]),
                    w.file,
                    w.line,
                    w.text
                );
            }
        };
        for (i, cycle) in self.cycles.iter().enumerate() {
            let names: Vec<String> = cycle.modules.iter().map(|&m| show(&self.modules[m])).collect();
            let _ = writeln!(
                out,
                "  cycle {} of {} modules: {}",
                i + 1,
                cycle.modules.len(),
                names.join(", ")
            );
            for &e in &cycle.path {
                edge(&mut out, e);
            }
        }
        if verbose {
            let _ = writeln!(out, "  imports:");
            for &e in self.edges.keys() {
                edge(&mut out, e);
            }
            if !self.not_modules.is_empty() {
                let _ = writeln!(
                    out,
                    "  not modules of the crate (skipped): {}",
                    self.not_modules.join(", ")
                );
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Crate: the module tree, the imports, the graph.
// ---------------------------------------------------------------------------------------------------------------

/// Where [`analyse`] reads source files: the file system, or a map in tests. `Ok(None)` when there is no file.
type Reader<'a> = dyn FnMut(&Path) -> Result<Option<String>> + 'a;

/// Analyse the crate in `dir`; `name` is how messages name it (and the prefix of the file names they show).
pub(crate) fn check(dir: &Path, name: &str) -> Result<Report> {
    let src = dir.join("src");
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name}: neither src/lib.rs nor src/main.rs exists"))?;
    let mut read = |path: &Path| -> Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("reading {}: {e}", path.display())),
        }
    };
    let shown = |path: &Path| match path.strip_prefix(dir) {
        Ok(rel) => format!("{name}/{}", rel.display()),
        Err(_) => path.display().to_string(),
    };
    let (mut report, reached) = analyse(name, &root_file, &mut read, &shown)?;
    let mut all = Vec::new();
    list_rs_files(&src, &mut all)?;
    let reached: BTreeSet<PathBuf> = reached.into_iter().collect();
    report.not_modules = all
        .iter()
        .filter(|p| !reached.contains(*p))
        .map(|p| shown(p))
        .collect();
    report.not_modules.sort();
    Ok(report)
}

/// Every `.rs` file under `dir`.
fn list_rs_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("listing {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("listing {}: {e}", dir.display()))?
            .path();
        if path.is_dir() {
            list_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The module tree from `root_file`, its imports and its cycles; also the files of the modules.
fn analyse(
    name: &str,
    root_file: &Path,
    read: &mut Reader<'_>,
    shown: &dyn Fn(&Path) -> String,
) -> Result<(Report, Vec<PathBuf>)> {
    let root_text =
        read(root_file)?.ok_or_else(|| format!("reading {}: no such file", root_file.display()))?;
    // (module, file, whether the file is a `mod.rs`-like one whose children live next to it, its text).
    let mut queue = VecDeque::from([(ModPath::new(), root_file.to_path_buf(), true, root_text)]);
    let mut files: Vec<(ModPath, PathBuf, Scan)> = Vec::new();
    let mut seen = BTreeSet::new();
    while let Some((module, file, mod_rs, text)) = queue.pop_front() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let scan = scan(&text, &module);
        for decl in &scan.mods {
            let mut child = module.clone();
            child.extend(decl.chain.iter().cloned());
            child.push(decl.name.clone());
            match child_file(&file, mod_rs, decl, read)? {
                Some((path, mod_rs, text)) => queue.push_back((child, path, mod_rs, text)),
                None => eprintln!(
                    "warning: {}:{}: no file for `mod {}` (skipped)",
                    shown(&file),
                    decl.line,
                    decl.name
                ),
            }
        }
        files.push((module, file, scan));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));

    // Every module (file and inline) and the file module that holds it.
    let mut owner: BTreeMap<ModPath, usize> = BTreeMap::new();
    let mut scopes: BTreeMap<ModPath, Scope> = BTreeMap::new();
    for (i, (module, _, scan)) in files.iter_mut().enumerate() {
        owner.insert(module.clone(), i);
        for inline in &scan.inline {
            owner.insert(inline.clone(), i);
        }
        scopes.append(&mut scan.scopes);
    }
    let modules: BTreeSet<ModPath> = owner.keys().cloned().collect();
    let resolver = Resolver {
        modules: &modules,
        scopes: &scopes,
    };

    let mut edges: BTreeMap<(usize, usize), Witness> = BTreeMap::new();
    for (from, (_, file, scan)) in files.iter().enumerate() {
        for r in &scan.refs {
            let Some(target) = resolver.resolve(&r.path) else {
                continue;
            };
            let Some(&to) = owner.get(&target) else { continue };
            if to != from {
                edges.entry((from, to)).or_insert_with(|| Witness {
                    file: shown(file),
                    line: r.line,
                    text: r.text.clone(),
                });
            }
        }
    }
    let mut adj = vec![Vec::new(); files.len()];
    for &(from, to) in edges.keys() {
        adj[from].push(to);
    }
    let cycles = strongly_connected(&adj)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|modules| Cycle {
            path: cycle_through(&modules, &adj),
            modules,
        })
        .collect();
    let report = Report {
        name: name.to_owned(),
        modules: files.iter().map(|f| f.0.clone()).collect(),
        edges,
        cycles,
        not_modules: Vec::new(),
    };
    Ok((report, files.into_iter().map(|f| f.1).collect()))
}

/// The file of the module that `decl` (in `file`) declares, whether it is `mod.rs`-like, and its text.
fn child_file(
    file: &Path,
    mod_rs: bool,
    decl: &ModDecl,
    read: &mut Reader<'_>,
) -> Result<Option<(PathBuf, bool, String)>> {
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    // Where children of `file` live: next to a `mod.rs` (or the crate root), else in a directory named after it.
    let mut base = match (mod_rs, file.file_stem()) {
        (false, Some(stem)) => dir.join(stem),
        _ => dir.clone(),
    };
    base.extend(&decl.chain);
    let candidates = match &decl.path_attr {
        // `#[path]` outside inline modules is relative to the declaring file's directory.
        Some(p) if decl.chain.is_empty() => vec![(dir.join(p), true)],
        Some(p) => vec![(base.join(p), true)],
        None => vec![
            (base.join(format!("{}.rs", decl.name)), false),
            (base.join(&decl.name).join("mod.rs"), true),
        ],
    };
    for (path, mod_rs) in candidates {
        if let Some(text) = read(&path)? {
            return Ok(Some((path, mod_rs, text)));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------------------------
// Graph: strongly connected components (Tarjan) and a cycle through one.
// ---------------------------------------------------------------------------------------------------------------

/// The strongly connected components of the graph `adj` (node → successors), each sorted.
fn strongly_connected(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct Tarjan<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            let adj = self.adj;
            for &w in &adj[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if self.index[v] == Some(self.low[v]) {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                self.out.push(component);
            }
        }
    }
    let n = adj.len();
    let mut t = Tarjan {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.out.sort();
    t.out
}

/// A shortest cycle through the first node of `component` that stays inside it, as a list of edges.
fn cycle_through(component: &[usize], adj: &[Vec<usize>]) -> Vec<(usize, usize)> {
    let Some(&start) = component.first() else {
        return Vec::new();
    };
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        for &w in &adj[u] {
            if !inside.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![(u, start)];
                let mut x = u;
                while x != start {
                    let Some(&p) = prev.get(&x) else { break };
                    path.push((p, x));
                    x = p;
                }
                path.reverse();
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(u);
                queue.push_back(w);
            }
        }
    }
    Vec::new()
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution: from a path as written to the module it names.
// ---------------------------------------------------------------------------------------------------------------

/// A path as written in module `context` (a file module or an inline one), e.g. `super::x::Y`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RawPath {
    context: ModPath,
    segs: Vec<String>,
}

/// What a module has in scope, as far as paths into it are concerned.
#[derive(Debug, Default)]
struct Scope {
    /// Names bound by `use` (`use a::B` binds `B`, `use a::B as C` binds `C`, `use a::{self}` binds `a`).
    bindings: BTreeMap<String, RawPath>,
    /// Targets of glob imports (`use a::*` → `a`).
    globs: Vec<RawPath>,
    /// Names of the module's own items (`fn`, `struct`, `enum`, `union`, `trait`, `type`, `const`, `static`).
    items: BTreeSet<String>,
}

struct Resolver<'a> {
    modules: &'a BTreeSet<ModPath>,
    scopes: &'a BTreeMap<ModPath, Scope>,
}

impl Resolver<'_> {
    /// The module a path names: the longest prefix that is a module, following imports; `None` outside the crate.
    fn resolve(&self, path: &RawPath) -> Option<ModPath> {
        let abs = self.absolute(path, 0)?;
        self.target(&abs, 0)
    }

    fn scope(&self, module: &[String]) -> Option<&Scope> {
        self.scopes.get(module)
    }

    fn is_module(&self, parent: &[String], name: &str) -> bool {
        let mut path = parent.to_vec();
        path.push(name.to_owned());
        self.modules.contains(&path)
    }

    /// The path from the crate root (`crate::` left out), or `None` when it leads out of the crate.
    fn absolute(&self, path: &RawPath, depth: usize) -> Option<Vec<String>> {
        let (first, rest) = path.segs.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" | "super" => {
                let mut base = path.context.clone();
                let mut segs = if first == "self" { rest } else { &path.segs[..] };
                while let Some((s, tail)) = segs.split_first() {
                    if s != "super" {
                        break;
                    }
                    base.pop()?;
                    segs = tail;
                }
                base.extend(segs.iter().cloned());
                Some(base)
            }
            name => {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let scope = self.scope(&path.context);
                let here = || {
                    let mut p = path.context.clone();
                    p.extend(path.segs.iter().cloned());
                    Some(p)
                };
                if let Some(binding) = scope.and_then(|s| s.bindings.get(name)) {
                    let mut abs = self.absolute(binding, depth + 1)?;
                    abs.extend(rest.iter().cloned());
                    return Some(abs);
                }
                if self.is_module(&path.context, name) || scope.is_some_and(|s| s.items.contains(name)) {
                    return here();
                }
                for glob in scope.map(|s| &s.globs[..]).unwrap_or_default() {
                    if let Some(mut abs) = self.absolute(glob, depth + 1)
                        && self.defines(&abs, name, depth + 1)
                    {
                        abs.extend(path.segs.iter().cloned());
                        return Some(abs);
                    }
                }
                // An extern crate, a prelude name, a generic parameter, `Self`…
                None
            }
        }
    }

    /// Whether `name` is a child module, an item or an import of `module`.
    fn defines(&self, module: &[String], name: &str, depth: usize) -> bool {
        if self.is_module(module, name) {
            return true;
        }
        let Some(scope) = self.scope(module) else {
            return false;
        };
        scope.items.contains(name)
            || scope.bindings.contains_key(name)
            || (depth < MAX_DEPTH
                && scope.globs.iter().any(|g| {
                    self.absolute(g, depth + 1)
                        .is_some_and(|abs| self.defines(&abs, name, depth + 1))
                }))
    }

    /// The module that the absolute path `abs` lands in, following `use` bindings of the modules on the way.
    fn target(&self, abs: &[String], depth: usize) -> Option<ModPath> {
        let mut cur = ModPath::new();
        for (i, seg) in abs.iter().enumerate() {
            if self.is_module(&cur, seg) {
                cur.push(seg.clone());
                continue;
            }
            let Some(scope) = self.scope(&cur) else { break };
            if depth >= MAX_DEPTH || scope.items.contains(seg) {
                break;
            }
            if let Some(binding) = scope.bindings.get(seg) {
                // `cur` only passes the name on: the path leads where the import does (maybe out of the crate).
                let mut next = self.absolute(binding, depth + 1)?;
                next.extend(abs[i + 1..].iter().cloned());
                return self.target(&next, depth + 1);
            }
            for glob in &scope.globs {
                if let Some(mut next) = self.absolute(glob, depth + 1)
                    && self.defines(&next, seg, depth + 1)
                {
                    next.extend(abs[i..].iter().cloned());
                    return self.target(&next, depth + 1);
                }
            }
            break;
        }
        Some(cur)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer: identifiers, `::` and punctuation, with comments and literals dropped.
// ---------------------------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// An identifier or keyword; `raw` for `r#name` (which is never a keyword).
    Ident { name: String, raw: bool },
    /// `::`.
    PathSep,
    /// Any other punctuation character.
    Punct(char),
    /// A string literal's contents (escapes left as written), for `#[path = "…"]`.
    Str(String),
    /// Any other literal (number, character, byte), or a lifetime.
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    tok: Tok,
    line: u32,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Split Rust source into tokens. Never fails: unterminated comments and literals run to the end.
fn lex(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut i = 0;
    // Skip from `i` to the end of a quoted literal closed by `close` (after `\` escapes); count its lines.
    let quoted = |mut i: usize, close: char, line: &mut u32| -> (usize, String) {
        let mut text = String::new();
        while i < c.len() && c[i] != close {
            if c[i] == '\\' && i + 1 < c.len() {
                text.push(c[i]);
                i += 1;
            }
            if c[i] == '\n' {
                *line += 1;
            }
            text.push(c[i]);
            i += 1;
        }
        (i + 1, text)
    };
    while i < c.len() {
        let ch = c[i];
        let start_line = line;
        let mut push = |tok: Tok| {
            out.push(Token {
                tok,
                line: start_line,
            })
        };
        match ch {
            '\n' => {
                line += 1;
                i += 1;
            }
            w if w.is_whitespace() => i += 1,
            '/' if at(i + 1) == '/' => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                // Block comments nest.
                let mut depth = 0usize;
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                let (next, text) = quoted(i + 1, '"', &mut line);
                push(Tok::Str(text));
                i = next;
            }
            '\'' => {
                if at(i + 1) == '\\' {
                    // An escaped character literal: '\n', '\'', '\u{1F600}'.
                    let (next, _) = quoted(i + 1, '\'', &mut line);
                    i = next;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    // A lifetime or a label.
                    i += 1;
                    while i < c.len() && is_ident_continue(c[i]) {
                        i += 1;
                    }
                }
                push(Tok::Other);
            }
            ':' if at(i + 1) == ':' => {
                push(Tok::PathSep);
                i += 2;
            }
            d if d.is_ascii_digit() => {
                while i < c.len() && is_ident_continue(c[i]) {
                    i += 1;
                }
                push(Tok::Other);
            }
            s if is_ident_start(s) => {
                let begin = i;
                while i < c.len() && is_ident_continue(c[i]) {
                    i += 1;
                }
                let word: String = c[begin..i].iter().collect();
                match (word.as_str(), at(i)) {
                    // Raw strings: r"…", r#"…"#, br"…", cr"…".
                    ("r" | "br" | "cr", '"' | '#') if at(i) == '"' || matches!(at(i + 1), '"' | '#') => {
                        let mut hashes = 0;
                        while at(i) == '#' {
                            hashes += 1;
                            i += 1;
                        }
                        i += 1; // the opening quote
                        let begin = i;
                        loop {
                            if i >= c.len() {
                                break;
                            }
                            if c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                                break;
                            }
                            if c[i] == '\n' {
                                line += 1;
                            }
                            i += 1;
                        }
                        let text: String = c[begin..i.min(c.len())].iter().collect();
                        i += 1 + hashes;
                        push(Tok::Str(text));
                    }
                    // A raw identifier.
                    ("r", '#') if is_ident_start(at(i + 1)) => {
                        let begin = i + 1;
                        i += 1;
                        while i < c.len() && is_ident_continue(c[i]) {
                            i += 1;
                        }
                        push(Tok::Ident {
                            name: c[begin..i].iter().collect(),
                            raw: true,
                        });
                    }
                    // Byte and C strings, byte characters.
                    ("b" | "c", '"') => {
                        let (next, text) = quoted(i + 1, '"', &mut line);
                        push(Tok::Str(text));
                        i = next;
                    }
                    ("b", '\'') => {
                        let (next, _) = quoted(i + 1, '\'', &mut line);
                        push(Tok::Other);
                        i = next;
                    }
                    _ => push(Tok::Ident {
                        name: word,
                        raw: false,
                    }),
                }
            }
            p => {
                push(Tok::Punct(p));
                i += 1;
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// Parser: the `use` trees, paths, `mod` declarations and items of one file.
// ---------------------------------------------------------------------------------------------------------------

/// A path that may name a module of the crate, where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Ref {
    path: RawPath,
    line: u32,
    /// As written: `use super::Reply`, `super::zsets::g17`.
    text: String,
}

/// A `mod name;` declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ModDecl {
    /// Inline modules between the file's module and the declaration (`mod a { mod b; }` → `["a"]`).
    chain: Vec<String>,
    name: String,
    /// A `#[path = "…"]` attribute.
    path_attr: Option<String>,
    line: u32,
}

/// What one file says about modules.
#[derive(Debug, Default)]
struct Scan {
    refs: Vec<Ref>,
    mods: Vec<ModDecl>,
    /// Inline modules (`mod x { … }`), as module paths.
    inline: Vec<ModPath>,
    /// Scopes of the file's module and its inline modules.
    scopes: BTreeMap<ModPath, Scope>,
}

/// A bracket the parser is inside: an inline module's braces, or any other bracket.
enum Frame {
    Module(String),
    Other,
}

/// The attribute kinds the parser cares about.
enum Attr {
    /// `cfg(test)` or `cfg(all(test, …))`: the item is test-only.
    Test,
    /// `path = "…"`.
    Path(String),
    Other,
}

/// Words that follow an item keyword without being the item's name.
const NOT_NAMES: &[&str] = &["fn", "mut", "unsafe", "extern", "const", "async", "_"];

/// Scan a file of module `module`.
fn scan(text: &str, module: &[String]) -> Scan {
    let tokens = lex(text);
    let mut p = Parser {
        toks: &tokens,
        pos: 0,
        module: module.to_vec(),
        stack: Vec::new(),
        scan: Scan::default(),
    };
    p.run();
    p.scan
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    module: ModPath,
    stack: Vec<Frame>,
    scan: Scan,
}

impl<'a> Parser<'a> {
    fn tok(&self, ahead: usize) -> Option<&'a Tok> {
        self.toks.get(self.pos + ahead).map(|t| &t.tok)
    }

    /// The identifier (not raw: a keyword) `ahead` tokens on.
    fn keyword(&self, ahead: usize) -> Option<&'a str> {
        match self.tok(ahead) {
            Some(Tok::Ident { name, raw: false }) => Some(name),
            _ => None,
        }
    }

    fn ident(&self, ahead: usize) -> Option<&'a str> {
        match self.tok(ahead) {
            Some(Tok::Ident { name, .. }) => Some(name),
            _ => None,
        }
    }

    fn is_punct(&self, ahead: usize, c: char) -> bool {
        self.tok(ahead) == Some(&Tok::Punct(c))
    }

    fn line(&self) -> u32 {
        self.toks.get(self.pos).or(self.toks.last()).map_or(0, |t| t.line)
    }

    /// The inline modules the parser is in.
    fn chain(&self) -> Vec<String> {
        self.stack
            .iter()
            .filter_map(|f| match f {
                Frame::Module(name) => Some(name.clone()),
                Frame::Other => None,
            })
            .collect()
    }

    /// The module the parser is in.
    fn context(&self) -> ModPath {
        let mut m = self.module.clone();
        m.extend(self.chain());
        m
    }

    fn at_module_level(&self) -> bool {
        matches!(self.stack.last(), None | Some(Frame::Module(_)))
    }

    fn scope(&mut self) -> &mut Scope {
        let context = self.context();
        self.scan.scopes.entry(context).or_default()
    }

    fn run(&mut self) {
        self.scope(); // the file's module has a scope even when it is empty
        let mut path_attr = None;
        while let Some(tok) = self.tok(0).cloned() {
            match tok {
                Tok::Punct('#') => {
                    let inner = self.is_punct(1, '!');
                    match self.attribute() {
                        Some(Attr::Test) if inner => {
                            // `#![cfg(test)]`: the rest of the enclosing module is test-only.
                            self.skip_to_close();
                        }
                        Some(Attr::Test) => {
                            while self.is_punct(0, '#') && self.attribute().is_some() {}
                            self.skip_item();
                        }
                        Some(Attr::Path(p)) => {
                            path_attr = Some(p);
                            continue;
                        }
                        Some(Attr::Other) => continue,
                        None => self.pos += 1,
                    }
                }
                Tok::Punct('{' | '(' | '[') => {
                    self.stack.push(Frame::Other);
                    self.pos += 1;
                }
                Tok::Punct('}' | ')' | ']') => {
                    self.stack.pop();
                    self.pos += 1;
                }
                Tok::PathSep => {
                    // `::name::…`: a path into another crate.
                    self.pos += 1;
                    while self.ident(0).is_some() && self.tok(1) == Some(&Tok::PathSep) {
                        self.pos += 2;
                    }
                }
                Tok::Ident { name, raw } => {
                    let keyword = if raw { "" } else { name.as_str() };
                    match keyword {
                        "use" => {
                            self.pos += 1;
                            self.use_decl();
                        }
                        "pub" if self.is_punct(1, '(') => {
                            // `pub(crate)`, `pub(in crate::a)`: a visibility, not an import.
                            self.pos += 1;
                            self.skip_group();
                        }
                        "mod" if self.ident(1).is_some() && self.at_module_level() => {
                            let name = self.ident(1).unwrap_or_default().to_owned();
                            let line = self.line();
                            if self.is_punct(2, ';') {
                                let chain = self.chain();
                                self.scan.mods.push(ModDecl {
                                    chain,
                                    name,
                                    path_attr: path_attr.take(),
                                    line,
                                });
                                self.pos += 3;
                            } else if self.is_punct(2, '{') {
                                self.stack.push(Frame::Module(name));
                                self.scan.inline.push(self.context());
                                self.scope();
                                self.pos += 3;
                            } else {
                                self.pos += 2;
                            }
                        }
                        "fn" | "struct" | "enum" | "union" | "trait" | "type" | "const" | "static"
                            if self.at_module_level() =>
                        {
                            let mut ahead = 1;
                            while self.keyword(ahead).is_some_and(|w| NOT_NAMES.contains(&w)) {
                                ahead += 1;
                            }
                            if let Some(item) = self.ident(ahead).map(str::to_owned) {
                                self.scope().items.insert(item);
                            }
                            self.pos += 1;
                        }
                        _ => self.path(),
                    }
                }
                _ => self.pos += 1,
            }
            path_attr = None;
        }
    }

    /// At `#`: parse `#[…]` or `#![…]`; `None` (nothing consumed) when no `[` follows.
    fn attribute(&mut self) -> Option<Attr> {
        let open = if self.is_punct(1, '!') { 2 } else { 1 };
        if !self.is_punct(open, '[') {
            return None;
        }
        self.pos += open;
        let begin = self.pos + 1;
        self.skip_group();
        let end = self.pos.saturating_sub(1).max(begin);
        let inner: Vec<&Tok> = self.toks[begin..end].iter().map(|t| &t.tok).collect();
        let word = |t: &Tok, w: &str| matches!(t, Tok::Ident { name, raw: false } if name == w);
        match inner.as_slice() {
            [cfg, Tok::Punct('('), args @ .., Tok::Punct(')')] if word(cfg, "cfg") => {
                let test = match args {
                    [t] => word(t, "test"),
                    [all, Tok::Punct('('), rest @ ..] if word(all, "all") => {
                        // `test` as a direct argument of `all(…)`.
                        let mut depth = 0usize;
                        rest.iter().any(|t| {
                            match t {
                                Tok::Punct('(') => depth += 1,
                                Tok::Punct(')') => depth = depth.saturating_sub(1),
                                _ => {}
                            }
                            depth == 0 && word(t, "test")
                        })
                    }
                    _ => false,
                };
                Some(if test { Attr::Test } else { Attr::Other })
            }
            [path, Tok::Punct('='), Tok::Str(p)] if word(path, "path") => Some(Attr::Path(p.clone())),
            _ => Some(Attr::Other),
        }
    }

    /// At an opening bracket: skip to just after its closing one.
    fn skip_group(&mut self) {
        let mut depth = 0usize;
        while let Some(tok) = self.tok(0) {
            match tok {
                Tok::Punct('{' | '(' | '[') => depth += 1,
                Tok::Punct('}' | ')' | ']') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Skip to the bracket that closes the one the parser is in (left for [`Parser::run`] to pop).
    fn skip_to_close(&mut self) {
        let mut depth = 0usize;
        while let Some(tok) = self.tok(0) {
            match tok {
                Tok::Punct('{' | '(' | '[') => depth += 1,
                Tok::Punct('}' | ')' | ']') => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// Skip one item, statement, field or match arm: to a `;` (or, below module level, a `,`) outside
    /// brackets, or past the `}` of its body, or up to the bracket that closes the one the parser is in.
    fn skip_item(&mut self) {
        let module_level = self.at_module_level();
        let mut depth = 0usize;
        while let Some(tok) = self.tok(0) {
            match tok {
                Tok::Punct('{' | '(' | '[') => depth += 1,
                Tok::Punct(close @ ('}' | ')' | ']')) => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 && *close == '}' {
                        self.pos += 1;
                        return;
                    }
                }
                Tok::Punct(';') if depth == 0 => {
                    self.pos += 1;
                    return;
                }
                Tok::Punct(',') if depth == 0 && !module_level => {
                    self.pos += 1;
                    return;
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    /// At an identifier that is no item keyword: a path like `crate::a::B` or `zsets::g17`, or nothing.
    fn path(&mut self) {
        let prev = self
            .pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map(|t| &t.tok);
        let first = self.ident(0).unwrap_or_default();
        let continues = match prev {
            // `a::b`: a later segment of a path already seen (or skipped).
            Some(Tok::PathSep) => true,
            // `x.method::<T>()`: a method, not a path.
            Some(Tok::Punct('.')) => true,
            // `$crate::x` counts as `crate::x`; `$var::x` is a macro variable.
            Some(Tok::Punct('$')) => first != "crate",
            _ => false,
        };
        if continues || self.tok(1) != Some(&Tok::PathSep) {
            self.pos += 1;
            return;
        }
        let line = self.line();
        let mut segs = vec![first.to_owned()];
        self.pos += 1;
        while self.tok(0) == Some(&Tok::PathSep) {
            let Some(seg) = self.ident(1) else { break };
            segs.push(seg.to_owned());
            self.pos += 2;
        }
        let text = segs.join("::");
        let path = RawPath {
            context: self.context(),
            segs,
        };
        self.scan.refs.push(Ref { path, line, text });
    }

    /// After `use`: a use tree up to its `;`.
    fn use_decl(&mut self) {
        if self.tok(0) == Some(&Tok::PathSep) {
            // `use ::name::…`: another crate.
            self.skip_item();
            return;
        }
        let mut leaves = Vec::new();
        self.use_tree(Vec::new(), &mut leaves);
        if self.is_punct(0, ';') {
            self.pos += 1;
        }
        let context = self.context();
        for leaf in leaves {
            let path = RawPath {
                context: context.clone(),
                segs: leaf.segs,
            };
            let mut text = format!("use {}", path.segs.join("::"));
            match &leaf.binding {
                Binding::Glob => text.push_str("::*"),
                Binding::Renamed(name) => {
                    let _ = write!(text, " as {name}");
                }
                Binding::Name(_) => {}
            }
            match leaf.binding {
                Binding::Glob => self.scope().globs.push(path.clone()),
                Binding::Name(name) | Binding::Renamed(name) if name != "_" => {
                    self.scope().bindings.insert(name, path.clone());
                }
                _ => {}
            }
            self.scan.refs.push(Ref {
                path,
                line: leaf.line,
                text,
            });
        }
    }

    /// One use tree under `prefix`: `a::b`, `a::b as c`, `a::*`, `a::{…}`.
    fn use_tree(&mut self, prefix: Vec<String>, leaves: &mut Vec<UseLeaf>) {
        let mut segs = prefix;
        loop {
            match self.tok(0) {
                Some(Tok::Ident { name, .. }) => {
                    segs.push(name.clone());
                    let line = self.line();
                    self.pos += 1;
                    if self.tok(0) == Some(&Tok::PathSep) {
                        self.pos += 1;
                        continue;
                    }
                    if segs.len() > 1 && segs.last().is_some_and(|s| s == "self") {
                        segs.pop(); // `a::{self}` is `a`
                    }
                    let name = segs.last().cloned().unwrap_or_default();
                    let binding = if self.keyword(0) == Some("as") {
                        let renamed = self.ident(1).unwrap_or("_").to_owned();
                        self.pos += 2;
                        Binding::Renamed(renamed)
                    } else {
                        Binding::Name(name)
                    };
                    leaves.push(UseLeaf { segs, binding, line });
                    return;
                }
                Some(Tok::Punct('*')) => {
                    let line = self.line();
                    self.pos += 1;
                    leaves.push(UseLeaf {
                        segs,
                        binding: Binding::Glob,
                        line,
                    });
                    return;
                }
                Some(Tok::Punct('{')) => {
                    self.pos += 1;
                    loop {
                        if self.is_punct(0, '}') {
                            self.pos += 1;
                            return;
                        }
                        let before = self.pos;
                        self.use_tree(segs.clone(), leaves);
                        if self.is_punct(0, ',') {
                            self.pos += 1;
                        } else if self.pos == before || !self.is_punct(0, '}') {
                            // Malformed: give up on this tree, leave the rest to the main loop.
                            return;
                        }
                    }
                }
                _ => return,
            }
        }
    }
}

/// One imported path of a use tree.
struct UseLeaf {
    segs: Vec<String>,
    binding: Binding,
    line: u32,
}

enum Binding {
    Name(String),
    Renamed(String),
    Glob,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths `src` (a file of module `module`) names, as written.
    fn refs(src: &str, module: &[&str]) -> Vec<String> {
        let module: ModPath = module.iter().map(|s| s.to_string()).collect();
        scan(src, &module).refs.into_iter().map(|r| r.text).collect()
    }

    /// Analyse a crate made of `files` (paths from the crate directory, e.g. `src/lib.rs`).
    fn analyse_files(files: &[(&str, &str)]) -> Report {
        let map: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect();
        let mut read = |p: &Path| Ok(map.get(p).cloned());
        let (report, _) = analyse("test", Path::new("src/lib.rs"), &mut read, &|p| {
            p.display().to_string()
        })
        .expect("analyse");
        report
    }

    /// The edges of a report, as `from -> to`.
    fn edges(report: &Report) -> Vec<String> {
        report
            .edges
            .keys()
            .map(|&(a, b)| format!("{} -> {}", show(&report.modules[a]), show(&report.modules[b])))
            .collect()
    }

    #[test]
    fn comments_doc_comments_and_literals_are_not_paths() {
        let src = r####"
            // crate::line::X
            /* crate::block /* nested crate::inner */ still crate::comment */
            /// doc: [`crate::doc::Y`]
            //! crate::inner_doc
            const A: &str = "crate::string::Z \" crate::escaped";
            const B: &str = r#"crate::raw "quoted" crate::raw2"#;
            const C: &[u8] = b"crate::bytes";
            const D: char = '"';
            const E: char = '\'';
            fn f<'a>(x: &'a str) -> crate::real::One { crate::real::two() }
            const F: u8 = b'"';
            fn g() { crate::real::three() }
        "####;
        assert_eq!(
            refs(src, &[]),
            ["crate::real::One", "crate::real::two", "crate::real::three"]
        );
    }

    #[test]
    fn lines_are_counted_through_comments_and_strings() {
        let src = "/* a\nb */\n\"x\ny\"\nr#\"\n\"#\nuse crate::a::B;\n";
        let scan = scan(src, &[]);
        assert_eq!(scan.refs.len(), 1);
        assert_eq!(scan.refs[0].line, 7);
    }

    #[test]
    fn use_trees_with_nested_braces_self_globs_and_renames() {
        let src = "pub(crate) use crate::a::{self, b::{C, D as E, self as bee}, f::*, _g as _};\nuse {super::h, self::i::J};";
        assert_eq!(
            refs(src, &["m", "n"]),
            [
                "use crate::a",
                "use crate::a::b::C",
                "use crate::a::b::D as E",
                "use crate::a::b as bee",
                "use crate::a::f::*",
                "use crate::a::_g as _",
                "use super::h",
                "use self::i::J",
            ]
        );
        let scan = scan(src, &["m".into(), "n".into()]);
        let scope = &scan.scopes[&vec!["m".to_owned(), "n".to_owned()]];
        let bound: Vec<&str> = scope.bindings.keys().map(String::as_str).collect();
        assert_eq!(bound, ["C", "E", "J", "a", "bee", "h"]);
        assert_eq!(scope.globs.len(), 1);
    }

    #[test]
    fn extern_paths_visibilities_methods_and_macro_variables_are_skipped() {
        let src = "pub(in crate::a) fn f() { ::crate_b::x(); let v = it.collect::<Vec<_>>(); $x::y; $crate::m::n(); }";
        assert_eq!(refs(src, &[]), ["crate::m::n"]);
    }

    #[test]
    fn super_self_and_crate_paths_resolve_to_the_longest_module_prefix() {
        let report = analyse_files(&[
            ("src/lib.rs", "mod commands;\nmod util;\npub struct Top;"),
            ("src/util.rs", "pub fn helper() {}"),
            (
                "src/commands/mod.rs",
                "mod strings;\nmod zsets;\nmod pubsub;\npub(crate) type Reply = ();\npub fn err() {}",
            ),
            (
                "src/commands/strings.rs",
                "use super::{Reply, err};\nuse super::super::util::helper;\nfn f() { super::zsets::g17(); crate::Top; }",
            ),
            (
                "src/commands/zsets.rs",
                "pub fn g17() {}\nfn h() { crate::commands::pubsub::Registry::new(); }",
            ),
            (
                "src/commands/pubsub.rs",
                "pub struct Registry;\nfn f() { self::Registry::new(); }",
            ),
        ]);
        assert_eq!(
            edges(&report),
            [
                "commands::strings -> crate",
                "commands::strings -> commands",
                "commands::strings -> commands::zsets",
                "commands::strings -> util",
                "commands::zsets -> commands::pubsub",
            ]
        );
        let strings = report
            .edges
            .iter()
            .find(|&(&(a, b), _)| {
                show(&report.modules[a]) == "commands::strings" && report.modules[b] == ["commands"]
            })
            .map(|(_, w)| w.clone());
        assert_eq!(
            strings,
            Some(Witness {
                file: "src/commands/strings.rs".into(),
                line: 1,
                text: "use super::Reply".into()
            })
        );
    }

    #[test]
    fn mod_declarations_are_not_edges_but_re_exports_are() {
        let report = analyse_files(&[
            ("src/lib.rs", "mod a;\npub mod b;\npub use a::A;"),
            ("src/a.rs", "pub struct A;"),
            ("src/b.rs", "pub struct B;"),
        ]);
        assert_eq!(edges(&report), ["crate -> a"]);
        assert_eq!(report.modules.len(), 3);
    }

    #[test]
    fn names_re_exported_through_a_module_lead_to_where_they_are_defined() {
        let report = analyse_files(&[
            (
                "src/lib.rs",
                "mod error;\nmod store;\nmod types;\npub use error::{Error, Result};\npub use store::Store;\npub use bytes::Bytes;\npub use types::*;",
            ),
            (
                "src/error.rs",
                "pub struct Error;\npub type Result<T> = std::result::Result<T, Error>;",
            ),
            ("src/types.rs", "pub struct Kind;"),
            (
                "src/store.rs",
                "use crate::{Error, Bytes};\nuse crate::Kind;\npub struct Store;\nfn f() -> crate::Result<()> { Ok(()) }",
            ),
        ]);
        // `store` uses the root's names, but they live in `error` and `types` (or another crate): no cycle.
        assert_eq!(
            edges(&report),
            [
                "crate -> error",
                "crate -> store",
                "crate -> types",
                "store -> error",
                "store -> types"
            ]
        );
        assert!(!report.has_cycles());
    }

    #[test]
    fn names_in_scope_by_child_modules_uses_and_globs() {
        let report = analyse_files(&[
            ("src/lib.rs", "mod commands;\nmod server;"),
            (
                "src/commands/mod.rs",
                "pub mod pubsub;\npub mod zsets;\nmod strings;\nfn f() { zsets::g17(); }",
            ),
            ("src/commands/pubsub.rs", "pub struct Registry;"),
            ("src/commands/zsets.rs", "pub fn g17() {}"),
            (
                "src/commands/strings.rs",
                "use super::*;\nfn f() { zsets::g17(); }",
            ),
            (
                "src/server.rs",
                "use crate::commands;\nfn f() { commands::pubsub::Registry; Vec::<u8>::new(); }",
            ),
        ]);
        assert_eq!(
            edges(&report),
            [
                "commands -> commands::zsets",
                "commands::strings -> commands",
                "commands::strings -> commands::zsets",
                "server -> commands",
                "server -> commands::pubsub",
            ]
        );
    }

    #[test]
    fn test_only_code_is_skipped() {
        let src = r#"
            use crate::kept::A;
            #[cfg(test)]
            mod tests {
                use super::*;
                use crate::test_only::B;
                fn f() { crate::test_only::c(); }
            }
            #[cfg(test)]
            #[allow(clippy::unwrap_used)]
            pub(crate) mod more_tests { fn g() { crate::test_only::d(); } }
            #[cfg(all(test, unix))]
            use crate::test_only::E;
            #[cfg(any(test, feature = "x"))]
            use crate::kept::F;
            #[cfg(not(test))]
            use crate::kept::G;
            struct S {
                #[cfg(test)]
                field: crate::test_only::H,
                other: crate::kept::I,
            }
            fn h() { crate::kept::j(); }
        "#;
        assert_eq!(
            refs(src, &["m"]),
            [
                "use crate::kept::A",
                "use crate::kept::F",
                "use crate::kept::G",
                "crate::kept::I",
                "crate::kept::j"
            ]
        );
        // A test-only file module is not a module of the crate, and a `#![cfg(test)]` file says nothing.
        let report = analyse_files(&[
            ("src/lib.rs", "mod a;\nmod b;\n#[cfg(test)]\nmod tests;"),
            ("src/tests.rs", "use crate::a::A;"),
            ("src/a.rs", "pub struct A;"),
            ("src/b.rs", "#![cfg(test)]\nuse crate::a::A;"),
        ]);
        assert_eq!(report.modules.len(), 3);
        assert!(report.edges.is_empty());
    }

    #[test]
    fn references_of_a_module_to_itself_and_its_inline_modules_are_not_edges() {
        let report = analyse_files(&[
            ("src/lib.rs", "mod a;\nmod b;"),
            (
                "src/a.rs",
                "pub struct A;\nuse self::inner::X;\nfn f() { crate::a::A; }\nmod inner {\n    use super::A;\n    pub struct X;\n    fn g() { super::super::b::B; }\n}",
            ),
            ("src/b.rs", "pub struct B;"),
        ]);
        // `super` in `a::inner` is `a`, so `super::super::b` is `b`.
        assert_eq!(edges(&report), ["a -> b"]);
    }

    #[test]
    fn module_files_are_found_like_rustc_finds_them() {
        let report = analyse_files(&[
            (
                "src/lib.rs",
                "mod foo;\nmod nested { mod deep; }\n#[path = \"elsewhere/x.rs\"]\nmod renamed;\nmod missing;",
            ),
            ("src/foo.rs", "mod bar;"),
            ("src/foo/bar.rs", "use crate::renamed::R;"),
            ("src/nested/deep.rs", "use super::super::foo::bar;"),
            ("src/elsewhere/x.rs", "pub struct R;"),
        ]);
        let modules: Vec<String> = report.modules.iter().map(|m| show(m)).collect();
        assert_eq!(modules, ["crate", "foo", "foo::bar", "nested::deep", "renamed"]);
        assert_eq!(
            edges(&report),
            ["foo::bar -> renamed", "nested::deep -> foo::bar"]
        );
    }

    #[test]
    fn strongly_connected_components_and_a_cycle_through_one() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 ⇄ 4, 5 alone, 1 → 6 → 0 (a longer way round).
        let adj = vec![vec![1], vec![2, 6], vec![0, 3], vec![4], vec![3], vec![], vec![0]];
        assert_eq!(
            strongly_connected(&adj),
            vec![vec![0, 1, 2, 6], vec![3, 4], vec![5]]
        );
        assert_eq!(cycle_through(&[0, 1, 2, 6], &adj), [(0, 1), (1, 2), (2, 0)]);
        assert_eq!(cycle_through(&[3, 4], &adj), [(3, 4), (4, 3)]);
        assert!(strongly_connected(&[]).is_empty());
    }

    #[test]
    fn a_cycle_is_reported_with_the_imports_that_make_it() {
        let report = analyse_files(&[
            ("src/lib.rs", "mod conn;\nmod manager;\nmod stats;"),
            (
                "src/conn.rs",
                "//! Uses the manager.\n\nuse crate::manager::Manager;\nuse crate::stats::Stats;",
            ),
            (
                "src/manager.rs",
                "pub struct Manager;\nfn f() { crate::conn::Conn::new(); }",
            ),
            ("src/stats.rs", "pub struct Stats;"),
        ]);
        assert!(report.has_cycles());
        let out = report.render(false);
        assert_eq!(
            out,
            "modules: test: 4 modules, 3 imports, 1 cycle (strongly connected components of 2 modules)\n\
             \x20 cycle 1 of 2 modules: conn, manager\n\
             \x20   conn -> manager (src/conn.rs:3 use crate::manager::Manager)\n\
             \x20   manager -> conn (src/manager.rs:2 crate::conn::Conn::new)\n"
        );
        assert!(
            report
                .render(true)
                .contains("conn -> stats (src/conn.rs:4 use crate::stats::Stats)")
        );
        let clean = analyse_files(&[("src/lib.rs", "mod a;"), ("src/a.rs", "")]);
        assert_eq!(
            clean.render(false),
            "modules: test: 2 modules, 0 imports, no cycles\n"
        );
    }
}
