//! The Python tests (`tests/python/`: the controller SDK against a fake hasim, upstream
//! Masakari and masakari-monitors in the venv of `scenarios/controllers/setup-masakari.sh`),
//! run as one test so that `cargo test --release` is the whole suite. Their own skips (no venv
//! outside CI) print a loud message; under `HASIM_CI=1` a missing venv fails them.

#[test]
fn the_python_tests_pass() {
    let o = std::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests/python"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs");
    let err = String::from_utf8_lossy(&o.stderr);
    eprintln!("{err}");
    assert!(
        o.status.success(),
        "python3 -m unittest discover -s tests/python failed:\n{err}"
    );
}
