//! The deployment, checked against the code: `infra/template.yaml` is read as plain YAML
//! and compared with what `shared/src` and the functions actually do.
//!
//! - Least privilege: each function's role grants exactly the AWS calls its code makes,
//!   derived from the source (port method -> SDK operation in `shared/src/aws/*.rs`, then
//!   which port methods each function's module reaches), on exactly the resources they
//!   touch (the ledger table, the queue, the topics, the key, its log group), plus what
//!   Lambda itself does with the role (dead letters, the SQS event source). No wildcard
//!   action, no tag write, and a resource wildcard only where the API has no resource
//!   type.
//! - The ledger table is keyed, encrypted, recoverable, expiring and retained as the code
//!   expects; queues and topics are KMS-encrypted.
//! - Every trigger delivers an event the monitor decodes as intended; every function has
//!   an `Errors` alarm; the readiness check is scheduled and alarmed.
//! - The environment the template (and `cargo lambda deploy`) sets is what
//!   `shared/src/config.rs` reads, and every value a parameter allows is one it accepts.
//! - The dashboard shows metrics the code emits, under the dimensions it emits them with.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use shared::config::{MonitorConfig, RecoverConfig, Source};
use shared::monitor::{MonitorRequest, decode_event};

const FUNCTIONS: [(&str, &str); 2] = [("gateway-monitor", "monitor"), ("recover-gateway", "recover")];

// ---------------------------------------------------------------------------------------
// Reading the workspace
// ---------------------------------------------------------------------------------------

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace").to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(workspace().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// A source file without its unit tests: what they call is not what the function calls.
fn production(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The string literals of a piece of source (no escapes in the ones this test reads).
fn literals(text: &str) -> Vec<String> {
    text.split('"').skip(1).step_by(2).map(str::to_owned).collect()
}

/// `list_tags_for_resource` -> `ListTagsForResource`.
fn pascal(snake: &str) -> String {
    snake.split('_').filter(|w| !w.is_empty()).map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// The block that starts at `header` and ends at the next line that is just `}`.
fn block<'a>(src: &'a str, header: &str) -> &'a str {
    let start = src.find(header).unwrap_or_else(|| panic!("`{header}` not found"));
    let end = src[start..].find("\n}\n").map_or(src.len(), |e| start + e);
    &src[start..end]
}

/// Each `fn` of a block and its body, split at the lines that start a function.
fn functions_of(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub ").unwrap_or(t);
        let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
        let t = t.strip_prefix("async ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("fn ") {
            out.push((rest.chars().take_while(|c| is_ident(*c)).collect(), String::new()));
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// Port method -> the AWS API operations its SDK implementation calls: `self.0.<op>()` or
/// `self.client.<op>()` (however formatted) inside `impl <Port> for <Type>` of `file`,
/// spelled as the operation name the code reports in its errors (`"DescribeCachediSCSIVolumes"`).
fn sdk_operations(file: &str, header: &str) -> BTreeMap<String, BTreeSet<String>> {
    let src = read(file);
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (method, body) in functions_of(block(&src, header)) {
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let names = literals(&body);
        for receiver in ["self.0.", "self.client."] {
            for call in compact.split(receiver).skip(1) {
                let op: String = call.chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect();
                if op.is_empty() || !call[op.len()..].starts_with('(') {
                    continue;
                }
                let api = pascal(&op);
                let api = names.iter().find(|n| n.eq_ignore_ascii_case(&api)).cloned().unwrap_or(api);
                map.entry(method.clone()).or_default().insert(api);
            }
        }
    }
    assert!(!map.is_empty(), "{file}: no SDK call found in `{header}`");
    map
}

fn storage_gateway_ops() -> BTreeMap<String, BTreeSet<String>> {
    sdk_operations("shared/src/aws/storage_gateway.rs", "impl StorageGateway for SdkStorageGateway")
}

fn dynamodb_ops() -> BTreeMap<String, BTreeSet<String>> {
    sdk_operations("shared/src/aws/dynamodb.rs", "impl Ledger for DynamoLedger")
}

fn sns_ops() -> BTreeMap<String, BTreeSet<String>> {
    sdk_operations("shared/src/aws/sns.rs", "impl Notifier for SdkNotifier")
}

fn sqs_ops() -> BTreeMap<String, BTreeSet<String>> {
    sdk_operations("shared/src/aws/sqs.rs", "impl Queue for SdkQueue")
}

/// The production source a function runs: its module of `shared/src`, and the files of
/// the other function's module it imports (`crate::recover::standby` in the monitor).
fn code_of(module: &str) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&workspace().join("shared/src").join(module), &mut files);
    let mut texts: Vec<String> =
        files.iter().map(|f| production(&std::fs::read_to_string(f).unwrap()).to_owned()).collect();
    let other = if module == "monitor" { "recover" } else { "monitor" };
    let mut imported = BTreeSet::new();
    for t in &texts {
        for after in t.split(&format!("crate::{other}::")).skip(1) {
            imported.insert(after.chars().take_while(|c| is_ident(*c)).collect::<String>());
        }
    }
    for name in imported {
        for rel in [format!("shared/src/{other}/{name}.rs"), format!("shared/src/{other}/{name}/mod.rs")] {
            if let Ok(t) = std::fs::read_to_string(workspace().join(&rel)) {
                texts.push(production(&t).to_owned());
            }
        }
    }
    texts
}

/// Whether `text` calls `.method(` on one of `receivers` (a whole identifier).
fn calls(text: &str, receivers: &[&str], method: &str) -> bool {
    receivers.iter().any(|r| {
        let needle = format!("{r}.{method}(");
        text.match_indices(&needle).any(|(i, _)| !text[..i].chars().next_back().is_some_and(is_ident))
    })
}

/// The `main.rs` of a function's binary.
fn main_of(function: &str) -> String {
    read(&format!("functions/{function}/src/main.rs"))
}

