//! SNS over awsQuery: form-encoded requests (`Action=Publish&Version=2010-03-31&...`),
//! XML answers. Published messages are kept in the world for inspection, and delivered
//! to a topic's local Lambda invoke URL when one is set.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::fleet::re;
use crate::validate::{self, Member, Misfit, Shape};
use crate::world::{Message, Topic, World};

pub const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
/// SNS's limit on a message and its attributes together.
pub const MAX_MESSAGE_BYTES: usize = 262_144;

#[derive(Debug, Clone, PartialEq)]
pub struct SnsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl SnsError {
    fn invalid(message: impl Into<String>) -> Self {
        Self { status: 400, code: "InvalidParameter", message: message.into() }
    }

    pub fn internal() -> Self {
        Self { status: 500, code: "InternalError", message: "Internal Error".into() }
    }

    /// A request that does not fit the model's input shape: SNS answers the framework's
    /// `ValidationError` (not a code of the model) in the same wording as the JSON services.
    fn validation(misfit: Misfit) -> Self {
        let message = match misfit {
            Misfit::Type(m) | Misfit::Constraints { message: m, .. } => m,
        };
        Self { status: 400, code: "ValidationError", message }
    }

    pub fn throttled() -> Self {
        Self { status: 429, code: "Throttled", message: "Rate exceeded".into() }
    }

