//! What the domain knows about gateways, tapes and volumes: plain data, no SDK types.

mod gateway;
mod tags;
mod tape;
mod volume;

pub use gateway::{GatewayDescription, GatewayKind, GatewaySummary};
pub use tags::{Tags, tag};
pub use tape::{Tape, TapeInfo, TapeRecoveryPoint, TapeStatus};
pub use volume::{
    CachedVolume, CloneRequest, CreatedVolume, Disks, KmsSettings, VolumeInfo, VolumeKind, VolumeRecoveryPoint,
};

/// One page of a paged listing, and the marker of the page after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}
