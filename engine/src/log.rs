//! The event log on sled (to be built).
