//! Raw HTTP to the simulator in each protocol the models name (awsJson1_0, awsJson1_1,
//! awsQuery), so a request can carry what no SDK would send.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::model::{Model, Shape};

/// How a service's requests travel, from its model's metadata.
#[derive(Debug, Clone)]
pub enum Protocol {
    /// `X-Amz-Target: <prefix>.<Operation>`, `application/x-amz-json-<version>`.
    Json { version: String, target_prefix: String },
    /// A form with `Action` and `Version`.
    Query { version: String },
}

impl Protocol {
    pub fn of(model: &Model) -> Result<Protocol, String> {
        let version = |k: &str| model.metadata(k).map(str::to_owned).ok_or(format!("model metadata has no {k}"));
        match model.metadata("protocol") {
            Some("json") => {
                Ok(Protocol::Json { version: version("jsonVersion")?, target_prefix: version("targetPrefix")? })
            }
            Some("query") => Ok(Protocol::Query { version: version("apiVersion")? }),
            other => Err(format!("protocol {other:?} is not one the simulator answers")),
        }
    }

    pub fn is_json(&self) -> bool {
        matches!(self, Protocol::Json { .. })
    }
}

/// An answer as it came back.
pub struct Reply {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

pub struct Wire {
    client: Client<HttpConnector, Full<Bytes>>,
    url: String,
    region: String,
}

impl Wire {
    pub fn new(url: String, region: &str) -> Wire {
        Wire { client: Client::builder(TokioExecutor::new()).build_http(), url, region: region.to_owned() }
    }

    /// Sends `body` as operation `op` of a service signed as `signing_name`.
    pub async fn send(&self, protocol: &Protocol, model: &Model, signing_name: &str, op: &str, body: &Value) -> Reply {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20261201/{}/{signing_name}/aws4_request, SignedHeaders=host, Signature=0",
            self.region
        );
        let req = hyper::Request::post(&self.url).header("authorization", auth);
        let (req, payload) = match protocol {
            Protocol::Json { version, target_prefix } => (
                req.header("x-amz-target", format!("{target_prefix}.{op}"))
                    .header("content-type", format!("application/x-amz-json-{version}")),
                body.to_string(),
            ),
            Protocol::Query { version } => {
                let mut params = vec![("Action".to_owned(), op.to_owned()), ("Version".to_owned(), version.clone())];
                if let Some(input) = model.input(op) {
                    query_params(input, body, "", &mut params);
                }
                let form = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
                (req.header("content-type", "application/x-www-form-urlencoded; charset=utf-8"), form)
            }
        };
        let req = match req.body(Full::new(Bytes::from(payload))) {
            Ok(r) => r,
            Err(e) => return failed(format!("building the request: {e}")),
        };
        let resp = match self.client.request(req).await {
            Ok(r) => r,
            Err(e) => return failed(format!("no answer: {e}")),
        };
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        Reply { status: parts.status.as_u16(), headers: parts.headers, body }
    }
}

/// A reply that stands for a request that got no answer (status 0).
fn failed(why: String) -> Reply {
    Reply { status: 0, headers: hyper::HeaderMap::new(), body: Bytes::from(why) }
}

/// Serializes `value` of `shape` as awsQuery parameters under `prefix`: structure members
/// by their wire names, lists as `prefix.member.N`, maps as `prefix.entry.N.key/value`
/// (the map's key and value location names if it has them), 1-based.
pub fn query_params(shape: Shape, value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    let join = |name: &str| if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") };
    match (shape.kind(), value) {
        ("structure", Value::Object(o)) => {
            for m in shape.members() {
                if let Some(v) = o.get(m.name) {
                    query_params(m.shape, v, &join(m.wire_name()), out);
                }
            }
        }
        ("list", Value::Array(items)) => {
            let Some(item) = shape.list_member() else { return };
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
            }
            for (i, v) in items.iter().enumerate() {
                let at = if shape.flattened() {
                    format!("{prefix}.{}", i + 1)
                } else {
                    join(&format!("{}.{}", item.location_name.unwrap_or("member"), i + 1))
                };
                query_params(item.shape, v, &at, out);
            }
        }
        ("map", Value::Object(entries)) => {
            let (Some(k), Some(vm)) = (shape.map_key(), shape.map_value()) else { return };
            for (i, (key, v)) in entries.iter().enumerate() {
                let entry =
                    if shape.flattened() { format!("{prefix}.{}", i + 1) } else { join(&format!("entry.{}", i + 1)) };
                out.push((format!("{entry}.{}", k.location_name.unwrap_or("key")), key.clone()));
                query_params(vm.shape, v, &format!("{entry}.{}", vm.location_name.unwrap_or("value")), out);
            }
        }
        (_, Value::Null) => {}
        (_, Value::String(s)) => out.push((prefix.to_owned(), s.clone())),
        (_, other) => out.push((prefix.to_owned(), other.to_string())),
    }
}

