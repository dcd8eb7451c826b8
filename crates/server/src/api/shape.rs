//! Completes the generated OpenAPI document where the derives cannot say
//! what the API does: an opening's body by the kind named beside it, the
//! actions a path names, the bounds of each integer's Rust type, and
//! flattened types whose own `additionalProperties: false` would refuse
//! the fields they are flattened beside, and the link from an added shift
//! to its removal.

use liaison_core::case::{CaseKind, OPENING_KINDS};
use liaison_core::lifecycle::ALL_ACTIONS;
use serde_json::{Map, Value, json};

/// The schema of the body each kind of case opens with.
fn opening_schema(kind: CaseKind) -> &'static str {
    match kind {
        CaseKind::Note => "NoteBody",
        CaseKind::Preservation => "PreservationRequest",
        CaseKind::Mla => "MlaRequest",
        CaseKind::EmergencyDisclosure => "EmergencyDisclosureRequest",
        CaseKind::Incident => "IncidentReport",
        CaseKind::Hotline => "HotlineInquiry",
        CaseKind::Ping => "PingBody",
        CaseKind::ContentReport => "ContentReport",
        CaseKind::Execution => "ExecutionOrder",
        CaseKind::ProductionOrder => "ProductionOrder",
        CaseKind::JointTeam => "TeamCharter",
    }
}

pub(super) fn complete(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    if let Some(open) = doc.pointer_mut("/components/schemas/OpenCase") {
        *open = opening(open);
    }
    let actions: Vec<&str> = ALL_ACTIONS.iter().map(|a| a.as_str()).collect();
    for_each_parameter(doc, |p| {
        if p["in"] == "path" && p["name"] == "action" {
            p["schema"] = json!({"type": "string", "enum": actions});
        }
    });
    walk(doc, &schemas);
    // A shift just added can be removed by its id (stateful clients follow it).
    if let Some(added) = doc.pointer_mut("/paths/~1api~1v1~1duty/post/responses/201") {
        added["links"] = json!({"RemoveShift": {
            "operationId": "remove_shift",
            "parameters": {"shift": "$response.body#/id"},
        }});
    }
}

/// `OpenCase` as one alternative per kind: `kind` names it, `body` has its schema.
fn opening(generic: &Value) -> Value {
    let alternatives: Vec<Value> = OPENING_KINDS
        .iter()
        .map(|kind| {
            let mut one = generic.clone();
            one["properties"]["kind"] = json!({"type": "string", "enum": [kind.as_str()]});
            one["properties"]["body"] =
                json!({"$ref": format!("#/components/schemas/{}", opening_schema(*kind))});
            one
        })
        .collect();
    json!({
        "description": generic["description"],
        "oneOf": alternatives,
        "discriminator": {"propertyName": "kind"},
    })
}

fn for_each_parameter(doc: &mut Value, mut f: impl FnMut(&mut Value)) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            let parameters = op.get_mut("parameters").and_then(Value::as_array_mut);
            for p in parameters.into_iter().flatten() {
                f(p);
            }
        }
    }
}

/// The range of each integer format the derives write for a Rust type.
fn bounds(format: &str) -> Option<(i128, i128)> {
    Some(match format {
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" => (i64::MIN.into(), i64::MAX.into()),
        // utoipa spells the unsigned formats so.
        "u-int8" => (0, u8::MAX.into()),
        "u-int16" => (0, u16::MAX.into()),
        "u-int32" => (0, u32::MAX.into()),
        "u-int64" => (0, u64::MAX.into()),
        _ => return None,
    })
}

fn walk(value: &mut Value, schemas: &Value) {
    match value {
        Value::Object(fields) => {
            bound_integer(fields);
            if let Some(Value::Array(parts)) = fields.get_mut("allOf") {
                for part in parts.iter_mut() {
                    open_flattened(part, schemas);
                }
            }
            fields.values_mut().for_each(|v| walk(v, schemas));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, schemas)),
        _ => {}
    }
}

/// Writes the type's range beside a declared integer format, keeping any
/// tighter bound already declared.
fn bound_integer(fields: &mut Map<String, Value>) {
    let Some((low, high)) = fields
        .get("format")
        .and_then(Value::as_str)
        .and_then(bounds)
    else {
        return;
    };
    let declared = |fields: &Map<String, Value>, key: &str| {
        fields.get(key).and_then(Value::as_f64).map(|v| v as i128)
    };
    let low = declared(fields, "minimum").map_or(low, |m| m.max(low));
    let high = declared(fields, "maximum").map_or(high, |m| m.min(high));
    fields.insert("minimum".into(), number(low));
    fields.insert("maximum".into(), number(high));
}

fn number(v: i128) -> Value {
    u64::try_from(v)
        .map(Value::from)
        .or_else(|_| i64::try_from(v).map(Value::from))
        .unwrap_or(Value::Null)
}

/// A flattened part of an `allOf` is inlined without `additionalProperties:
/// false`: the object it is part of has other fields too.
fn open_flattened(part: &mut Value, schemas: &Value) {
    if let Some(name) = part["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        let resolved = schemas[name].clone();
        if resolved["additionalProperties"] == false {
            *part = resolved;
        }
    }
    if let Some(fields) = part.as_object_mut()
        && fields.get("additionalProperties") == Some(&Value::Bool(false))
    {
        fields.remove("additionalProperties");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_get_their_types_range_and_keep_tighter_bounds() {
        let mut v = json!({"a": {"type": "integer", "format": "u-int8", "minimum": 0},
            "b": {"type": "integer", "format": "u-int64", "maximum": 100}});
        walk(&mut v, &json!({}));
        assert_eq!(v["a"]["maximum"], 255);
        assert_eq!(v["b"]["maximum"], 100);
        assert_eq!(v["b"]["minimum"], 0);
    }

    #[test]
    fn a_flattened_closed_type_is_opened_inside_its_all_of() {
        let schemas = json!({"Item": {"type": "object", "additionalProperties": false}});
        let mut v = json!({"allOf": [{"$ref": "#/components/schemas/Item"},
            {"type": "object", "additionalProperties": false}]});
        walk(&mut v, &schemas);
        assert_eq!(
            v,
            json!({"allOf": [{"type": "object"}, {"type": "object"}]})
        );
    }

    #[test]
    fn every_kind_opens_with_its_own_body() {
        let v = opening(&json!({"type": "object", "properties": {"kind": {}, "body": {}}}));
        assert_eq!(
            v["oneOf"].as_array().map(Vec::len),
            Some(OPENING_KINDS.len())
        );
        assert_eq!(
            v["oneOf"][2]["properties"]["body"]["$ref"],
            "#/components/schemas/MlaRequest"
        );
    }
}
