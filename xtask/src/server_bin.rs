//! The `redkit-server` binaries that `cargo xtask bench server` and `cargo xtask callgrind-server` run: this
//! working tree's release build, and with `--baseline REV` the same binary built from an older revision.
//!
//! A baseline is checked out into a git worktree, `target/baseline/src` (`git worktree add --detach --force`, or
//! `git checkout --detach --force` when the worktree is there already), and built there with
//! `cargo build --release --bin redkit-server` into its own target directory, `target/baseline/target`. Both are
//! left in place afterwards as a cache: the next baseline, usually a nearby revision, rebuilds incrementally.
//! `git worktree remove --force target/baseline/src` (or `cargo clean`, then `git worktree prune`) drops them;
//! a worktree whose directory was deleted is re-registered on the next run.
//!
//! The binary is built by its name rather than by package, because the package had another name at older
//! revisions (`redkit-mock`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, cargo, run, workspace_root};

/// Where a baseline revision is checked out, below the workspace root.
const WORKTREE: &str = "target/baseline/src";

/// The target directory of baseline builds, below the workspace root (not the worktree's own `target/`, so that
/// the build cache outlives a worktree that is removed or re-created).
const TARGET: &str = "target/baseline/target";

/// Build this working tree's `redkit-server` in release mode; the binary's path.
pub(crate) fn current() -> Result<PathBuf> {
    run(
        "build redkit-server",
        cargo().args([
            "build",
            "--release",
            "-p",
            "redkit-server",
            "--bin",
            "redkit-server",
        ]),
    )?;
    let bin = workspace_root().join("target/release/redkit-server");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!("the build left no binary at {}", bin.display()))
    }
}

/// A `redkit-server` binary built from an older revision.
pub(crate) struct Baseline {
    /// The binary.
    pub(crate) bin: PathBuf,
    /// The revision as given and the commit it names: `HEAD~3 (8b3075f)`.
    pub(crate) label: String,
}

/// Check out `rev` into the baseline worktree and build its `redkit-server` in release mode.
pub(crate) fn build(rev: &str) -> Result<Baseline> {
    let root = workspace_root();
    let commit = git_output(
        &root,
        &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")],
    )
    .map_err(|_| format!("--baseline {rev:?}: not a commit of this repository"))?;
    let short = git_output(&root, &["rev-parse", "--short", &commit])?;
    let label = if short.starts_with(rev) {
        short.clone()
    } else {
        format!("{rev} ({short})")
    };
    let src = root.join(WORKTREE);
    checkout(&root, &src, &commit, &label)?;
    let target = root.join(TARGET);
    run(
        &format!("build redkit-server at {label}"),
        cargo()
            .current_dir(&src)
            .args(["build", "--release", "--bin", "redkit-server"])
            .env("CARGO_TARGET_DIR", &target),
    )?;
    let bin = target.join("release/redkit-server");
    if bin.is_file() {
        Ok(Baseline { bin, label })
    } else {
        Err(format!("the baseline build left no binary at {}", bin.display()))
    }
}

/// Put `commit` in the worktree at `src`: refresh it when it is a worktree of this repository, create it
/// otherwise.
fn checkout(root: &Path, src: &Path, commit: &str, label: &str) -> Result {
    if src.exists() {
        // Never run a checkout anywhere but in the worktree itself: a directory under `target/` that is not a
        // worktree would resolve to the main repository, whose working tree must stay as it is.
        let toplevel = git_output(src, &["rev-parse", "--show-toplevel"]).ok();
        let is_worktree = toplevel
            .map(PathBuf::from)
            .and_then(|t| t.canonicalize().ok())
            .zip(src.canonicalize().ok())
            .is_some_and(|(t, s)| t == s);
        if !is_worktree {
            return Err(format!(
                "{} exists but is not a git worktree; remove it (or run `git worktree prune`) and try again",
                src.display()
            ));
        }
        return run(
            &format!("refresh the baseline worktree to {label}"),
            git(src).args(["checkout", "--quiet", "--detach", "--force", commit]),
        );
    }
    // A worktree whose directory was deleted (`cargo clean`) is still registered: forget it first.
    run("forget deleted worktrees", git(root).args(["worktree", "prune"]))?;
    if let Some(parent) = src.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    run(
        &format!("check out {label} into the baseline worktree"),
        git(root)
            .args(["worktree", "add", "--quiet", "--detach", "--force"])
            .arg(src)
            .arg(commit),
    )
}

fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir);
    cmd
}

/// A git command's standard output, trimmed; an error when it cannot start or fails.
fn git_output(dir: &Path, args: &[&str]) -> Result<String> {
    let out = git(dir)
        .args(args)
        .output()
        .map_err(|e| format!("git {}: could not start: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "git {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The working tree's commit, and whether tracked files differ from it: `e3cf8f7` or `e3cf8f7 + changes`.
pub(crate) fn working_tree_label() -> String {
    let root = workspace_root();
    let Ok(head) = git_output(&root, &["rev-parse", "--short", "HEAD"]) else {
        return "working tree".into();
    };
    let clean = git(&root)
        .args(["diff", "--quiet", "HEAD", "--"])
        .status()
        .is_ok_and(|s| s.success());
    if clean {
        format!("working tree at {head}")
    } else {
        format!("working tree at {head} + changes")
    }
}
