//! Events of the Bridges log. Each has a type name and a version; older
//! versions are upcast on read.
//!
//! (Filled in by the event-log work.)
