use serde::{Deserialize, Serialize};

use crate::recover::report::{Counts, Status};

/// One run (one slice) of a recovery (`gateway#<arn>` / `run#<start ms>#<recovery id>#<slice>`),
/// for operators, and for the readiness check's estimate of how fast tapes come back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub recovery_id: String,
    pub slice: u32,
    pub status: Status,
    pub summary: String,
    /// Epoch milliseconds.
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_ms: u64,
    pub tapes: Counts,
    pub volumes: Counts,
}

impl RunRecord {
    pub fn sort_key(started_at: i64, recovery_id: &str, slice: u32) -> String {
        format!("run#{started_at:013}#{recovery_id}#{slice:04}")
    }

    /// Tapes retrieved per second of this run, when it retrieved any.
    pub fn tapes_per_second(&self) -> Option<f64> {
        (self.tapes.done > 0 && self.duration_ms > 0).then(|| self.tapes.done as f64 * 1000.0 / self.duration_ms as f64)
    }
}