    pub fn xml(&self, request_id: &str) -> String {
        let kind = if self.status >= 500 { "Receiver" } else { "Sender" };
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
            self.code,
            escape(&self.message)
        )
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

pub fn parse_form(body: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// What a successful call produced: the XML answer, and a message to deliver if any.
pub struct Answer {
    pub xml: String,
    pub delivery: Option<(Topic, Message)>,
}

fn wrap(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{XMLNS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

pub fn call(
    world: &mut World,
    params: &BTreeMap<String, String>,
    request_id: &str,
    new_id: impl FnOnce() -> String,
) -> Result<Answer, SnsError> {
    match params.get("Version").map(String::as_str) {
        Some("2010-03-31") => {}
        _ => return Err(SnsError::invalid("Invalid parameter: Version must be 2010-03-31")),
    }
    let action = params.get("Action").map(String::as_str).unwrap_or("");
    let Some(shape) = validate::sns_input_shape(action) else { return Err(unknown_action(action)) };
    if let Some(misfit) = validate::misfit(shape, &decode(shape, params, "")) {
        return Err(SnsError::validation(misfit));
    }
    match action {
        "Publish" => publish(world, params, request_id, new_id),
        "CreateTopic" => create_topic(world, params, request_id),
        "ListTopics" => Ok(list_topics(world, params, request_id)),
        other => Err(unknown_action(other)),
    }
}

fn unknown_action(action: &str) -> SnsError {
    match action {
        "" => SnsError::invalid("Invalid parameter: Action"),
        other => SnsError {
            status: 400,
            code: "InvalidAction",
            message: format!("The action {other} is not valid for this web service."),
        },
    }
}

/// Whether the form has the parameter `at` or any below it (`at.member.1`, ...).
fn present(params: &BTreeMap<String, String>, at: &str) -> bool {
    params
        .range(at.to_owned()..)
        .take_while(|(k, _)| k.starts_with(at))
        .any(|(k, _)| k.len() == at.len() || k[at.len()..].starts_with('.'))
}

/// The members of `members` found in the form under `prefix`, read into JSON as the query
/// protocol lays them out (lists as `Name.member.N`, maps as `Name.entry.N.<key>` and
/// `.<value>`), so the model's constraints can be checked as for the JSON services.
fn decode(members: &[Member], params: &BTreeMap<String, String>, prefix: &str) -> Map<String, Value> {
    members
        .iter()
        .filter_map(|m| {
            let at = if prefix.is_empty() { m.name.to_owned() } else { format!("{prefix}.{}", m.name) };
            decode_value(m.shape, params, &at).map(|v| (m.name.to_owned(), v))
        })
        .collect()
}

fn decode_value(shape: &Shape, params: &BTreeMap<String, String>, at: &str) -> Option<Value> {
    if !present(params, at) {
        return None;
    }
    Some(match shape {
        Shape::Struct(members) => Value::Object(decode(members, params, at)),
        Shape::List(item) => Value::Array(
            (1..)
                .map(|n| format!("{at}.member.{n}"))
                .take_while(|p| present(params, p))
                .map(|p| decode_value(item, params, &p).unwrap_or(Value::Null))
                .collect(),
        ),
        Shape::Map { value, key_name, value_name } => Value::Object(
            (1..)
                .map(|n| format!("{at}.entry.{n}"))
                .take_while(|p| present(params, p))
                .filter_map(|p| {
                    let key = params.get(&format!("{p}.{key_name}"))?.clone();
                    Some((key, decode_value(value, params, &format!("{p}.{value_name}")).unwrap_or(Value::Null)))
                })
                .collect(),
        ),
        Shape::Str(_) | Shape::Int(_) | Shape::Long(_) | Shape::Bool => Value::String(params.get(at)?.clone()),
    })
}

fn create_topic(world: &mut World, params: &BTreeMap<String, String>, request_id: &str) -> Result<Answer, SnsError> {
    let name = params.get("Name").ok_or_else(|| SnsError::invalid("Invalid parameter: Name"))?;
    let valid = !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return Err(SnsError::invalid(
            "Invalid parameter: Topic Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        ));
    }
    let arn = format!("arn:aws:sns:{}:{}:{name}", world.region, world.account);
    world.topics.entry(arn.clone()).or_insert_with(|| Topic { arn: arn.clone(), name: name.clone(), deliver_to: None });
    Ok(Answer {
        xml: wrap("CreateTopic", &format!("<TopicArn>{}</TopicArn>", escape(&arn)), request_id),
        delivery: None,
    })
}

fn list_topics(world: &World, params: &BTreeMap<String, String>, request_id: &str) -> Answer {
    let after = params.get("NextToken");
    let mut arns: Vec<&String> = world.topics.keys().filter(|k| after.is_none_or(|a| *k > a)).collect();
    let more = arns.len() > 100;
    arns.truncate(100);
    let members: String = arns.iter().map(|a| format!("<member><TopicArn>{}</TopicArn></member>", escape(a))).collect();
    let next = match (more, arns.last()) {
        (true, Some(last)) => format!("<NextToken>{}</NextToken>", escape(last)),
        _ => String::new(),
    };
    Answer { xml: wrap("ListTopics", &format!("<Topics>{members}</Topics>{next}"), request_id), delivery: None }
}

/// An SNS topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
static TOPIC_ARN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^arn:aws(-cn|-us-gov|-iso[a-z-]*|-eusc)?:sns:([a-z]{2}(-[a-z]+)+-[0-9]):([0-9]{12}):([A-Za-z0-9_-]{1,256}(\.fifo)?)$",
    )
});

/// A topic ARN that names a topic of this region and account: a malformed ARN, or one of
/// another region or account, is `InvalidParameter`; an unknown topic is found (or not) later.
fn checked_topic_arn<'a>(world: &World, member: &str, arn: &'a String) -> Result<&'a String, SnsError> {
    let ours = TOPIC_ARN.captures(arn).is_some_and(|c| {
        c.get(2).is_some_and(|r| r.as_str() == world.region) && c.get(4).is_some_and(|a| a.as_str() == world.account)
    });
    if ours { Ok(arn) } else { Err(SnsError::invalid(format!("Invalid parameter: {member}"))) }
}

/// "Subjects must be UTF-8 text with no line breaks or control characters, and less than
/// 100 characters long."
fn valid_subject(s: &str) -> bool {
    !s.is_empty() && s.chars().count() < 100 && !s.chars().any(char::is_control)
}

