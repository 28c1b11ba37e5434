//! Least privilege, checked against the code: each function's role in
//! `infra/template.yaml` grants exactly the Storage Gateway actions its code calls (derived
//! from the source, not written down by hand), `sns:Publish` and nothing else from SNS, no
//! wildcard action anywhere, and a resource wildcard only where the API has no resource
//! type (`ListGateways`). Topics are KMS-encrypted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(workspace().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `list_tags_for_resource` -> `ListTagsForResource`.
fn pascal(snake: &str) -> String {
    snake.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// Port method -> the Storage Gateway operations its SDK implementation calls, read from
/// `shared/src/aws/sdk.rs` (`self.0.<operation>()` inside each `fn`, however formatted).
fn operations_per_port_method() -> BTreeMap<String, BTreeSet<String>> {
    let src = read("shared/src/aws/sdk.rs");
    let start = src.find("impl StorageGateway for SdkStorageGateway").expect("the SDK implementation");
    let end = src[start..].find("\n}\n").map(|e| start + e).unwrap_or(src.len());
    let body: String = src[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for chunk in body.split("fn").skip(1) {
        let method: String = chunk.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
        for call in chunk.split("self.0.").skip(1) {
            let op: String = call.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
            if !op.is_empty() && !method.is_empty() {
                map.entry(method.clone()).or_default().insert(pascal(&op));
            }
        }
    }
    map
}

/// The Storage Gateway operations a function's domain code can reach: every port method
/// it calls (`gateway.<method>(`) in its module, mapped through the SDK implementation.
fn operations_of(module: &str) -> BTreeSet<String> {
    let ports = operations_per_port_method();
    let mut files = Vec::new();
    rust_files(&workspace().join("shared/src").join(module), &mut files);
    let mut ops = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (method, method_ops) in &ports {
            if text.contains(&format!("gateway.{method}(")) {
                ops.extend(method_ops.iter().cloned());
            }
        }
    }
    ops
}

fn template() -> Value {
    serde_yaml_ng::from_str(&read("infra/template.yaml")).expect("infra/template.yaml parses as plain YAML")
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

/// Every statement of the inline policies of the role a function runs as.
fn statements_of(t: &Value, function: &str) -> Vec<Value> {
    let resources = t["Resources"].as_object().expect("resources");
    let (_, f) = resources
        .iter()
        .find(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"] == function)
        .unwrap_or_else(|| panic!("no function builds {function}"));
    let role = f["Properties"]["Role"]["Fn::GetAtt"][0]
        .as_str()
        .or_else(|| f["Properties"]["Role"]["Fn::GetAtt"].as_str().map(|s| s.split('.').next().unwrap_or(s)))
        .unwrap_or_else(|| panic!("{function} runs as a role defined in the template"));
    let role = &resources[role];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    assert!(
        role["Properties"]["ManagedPolicyArns"].as_array().is_none_or(|a| a.is_empty()),
        "{function}: no managed policies"
    );
    role["Properties"]["Policies"]
        .as_array()
        .expect("inline policies")
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn actions(statements: &[Value], service: &str) -> BTreeSet<String> {
    statements
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| strings(&s["Action"]))
        .filter_map(|a| a.strip_prefix(&format!("{service}:")).map(str::to_owned))
        .collect()
}

#[test]
fn each_function_gets_exactly_the_storage_gateway_actions_its_code_calls() {
    let t = template();
    for (function, module) in [("gateway-monitor", "monitor"), ("recover-gateway", "recover")] {
        let code = operations_of(module);
        assert!(code.contains("DescribeGatewayInformation"), "{function}: the scan found the code's calls: {code:?}");
        let statements = statements_of(&t, function);
        let granted = actions(&statements, "storagegateway");
        assert_eq!(granted, code, "{function}: the role must grant exactly the operations the code calls");
        assert_eq!(actions(&statements, "sns"), BTreeSet::from(["Publish".to_owned()]), "{function}");
    }
}

#[test]
fn no_wildcard_actions_and_resource_wildcards_only_where_the_api_has_no_resource() {
    let t = template();
    for function in ["gateway-monitor", "recover-gateway"] {
        for s in statements_of(&t, function) {
            let acts = strings(&s["Action"]);
            for a in &acts {
                assert!(!a.contains('*') || a == "kms:GenerateDataKey*", "{function}: wildcard action {a}");
            }
            assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none(), "{function}: {s}");
            // A Deny may cover everything; an Allow on "*" only where the API has no resource.
            if s["Effect"] == "Allow" && strings(&s["Resource"]).iter().any(|r| r == "*") {
                assert_eq!(
                    acts,
                    ["storagegateway:ListGateways"],
                    "{function}: only ListGateways has no resource type: {s}"
                );
            }
        }
    }
}

#[test]
fn neither_function_may_touch_the_operators_opt_in_tags() {
    let t = template();
    for function in ["gateway-monitor", "recover-gateway"] {
        let denied: BTreeSet<String> = statements_of(&t, function)
            .iter()
            .filter(|s| s["Effect"] == "Deny")
            .flat_map(|s| strings(&s["Condition"]["ForAnyValue:StringEquals"]["aws:TagKeys"]))
            .collect();
        for key in ["recovery:enabled", "recovery:auto-disable", "recovery:standby-gateway"] {
            assert!(denied.contains(key), "{function} could write {key}");
        }
    }
}

#[test]
fn both_topics_are_encrypted_with_kms() {
    let t = template();
    let topics: Vec<&Value> =
        t["Resources"].as_object().unwrap().values().filter(|r| r["Type"] == "AWS::SNS::Topic").collect();
    assert_eq!(topics.len(), 2);
    for topic in topics {
        assert!(!topic["Properties"]["KmsMasterKeyId"].is_null(), "{topic}");
    }
}

#[test]
fn the_scan_reads_the_sdk_implementation() {
    let ports = operations_per_port_method();
    assert_eq!(ports["retrieve_tape"], BTreeSet::from(["RetrieveTapeRecoveryPoint".to_owned()]));
    assert_eq!(ports["list_tags"], BTreeSet::from(["ListTagsForResource".to_owned()]));
    // Every method of the port is implemented, and found.
    let port = read("shared/src/aws/mod.rs");
    let start = port.find("pub trait StorageGateway").expect("the port");
    let end = start + port[start..].find("\n}\n").expect("its end");
    let methods = port[start..end].matches("    fn ").count();
    assert_eq!(ports.len(), methods, "{ports:?}");
}
