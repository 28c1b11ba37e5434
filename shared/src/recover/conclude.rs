//! How a run that did its work ends, as a pure function of its counts and of what stopped
//! it. The run acts on the conclusion afterwards (publishes a continuation, reports).

use super::report::Counts;
use crate::aws::error::AwsError;

/// What the run recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    Tapes,
    Volumes,
}

impl Items {
    pub fn noun(self) -> &'static str {
        match self {
            Items::Tapes => "tapes",
            Items::Volumes => "volumes",
        }
    }
}

/// Everything the conclusion weighs.
#[derive(Debug, Clone)]
pub struct Ending<'a> {
    pub items: Items,
    pub counts: Counts,
    /// A later run took the lease over: this run stopped starting work.
    pub lease_lost: bool,
    /// An error that stopped every item (the standby gone, full, refused).
    pub stopped_by: Option<&'a AwsError>,
    /// The listing of recovery points failed part way.
    pub listing_failed: Option<&'a AwsError>,
    /// Whether any failed item may succeed if tried again.
    pub failures_retryable: bool,
    /// Whether a continuation can be published, or why not.
    pub can_continue: Result<(), &'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    /// Another run holds the lease and does the rest.
    Duplicate(String),
    /// Stopped with work left or failures; `retryable`: running it again may help.
    Partial {
        summary: String,
        retryable: bool,
    },
    /// Work is left and time is not: publish a continuation (the summary says so).
    Continue(String),
    Completed(String),
}

pub fn conclude(e: &Ending<'_>) -> Conclusion {
    let c = &e.counts;
    let what = e.items.noun();
    if e.lease_lost {
        return Conclusion::Duplicate(format!(
            "another run took over the lease for this gateway; this run stopped starting work after {} of {} {what} and leaves the rest to it",
            c.recovered(),
            c.total
        ));
    }
    if let Some(err) = e.stopped_by {
        return Conclusion::Partial {
            summary: format!(
                "stopped early: {err}; {} of {} {what} recovered, {} failed, {} not attempted; run again once the standby is fixed",
                c.recovered(),
                c.total,
                c.failed,
                c.pending
            ),
            retryable: true,
        };
    }
    if let Some(err) = e.listing_failed {
        return Conclusion::Partial {
            summary: format!(
                "the listing of recovery points failed after {} {what} ({err}); those are accounted for below, run again to finish",
                c.total
            ),
            retryable: true,
        };
    }
    let left = c.pending + c.unverified;
    if left > 0 {
        let waiting = if c.unverified > 0 {
            format!("{} not attempted yet and {} not confirmed on the standby yet", c.pending, c.unverified)
        } else {
            format!("{} not attempted yet", c.pending)
        };
        return match e.can_continue {
            Ok(()) => Conclusion::Continue(format!(
                "out of time: {} of {} {what} recovered so far, {waiting}; the next slice goes on",
                c.recovered(),
                c.total
            )),
            Err(why) => Conclusion::Partial {
                summary: format!("out of time with {waiting} and no continuation ({why}); run again to finish"),
                retryable: true,
            },
        };
    }
    if c.failed > 0 {
        return Conclusion::Partial {
            summary: format!(
                "{} of {} {what} recovered, {} failed (listed below); a rerun retries only those",
                c.recovered(),
                c.total,
                c.failed
            ),
            retryable: e.failures_retryable,
        };
    }
    if c.manual > 0 {
        return Conclusion::Partial {
            summary: format!(
                "{} of {} {what} recovered; {} cannot be recovered by this tool (listed below, with the way back)",
                c.recovered(),
                c.total,
                c.manual
            ),
            retryable: false,
        };
    }
    Conclusion::Completed(format!(
        "all {} {what} recovered ({} by this recovery, {} were already done)",
        c.total, c.done, c.already_done
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(counts: Counts) -> Ending<'static> {
        Ending {
            items: Items::Tapes,
            counts,
            lease_lost: false,
            stopped_by: None,
            listing_failed: None,
            failures_retryable: false,
            can_continue: Ok(()),
        }
    }

    fn counts(total: usize, done: usize, failed: usize, pending: usize) -> Counts {
        Counts { total, done, failed, pending, ..Counts::default() }
    }

    #[test]
    fn everything_done_completes() {
        assert!(
            matches!(conclude(&ending(counts(10, 10, 0, 0))), Conclusion::Completed(ref s) if s.contains("all 10 tapes"))
        );
    }

    #[test]
    fn work_left_continues_while_it_can_and_says_why_not_otherwise() {
        assert!(matches!(conclude(&ending(counts(10, 4, 0, 6))), Conclusion::Continue(_)));
        let mut e = ending(counts(10, 4, 0, 6));
        e.can_continue = Err("MAX_SLICES reached");
        assert!(
            matches!(conclude(&e), Conclusion::Partial { retryable: true, ref summary } if summary.contains("MAX_SLICES"))
        );
        let unconfirmed = Counts { unverified: 2, ..counts(10, 10, 0, 0) };
        assert!(matches!(conclude(&ending(unconfirmed)), Conclusion::Continue(ref s) if s.contains("2 not confirmed")));
    }

    #[test]
    fn what_stopped_the_run_comes_first() {
        let err = crate::memory::error("RetrieveTapeRecoveryPoint", "MaximumTapeCartridgeCountExceeded", 400);
        let mut e = ending(counts(10, 4, 1, 5));
        e.stopped_by = Some(&err);
        assert!(matches!(conclude(&e), Conclusion::Partial { retryable: true, .. }));
        e.lease_lost = true;
        assert!(matches!(conclude(&e), Conclusion::Duplicate(_)));
    }

    #[test]
    fn failures_are_partial_and_retryable_only_if_they_may_clear() {
        assert!(matches!(conclude(&ending(counts(10, 8, 2, 0))), Conclusion::Partial { retryable: false, .. }));
        let mut e = ending(counts(10, 8, 2, 0));
        e.failures_retryable = true;
        assert!(matches!(conclude(&e), Conclusion::Partial { retryable: true, .. }));
    }
}
