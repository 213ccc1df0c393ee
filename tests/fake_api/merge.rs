//! The three patch formats on a pod's JSON: strategic merge (as far as
//! pods need it), RFC 7386 JSON merge patch and RFC 6902 JSON patch.

use serde_json::{Map, Value};

/// Lists merged by a key in a strategic merge patch (the rest are replaced).
const MERGE_KEYS: &[(&str, &str)] = &[
    ("containers", "name"),
    ("initContainers", "name"),
    ("ephemeralContainers", "name"),
    ("env", "name"),
    ("volumes", "name"),
    ("volumeMounts", "mountPath"),
    ("ports", "containerPort"),
    ("conditions", "type"),
    ("imagePullSecrets", "name"),
    ("ownerReferences", "uid"),
    ("containerStatuses", "name"),
    ("ephemeralContainerStatuses", "name"),
];

/// RFC 7386 JSON merge patch.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(t) = target.as_object_mut() {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The tokens of an RFC 6901 pointer.
fn pointer_tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("invalid JSON pointer {path:?}"))?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// The container that holds the pointer's last token, and that token.
fn parent_of<'a>(doc: &'a mut Value, path: &str) -> Result<(&'a mut Value, String), String> {
    let mut tokens = pointer_tokens(path)?;
    let last = tokens
        .pop()
        .ok_or_else(|| "the whole document cannot be patched".to_owned())?;
    let mut at = doc;
    for t in &tokens {
        at = match at {
            Value::Object(m) => m.get_mut(t),
            Value::Array(a) => t.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        }
        .ok_or_else(|| format!("path {path:?} does not exist"))?;
    }
    Ok((at, last))
}

fn add_at(doc: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, key) = parent_of(doc, path)?;
    match parent {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if key == "-" {
                a.len()
            } else {
                key.parse::<usize>()
                    .map_err(|_| format!("bad index in {path:?}"))?
            };
            if i > a.len() {
                return Err(format!("index out of range in {path:?}"));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(format!("path {path:?} is not inside an object or array")),
    }
}

fn remove_at(doc: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, key) = parent_of(doc, path)?;
    match parent {
        Value::Object(m) => m.remove(&key),
        Value::Array(a) => key
            .parse::<usize>()
            .ok()
            .filter(|i| *i < a.len())
            .map(|i| a.remove(i)),
        _ => None,
    }
    .ok_or_else(|| format!("path {path:?} does not exist"))
}

/// One RFC 6902 operation.
pub(crate) fn json_patch_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let field = |k: &str| {
        op.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("operation lacks {k:?}: {op}"))
    };
    let path = field("path")?;
    let value = || {
        op.get("value")
            .cloned()
            .ok_or_else(|| format!("operation lacks \"value\": {op}"))
    };
    match field("op")? {
        "add" => add_at(doc, path, value()?),
        "remove" => remove_at(doc, path).map(drop),
        "replace" => {
            remove_at(doc, path)?;
            add_at(doc, path, value()?)
        }
        "test" => {
            let want = value()?;
            (doc.pointer(path) == Some(&want))
                .then_some(())
                .ok_or_else(|| format!("test failed at {path:?}"))
        }
        "move" => {
            let moved = remove_at(doc, field("from")?)?;
            add_at(doc, path, moved)
        }
        "copy" => {
            let copied = doc
                .pointer(field("from")?)
                .cloned()
                .ok_or_else(|| format!("from of {op} does not exist"))?;
            add_at(doc, path, copied)
        }
        other => Err(format!("unknown operation {other:?}")),
    }
}

/// A strategic merge patch as far as pods need it: maps merge (null
/// deletes), lists in `MERGE_KEYS` merge by key (`$patch: delete` removes an
/// element), other lists and scalars are replaced, `$` directives dropped.
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = strip(patch);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        let key = MERGE_KEYS
            .iter()
            .find(|(list, _)| list == k)
            .map(|(_, key)| *key);
        match (key, v.as_array()) {
            (Some(key), Some(items)) => {
                let slot = t
                    .entry(k.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                if let Some(list) = slot.as_array_mut() {
                    merge_list(list, items, key);
                }
            }
            _ if v.is_object() => strategic_merge(t.entry(k.clone()).or_insert(Value::Null), v),
            _ => {
                t.insert(k.clone(), strip(v));
            }
        }
    }
}

fn merge_list(list: &mut Vec<Value>, items: &[Value], key: &str) {
    for item in items {
        let id = item.get(key).cloned();
        let existing = id
            .as_ref()
            .and_then(|id| list.iter().position(|e| e.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (existing, delete) {
            (Some(i), true) => {
                list.remove(i);
            }
            (Some(i), false) => strategic_merge(&mut list[i], item),
            (None, true) => {}
            (None, false) => {
                let mut fresh = Value::Object(Map::new());
                strategic_merge(&mut fresh, item);
                list.push(fresh);
            }
        }
    }
}

/// The value without `$` directives at any depth.
fn strip(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
        other => other.clone(),
    }
}
