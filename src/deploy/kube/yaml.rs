//! A small YAML writer for the manifests: block mappings and sequences,
//! every string double-quoted with JSON escapes (valid YAML), keys plain
//! when safe.

use serde_json::Value;

/// YAML for a JSON value: block mappings and sequences, every string
/// double-quoted with JSON escapes (valid YAML), keys plain when safe.
#[must_use]
pub fn yaml(v: &Value) -> String {
    let mut out = String::new();
    emit(v, 0, &mut out);
    out
}

fn key(k: &str) -> String {
    let plain = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-' | '_'))
        && k.starts_with(|c: char| c.is_ascii_alphabetic());
    if plain {
        k.to_string()
    } else {
        Value::from(k).to_string()
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn emit(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, x) in m {
                if is_block(x) {
                    out.push_str(&format!("{pad}{}:\n", key(k)));
                    emit(x, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{}: {}\n", key(k), scalar(x)));
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for x in a {
                if is_block(x) {
                    let mut inner = String::new();
                    emit(x, indent + 2, &mut inner);
                    // The first line goes after the dash.
                    let body = inner
                        .strip_prefix(&" ".repeat(indent + 2))
                        .unwrap_or(&inner);
                    out.push_str(&format!("{pad}- {body}"));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(x)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_of_nested_values() {
        let v = json!({"a": {"b": [1, {"c": "x", "d": [true]}], "e": {}}, "app.kubernetes.io/name": "n", "x y": null});
        assert_eq!(
            yaml(&v),
            "a:\n  b:\n    - 1\n    - c: \"x\"\n      d:\n        - true\n  e: {}\napp.kubernetes.io/name: \"n\"\n\"x y\": null\n"
        );
    }
}