/// An XML element, as far as the query protocol's answers need one.
#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parses a whole XML document: one root element, after an optional declaration.
pub fn parse_xml(xml: &str) -> Result<Element, String> {
    let mut p = XmlParser { s: xml.trim_start(), at: 0 };
    if p.rest().starts_with("<?") {
        p.skip_past("?>")?;
    }
    p.skip_space();
    let root = p.element()?;
    p.skip_space();
    if p.at != p.s.len() {
        return Err(format!("text after the root element: {:?}", &p.rest()[..p.rest().len().min(40)]));
    }
    Ok(root)
}

struct XmlParser<'x> {
    s: &'x str,
    at: usize,
}

impl<'x> XmlParser<'x> {
    fn rest(&self) -> &'x str {
        &self.s[self.at..]
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.at = self.s.len() - trimmed.len();
    }

    fn skip_past(&mut self, end: &str) -> Result<(), String> {
        let i = self.rest().find(end).ok_or(format!("no {end}"))?;
        self.at += i + end.len();
        Ok(())
    }

    fn element(&mut self) -> Result<Element, String> {
        let rest = self.rest();
        if !rest.starts_with('<') {
            return Err(format!("expected an element at {:?}", &rest[..rest.len().min(40)]));
        }
        let close = rest.find('>').ok_or("an unclosed tag")?;
        let tag = &rest[1..close];
        self.at += close + 1;
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let mut el = tag_parts(tag)?;
        if !empty {
            self.content(&mut el)?;
        }
        Ok(el)
    }

    /// Children and text up to the element's end tag.
    fn content(&mut self, el: &mut Element) -> Result<(), String> {
        loop {
            let rest = self.rest();
            let lt = rest.find('<').ok_or(format!("<{}> is not closed", el.name))?;
            el.text.push_str(&unescape(&rest[..lt]));
            self.at += lt;
            let rest = self.rest();
            if let Some(end) = rest.strip_prefix("</") {
                let close = end.find('>').ok_or("an unclosed end tag")?;
                if end[..close].trim() != el.name {
                    return Err(format!("</{}> closes <{}>", &end[..close], el.name));
                }
                self.at += 2 + close + 1;
                return Ok(());
            }
            if rest.starts_with("<!--") {
                self.skip_past("-->")?;
                continue;
            }
            el.children.push(self.element()?);
        }
    }
}

fn tag_parts(tag: &str) -> Result<Element, String> {
    let tag = tag.trim();
    let (name, mut attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
    let mut el = Element { name: name.to_owned(), ..Element::default() };
    loop {
        attrs = attrs.trim_start();
        if attrs.is_empty() {
            return Ok(el);
        }
        let (key, after) = attrs.split_once('=').ok_or(format!("a bad attribute in <{tag}>"))?;
        let quote = after
            .chars()
            .next()
            .filter(|q| *q == '"' || *q == '\'')
            .ok_or(format!("an unquoted attribute in <{tag}>"))?;
        let value_end = after[1..].find(quote).ok_or(format!("an unclosed attribute in <{tag}>"))?;
        el.attributes.push((key.trim().to_owned(), unescape(&after[1..1 + value_end])));
        attrs = &after[value_end + 2..];
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16).ok().and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..=end]),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}