/// Every AWS action (`service:Operation`) a function's code makes.
fn code_actions(function: &str, module: &str) -> BTreeSet<String> {
    let code = code_of(module);
    let main = main_of(function);
    let mut actions = BTreeSet::new();
    // Storage Gateway: every port method called anywhere in the module, on any receiver
    // (the port's method names are its own).
    for (method, ops) in storage_gateway_ops() {
        if code.iter().any(|t| t.contains(&format!(".{method}("))) {
            actions.extend(ops.iter().map(|o| format!("storagegateway:{o}")));
        }
    }
    // DynamoDB: the ledger port's methods, called directly (`l.delete(`, `ledger.delete(`)
    // or through the helpers of `shared/src/ledger/mod.rs` (`ledger::load(` -> `l.get(`).
    if main.contains("DynamoLedger") {
        let ports = dynamodb_ops();
        let helpers_src = read("shared/src/ledger/mod.rs");
        let helpers: Vec<(String, String)> = functions_of(production(&helpers_src));
        let mut reached: BTreeSet<String> = BTreeSet::new();
        for t in &code {
            for method in ports.keys() {
                if calls(t, &["l", "ledger"], method) {
                    reached.insert(method.clone());
                }
            }
            for (helper, body) in &helpers {
                if t.contains(&format!("ledger::{helper}(")) || t.contains(&format!("ledger::{helper}::<")) {
                    reached.extend(ports.keys().filter(|m| calls(body, &["l"], m)).cloned());
                }
            }
        }
        for m in reached {
            actions.extend(ports[&m].iter().map(|o| format!("dynamodb:{o}")));
        }
    }
    if main.contains("notifier") {
        for (method, ops) in sns_ops() {
            if code.iter().any(|t| calls(t, &["notifier"], &method)) {
                actions.extend(ops.iter().map(|o| format!("sns:{o}")));
            }
        }
    }
    if main.contains("SdkQueue") {
        for (method, ops) in sqs_ops() {
            if code.iter().any(|t| calls(t, &["queue"], &method)) {
                actions.extend(ops.iter().map(|o| format!("sqs:{o}")));
            }
        }
    }
    actions
}

// ---------------------------------------------------------------------------------------
// Reading the template
// ---------------------------------------------------------------------------------------

/// YAML to JSON; CloudFormation's short tags, should any appear, become their long form
/// (`!Ref X` -> `{"Ref": X}`, `!GetAtt A.B` -> `{"Fn::GetAtt": "A.B"}`, `!Sub s` -> `{"Fn::Sub": s}`).
fn to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => n.as_i64().map(Value::from).or_else(|| n.as_f64().map(Value::from)).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let k = match k {
                        Y::String(s) => s,
                        other => serde_yaml_ng::to_string(&other).unwrap().trim().to_owned(),
                    };
                    (k, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let key = if tag == "Ref" || tag == "Condition" { tag.to_owned() } else { format!("Fn::{tag}") };
            let mut o = Map::new();
            o.insert(key, to_json(t.value));
            Value::Object(o)
        }
    }
}

fn template() -> Value {
    let y: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&read("infra/template.yaml")).expect("infra/template.yaml parses as YAML");
    to_json(y)
}

fn resources(t: &Value) -> &Map<String, Value> {
    t["Resources"].as_object().expect("Resources")
}

fn of_type<'a>(t: &'a Value, ty: &str) -> Vec<(&'a String, &'a Value)> {
    resources(t).iter().filter(|(_, r)| r["Type"] == ty).collect()
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings).collect(),
        _ => vec![],
    }
}

/// A reference or value as one comparable string: `Ref:X`, `GetAtt:X.Arn`, `Sub:...`, or
/// the literal.
fn canon(v: &Value) -> String {
    if let Some(r) = v.get("Ref").and_then(Value::as_str) {
        return format!("Ref:{r}");
    }
    if let Some(g) = v.get("Fn::GetAtt") {
        let s = match g {
            Value::Array(a) => strings(&Value::Array(a.clone())).join("."),
            other => other.as_str().unwrap_or_default().to_owned(),
        };
        return format!("GetAtt:{s}");
    }
    if let Some(s) = v.get("Fn::Sub").and_then(Value::as_str) {
        return format!("Sub:{s}");
    }
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn canons(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(canon).collect(),
        other => vec![canon(other)],
    }
}

/// The logical id a `Ref:X` / `GetAtt:X.Attr` points at.
fn target(c: &str) -> &str {
    let c = c.strip_prefix("Ref:").or_else(|| c.strip_prefix("GetAtt:")).unwrap_or(c);
    c.split('.').next().unwrap_or(c)
}

/// The function resource that builds `binary`, and its logical id.
fn function<'a>(t: &'a Value, binary: &str) -> (&'a str, &'a Value) {
    let (id, f) = resources(t)
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::Serverless::Function" && r["Metadata"]["BuildProperties"]["Binary"] == binary)
        .unwrap_or_else(|| panic!("no function builds {binary}"));
    (id.as_str(), f)
}

fn environment(f: &Value) -> &Map<String, Value> {
    f["Properties"]["Environment"]["Variables"].as_object().expect("environment variables")
}

