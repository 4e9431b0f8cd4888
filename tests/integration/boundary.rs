//! DESIGN.md §1: nothing in `src/policy/` may import the simulator, the world or the mechanisms;
//! the same policy code must compile behind a production adapter.

use crate::support::files_under;
use std::path::Path;

#[test]
fn policy_imports_only_its_own_api() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy");
    let mut checked = 0;
    for path in files_under(&dir) {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap();
            for forbidden in ["crate::", "hasim::", "super::super"] {
                assert!(
                    !code.contains(forbidden) || code.contains("crate::policy::"),
                    "{}:{}: policy code reaches outside policy/: {line}",
                    path.display(),
                    i + 1
                );
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 3,
        "expected api.rs, mod.rs and at least one policy"
    );
}

/// DESIGN.md §4: dependencies point downward. Each layer may import only the layers listed
/// for it (plus itself); a `crate::X` path to anything else is an upward import.
#[test]
fn no_module_imports_upward() {
    let allowed: &[(&str, &[&str])] = &[
        ("core", &[]),
        ("world", &["core"]),
        ("faults", &["core", "world"]),
        ("infra", &["core", "world", "policy"]),
        // The resolved `Model` is what every layer above `world` reads (DESIGN.md §4).
        ("metrics", &["core", "world", "scenario"]),
        (
            "engine",
            &[
                "core", "world", "faults", "infra", "metrics", "policy", "scenario",
            ],
        ),
    ];
    let modules = [
        "adapters", "compare", "core", "engine", "faults", "infra", "metrics", "model_io",
        "policy", "report", "runner", "scenario", "sweep", "world",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for (layer, may) in allowed {
        for entry in std::fs::read_dir(root.join(layer)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap();
                for m in modules {
                    let reaches = code.contains(&format!("crate::{m}::"))
                        || code.contains(&format!("crate::{m};"))
                        || code.contains(&format!("crate::{m}}}"));
                    assert!(
                        !reaches || m == *layer || may.contains(&m),
                        "{}:{}: {layer}/ imports {m}/ (upward): {line}",
                        path.display(),
                        i + 1
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "expected the module files, found {checked}");
}
