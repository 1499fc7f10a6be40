//! The upstream data source: the Goated affiliate API client, the demo source, document
//! validation, and the sync loop that stores snapshots and closes races.

pub mod client;
pub mod demo;
pub mod document;
pub mod sync;
