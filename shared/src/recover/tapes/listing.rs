//! The failed gateway's tape recovery points, read so that no tape is lost whatever AWS's
//! markers mean.
//!
//! If markers are offsets and a retrieved tape's recovery point disappears (both
//! undocumented), a page read after a retrieval shifts and skips recovery points. So the
//! listing is read pass after pass until a whole pass finds nothing new. A second pass is
//! skipped only when it cannot find anything: no retrieval finished during the first pass
//! (nothing moved while it was read), or a retrieved tape is still listed where it was
//! (recovery points do not disappear, so nothing shifted) — one page read to find out.

use std::collections::HashMap;

use tokio::time::Instant;

use crate::arn::TapeArn;
use crate::model::TapeRecoveryPoint;
use crate::pacing::{Pacer, Pages};
use crate::ports::{AwsError, PageStream};

/// Passes after which the listing stops even if it still finds something (each pass that
/// finds something new retrieves it, so the world shrinks; this bounds a pathological API).
const MAX_PASSES: u32 = 8;

/// Opens the listing at a marker (`None`: the start).
pub(crate) type OpenAt<'a> =
    std::sync::Arc<dyn Fn(Option<String>) -> PageStream<'a, TapeRecoveryPoint> + Send + Sync + 'a>;

/// Where a tape was listed in the first pass: the marker of its page.
#[derive(Debug, Clone)]
struct Position {
    marker: Option<String>,
}

pub(crate) struct Listing<'a> {
    open: OpenAt<'a>,
    pacer: &'a Pacer,
    until: Instant,
    pages: Pages<'a, TapeRecoveryPoint>,
    pass: u32,
    /// Every tape seen, with its newest recovery point time.
    seen: HashMap<TapeArn, Option<i64>>,
    /// First-pass positions, for the probe.
    positions: HashMap<TapeArn, Position>,
    new_in_pass: usize,
    /// A retrieval finished while this pass was being read.
    moved_in_pass: bool,
    /// A tape this run retrieved during the first pass, for the probe.
    retrieved_in_pass_one: Option<TapeArn>,
    done: bool,
    /// Recovery points read in all (one tape may have several).
    pub points: usize,
}

impl<'a> Listing<'a> {
    pub fn new(pacer: &'a Pacer, until: Instant, open: OpenAt<'a>) -> Self {
        let pages = Self::at(pacer, until, &open, None);
        Self {
            open,
            pacer,
            until,
            pages,
            pass: 1,
            seen: HashMap::new(),
            positions: HashMap::new(),
            new_in_pass: 0,
            moved_in_pass: false,
            retrieved_in_pass_one: None,
            done: false,
            points: 0,
        }
    }

    fn at(pacer: &'a Pacer, until: Instant, open: &OpenAt<'a>, marker: Option<String>) -> Pages<'a, TapeRecoveryPoint> {
        let open = open.clone();
        Pages::starting_at(pacer, until, Box::new(move |m| open(m)), marker)
    }

    /// The caller retrieved `tape` (it is on the standby now).
    pub fn retrieved(&mut self, tape: &TapeArn) {
        if self.done {
            return;
        }
        self.moved_in_pass = true;
        if self.pass == 1 && self.retrieved_in_pass_one.is_none() && self.positions.contains_key(tape) {
            self.retrieved_in_pass_one = Some(tape.clone());
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Every recovery point left, of tapes not seen before (read before anything changes).
    pub async fn rest(&mut self) -> Result<Vec<TapeRecoveryPoint>, AwsError> {
        let mut all = Vec::new();
        while let Some(page) = self.next().await {
            all.extend(page?);
        }
        Ok(all)
    }

    /// Recovery points of tapes not seen before, as they are found; `None` once done.
    pub async fn next(&mut self) -> Option<Result<Vec<TapeRecoveryPoint>, AwsError>> {
        loop {
            if self.done {
                return None;
            }
            let marker_before = self.pages.marker().map(str::to_owned);
            match self.pages.next().await {
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Some(Ok(page)) => {
                    self.points += page.len();
                    let mut fresh = Vec::new();
                    for rp in page {
                        match self.seen.get_mut(&rp.tape) {
                            Some(t) => {
                                if rp.time > *t {
                                    *t = rp.time;
                                }
                            }
                            None => {
                                self.seen.insert(rp.tape.clone(), rp.time);
                                if self.pass == 1 {
                                    self.positions.insert(rp.tape.clone(), Position { marker: marker_before.clone() });
                                }
                                self.new_in_pass += 1;
                                fresh.push(rp);
                            }
                        }
                    }
                    if !fresh.is_empty() {
                        return Some(Ok(fresh));
                    }
                }
                None => {
                    if let Some(outcome) = self.end_of_pass().await {
                        return outcome;
                    }
                }
            }
        }
    }

    /// A pass ended: decide whether another is needed. `Some` when the listing is over.
    async fn end_of_pass(&mut self) -> Option<Option<Result<Vec<TapeRecoveryPoint>, AwsError>>> {
        let pass = self.pass;
        let needs_another = if pass == 1 {
            match (self.moved_in_pass, self.retrieved_in_pass_one.clone()) {
                (false, _) => false,
                (true, Some(tape)) => match self.probe(&tape).await {
                    Ok(still_listed) => !still_listed,
                    Err(e) => {
                        self.done = true;
                        return Some(Some(Err(e)));
                    }
                },
                (true, None) => true,
            }
        } else {
            self.new_in_pass > 0
        };
        if !needs_another || pass >= MAX_PASSES {
            if needs_another {
                tracing::warn!(
                    passes = pass,
                    "the listing still found new recovery points; stopped after the last pass"
                );
            }
            self.done = true;
            return Some(None);
        }
        tracing::info!(pass = pass + 1, "reading the recovery points again: the listing may have shifted");
        self.pass += 1;
        self.new_in_pass = 0;
        self.moved_in_pass = false;
        self.pages = Self::at(self.pacer, self.until, &self.open, None);
        None
    }

    /// Reads again the page `tape` was listed on: is the retrieved tape still there?
    async fn probe(&mut self, tape: &TapeArn) -> Result<bool, AwsError> {
        let marker = self.positions.get(tape).and_then(|p| p.marker.clone());
        let mut page = Self::at(self.pacer, self.until, &self.open, marker);
        match page.next().await {
            Some(Ok(points)) => Ok(points.iter().any(|rp| &rp.tape == tape)),
            Some(Err(e)) => Err(e),
            None => Ok(false),
        }
    }
}
