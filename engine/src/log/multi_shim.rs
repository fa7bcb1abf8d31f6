//! TEMPORARY shim until the log's real multi-stream append lands (h-log):
//! appends each part in turn. NOT atomic. Replaced at merge.

use chrono::{DateTime, Utc};

use super::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogError, NewEvent, Position, Version,
    keys,
};

#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MultiAppendRequest {
    pub parts: Vec<StreamAppend>,
    pub command_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiAppendOutcome {
    Appended { first: Position, last: Position, versions: Vec<Version> },
    Conflict { stream: String, expected: ExpectedVersion, actual: Version },
}

impl EventLog {
    pub async fn append_multi(
        &self,
        req: MultiAppendRequest,
    ) -> Result<MultiAppendOutcome, LogError> {
        for p in &req.parts {
            let actual = self.stream_version(&p.stream)?;
            let ok = match p.expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => actual.0 == 0,
                ExpectedVersion::Exact(v) => actual == v,
            };
            if !ok {
                return Ok(MultiAppendOutcome::Conflict {
                    stream: p.stream.clone(),
                    expected: p.expected,
                    actual,
                });
            }
        }
        let mut first = None;
        let mut last = Position(0);
        let mut versions = Vec::new();
        let n = req.parts.iter().filter(|p| !p.events.is_empty()).count();
        let mut i = 0;
        for p in req.parts {
            if p.events.is_empty() {
                versions.push(self.stream_version(&p.stream)?);
                continue;
            }
            i += 1;
            let cid = req
                .command_id
                .as_ref()
                .map(|c| if i == n { c.clone() } else { format!("{c}~{i}") });
            match self
                .append(AppendRequest {
                    stream: p.stream,
                    expected: p.expected,
                    events: p.events,
                    command_id: cid,
                    recorded_at: req.recorded_at,
                })
                .await?
            {
                AppendOutcome::Appended { first: f, last: l, version } => {
                    first.get_or_insert(f);
                    last = l;
                    versions.push(version);
                }
                AppendOutcome::Conflict { expected, actual } => {
                    return Ok(MultiAppendOutcome::Conflict {
                        stream: String::new(),
                        expected,
                        actual,
                    });
                }
            }
        }
        Ok(MultiAppendOutcome::Appended {
            first: first.unwrap_or(Position(last.0 + 1)),
            last,
            versions,
        })
    }

    /// The first outcome of a command id seen before: its first and last positions.
    pub fn command_outcome(
        &self,
        command_id: &str,
    ) -> Result<Option<(Position, Position)>, LogError> {
        Ok(self.store().get(&keys::command(command_id))?.and_then(|v| {
            let first = keys::u64_value(v.get(..8)?)?;
            let last = keys::u64_value(v.get(8..16)?)?;
            Some((Position(first), Position(last)))
        }))
    }
}
