//! The scenario document as a tree of values that remember where they came from.
//!
//! Owns parsing TOML text into `Node`s (every value and key keeps its byte span, so validation can
//! say `file:line`) and applying `--set key=value` overrides by dotted path. It knows nothing
//! about what keys mean; `scenario::build` does.

use std::collections::BTreeMap;
use std::ops::Range;
use toml::de::{DeTable, DeValue};

/// Where a value came from: a byte range of the scenario file, or a command-line override.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    File(Range<usize>),
    Override(String),
}

#[derive(Clone, Debug)]
pub struct Node {
    pub value: Value,
    pub origin: Origin,
}

#[derive(Clone, Debug)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// A table: keys in sorted order (never hash order), each with the origin of the key itself.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub entries: BTreeMap<String, (Origin, Node)>,
}

impl Value {
    /// The TOML type name with its article ("an integer"), for "found Y" messages.
    pub fn a_type_name(&self) -> String {
        let name = self.type_name();
        match name.as_bytes()[0] {
            b'a' | b'i' => format!("an {name}"),
            _ => format!("a {name}"),
        }
    }

    /// The TOML type name, for "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Bool(_) => "boolean",
            Value::Datetime(_) => "datetime",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// A TOML syntax error, with the byte offset where the parser stopped.
#[derive(Debug)]
pub struct SyntaxError {
    pub message: String,
    pub span: Option<Range<usize>>,
}

/// Parses a whole scenario document.
pub fn parse_document(text: &str) -> Result<Node, Vec<SyntaxError>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return Err(errors
            .into_iter()
            .map(|e| SyntaxError {
                message: e.message().trim().to_string(),
                span: e.span(),
            })
            .collect());
    }
    let span = doc.span();
    let mut errors = Vec::new();
    let value = Value::Table(convert_table(doc.get_ref(), &mut errors));
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Node {
        value,
        origin: Origin::File(span),
    })
}

fn convert_table(t: &DeTable<'_>, errors: &mut Vec<SyntaxError>) -> Table {
    let mut entries = BTreeMap::new();
    for (k, v) in t.iter() {
        entries.insert(
            k.get_ref().to_string(),
            (
                Origin::File(k.span()),
                convert_value(v.get_ref(), v.span(), errors),
            ),
        );
    }
    Table { entries }
}

/// TOML integers are 64-bit signed (the spec: "Arbitrary 64-bit signed integers should be
/// accepted and handled losslessly. If an integer cannot be represented losslessly, an error
/// must be thrown"): one outside that range is an error at its span, never a string.
fn convert_value(v: &DeValue<'_>, span: Range<usize>, errors: &mut Vec<SyntaxError>) -> Node {
    let value = match v {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match parse_int(i.as_str(), i.radix()) {
            Some(n) => Value::Int(n),
            None => {
                errors.push(SyntaxError {
                    message: format!(
                        "integer {} is outside the 64-bit range {}..={}",
                        super::limits::quote(i.as_str()),
                        i64::MIN,
                        i64::MAX
                    ),
                    span: Some(span.clone()),
                });
                Value::Int(0)
            }
        },
        DeValue::Float(f) => Value::Float(parse_float(f.as_str())),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(
            a.iter()
                .map(|e| convert_value(e.get_ref(), e.span(), errors))
                .collect(),
        ),
        DeValue::Table(t) => Value::Table(convert_table(t, errors)),
    };
    Node {
        value,
        origin: Origin::File(span),
    }
}

fn parse_int(text: &str, radix: u32) -> Option<i64> {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, cleaned.trim_start_matches('+').to_string()),
    };
    let digits = match radix {
        16 => digits.trim_start_matches("0x").to_string(),
        8 => digits.trim_start_matches("0o").to_string(),
        2 => digits.trim_start_matches("0b").to_string(),
        _ => digits,
    };
    // The sign goes with the digits: -9223372036854775808 has no positive counterpart.
    let signed = if neg { format!("-{digits}") } else { digits };
    i64::from_str_radix(&signed, radix).ok()
}

