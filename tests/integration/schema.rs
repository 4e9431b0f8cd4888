//! `hasim schema` and the key registry it is generated from (`scenario::keys`): the committed
//! `schema/scenario.schema.json` is the command's output byte for byte, every key the reader
//! asks for while loading every scenario in the repository (and one built from the registry with
//! every key and every distribution family) is registered, and every registered key is accepted
//! by the reader (no "unknown key" for a scenario holding all of them). The schema itself is
//! checked against the bundled scenarios by the real `jsonschema` validator in
//! tests/python/test_schema.py.

use crate::support::{hasim, repo, stdout};
use hasim::scenario::keys::{self, Kind, DIST_NAMES, KEYS};
use hasim::scenario::{load, load_bytes};
use std::path::{Path, PathBuf};

#[test]
fn the_committed_schema_is_what_hasim_schema_prints() {
    let o = hasim(&["schema"]);
    assert!(o.status.success());
    let committed = std::fs::read_to_string(repo("schema/scenario.schema.json")).unwrap();
    assert!(
        stdout(&o) == committed,
        "schema/scenario.schema.json is stale: run `hasim schema > schema/scenario.schema.json`"
    );
    let v: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(v["additionalProperties"], false);
}

fn toml_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            toml_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "toml") {
            out.push(p);
        }
    }
}

/// A sample TOML value of `kind` for the table at `path`.
fn sample(kind: Kind, path: &str, dist: &str) -> String {
    match kind {
        Kind::Int => "1".into(),
        Kind::Number => "0.5".into(),
        Kind::Str => "\"x\"".into(),
        Kind::Bool => "true".into(),
        Kind::Duration => "\"1s\"".into(),
        Kind::StrList => "[\"x\"]".into(),
        Kind::Enum(names) => format!("\"{}\"", names[0]),
        Kind::Table => table(path, dist),
        Kind::TableArray => format!("[{}]", table(&format!("{path}[]"), dist)),
        Kind::Dist => match dist {
            "exponential" => "{ dist = \"exponential\", mean = \"1h\" }".into(),
            "weibull" => "{ dist = \"weibull\", shape = 1.5, scale = \"1h\" }".into(),
            "lognormal" => "{ dist = \"lognormal\", sigma = 1.0, median = \"1h\" }".into(),
            "gamma" => "{ dist = \"gamma\", shape = 2.0, scale = \"1h\" }".into(),
            "uniform" => "{ dist = \"uniform\", min = \"1m\", max = \"1h\" }".into(),
            "fixed" => "{ dist = \"fixed\", value = \"1h\" }".into(),
            "empirical" => "{ dist = \"empirical\", file = \"none.txt\" }".into(),
            other => panic!("no sample for dist {other}"),
        },
        Kind::Rate => "{ dist = \"lognormal\", sigma = 1.0, median = 10.0 }".into(),
        Kind::StrMap => "{ A = \"b\" }".into(),
        Kind::Any => "{ x = 1 }".into(),
        Kind::Expect => "{ }".into(),
    }
}

fn table(path: &str, dist: &str) -> String {
    let items: Vec<String> = KEYS
        .iter()
        .filter(|k| k.table == path)
        .map(|k| {
            let sub = if path.is_empty() {
                k.key.to_string()
            } else {
                format!("{path}.{}", k.key)
            };
            format!("{} = {}", k.key, sample(k.kind, &sub, dist))
        })
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// A scenario with every registered key (invalid as a whole: [topology] and [[racks]], every
/// policy's table), one per distribution family.
fn every_key_scenario(dist: &str) -> String {
    KEYS.iter()
        .filter(|k| k.table.is_empty())
        .map(|k| format!("{} = {}\n", k.key, sample(k.kind, k.key, dist)))
        .collect()
}

#[test]
fn every_key_the_reader_reads_is_registered_and_every_registered_key_is_read() {
    let mut files = Vec::new();
    for dir in ["scenarios", "tests"] {
        toml_under(&repo(dir), &mut files);
    }
    assert!(files.len() > 20, "{files:?}");
    for f in &files {
        let _ = load(f, &[]);
    }
    let path = repo("tests/every_key.toml");
    for dist in DIST_NAMES {
        let text = every_key_scenario(dist);
        let err = match load_bytes(&path, text.clone().into_bytes(), &[]) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(
            !err.is_empty(),
            "{dist}: expected problems (topology and racks)"
        );
        // An unknown key is a registered key the reader does not read; a type problem is a
        // registered key of the wrong kind (the samples are of the registered kind).
        let wrong: Vec<&str> = err
            .lines()
            .filter(|l| {
                l.contains("unknown key") || l.contains(", found ") || l.contains("needs a unit")
            })
            .collect();
        assert!(
            wrong.is_empty(),
            "registry and reader disagree ({dist}):\n{}\n--- scenario:\n{text}",
            wrong.join("\n")
        );
    }
    assert_eq!(
        keys::unregistered(),
        Vec::<String>::new(),
        "keys missing from scenario::keys"
    );
}

#[test]
fn the_registry_refuses_keys_it_does_not_list() {
    assert!(keys::is_registered("workloads[3]", "count"));
    assert!(keys::is_registered("failures.domain[0].repair", "shape"));
    assert!(keys::is_registered(
        "workloads[1].dirty_rate_mib_s",
        "median"
    ));
    assert!(!keys::is_registered("workloads[3]", "cuont"));
    assert!(!keys::is_registered(
        "workloads[1].dirty_rate_mib_s",
        "file"
    ));
    assert!(!keys::is_registered("simulation", "name"));
}
