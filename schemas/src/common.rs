//! Identifiers and small vocabulary types shared by problems, plans and events.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A school's six-digit Unique Reference Number (DfE, GIAS).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Urn(pub u32);

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, not `write_str`, so tables can set width and alignment.
                f.pad(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_id;

string_id!(
    /// A practitioner (system leader) id, for example `sle-17`.
    PractitionerId
);
string_id!(
    /// A support request id, for example `req-9`.
    RequestId
);
string_id!(
    /// A planning period label, a half-term such as `2026-AU1` (Autumn 1 of 2026/27).
    Period
);
string_id!(
    /// A need area / specialism from the configured list, for example `maths`.
    NeedArea
);

/// Phase of education (GIAS `PhaseOfEducation (name)`, plus special from the type).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Phase {
    #[serde(rename = "nursery")]
    Nursery,
    #[serde(rename = "primary")]
    Primary,
    #[serde(rename = "middle")]
    Middle,
    #[serde(rename = "secondary")]
    Secondary,
    #[serde(rename = "all-through")]
    AllThrough,
    #[serde(rename = "16-plus")]
    SixteenPlus,
    #[serde(rename = "special")]
    Special,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Nursery,
        Phase::Primary,
        Phase::Middle,
        Phase::Secondary,
        Phase::AllThrough,
        Phase::SixteenPlus,
        Phase::Special,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Nursery => "nursery",
            Phase::Primary => "primary",
            Phase::Middle => "middle",
            Phase::Secondary => "secondary",
            Phase::AllThrough => "all-through",
            Phase::SixteenPlus => "16-plus",
            Phase::Special => "special",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

string_id!(
    /// A system leader's designation: a title, national (`NLE`, `LLE`,
    /// `SLE`) or one an LA configures (for example `Senior Practitioner`).
    /// Written as a plain string, so documents and events that stored the
    /// closed enum of earlier versions (`"SLE"`) read unchanged. Titles are
    /// compared exactly; [`check_title`] says which strings are titles.
    Designation
);

impl Designation {
    /// National Leader of Education.
    pub const NLE: &'static str = "NLE";
    /// Local Leader of Education.
    pub const LLE: &'static str = "LLE";
    /// Specialist Leader of Education.
    pub const SLE: &'static str = "SLE";
}

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 40;

/// A title is 1 to [`MAX_TITLE_CHARS`] characters, none of them a control
/// character, with no space at either end (so `" SLE"` cannot pass for
/// `"SLE"`). Returns why a string is not a title.
pub fn check_title(title: &str) -> Result<(), &'static str> {
    let n = title.chars().count();
    if n == 0 || n > MAX_TITLE_CHARS {
        return Err("a designation is a title of 1 to 40 characters");
    }
    if title.chars().any(char::is_control) {
        return Err("a designation may not hold control characters");
    }
    if title.trim() != title {
        return Err("a designation may not start or end with a space");
    }
    Ok(())
}

/// The longest id, in bytes (all ASCII).
pub const MAX_ID_LEN: usize = 64;

/// An id (`id`, `request`, `practitioner`, a period name) is 1 to
/// [`MAX_ID_LEN`] ASCII letters, digits, `-` and `_`, so that it can stand in
/// a NATS subject (CONTRACTS.md). Returns why a string is not an id.
pub fn check_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err("an id is 1 to 64 characters");
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err("an id holds only ASCII letters, digits, `-` and `_`");
    }
    Ok(())
}

/// Whether schools of the same trust may be paired (conflict of interest).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SameTrust {
    /// Never pair a school with another of its own trust.
    Forbid,
    /// Same-trust pairs are allowed.
    Allow,
}

/// Solve status of a plan.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Proven optimal (within the solver's default tolerances).
    Optimal,
    /// A limit stopped the search; `gap` says how far it may be from optimal.
    Feasible,
    /// Pins alone break a hard rule.
    Infeasible,
}

impl fmt::Display for SolveStatus {
    /// As the plan document writes it: `optimal`, `feasible`, `infeasible`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            SolveStatus::Optimal => "optimal",
            SolveStatus::Feasible => "feasible",
            SolveStatus::Infeasible => "infeasible",
        })
    }
}

/// What solved a plan, and with which options (reproducibility record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SolverInfo {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Reads an `Option` field that must be present, `null` allowed: serde
/// reads a missing `Option` as `None` unless the field has its own
/// `deserialize_with`, and a missing rule must not read as "no rule".
/// (Pair it with `#[schemars(with = "RequiredNullable<T>")]` so the JSON
/// Schema says so too.)
pub fn required_nullable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)
}

/// The JSON Schema of an `Option<T>` field that must be present: the
/// schema of `Option<T>` (`null` allowed), listed among `required`.
/// (`#[schemars(required)]` would also forbid `null`.)
pub struct RequiredNullable<T>(std::marker::PhantomData<T>);

impl<T: JsonSchema> JsonSchema for RequiredNullable<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        Option::<T>::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Option::<T>::json_schema(generator)
    }
}

/// Straight-line kilometres between two British National Grid points (CONTRACTS.md).
pub fn distance_km(e1: f64, n1: f64, e2: f64, n2: f64) -> f64 {
    ((e1 - e2).powi(2) + (n1 - n2).powi(2)).sqrt() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_honour_width_and_alignment_in_tables() {
        assert_eq!(format!("[{:<8}]", RequestId::from("req-9")), "[req-9   ]");
        assert_eq!(format!("[{:>8}]", Urn(102400)), "[  102400]");
        assert_eq!(format!("[{:<5}]", Designation::from(Designation::SLE)), "[SLE  ]");
        assert_eq!(format!("[{:<9}]", Phase::Primary), "[primary  ]");
        assert_eq!(SolveStatus::Feasible.to_string(), "feasible");
    }

    #[test]
    fn a_title_is_national_or_local_and_read_as_a_plain_string() {
        let read: Vec<Designation> =
            serde_json::from_str(r#"["SLE", "Senior Practitioner"]"#).expect("titles");
        assert_eq!(read, [Designation::from("SLE"), Designation::from("Senior Practitioner")]);
        assert_eq!(serde_json::to_string(&read[0]).expect("json"), r#""SLE""#);
        for ok in ["SLE", "Senior Practitioner", "Lead Practitioner (maths)", &"T".repeat(40)] {
            assert_eq!(check_title(ok), Ok(()), "{ok}");
        }
        for bad in ["", " SLE", "SLE ", "tab\there", &"T".repeat(41)] {
            assert!(check_title(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_are_ascii_letters_digits_dash_and_underscore_up_to_64() {
        for ok in ["sle-17", "req_9", "2026-AU1", "A", &"a".repeat(64)] {
            assert_eq!(check_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "sle 17", "req.9", "réq", "a/b", "x*", &"a".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
    }
}
