//! Every file in `tests/bad/` is a broken scenario whose `# expect:` lines say what the error
//! output must contain. Each must exit 3 with exactly those problems (one per `file:line:`
//! expectation), under both `validate` and `run`, and never panic.

use crate::support::{hasim, stderr, toml_files};

fn line_problems(err: &str) -> usize {
    err.lines()
        .filter(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, n) = (parts.next(), parts.next());
            n.is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .count()
}

#[test]
fn broken_scenarios_exit_3_with_every_expected_message() {
    let files = toml_files("tests/bad");
    assert!(
        files.len() >= 10,
        "need at least ten broken scenarios, found {}",
        files.len()
    );
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let expects: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(!expects.is_empty(), "{} has no # expect: line", f.display());
        let path = f.to_str().unwrap();
        for cmd in [
            vec!["validate", path],
            vec!["run", path, "--out", "target/never-written"],
        ] {
            let o = hasim(&cmd);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(3), "{cmd:?}: {err}");
            assert!(!err.contains("panicked"), "{cmd:?} panicked: {err}");
            for e in &expects {
                assert!(
                    err.contains(e.trim_end()),
                    "{}: expected {e:?} in:\n{err}",
                    f.display()
                );
            }
            let with_line = expects.iter().filter(|e| e.contains(".toml:")).count();
            assert_eq!(
                line_problems(&err),
                with_line,
                "{}: wrong number of problems in:\n{err}",
                f.display()
            );
        }
    }
    assert!(
        !std::path::Path::new("target/never-written").exists(),
        "an invalid run wrote results"
    );
}
