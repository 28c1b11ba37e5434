//! Builds function binaries with cargo, so the drill, the tests and the benchmarks run what
//! `cargo lambda build` would package (for the host, not arm64).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// The two functions of this workspace.
pub const FUNCTIONS: [&str; 2] = ["gateway-monitor", "recover-gateway"];

/// Builds the binaries of `packages` with `cargo` (the `CARGO` of the caller, so the same
/// toolchain) and answers each package's executable.
pub fn build(cargo: &str, packages: &[&str], release: bool) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut args = vec!["build".to_owned(), "--message-format=json-render-diagnostics".to_owned()];
    for p in packages {
        args.push("-p".to_owned());
        args.push((*p).to_owned());
    }
    if release {
        args.push("--release".to_owned());
    }
    eprintln!("building {} ({}) with {cargo}...", packages.join(", "), if release { "release" } else { "debug" });
    let out = Command::new(cargo)
        .args(&args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {cargo}: {e} (run from the workspace)"))?;
    if !out.status.success() {
        return Err(format!("building {} failed (see above)", packages.join(", ")));
    }
    let mut found = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else { continue };
        if let (Some(name), Some(exe)) = (v.pointer("/target/name").and_then(Value::as_str), v["executable"].as_str()) {
            if packages.contains(&name) {
                found.insert(name.to_owned(), PathBuf::from(exe));
            }
        }
    }
    match packages.iter().find(|p| !found.contains_key(**p)) {
        Some(missing) => Err(format!("cargo built {missing} but did not say where its binary is")),
        None => Ok(found),
    }
}
