//! AWS Health events for Storage Gateway, as EventBridge delivers them (`source:
//! aws.health`, `detail-type: AWS Health Event`). The envelope is `aws_lambda_events`'
//! `EventBridgeEvent`; its own `cloudwatch_events::health::Event` requires `endTime`,
//! which an open event does not carry, so the detail is read with the struct below, every
//! field AWS may leave out optional. The event's region is `detail.eventRegion`, not the
//! envelope's `region` (public events are also sent to a backup region).

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::decode::{DecodeError, decode};

/// The service name Health uses for Storage Gateway.
pub const SERVICE: &str = "STORAGEGATEWAY";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_arn: String,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    event_type_code: Option<String>,
    #[serde(default)]
    event_type_category: Option<String>,
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    event_region: Option<String>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    last_updated_time: Option<String>,
    #[serde(default)]
    communication_id: Option<String>,
    #[serde(default)]
    event_description: Vec<Description>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Description {
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    latest_description: String,
}

/// Whether the event is going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthStatus {
    Open,
    /// `upcoming`: scheduled, not yet affecting anything.
    Upcoming,
    Closed,
}

/// A Storage Gateway issue in a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthEvent {
    pub event_arn: String,
    pub event_type_code: String,
    pub status: HealthStatus,
    /// `detail.eventRegion`, else the envelope's region.
    pub region: String,
    /// The latest description, in English when there is one.
    pub description: String,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub last_updated_time: Option<String>,
}

/// Decodes a Health event; `None` for events this function does not act on (another
/// service, or not an issue).
pub fn decode_event(event: &Value) -> Result<Option<HealthEvent>, DecodeError> {
    let e: EventBridgeEvent<Detail> = decode(event)?;
    let d = e.detail;
    if d.event_arn.trim().is_empty() {
        return Err(DecodeError::new("detail.eventArn", "is empty"));
    }
    let service = d.service.as_deref().or_else(|| d.event_arn.split('/').nth(1)).unwrap_or_default();
    let category = d.event_type_category.as_deref().unwrap_or("issue");
    if service != SERVICE || category != "issue" {
        return Ok(None);
    }
    // `statusCode` decides when present: an open event may carry an expected `endTime`.
    // Without it (older payloads) the event is open unless it has an end.
    let status = match (d.status_code.as_deref(), d.end_time.as_deref().filter(|t| !t.is_empty())) {
        (Some("closed"), _) | (None, Some(_)) => HealthStatus::Closed,
        (Some("upcoming"), _) => HealthStatus::Upcoming,
        (Some("open"), _) | (None, None) => HealthStatus::Open,
        (Some(other), _) => {
            return Err(DecodeError::new("detail.statusCode", format!("`{other}` is not open, upcoming or closed")));
        }
    };
    let region = d
        .event_region
        .filter(|r| !r.is_empty())
        .or(e.region)
        .ok_or_else(|| DecodeError::new("detail.eventRegion", "the event names no region"))?;
    let description = d
        .event_description
        .iter()
        .find(|x| x.language.as_deref().is_none_or(|l| l.starts_with("en")))
        .or(d.event_description.first())
        .map(|x| x.latest_description.clone())
        .unwrap_or_else(|| "AWS Health reports an issue with Storage Gateway in this region".to_owned());
    Ok(Some(HealthEvent {
        event_type_code: d.event_type_code.unwrap_or_else(|| "AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE".to_owned()),
        event_arn: d.event_arn,
        status,
        region,
        description,
        start_time: d.start_time,
        end_time: d.end_time.filter(|t| !t.is_empty()),
        last_updated_time: d.last_updated_time,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(status: Option<&str>, end: Option<&str>) -> Value {
        let mut detail = json!({
            "eventArn": "arn:aws:health:us-west-2::event/STORAGEGATEWAY/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE/AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE_WQPFF_7809546408",
            "service": "STORAGEGATEWAY", "eventTypeCode": "AWS_STORAGEGATEWAY_OPERATIONAL_ISSUE", "eventTypeCategory": "issue",
            "eventScopeCode": "PUBLIC", "communicationId": "c-1", "startTime": "Sun, 13 Sep 2020 19:46:48 GMT",
            "lastUpdatedTime": "Sun, 13 Sep 2020 19:46:48 GMT", "eventRegion": "us-west-2",
            "eventDescription": [{"language": "en_US", "latestDescription": "Storage Gateway VMs appear to be offline"}],
            "page": "1", "totalPages": "1", "affectedAccount": "123456789012"});
        if let Some(s) = status {
            detail["statusCode"] = json!(s);
        }
        if let Some(t) = end {
            detail["endTime"] = json!(t);
        }
        json!({"version": "0", "id": "x", "detail-type": "AWS Health Event", "source": "aws.health", "account": "123456789012",
            "time": "2020-09-13T19:46:50Z", "region": "us-east-1", "resources": [], "detail": detail})
    }

    #[test]
    fn an_open_event_without_an_end_time_is_read_in_its_own_region() {
        let h = decode_event(&event(Some("open"), None)).unwrap().unwrap();
        assert_eq!(h.status, HealthStatus::Open);
        assert_eq!(h.region, "us-west-2", "detail.eventRegion, not the envelope's us-east-1 (a backup region)");
        assert!(h.description.contains("appear to be offline"));
        assert!(h.end_time.is_none());
    }

    #[test]
    fn closed_by_status_or_by_end_time() {
        let h = decode_event(&event(Some("closed"), Some("Mon, 14 Sep 2020 01:30:00 GMT"))).unwrap().unwrap();
        assert_eq!(h.status, HealthStatus::Closed);
        let old = decode_event(&event(None, Some("Mon, 14 Sep 2020 01:30:00 GMT"))).unwrap().unwrap();
        assert_eq!(old.status, HealthStatus::Closed);
        let open = decode_event(&event(None, Some(""))).unwrap().unwrap();
        assert_eq!(open.status, HealthStatus::Open, "an empty endTime is no end");
        let expected = decode_event(&event(Some("open"), Some("Mon, 14 Sep 2020 01:30:00 GMT"))).unwrap().unwrap();
        assert_eq!(expected.status, HealthStatus::Open, "an open event with an expected end is still open");
    }

    #[test]
    fn other_services_and_categories_are_not_acted_on() {
        let mut e = event(Some("open"), None);
        e["detail"]["service"] = json!("EC2");
        assert_eq!(decode_event(&e).unwrap(), None);
        let mut e = event(Some("open"), None);
        e["detail"]["eventTypeCategory"] = json!("scheduledChange");
        assert_eq!(decode_event(&e).unwrap(), None);
        let mut e = event(Some("resolved?"), None);
        e["detail"]["statusCode"] = json!("nonsense");
        assert_eq!(decode_event(&e).unwrap_err().field, "detail.statusCode");
    }
}
