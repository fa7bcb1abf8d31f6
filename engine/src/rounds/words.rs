//! Why a group is a good group, in words a coordinator reads: each of its
//! `GroupClaim`s (recorded true of it by the domain) as a phrase, joined
//! with semicolons ("spans strong, secure and concern; 9.2 km apart at
//! most; none of these schools has been grouped with another before"). An
//! unplaced school's reason is its recorded detail. Pure: no state.

use bridges_schemas::Standing;
use bridges_schemas::events::{FormedGroup, GroupClaim};

/// One claim as a phrase.
pub fn claim(c: &GroupClaim) -> String {
    match c {
        GroupClaim::Standings { bands, no_outcome } => {
            let mut words: Vec<&str> = bands.iter().map(|b| standing(*b)).collect();
            if *no_outcome {
                words.push("no inspection outcome yet");
            }
            match words.len() {
                0 => "no standing known".to_owned(),
                1 => format!("all {}", words[0]),
                _ => format!("spans {}", and_list(&words)),
            }
        }
        GroupClaim::WithinKm { km } => format!("{km:.1} km apart at most"),
        GroupClaim::NewPartners { rounds: 0 } => {
            "none of these schools has been grouped with another before".to_owned()
        }
        GroupClaim::NewPartners { rounds } => format!(
            "none of these schools has been grouped with another before (in {} earlier {})",
            rounds,
            if *rounds == 1 { "round" } else { "rounds" }
        ),
        GroupClaim::NoSharedTrust => "no two share a trust".to_owned(),
        GroupClaim::Sizes { smallest, largest } => {
            format!("from {smallest} to {largest} pupils")
        }
        GroupClaim::NotNearest => {
            "not the obvious local grouping: no school's nearest neighbour is in it".to_owned()
        }
        GroupClaim::NotSameLocality { localities } => {
            let names: Vec<&str> = localities.iter().map(String::as_str).collect();
            format!("not the same locality ({})", and_list(&names))
        }
    }
}

/// Every claim of a group, as one sentence.
pub fn reasons(group: &FormedGroup) -> String {
    group.claims.iter().map(claim).collect::<Vec<_>>().join("; ")
}

/// A standing's word.
pub fn standing(s: Standing) -> &'static str {
    match s {
        Standing::Strong => "strong",
        Standing::Secure => "secure",
        Standing::Concern => "concern",
        Standing::Serious => "serious",
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_as_the_issue_words_them() {
        let g = FormedGroup {
            group: 1,
            members: Vec::new(),
            hosts: Vec::new(),
            claims: vec![
                GroupClaim::Standings {
                    bands: vec![Standing::Strong, Standing::Secure, Standing::Concern],
                    no_outcome: false,
                },
                GroupClaim::WithinKm { km: 9.0 },
                GroupClaim::NewPartners { rounds: 0 },
                GroupClaim::NotSameLocality {
                    localities: vec!["HA4".into(), "UB3".into(), "UB8".into()],
                },
            ],
        };
        assert_eq!(
            reasons(&g),
            "spans strong, secure and concern; 9.0 km apart at most; none of these schools has been grouped with another before; not the same locality (HA4, UB3 and UB8)"
        );
    }
}
