//! Why a school was left without a group, derived from its pool: the first
//! rule that leaves it fewer than two possible partners names the reason
//! (pool size, distance, trust, history), then whether any group with it has
//! a school whose standing is strong or secure, else it is a leftover of
//! pool arithmetic.
//! It does not change the plan.

use bridges_schemas::triads::TriadsProblem;
use bridges_schemas::triads::{Unplaced, UnplacedReason};

use super::pool::{BLOCK_DISTANCE, BLOCK_HISTORY, BLOCK_TRUST, Pool};

/// What explain needs to know about the solve around one pool.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// Groups of 4 could be formed in this round.
    pub quads: bool,
    /// The policy allows groups of 4 but the round has fewer than 4 periods.
    pub quads_need_periods: bool,
}

/// How the solve went in one component of the compatibility graph.
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    /// Placeable schools in the component.
    pub component: usize,
    /// The most of them groups of 3 (and 4) can hold.
    pub fits: usize,
    /// Schools the plan places there.
    pub placed: usize,
    /// The proven upper bound on schools placed there.
    pub bound: usize,
}

/// The reason for local member `a` of `pool` being unplaced. `placeable` says
/// whether it belongs to any feasible group; `at` describes its component.
pub fn explain(
    problem: &TriadsProblem,
    pool: &Pool,
    a: usize,
    placeable: bool,
    at: Placement,
    ctx: Context,
) -> Unplaced {
    let school = &problem.schools[pool.members[a]];
    let urn = school.urn;
    let noun = pool.noun();
    let n = pool.len();
    let limit =
        problem.policy.max_distance_km.map_or("any distance".to_owned(), |d| format!("{d} km"));
    let make = |reason, detail: String| Unplaced { urn, reason, detail };
    if n < 3 {
        return make(
            UnplacedReason::PoolTooSmall,
            format!("pool of {n} {noun} cannot form a group of 3"),
        );
    }
    let others: Vec<usize> = (0..n).filter(|&b| b != a).collect();
    let near: Vec<usize> =
        others.iter().copied().filter(|&b| pool.block(a, b) & BLOCK_DISTANCE == 0).collect();
    if near.len() < 2 {
        return make(
            UnplacedReason::Distance,
            format!("{} other {noun} within {limit}; a group needs two partners", near.len()),
        );
    }
    let not_trust: Vec<usize> =
        near.iter().copied().filter(|&b| pool.block(a, b) & BLOCK_TRUST == 0).collect();
    if not_trust.len() < 2 {
        let trust = school.trust.clone().unwrap_or_default();
        return make(
            UnplacedReason::SameTrust,
            format!(
                "{} of the {} {noun} within {limit} share its trust ({trust})",
                near.len() - not_trust.len(),
                near.len()
            ),
        );
    }
    let eligible: Vec<usize> =
        not_trust.iter().copied().filter(|&b| pool.block(a, b) & BLOCK_HISTORY == 0).collect();
    if eligible.len() < 2 {
        return make(
            UnplacedReason::History,
            format!(
                "{} of its {} possible partners within {limit} were in a group with it before",
                not_trust.len() - eligible.len(),
                not_trust.len()
            ),
        );
    }
    let mut blocks = 0u8;
    let mut any_pair = false;
    for (x, &b) in eligible.iter().enumerate() {
        for &c in &eligible[x + 1..] {
            let why = pool.block(b, c);
            any_pair |= why == 0;
            blocks |= why;
        }
    }
    if !any_pair {
        let (reason, what) = if blocks & BLOCK_DISTANCE != 0 {
            (UnplacedReason::Distance, format!("within {limit} of each other"))
        } else if blocks & BLOCK_TRUST != 0 {
            (UnplacedReason::SameTrust, "in different trusts".to_owned())
        } else {
            (UnplacedReason::History, "new to each other".to_owned())
        };
        return make(
            reason,
            format!("no two of its {} eligible partners are {what}", eligible.len()),
        );
    }
    if !placeable {
        return make(
            UnplacedReason::NoGoodOrBetter,
            format!(
                "no group of it and two of its {} eligible partners has a school whose standing is strong or secure",
                eligible.len()
            ),
        );
    }
    let sizes = if ctx.quads { "groups of 3 or 4" } else { "groups of 3" };
    let note = if ctx.quads_need_periods {
        " (groups of 4 need at least 4 periods: a quad's hosts must review in distinct half-terms)"
    } else {
        ""
    };
    let Placement { component, fits, placed, bound } = at;
    let detail = if placed < bound {
        format!(
            "it has feasible groups; the search placed {placed} of its {component} connected \
             {noun} where at most {bound} could be, and left it out (the plan's gap covers this){note}"
        )
    } else if fits < component {
        format!(
            "its {component} connected {noun} fit at most {fits} in {sizes}; {} must stay out{note}",
            component - fits
        )
    } else {
        format!(
            "it has feasible groups, but no grouping of its {component} connected {noun} places \
             more than {bound}: placing it would leave another without a group{note}"
        )
    };
    make(UnplacedReason::Leftover, detail)
}