fn publish(
    world: &mut World,
    params: &BTreeMap<String, String>,
    request_id: &str,
    new_id: impl FnOnce() -> String,
) -> Result<Answer, SnsError> {
    let topic_arn = match (params.get("TopicArn"), params.get("TargetArn")) {
        (Some(_), Some(_)) => {
            return Err(SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: only one of them may be given",
            ));
        }
        (Some(arn), None) => checked_topic_arn(world, "TopicArn", arn)?,
        (None, Some(arn)) => checked_topic_arn(world, "TargetArn", arn)?,
        (None, None) => {
            return Err(SnsError::invalid(
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            ));
        }
    };
    let message = params.get("Message").map(String::as_str).unwrap_or("");
    if message.is_empty() {
        return Err(SnsError::invalid("Invalid parameter: Empty message"));
    }
    let subject = params.get("Subject").cloned();
    if let Some(s) = &subject {
        if !valid_subject(s) {
            return Err(SnsError::invalid(
                "Invalid parameter: Subject: must be text without line breaks or control characters, less than 100 characters long",
            ));
        }
    }
    let mut attributes = BTreeMap::new();
    for n in 1.. {
        let prefix = format!("MessageAttributes.entry.{n}");
        let Some(name) = params.get(&format!("{prefix}.Name")) else { break };
        let data_type = params.get(&format!("{prefix}.Value.DataType")).cloned().unwrap_or_default();
        let value = params
            .get(&format!("{prefix}.Value.StringValue"))
            .or_else(|| params.get(&format!("{prefix}.Value.BinaryValue")))
            .cloned()
            .unwrap_or_default();
        if !matches!(data_type.split('.').next(), Some("String" | "Number" | "Binary")) {
            return Err(SnsError::invalid(format!(
                "Invalid parameter: MessageAttributes: the data type of attribute {name} must be String, Number or Binary"
            )));
        }
        attributes.insert(name.clone(), (data_type, value));
    }
    if attributes.len() > 10 {
        return Err(SnsError::invalid("Invalid parameter: MessageAttributes: at most 10 attributes"));
    }
    let size = message.len() + attributes.iter().map(|(k, (t, v))| k.len() + t.len() + v.len()).sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(SnsError::invalid(format!(
            "Invalid parameter: Message too long: {size} bytes, the limit is {MAX_MESSAGE_BYTES}"
        )));
    }
    let topic = world.topics.get(topic_arn).cloned().ok_or_else(|| SnsError {
        status: 404,
        code: "NotFound",
        message: "Topic does not exist".into(),
    })?;
    let m = Message {
        message_id: new_id(),
        topic_arn: topic_arn.clone(),
        subject,
        message: message.to_owned(),
        attributes,
        published_at: crate::now_millis(),
    };
    world.messages.push(m.clone());
    Ok(Answer {
        xml: wrap("Publish", &format!("<MessageId>{}</MessageId>", m.message_id), request_id),
        delivery: topic.deliver_to.is_some().then_some((topic, m)),
    })
}