fn parse_float(text: &str) -> f64 {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    match cleaned.as_str() {
        "inf" | "+inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        "nan" | "+nan" | "-nan" => f64::NAN,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

/// Parses the value half of `--set key=value`: a TOML value if it is one (`20`, `0.5`, `true`,
/// `"x"`, `[1, 2]`), otherwise the raw text as a string, so `--set policy.name=none` and
/// `--set failures.host.time_between.mean=2000h` need no quoting. An integer outside the
/// 64-bit range is an error, as in a file.
pub fn parse_override_value(raw: &str, origin: &Origin) -> Result<Node, String> {
    let wrapped = format!("v = {raw}");
    if let Ok(doc) = DeTable::parse(&wrapped) {
        if let Some(v) = doc.get_ref().get("v") {
            let mut errors = Vec::new();
            let mut node = convert_value(v.get_ref(), 0..0, &mut errors);
            if let Some(e) = errors.into_iter().next() {
                return Err(e.message);
            }
            set_origin(&mut node, origin);
            return Ok(node);
        }
    }
    Ok(Node {
        value: Value::Str(raw.to_string()),
        origin: origin.clone(),
    })
}

fn set_origin(node: &mut Node, origin: &Origin) {
    node.origin = origin.clone();
    match &mut node.value {
        Value::Array(items) => items.iter_mut().for_each(|n| set_origin(n, origin)),
        Value::Table(t) => {
            for (k, v) in t.entries.values_mut() {
                *k = origin.clone();
                set_origin(v, origin);
            }
        }
        _ => {}
    }
}

/// Sets `path` (dot-separated) to `value` in `root`. Array elements are addressed by index
/// (`workloads.0.count`) or by their `name` key (`workloads.web.count`). Missing tables along the
/// path are created; the value's meaning is checked later, by validation, like any other.
pub fn apply_override(root: &mut Node, path: &str, value: Node) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("\"{path}\" is not a dotted key path"));
    }
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let here = parts[..i].join(".");
        match &mut cur.value {
            Value::Table(t) => {
                if last {
                    t.entries
                        .insert(part.to_string(), (value.origin.clone(), value));
                    return Ok(());
                }
                let origin = value.origin.clone();
                let entry = t.entries.entry(part.to_string()).or_insert_with(|| {
                    (
                        origin.clone(),
                        Node {
                            value: Value::Table(Table::default()),
                            origin,
                        },
                    )
                });
                cur = &mut entry.1;
            }
            Value::Array(items) => {
                let idx = match part.parse::<usize>() {
                    Ok(n) => Some(n),
                    Err(_) => items.iter().position(|n| node_name(n) == Some(part)),
                };
                let Some(idx) = idx.filter(|i| *i < items.len()) else {
                    return Err(format!(
                        "\"{here}\" has no element \"{part}\" (use an index 0..{} or a name)",
                        items.len()
                    ));
                };
                if last {
                    items[idx] = value;
                    return Ok(());
                }
                cur = &mut items[idx];
            }
            other => {
                return Err(format!(
                    "\"{here}\" is {}, it has no key \"{part}\"",
                    other.a_type_name()
                ))
            }
        }
    }
    unreachable!("the loop returns on the last path part")
}

fn node_name(n: &Node) -> Option<&str> {
    match &n.value {
        Value::Table(t) => match t.entries.get("name") {
            Some((
                _,
                Node {
                    value: Value::Str(s),
                    ..
                },
            )) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(n: &'a Node, path: &[&str]) -> &'a Node {
        let mut cur = n;
        for p in path {
            cur = match &cur.value {
                Value::Table(t) => &t.entries[*p].1,
                Value::Array(a) => &a[p.parse::<usize>().unwrap()],
                _ => panic!(),
            };
        }
        cur
    }

    #[test]
    fn overrides_by_path_index_and_name() {
        let text = "[policy]\nname = \"a\"\n[[workloads]]\nname = \"web\"\ncount = 3\n";
        let mut doc = parse_document(text).unwrap();
        let o = Origin::Override("--set".into());
        apply_override(
            &mut doc,
            "policy.name",
            parse_override_value("none", &o).unwrap(),
        )
        .unwrap();
        apply_override(
            &mut doc,
            "workloads.web.count",
            parse_override_value("7", &o).unwrap(),
        )
        .unwrap();
        apply_override(&mut doc, "x.y", parse_override_value("2000h", &o).unwrap()).unwrap();
        assert!(matches!(&get(&doc, &["policy", "name"]).value, Value::Str(s) if s == "none"));
        assert!(matches!(
            get(&doc, &["workloads", "0", "count"]).value,
            Value::Int(7)
        ));
        assert!(matches!(&get(&doc, &["x", "y"]).value, Value::Str(s) if s == "2000h"));
        assert!(apply_override(
            &mut doc,
            "workloads.db.count",
            parse_override_value("1", &o).unwrap()
        )
        .is_err());
        assert!(apply_override(
            &mut doc,
            "policy.name.x",
            parse_override_value("1", &o).unwrap()
        )
        .is_err());
    }

    #[test]
    fn integers_are_64_bit_exactly() {
        let doc = parse_document("a = -9223372036854775808\nb = 9223372036854775807\n").unwrap();
        assert!(matches!(get(&doc, &["a"]).value, Value::Int(i64::MIN)));
        assert!(matches!(get(&doc, &["b"]).value, Value::Int(i64::MAX)));
        for text in ["a = 9223372036854775808\n", "a = -9223372036854775809\n"] {
            let errs = parse_document(text).unwrap_err();
            assert!(
                errs[0].message.contains("outside the 64-bit range"),
                "{}",
                errs[0].message
            );
            assert_eq!(errs[0].span, Some(4..text.len() - 1));
        }
        let o = Origin::Override("--set".into());
        assert!(parse_override_value("99999999999999999999", &o).is_err());
    }

    #[test]
    fn syntax_errors_carry_a_span() {
        let errs = parse_document("a = \n").unwrap_err();
        assert!(errs[0].span.is_some());
    }
}