/// Every statement of the inline policies of the role a function runs as.
fn statements_of(t: &Value, binary: &str) -> Vec<Value> {
    let (_, f) = function(t, binary);
    let role_id = target(&canon(&f["Properties"]["Role"])).to_owned();
    let role = &resources(t)[&role_id];
    assert_eq!(role["Type"], "AWS::IAM::Role", "{binary} runs as a role of this template");
    assert!(
        role["Properties"]["ManagedPolicyArns"].as_array().is_none_or(Vec::is_empty),
        "{binary}: no managed policies"
    );
    role["Properties"]["Policies"]
        .as_array()
        .expect("inline policies")
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// Action -> the resources it is allowed on.
fn granted(statements: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in statements.iter().filter(|s| s["Effect"] == "Allow") {
        for a in strings(&s["Action"]) {
            m.entry(a).or_default().extend(canons(&s["Resource"]));
        }
    }
    m
}

/// The stack's key: the one the functions' environment is encrypted with.
fn stack_key(t: &Value) -> String {
    target(&canon(&t["Globals"]["Function"]["KmsKeyArn"])).to_owned()
}

fn dead_letter_queue(t: &Value) -> String {
    let dlq = &t["Globals"]["Function"]["DeadLetterQueue"];
    assert_eq!(dlq["Type"], "SQS", "{dlq}");
    target(&canon(&dlq["TargetArn"])).to_owned()
}

/// Storage Gateway resource types per action, from the Service Authorization Reference
/// (list_awsstoragegateway.html). `*`: the action has no resource type, or (ListTapes) only
/// an optional one the request never names. An action the code starts calling must be
/// added here, after checking the reference.
const RESOURCE_TYPES: &[(&str, &[&str])] = &[
    ("ListGateways", &["*"]),
    ("ListTapes", &["*"]),
    ("DescribeGatewayInformation", &["gateway"]),
    ("DescribeCache", &["gateway"]),
    ("DescribeUploadBuffer", &["gateway"]),
    ("DescribeTapes", &["gateway"]),
    ("DescribeTapeRecoveryPoints", &["gateway"]),
    ("ListVolumes", &["gateway"]),
    ("ListVolumeRecoveryPoints", &["gateway"]),
    ("DisableGateway", &["gateway"]),
    ("DescribeCachediSCSIVolumes", &["volume"]),
    ("RetrieveTapeRecoveryPoint", &["gateway", "tape"]),
    ("CreateCachediSCSIVolume", &["gateway", "volume"]),
    ("CreateSnapshotFromVolumeRecoveryPoint", &["volume"]),
    // Gateways, shares, tapes and volumes; the code reads the tags of what `Taggable` names.
    ("ListTagsForResource", &["taggable"]),
];

fn arn_of(kind: &str) -> String {
    let path = match kind {
        "gateway" => "gateway/*",
        "volume" => "gateway/*/volume/*",
        "tape" => "tape/*",
        other => panic!("no ARN pattern for {other}"),
    };
    format!("Sub:arn:${{AWS::Partition}}:storagegateway:${{AWS::Region}}:${{AWS::AccountId}}:{path}")
}

/// `Taggable`'s variants (`Gateway`, `Volume`): the resources the code lists tags of.
fn taggable_kinds() -> Vec<String> {
    let src = read("shared/src/arn.rs");
    let b = block(&src, "pub enum Taggable");
    b.lines()
        .skip(1)
        .filter_map(|l| l.trim().split('(').next().filter(|v| !v.is_empty() && v.chars().all(is_ident)))
        .map(str::to_lowercase)
        .collect()
}

// ---------------------------------------------------------------------------------------
// IAM
// ---------------------------------------------------------------------------------------

#[test]
fn the_scan_finds_every_port_method_and_the_operations_behind_them() {
    let ops = storage_gateway_ops();
    assert_eq!(ops["retrieve_tape"], BTreeSet::from(["RetrieveTapeRecoveryPoint".to_owned()]));
    assert_eq!(ops["describe_cached_volumes"], BTreeSet::from(["DescribeCachediSCSIVolumes".to_owned()]));
    assert_eq!(ops["clone_volume"], BTreeSet::from(["CreateCachediSCSIVolume".to_owned()]));
    let port = read("shared/src/ports/storage_gateway.rs");
    let methods = functions_of(block(&port, "pub trait StorageGateway")).len();
    assert_eq!(ops.len(), methods, "every port method is implemented, and found: {ops:?}");
    let ledger = dynamodb_ops();
    let all: BTreeSet<&str> = ledger.values().flatten().map(String::as_str).collect();
    assert_eq!(all, BTreeSet::from(["DeleteItem", "GetItem", "PutItem", "Query"]));
    assert_eq!(sns_ops()["publish"], BTreeSet::from(["Publish".to_owned()]));
    assert_eq!(sqs_ops()["send"], BTreeSet::from(["SendMessage".to_owned()]));
    assert_eq!(taggable_kinds(), ["gateway", "volume"]);
    // The scan sees what each function does (a regression guard on the scan itself).
    let monitor = code_actions("gateway-monitor", "monitor");
    let recover = code_actions("recover-gateway", "recover");
    for a in [
        "storagegateway:DescribeGatewayInformation",
        "storagegateway:DescribeCache",
        "sqs:SendMessage",
        "dynamodb:Query",
    ] {
        assert!(monitor.contains(a), "gateway-monitor: {a} in {monitor:?}");
    }
    for a in
        ["storagegateway:DisableGateway", "storagegateway:CreateCachediSCSIVolume", "dynamodb:PutItem", "sns:Publish"]
    {
        assert!(recover.contains(a), "recover-gateway: {a} in {recover:?}");
    }
    assert!(!monitor.contains("storagegateway:DisableGateway") && !recover.iter().any(|a| a.starts_with("sqs:")));
}

#[test]
fn each_role_grants_exactly_the_calls_its_code_makes_on_exactly_their_resources() {
    let t = template();
    let key = stack_key(&t);
    let dlq = dead_letter_queue(&t);
    for (binary, module) in FUNCTIONS {
        let (_, f) = function(&t, binary);
        let env = environment(f);
        let code = code_actions(binary, module);
        let grants = granted(&statements_of(&t, binary));

        // Storage Gateway: the actions exactly, each on exactly its resource types.
        let sg_granted: BTreeSet<&String> = grants.keys().filter(|a| a.starts_with("storagegateway:")).collect();
        let sg_code: BTreeSet<&String> = code.iter().filter(|a| a.starts_with("storagegateway:")).collect();
        assert_eq!(
            sg_granted, sg_code,
            "{binary}: the role must grant exactly the Storage Gateway operations the code calls"
        );
        for action in sg_code {
            let op = action.trim_start_matches("storagegateway:");
            let (_, kinds) = RESOURCE_TYPES
                .iter()
                .find(|(o, _)| *o == op)
                .unwrap_or_else(|| panic!("{op}: look up its resource types and add it to RESOURCE_TYPES"));
            let want: BTreeSet<String> = kinds
                .iter()
                .flat_map(|k| match *k {
                    "*" => vec!["*".to_owned()],
                    "taggable" => taggable_kinds().iter().map(|k| arn_of(k)).collect(),
                    k => vec![arn_of(k)],
                })
                .collect();
            assert_eq!(grants[action], want, "{binary}: {action} on its resource types only");
        }

        // Everything else: the code's calls, and what Lambda does with the role.
        let mut want: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut allow = |action: &str, resource: String| {
            want.entry(action.to_owned()).or_default().insert(resource);
        };
        for a in code.iter().filter(|a| !a.starts_with("storagegateway:")) {
            match a.split(':').next().unwrap() {
                "dynamodb" => {
                    let table = target(&canon(&env["LEDGER_TABLE_NAME"])).to_owned();
                    allow(a, format!("GetAtt:{table}.Arn"));
                }
                "sns" => {
                    for var in ["RECOVERY_TOPIC_ARN", "REPORT_TOPIC_ARN"] {
                        if let Some(v) = env.get(var) {
                            allow(a, canon(v));
                        }
                    }
                }
                "sqs" => {
                    let queue = target(&canon(&env["REPROBE_QUEUE_URL"])).to_owned();
                    allow(a, format!("GetAtt:{queue}.Arn"));
                }
                other => panic!("{binary}: no expectation for {other} ({a})"),
            }
        }
        // Lambda's own use of the execution role: the async dead-letter queue, the SQS
        // event source's polling, the encrypted environment (and, through the services,
        // the encrypted topics, queues and table), and the function's log group.
        allow("sqs:SendMessage", format!("GetAtt:{dlq}.Arn"));
        for event in f["Properties"]["Events"].as_object().into_iter().flat_map(|e| e.values()) {
            if event["Type"] == "SQS" {
                for a in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"] {
                    allow(a, canon(&event["Properties"]["Queue"]));
                }
            }
        }
        for a in ["kms:Decrypt", "kms:GenerateDataKey"] {
            allow(a, format!("GetAtt:{key}.Arn"));
        }
        let log_group = target(&canon(&f["Properties"]["LoggingConfig"]["LogGroup"])).to_owned();
        for a in ["logs:CreateLogStream", "logs:PutLogEvents"] {
            allow(a, format!("GetAtt:{log_group}.Arn"));
        }
        let rest: BTreeMap<String, BTreeSet<String>> =
            grants.into_iter().filter(|(a, _)| !a.starts_with("storagegateway:")).collect();
        assert_eq!(rest, want, "{binary}: DynamoDB, SNS, SQS, KMS and Logs grants");
    }
}

