//! botocore's service models: where they are on this machine, and read access to their
//! shapes. Nothing here is transcribed by hand: every constraint the test checks comes
//! from these files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// botocore's `data` directory: `BOTOCORE_DATA` if set, else where `python3` on `PATH`
/// finds botocore.
pub fn data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("BOTOCORE_DATA") {
        let dir = PathBuf::from(dir);
        return if dir.is_dir() { Ok(dir) } else { Err(format!("BOTOCORE_DATA={} is not a directory", dir.display())) };
    }
    let script = "import botocore, os; print(os.path.dirname(botocore.__file__))";
    let out = Command::new("python3")
        .args(["-c", script])
        .output()
        .map_err(|e| format!("BOTOCORE_DATA is not set and python3 could not be run: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("no error output");
        return Err(format!("BOTOCORE_DATA is not set and python3 cannot import botocore ({})", why.trim()));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("data");
    if dir.is_dir() { Ok(dir) } else { Err(format!("botocore has no data directory at {}", dir.display())) }
}

/// One service's model (`service-2.json`).
pub struct Model {
    json: Value,
}

impl Model {
    /// Reads `<data>/<service>/<version>/service-2.json.gz` (or the uncompressed file older
    /// botocore releases ship).
    pub fn load(data: &Path, service: &str, version: &str) -> Result<Model, String> {
        let dir = data.join(service).join(version);
        let gz = dir.join("service-2.json.gz");
        let text = if gz.is_file() {
            gunzip(&gz)?
        } else {
            let plain = dir.join("service-2.json");
            std::fs::read_to_string(&plain).map_err(|e| format!("{}: {e}", plain.display()))?
        };
        let json = serde_json::from_str(&text).map_err(|e| format!("{service} model: {e}"))?;
        Ok(Model { json })
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.json["metadata"][key].as_str()
    }

    pub fn shape<'m>(&'m self, name: &'m str) -> Shape<'m> {
        Shape { name, json: &self.json["shapes"][name], model: self }
    }

    fn operation(&self, op: &str) -> &Value {
        &self.json["operations"][op]
    }

    pub fn has_operation(&self, op: &str) -> bool {
        self.operation(op).is_object()
    }

    pub fn input(&self, op: &str) -> Option<Shape<'_>> {
        self.operation(op)["input"]["shape"].as_str().map(|n| self.shape(n))
    }

    /// The output shape and, for the query protocol, the element wrapping it (`PublishResult`).
    pub fn output(&self, op: &str) -> Option<(Shape<'_>, Option<&str>)> {
        let out = &self.operation(op)["output"];
        out["shape"].as_str().map(|n| (self.shape(n), out["resultWrapper"].as_str()))
    }

    /// The error shapes the operation declares.
    pub fn errors(&self, op: &str) -> Vec<Shape<'_>> {
        let errors = self.operation(op)["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
        errors.iter().filter_map(|e| e["shape"].as_str()).map(|n| self.shape(n)).collect()
    }
}

fn gunzip(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text)
}

/// A named shape of a model.
#[derive(Clone, Copy)]
pub struct Shape<'m> {
    pub name: &'m str,
    json: &'m Value,
    model: &'m Model,
}

/// A member of a structure, or a list's member, or a map's key or value.
#[derive(Clone, Copy)]
pub struct Member<'m> {
    pub name: &'m str,
    pub shape: Shape<'m>,
    /// The wire name where it differs from `name` (query protocol elements and parameters).
    pub location_name: Option<&'m str>,
    pub required: bool,
}

impl<'m> Member<'m> {
    /// The name on the wire: the location name if the model gives one.
    pub fn wire_name(&self) -> &'m str {
        self.location_name.unwrap_or(self.name)
    }
}

impl<'m> Shape<'m> {
    /// `string`, `integer`, `long`, `boolean`, `structure`, `list`, `map`, `timestamp`, ...
    pub fn kind(&self) -> &'m str {
        self.json["type"].as_str().unwrap_or("")
    }

    fn reference(&self, key: &'m str, json: &'m Value, required: bool) -> Option<Member<'m>> {
        let shape = json["shape"].as_str()?;
        Some(Member {
            name: key,
            shape: self.model.shape(shape),
            location_name: json["locationName"].as_str(),
            required,
        })
    }

    /// A structure's members, in the model's order.
    pub fn members(&self) -> Vec<Member<'m>> {
        let required: Vec<&str> =
            self.json["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let Some(members) = self.json["members"].as_object() else { return Vec::new() };
        members.iter().filter_map(|(name, m)| self.reference(name, m, required.contains(&name.as_str()))).collect()
    }

    /// A list's member.
    pub fn list_member(&self) -> Option<Member<'m>> {
        self.reference("member", &self.json["member"], false)
    }

    pub fn map_key(&self) -> Option<Member<'m>> {
        self.reference("key", &self.json["key"], false)
    }

    pub fn map_value(&self) -> Option<Member<'m>> {
        self.reference("value", &self.json["value"], false)
    }

    pub fn min(&self) -> Option<i64> {
        number(&self.json["min"])
    }

    pub fn max(&self) -> Option<i64> {
        number(&self.json["max"])
    }

    pub fn pattern(&self) -> Option<&'m str> {
        self.json["pattern"].as_str()
    }

    pub fn enum_values(&self) -> Vec<&'m str> {
        self.json["enum"].as_array().map(|v| v.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }

    /// A structure of which exactly one member is set (DynamoDB's `AttributeValue`).
    pub fn is_union(&self) -> bool {
        self.json["union"].as_bool().unwrap_or(false)
    }

    pub fn flattened(&self) -> bool {
        self.json["flattened"].as_bool().unwrap_or(false)
    }

    /// The error code of an exception shape (`error.code`), else its name.
    pub fn error_code(&self) -> &'m str {
        self.json["error"]["code"].as_str().unwrap_or(self.name)
    }
}

/// A bound of the model: an integer, or a float the model writes for a double shape.
fn number(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}
