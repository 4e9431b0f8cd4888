//! DESIGN.md §1: nothing in `src/policy/` may import the simulator, the world or the mechanisms;
//! the same policy code must compile behind a production adapter.

use std::path::Path;

#[test]
fn policy_imports_only_its_own_api() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/policy");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
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