#[test]
fn no_wildcard_action_no_tag_write_and_resource_wildcards_only_where_the_api_has_no_resource() {
    let t = template();
    let unscoped: BTreeSet<String> =
        RESOURCE_TYPES.iter().filter(|(_, k)| k.contains(&"*")).map(|(o, _)| format!("storagegateway:{o}")).collect();
    for (binary, _) in FUNCTIONS {
        for s in statements_of(&t, binary) {
            let actions = strings(&s["Action"]);
            assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none(), "{binary}: {s}");
            for a in &actions {
                assert!(!a.contains('*'), "{binary}: wildcard action {a}");
                assert!(
                    !["storagegateway:AddTagsToResource", "storagegateway:RemoveTagsFromResource"]
                        .contains(&a.as_str()),
                    "{binary}: the code writes no tag, so the role may not: {a}"
                );
                let service = a.split(':').next().unwrap();
                assert!(
                    ["storagegateway", "dynamodb", "sns", "sqs", "kms", "logs"].contains(&service),
                    "{binary}: {a}"
                );
            }
            if s["Effect"] == "Allow"
                && strings(&s["Resource"]).iter().any(|r| r.contains('*') && !r.starts_with("arn:"))
            {
                for a in &actions {
                    assert!(unscoped.contains(a), "{binary}: only {unscoped:?} may be allowed on \"*\": {s}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Data: the ledger table, the queues, the topics
// ---------------------------------------------------------------------------------------

/// `const NAME: &str = "value";` of a source file.
fn constant(src: &str, name: &str) -> String {
    let at = src.find(&format!("const {name}: &str = \"")).unwrap_or_else(|| panic!("const {name}"));
    literals(&src[at..]).into_iter().next().unwrap()
}

fn retained(r: &Value) -> bool {
    r["DeletionPolicy"] == "Retain" && r["UpdateReplacePolicy"] == "Retain"
}

#[test]
fn the_ledger_table_is_keyed_encrypted_recoverable_expiring_and_retained_as_the_code_expects() {
    let t = template();
    let src = read("shared/src/aws/dynamodb.rs");
    let (pk, sk, ttl) = (constant(&src, "PK"), constant(&src, "SK"), constant(&src, "EXPIRES_AT"));
    let tables: BTreeSet<String> = FUNCTIONS
        .iter()
        .map(|(b, _)| target(&canon(&environment(function(&t, b).1)["LEDGER_TABLE_NAME"])).to_owned())
        .collect();
    assert_eq!(tables.len(), 1, "both functions share one ledger: {tables:?}");
    let id = tables.into_iter().next().unwrap();
    let table = &resources(&t)[&id];
    let p = &table["Properties"];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table");
    assert!(retained(table), "the ledger outlives the stack: {table}");
    assert_eq!(
        p["KeySchema"],
        json!([{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}])
    );
    assert_eq!(
        p["AttributeDefinitions"],
        json!([{"AttributeName": pk, "AttributeType": "S"}, {"AttributeName": sk, "AttributeType": "S"}])
    );
    // No index: the roles grant no index ARN, and the code queries the base table only.
    assert!(p.get("GlobalSecondaryIndexes").is_none() && p.get("LocalSecondaryIndexes").is_none());
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(p["SSESpecification"]["SSEType"], "KMS");
    let key = stack_key(&t);
    assert_eq!(target(&canon(&p["SSESpecification"]["KMSMasterKeyId"])), key);
    assert_eq!(p["TimeToLiveSpecification"], json!({"AttributeName": ttl, "Enabled": true}));
    // A retained table encrypted with a key the stack deletion schedules for deletion
    // would become unreadable.
    assert!(retained(&resources(&t)[&key]), "the table's key is retained with it");
}

#[test]
fn queues_topics_and_logs_are_encrypted_with_the_stack_key() {
    let t = template();
    let key = stack_key(&t);
    let mut seen = 0;
    for ty in ["AWS::SQS::Queue", "AWS::SNS::Topic"] {
        for (id, r) in of_type(&t, ty) {
            assert_eq!(target(&canon(&r["Properties"]["KmsMasterKeyId"])), key, "{id}");
            seen += 1;
        }
    }
    assert_eq!(seen, 4, "two queues (dead letters, re-probes) and two topics");
    for (id, r) in of_type(&t, "AWS::Logs::LogGroup") {
        assert_eq!(target(&canon(&r["Properties"]["KmsKeyId"])), key, "{id}");
    }
}

#[test]
fn the_reprobe_queue_feeds_the_monitor_as_lambda_advises() {
    let t = template();
    let (_, f) = function(&t, "gateway-monitor");
    let queue_id = target(&canon(&environment(f)["REPROBE_QUEUE_URL"])).to_owned();
    let queue = &resources(&t)[&queue_id];
    assert_eq!(queue["Type"], "AWS::SQS::Queue");
    let timeout = f["Properties"]["Timeout"].as_i64().expect("the monitor's timeout");
    let visibility = queue["Properties"]["VisibilityTimeout"].as_i64().expect("VisibilityTimeout");
    assert!(visibility >= 6 * timeout, "visibility timeout {visibility} < 6 x {timeout}");
    // The code delays a message by at most 900 s, and re-sends a longer wait.
    assert!(queue["Properties"]["MessageRetentionPeriod"].as_i64().unwrap_or(345_600) > 900);
    let redrive = &queue["Properties"]["RedrivePolicy"];
    assert_eq!(target(&canon(&redrive["deadLetterTargetArn"])), dead_letter_queue(&t));
    assert!(redrive["maxReceiveCount"].as_i64().is_some_and(|n| n >= 1), "{redrive}");

    let events: Vec<&Value> = f["Properties"]["Events"]
        .as_object()
        .into_iter()
        .flat_map(|e| e.values())
        .filter(|e| e["Type"] == "SQS")
        .collect();
    assert_eq!(events.len(), 1, "one event source: the re-probe queue");
    let p = &events[0]["Properties"];
    assert_eq!(canon(&p["Queue"]), format!("GetAtt:{queue_id}.Arn"));
    // Partial batch responses only if the handler answers them; else one message a batch,
    // so one bad message does not fail (and redeliver) the others.
    let handler = main_of("gateway-monitor") + &read("shared/src/monitor/request.rs");
    if handler.contains("batchItemFailures") || handler.contains("BatchItemFailures") {
        assert!(strings(&p["FunctionResponseTypes"]).contains(&"ReportBatchItemFailures".to_owned()), "{p}");
    } else {
        assert_eq!(p["BatchSize"], 1, "{p}");
        assert!(p.get("FunctionResponseTypes").is_none(), "the handler answers no batchItemFailures: {p}");
    }

    // What the monitor sends itself is what it decodes from this queue.
    let body = json!({"type": "Reprobe", "version": 1,
        "gatewayArn": "arn:aws:storagegateway:us-east-1:123456789012:gateway/sgw-12A3456B", "dueAt": 1_795_601_700});
    let event = json!({"Records": [{"messageId": "m1", "receiptHandle": "r", "body": body.to_string(), "attributes": {},
        "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:reprobe", "awsRegion": "us-east-1"}]});
    assert!(matches!(decode_event(&event), Ok(MonitorRequest::Reprobe(ref m)) if m.len() == 1));
}

// ---------------------------------------------------------------------------------------
// Triggers and alarms
// ---------------------------------------------------------------------------------------

/// EventBridge pattern matching, for the forms this template uses: a list of allowed
/// values, or a nested object; an array in the event matches if any element does.
fn matches_pattern(pattern: &Value, event: &Value) -> bool {
    match (pattern, event) {
        (_, Value::Array(items)) => items.iter().any(|e| matches_pattern(pattern, e)),
        (Value::Array(allowed), e) => allowed.contains(e),
        (Value::Object(p), Value::Object(e)) => {
            p.iter().all(|(k, sub)| e.get(k).is_some_and(|v| matches_pattern(sub, v)))
        }
        _ => false,
    }
}

fn rules_targeting<'a>(t: &'a Value, function_id: &str) -> Vec<(&'a String, &'a Value)> {
    of_type(t, "AWS::Events::Rule")
        .into_iter()
        .filter(|(_, r)| {
            r["Properties"]["Targets"]
                .as_array()
                .is_some_and(|ts| ts.iter().any(|x| canon(&x["Arn"]) == format!("GetAtt:{function_id}.Arn")))
        })
        .collect()
}

fn event_file(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// A Storage Gateway issue as AWS Health sends it (the shape of the AWS Health user
/// guide's example), used when `events/gateway-monitor/health-*.json` are not there.
fn health_issue() -> Value {
    json!({"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602", "detail-type": "AWS Health Event",
        "source": "aws.health", "account": "123456789012", "time": "2026-11-25T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {
            "eventArn": "arn:aws:health:us-east-1::event/STORAGEGATEWAY/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE_ABCDE_1234567890",
            "service": "STORAGEGATEWAY", "eventTypeCode": "AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE",
            "eventTypeCategory": "issue", "eventScopeCode": "PUBLIC", "communicationId": "c-1",
            "startTime": "Wed, 25 Nov 2026 09:40:00 GMT", "lastUpdatedTime": "Wed, 25 Nov 2026 09:55:00 GMT",
            "statusCode": "open", "eventRegion": "us-east-1",
            "eventDescription": [{"language": "en_US", "latestDescription": "Increased error rates for Storage Gateway"}]}})
}

#[test]
fn every_trigger_delivers_an_event_the_monitor_decodes_as_intended() {
    let t = template();
    let (monitor_id, _) = function(&t, "gateway-monitor");
    let rules = rules_targeting(&t, monitor_id);
    let find = |pred: &dyn Fn(&Value) -> bool| -> &Value {
        rules.iter().find(|(_, r)| pred(&r["Properties"])).map(|(_, r)| &r["Properties"]).expect("a rule")
    };
    let input_of = |rule: &Value| -> Option<Value> {
        rule["Targets"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|x| x["Input"].as_str().map(|s| serde_json::from_str(s).expect("Input is JSON")))
    };

    // The sweep: a plain scheduled event.
    let sweep = find(&|p| p["ScheduleExpression"] == json!({"Ref": "SweepRate"}));
    assert!(input_of(sweep).is_none());
    let scheduled = event_file("events/gateway-monitor/scheduled-sweep.json");
    assert_eq!(decode_event(&scheduled).unwrap(), MonitorRequest::Sweep);

    // The readiness check: its constant input.
    let readiness = find(&|p| p["ScheduleExpression"] == json!({"Ref": "ReadinessSchedule"}));
    let input = input_of(readiness).expect("the readiness rule has an Input");
    assert_eq!(decode_event(&input).unwrap(), MonitorRequest::Readiness, "{input}");

    // Alarms on Storage Gateway metrics (and not the stack's own).
    let alarms = find(&|p| strings(&p["EventPattern"]["source"]) == ["aws.cloudwatch"]);
    let alarm = event_file("events/gateway-monitor/alarm-state-change-alarm.json");
    assert!(matches_pattern(&alarms["EventPattern"], &alarm));
    assert!(matches!(decode_event(&alarm).unwrap(), MonitorRequest::Alarm(_)));
    let mut lambda_alarm = alarm.clone();
    lambda_alarm["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]["namespace"] = json!("AWS/Lambda");
    assert!(!matches_pattern(&alarms["EventPattern"], &lambda_alarm));

    // AWS Health: Storage Gateway events, and no other service's.
    let health = find(&|p| strings(&p["EventPattern"]["source"]) == ["aws.health"]);
    let pattern = &health["EventPattern"];
    assert_eq!(strings(&pattern["detail-type"]), ["AWS Health Event"]);
    assert_eq!(strings(&pattern["detail"]["service"]), [shared::monitor::health::SERVICE]);
    let mut samples = vec![("inline issue".to_owned(), health_issue())];
    let dir = workspace().join("events/gateway-monitor");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("health") && name.ends_with(".json") {
            samples.push((name.clone(), event_file(&format!("events/gateway-monitor/{name}"))));
        }
    }
    for (name, e) in &samples {
        assert!(matches_pattern(pattern, e), "{name} must match the Health rule");
        match decode_event(e) {
            Ok(MonitorRequest::Health(_) | MonitorRequest::Ignored(_)) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(matches!(decode_event(&samples[0].1).unwrap(), MonitorRequest::Health(_)));
    let mut ec2 = health_issue();
    ec2["detail"]["service"] = json!("EC2");
    assert!(!matches_pattern(pattern, &ec2));
}

#[test]
fn every_rule_may_invoke_its_target_and_keeps_its_dead_letters() {
    let t = template();
    let dlq = dead_letter_queue(&t);
    let permissions = of_type(&t, "AWS::Lambda::Permission");
    let dlq_sources: BTreeSet<String> = of_type(&t, "AWS::SQS::QueuePolicy")
        .iter()
        .filter(|(_, p)| canons(&p["Properties"]["Queues"]).contains(&format!("Ref:{dlq}")))
        .flat_map(|(_, p)| p["Properties"]["PolicyDocument"]["Statement"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["Principal"]["Service"] == "events.amazonaws.com")
        .flat_map(|s| canons(&s["Condition"]["ArnEquals"]["aws:SourceArn"]))
        .collect();
    let rules = of_type(&t, "AWS::Events::Rule");
    assert_eq!(rules.len(), 4, "sweep, readiness, alarms, Health");
    for (rule, r) in rules {
        for target_ in r["Properties"]["Targets"].as_array().unwrap() {
            let function_id = target(&canon(&target_["Arn"])).to_owned();
            assert!(
                permissions.iter().any(|(_, p)| {
                    let p = &p["Properties"];
                    canon(&p["FunctionName"]) == format!("Ref:{function_id}")
                        && p["Principal"] == "events.amazonaws.com"
                        && canon(&p["SourceArn"]) == format!("GetAtt:{rule}.Arn")
                        && p["Action"] == "lambda:InvokeFunction"
                }),
                "{rule} has no permission to invoke {function_id}"
            );
            assert_eq!(canon(&target_["DeadLetterConfig"]["Arn"]), format!("GetAtt:{dlq}.Arn"), "{rule}");
        }
        assert!(dlq_sources.contains(&format!("GetAtt:{rule}.Arn")), "{rule} may not write to the dead-letter queue");
    }
}

fn alarms_to_report_topic(t: &Value) -> Vec<&Value> {
    let (_, f) = function(t, "gateway-monitor");
    let report = canon(&environment(f)["REPORT_TOPIC_ARN"]);
    of_type(t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| &a["Properties"])
        .filter(|a| canons(&a["AlarmActions"]).contains(&report))
        .collect()
}

/// Whether an alarm fires on any value above zero.
fn above_zero(a: &Value) -> bool {
    let threshold = a["Threshold"].as_f64().unwrap_or(f64::NAN);
    match a["ComparisonOperator"].as_str() {
        Some("GreaterThanThreshold") => threshold == 0.0,
        Some("GreaterThanOrEqualToThreshold") => threshold > 0.0 && threshold <= 1.0,
        _ => false,
    }
}

#[test]
fn every_function_has_an_errors_alarm_to_the_report_topic() {
    let t = template();
    let alarms = alarms_to_report_topic(&t);
    let functions = of_type(&t, "AWS::Serverless::Function");
    assert_eq!(functions.len(), FUNCTIONS.len());
    for (id, _) in functions {
        assert!(
            alarms.iter().any(|a| a["Namespace"] == "AWS/Lambda"
                && a["MetricName"] == "Errors"
                && a["Statistic"] == "Sum"
                && above_zero(a)
                && a["Dimensions"] == json!([{"Name": "FunctionName", "Value": {"Ref": id}}])),
            "{id} has no Errors > 0 alarm to the report topic"
        );
    }
}

/// Metric name -> the `Function` dimension it is emitted with, from every
/// `emit_metrics("<function>", &[("<Name>", ...), ...])` call in `shared/src`.
fn emitted_metrics() -> BTreeMap<String, String> {
    let mut files = Vec::new();
    rust_files(&workspace().join("shared/src"), &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for call in production(&text).split("emit_metrics(").skip(1) {
            let args = &call[..call.find(");").unwrap_or(call.len())];
            let lits = literals(args);
            let Some(function) = lits.first() else { continue };
            for name in args.split("(\"").skip(1).filter_map(|s| s.split('"').next()) {
                out.insert(name.to_owned(), function.clone());
            }
        }
    }
    assert!(!out.is_empty(), "no emit_metrics call found");
    out
}

#[test]
fn the_readiness_check_alarms_when_a_gateway_is_not_ready() {
    let t = template();
    let emitted = emitted_metrics();
    assert_eq!(emitted.get("GatewaysNotReady").map(String::as_str), Some("gateway-monitor"), "{emitted:?}");
    let alarms = alarms_to_report_topic(&t);
    assert!(
        alarms.iter().any(|a| a["Namespace"] == shared::telemetry::NAMESPACE
            && a["MetricName"] == "GatewaysNotReady"
            && a["Dimensions"] == json!([{"Name": "Function", "Value": "gateway-monitor"}])
            && above_zero(a)),
        "no GatewaysNotReady > 0 alarm to the report topic"
    );
}

// ---------------------------------------------------------------------------------------
// Environment
// ---------------------------------------------------------------------------------------

/// The variables a config reads, and those it requires, from `shared/src/config.rs`: the
/// literals of `impl <Config>`, of the helpers it calls (`table(src)`) and of the types it
/// reads (`GuardThresholds::from_source`). Required: `topic(src, "X", ..)` and the
/// variables of helpers that answer `ConfigError::Missing`.
fn config_vars(config: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let src = read("shared/src/config.rs");
    let src = production(&src);
    let env_name = |s: &String| s.len() > 2 && s.chars().all(|c| c.is_ascii_uppercase() || c == '_');
    let helpers: BTreeMap<String, String> = src
        .split("\nfn ")
        .skip(1)
        .map(|s| (s.chars().take_while(|c| is_ident(*c)).collect(), s[..s.find("\n}\n").unwrap_or(s.len())].to_owned()))
        .collect();
    let mut read_ = BTreeSet::new();
    let mut required = BTreeSet::new();
    let mut bodies = vec![block(src, &format!("impl {config} {{")).to_owned()];
    let mut i = 0;
    while i < bodies.len() {
        let body = bodies[i].clone();
        read_.extend(literals(&body).into_iter().filter(env_name));
        for call in body.split("topic(src, \"").skip(1) {
            required.insert(call.split('"').next().unwrap().to_owned());
        }
        for (name, helper) in &helpers {
            if body.contains(&format!("{name}(src")) && !bodies.contains(helper) {
                if helper.contains("ConfigError::Missing") {
                    required.extend(literals(helper).into_iter().filter(env_name));
                }
                bodies.push(helper.clone());
            }
        }
        for ty in body
            .split("::from_source(src")
            .map(|s| s.rsplit(|c: char| !is_ident(c)).next().unwrap_or_default().to_owned())
        {
            let header = format!("impl {ty} {{");
            if !ty.is_empty() && src.contains(&header) && !bodies.iter().any(|b| b.starts_with(&header)) {
                bodies.push(block(src, &header).to_owned());
            }
        }
        i += 1;
    }
    // The log filter reads RUST_LOG (tracing's EnvFilter).
    if read("shared/src/telemetry.rs").contains("try_from_default_env") {
        read_.insert("RUST_LOG".to_owned());
    }
    (read_, required)
}

/// The environment, read like `ProcessEnv` (blank counts as unset).
struct Env(BTreeMap<String, String>);

impl Source for Env {
    fn get(&self, var: &str) -> Option<String> {
        self.0.get(var).filter(|v| !v.trim().is_empty()).cloned()
    }
}

fn parse(binary: &str, env: &BTreeMap<String, String>) -> Result<(), String> {
    let env = Env(env.clone());
    match binary {
        "gateway-monitor" => MonitorConfig::from_source(&env).map(|_| ()).map_err(|e| e.to_string()),
        _ => RecoverConfig::from_source(&env).map(|_| ()).map_err(|e| e.to_string()),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Which of a parameter's values to deploy with.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Default,
    Min,
    Max,
    Allowed(usize),
}

fn pick(p: &Value, which: Pick) -> Value {
    let v = match which {
        Pick::Default => None,
        Pick::Min => p.get("MinValue").cloned(),
        Pick::Max => p.get("MaxValue").cloned(),
        Pick::Allowed(i) => p["AllowedValues"].as_array().and_then(|a| a.get(i).cloned()),
    };
    v.unwrap_or_else(|| p["Default"].clone())
}

/// A value as deployed: a parameter's `which` value; for a resource, a plausible name or ARN.
fn resolve(t: &Value, v: &Value, which: Pick) -> String {
    let c = canon(v);
    if !c.starts_with("Ref:") {
        return scalar(v);
    }
    let id = target(&c);
    if let Some(p) = t["Parameters"].get(id) {
        return scalar(&pick(p, which));
    }
    match resources(t)[id]["Type"].as_str().unwrap_or_default() {
        "AWS::SNS::Topic" => format!("arn:aws:sns:us-east-1:123456789012:stack-{id}-1A2B3C4D5E6F"),
        "AWS::SQS::Queue" => format!("https://sqs.us-east-1.amazonaws.com/123456789012/stack-{id}-1A2B3C4D5E6F"),
        "AWS::DynamoDB::Table" => format!("stack-{id}-1A2B3C4D5E6F"),
        other => panic!("no sample value for a {other}"),
    }
}

#[test]
fn the_environment_is_what_the_code_reads_and_every_allowed_value_is_accepted() {
    let t = template();
    for (binary, _) in FUNCTIONS {
        let config = if binary == "gateway-monitor" { "MonitorConfig" } else { "RecoverConfig" };
        let (reads, required) = config_vars(config);
        assert!(reads.contains("LEDGER_TABLE_NAME") && required.contains("LEDGER_TABLE_NAME"), "{reads:?}");
        let (_, f) = function(&t, binary);
        let env = environment(f);
        let set: BTreeSet<String> = env.keys().cloned().collect();
        let unknown: Vec<&String> = set.difference(&reads).collect();
        assert!(unknown.is_empty(), "{binary}: the template sets {unknown:?}, which {config} does not read");
        let missing: Vec<&String> = required.difference(&set).collect();
        assert!(missing.is_empty(), "{binary}: the template does not set the required {missing:?}");

        // Every value a parameter allows (its default, bounds and allowed values) must be
        // one the function accepts at start-up.
        let most = t["Parameters"]
            .as_object()
            .unwrap()
            .values()
            .map(|p| p["AllowedValues"].as_array().map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        let picks = [Pick::Default, Pick::Min, Pick::Max].into_iter().chain((0..most).map(Pick::Allowed));
        for which in picks {
            let values: BTreeMap<String, String> =
                env.iter().map(|(k, v)| (k.clone(), resolve(&t, v, which))).collect();
            parse(binary, &values)
                .unwrap_or_else(|e| panic!("{binary} would not start with {values:?} ({which:?}): {e}"));
        }
    }
}

/// `[package.metadata.lambda.deploy.env]` of a function's Cargo.toml: `KEY = "value"` lines.
fn deploy_env(binary: &str) -> BTreeMap<String, String> {
    let toml = read(&format!("functions/{binary}/Cargo.toml"));
    let at = toml.find("[package.metadata.lambda.deploy.env]").expect("a deploy env table");
    toml[at..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once('=').expect("KEY = \"value\"");
            (k.trim().to_owned(), v.trim().trim_matches('"').to_owned())
        })
        .collect()
}

fn deploy_number(binary: &str, key: &str) -> i64 {
    let toml = read(&format!("functions/{binary}/Cargo.toml"));
    let at = toml.find("[package.metadata.lambda.deploy]").expect("a deploy table");
    toml[at..]
        .lines()
        .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().parse().unwrap()))
        .unwrap_or_else(|| panic!("{binary}: no {key}"))
}

#[test]
fn cargo_lambda_deploy_sets_what_the_template_sets() {
    let t = template();
    for (binary, _) in FUNCTIONS {
        let (_, f) = function(&t, binary);
        let env = environment(f);
        let deploy = deploy_env(binary);
        let keys: BTreeSet<&String> = deploy.keys().collect();
        assert_eq!(keys, env.keys().collect::<BTreeSet<_>>(), "{binary}: the same variables");
        for (k, v) in env {
            let c = canon(v);
            let is_resource = c.starts_with("Ref:") && t["Parameters"].get(target(&c)).is_none();
            if !is_resource {
                // A literal, or a parameter's default.
                assert_eq!(deploy[k], resolve(&t, v, Pick::Default), "{binary}: {k}");
            }
        }
        parse(binary, &deploy).unwrap_or_else(|e| panic!("{binary}: cargo lambda deploy's environment: {e}"));
        assert_eq!(deploy_number(binary, "timeout"), f["Properties"]["Timeout"].as_i64().unwrap(), "{binary}");
        assert_eq!(deploy_number(binary, "memory"), t["Globals"]["Function"]["MemorySize"].as_i64().unwrap());
    }
}

// ---------------------------------------------------------------------------------------
// Dashboard
// ---------------------------------------------------------------------------------------

#[test]
fn the_dashboard_shows_the_key_metrics_as_the_code_emits_them() {
    let t = template();
    let dashboards = of_type(&t, "AWS::CloudWatch::Dashboard");
    assert_eq!(dashboards.len(), 1);
    let p = &dashboards[0].1["Properties"];
    assert!(p["DashboardName"]["Fn::Sub"].as_str().is_some_and(|s| s.contains("${AWS::StackName}")), "{p}");
    let body = p["DashboardBody"]["Fn::Sub"].as_str().expect("the body is a Fn::Sub string");
    // Substitutions must name a parameter, resource (attribute) or pseudo parameter.
    let mut plain = String::new();
    let mut rest = body;
    while let Some(i) = rest.find("${") {
        let end = rest[i..].find('}').expect("closed ${") + i;
        let name = &rest[i + 2..end];
        let id = name.split('.').next().unwrap();
        assert!(
            name.starts_with("AWS::") || resources(&t).contains_key(id) || t["Parameters"].get(id).is_some(),
            "${{{name}}}"
        );
        plain.push_str(&rest[..i]);
        plain.push_str("SUBSTITUTED");
        rest = &rest[end + 1..];
    }
    plain.push_str(rest);
    let body: Value = serde_json::from_str(&plain).expect("the dashboard body is JSON");

    let emitted = emitted_metrics();
    let mut shown: BTreeSet<(String, String)> = BTreeSet::new();
    for w in body["widgets"].as_array().expect("widgets") {
        let mut prev: Vec<Value> = Vec::new();
        for row in w["properties"]["metrics"].as_array().into_iter().flatten() {
            let row: Vec<Value> = row.as_array().unwrap().iter().filter(|v| !v.is_object()).cloned().collect();
            // `"."`: as in the row before; `"..."`: all of the row before but the last values.
            let full: Vec<Value> = if row.first() == Some(&json!("...")) {
                let tail = &row[1..];
                prev[..prev.len() - tail.len()].iter().chain(tail).cloned().collect()
            } else {
                row.iter().enumerate().map(|(i, v)| if v == "." { prev[i].clone() } else { v.clone() }).collect()
            };
            let ns = full[0].as_str().unwrap().to_owned();
            let name = full[1].as_str().unwrap().to_owned();
            if ns == shared::telemetry::NAMESPACE {
                assert_eq!(full.len(), 4, "{full:?}");
                assert_eq!(full[2], "Function", "{full:?}");
                let function = emitted.get(&name).unwrap_or_else(|| panic!("the code emits no {name}"));
                assert_eq!(full[3], json!(function), "{name} is emitted with Function={function}");
            }
            shown.insert((ns, name));
            prev = full;
        }
    }
    let ns = shared::telemetry::NAMESPACE;
    for name in [
        "GatewaysOffline",
        "GatewaysNotReady",
        "RecoveriesHeld",
        "TapesRetrieved",
        "TapesFailed",
        "TapesPending",
        "VolumesRecovered",
        "VolumesFailed",
        "Throttles",
        "OldestRecoveryPointAgeSeconds",
        "EstimatedRecoveryTimeSeconds",
    ] {
        assert!(shown.contains(&(ns.to_owned(), name.to_owned())), "the dashboard lacks {name}");
    }
    for name in ["Errors", "Duration"] {
        assert!(shown.contains(&("AWS/Lambda".to_owned(), name.to_owned())), "the dashboard lacks Lambda {name}");
    }
}