/// The SNS event Lambda receives for a message, as AWS builds it.
pub fn lambda_event(topic: &Topic, m: &Message, region: &str) -> serde_json::Value {
    use serde_json::json;
    let attributes: serde_json::Map<String, serde_json::Value> =
        m.attributes.iter().map(|(k, (t, v))| (k.clone(), json!({"Type": t, "Value": v}))).collect();
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{}:{}", topic.arn, "0b5f4b2e-8f3c-4f8e-9a51-3c2d1e0f9a7b"),
        "Sns": {
            "Type": "Notification",
            "MessageId": m.message_id,
            "TopicArn": topic.arn,
            "Subject": m.subject,
            "Message": m.message,
            "Timestamp": crate::rfc3339_millis(m.published_at),
            "SignatureVersion": "1",
            "Signature": "c2ltdWxhdGVkLXNpZ25hdHVyZQ==",
            "SigningCertUrl": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem"),
            "UnsubscribeUrl": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={}:0b5f4b2e", topic.arn),
            "MessageAttributes": attributes,
        }
    }]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Fleet;

    fn world() -> World {
        let fleet = Fleet::from_json(r#"{"region":"us-east-1","account":"123456789012","topics":[{"name":"t"}]}"#);
        World::from_fleet(&fleet.unwrap()).unwrap()
    }

    fn publish_to(member: &str, arn: &str) -> Result<Answer, SnsError> {
        let params: BTreeMap<String, String> =
            [("Action", "Publish"), ("Version", "2010-03-31"), ("Message", "m"), (member, arn)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        call(&mut world(), &params, "req", || "id".to_owned())
    }

    #[test]
    fn topic_arns_must_be_well_formed_and_of_this_region_and_account() {
        assert!(publish_to("TopicArn", "arn:aws:sns:us-east-1:123456789012:t").is_ok());
        for bad in [
            "nope",
            "arn:aws:sns:us-east-1:123456789012:",
            "arn:aws:sns:us-east-1:1234:t",
            "arn:aws:sqs:us-east-1:123456789012:t",
            "arn:aws:sns:eu-west-1:123456789012:t",
            "arn:aws:sns:us-east-1:210987654321:t",
        ] {
            let e = publish_to("TopicArn", bad).err().unwrap();
            assert_eq!(
                (e.status, e.code, e.message.as_str()),
                (400, "InvalidParameter", "Invalid parameter: TopicArn"),
                "{bad}"
            );
        }
        let e = publish_to("TargetArn", "nope").err().unwrap();
        assert_eq!(e.message, "Invalid parameter: TargetArn");
        let e = publish_to("TopicArn", "arn:aws:sns:us-east-1:123456789012:unknown").err().unwrap();
        assert_eq!((e.status, e.code, e.message.as_str()), (404, "NotFound", "Topic does not exist"));
    }

    fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn refusal(pairs: &[(&str, &str)]) -> SnsError {
        let mut params = form(&[("Version", "2010-03-31")]);
        params.extend(form(pairs));
        call(&mut world(), &params, "req", || "id".to_owned()).err().unwrap()
    }

    #[test]
    fn members_the_model_requires_are_validation_errors_in_aws_wording() {
        let e = refusal(&[("Action", "Publish"), ("TopicArn", "arn:aws:sns:us-east-1:123456789012:t")]);
        assert_eq!((e.status, e.code), (400, "ValidationError"));
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null"
        );
        let e = refusal(&[("Action", "CreateTopic")]);
        assert!(e.message.contains("Value null at 'name'"), "{}", e.message);
        let e = refusal(&[
            ("Action", "Publish"),
            ("Message", "m"),
            ("MessageAttributes.entry.1.Name", "a"),
            ("MessageAttributes.entry.1.Value.StringValue", "v"),
        ]);
        assert!(e.message.contains("Value null at 'messageAttributes.a.member.dataType'"), "{}", e.message);
    }

    #[test]
    fn create_topic_tags_follow_the_model() {
        let key = "k".repeat(129);
        let e = refusal(&[
            ("Action", "CreateTopic"),
            ("Name", "t2"),
            ("Tags.member.1.Key", &key),
            ("Tags.member.1.Value", "v"),
            ("Tags.member.2.Key", "k"),
        ]);
        assert_eq!(e.code, "ValidationError");
        assert!(e.message.starts_with("2 validation errors detected: "), "{}", e.message);
        assert!(
            e.message.contains(
                "at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"
            ),
            "{}",
            e.message
        );
        assert!(e.message.contains("Value null at 'tags.2.member.value'"), "{}", e.message);
        let value = "v".repeat(256);
        let params = form(&[
            ("Action", "CreateTopic"),
            ("Version", "2010-03-31"),
            ("Name", "t2"),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", &value),
            ("Tags.member.2.Key", "e"),
            ("Tags.member.2.Value", ""),
        ]);
        assert!(call(&mut world(), &params, "req", || "id".to_owned()).is_ok(), "at the model's bounds");
    }

    #[test]
    fn the_form_is_read_as_the_query_protocol_lays_it_out() {
        let params = form(&[
            ("Tags.member.1.Key", "a"),
            ("Tags.member.2.Key", "b"),
            ("Tags.member.2.Value", "2"),
            ("Tags.member.4.Key", "after a gap: not read"),
            ("Attributes.entry.1.key", "DisplayName"),
            ("Attributes.entry.1.value", "d"),
            ("NameX", "not Name"),
        ]);
        let members = validate::sns_input_shape("CreateTopic").unwrap();
        let v = Value::Object(decode(members, &params, ""));
        assert_eq!(
            v,
            serde_json::json!({"Tags": [{"Key": "a"}, {"Key": "b", "Value": "2"}], "Attributes": {"DisplayName": "d"}})
        );
    }
}
