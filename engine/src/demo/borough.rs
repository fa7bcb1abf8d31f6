//! A generated borough, for when the real GIAS data is not beside the
//! checkout: a GIAS-format CSV (the real column names) of invented schools
//! with the mix of a London borough (mostly primaries, a fifth secondaries,
//! a few nurseries, special schools and an all-through, and a few
//! independent schools the import will skip), located around Hillingdon
//! with postcodes in its districts, some in trusts, with Ofsted grades as GIAS records them. Seeded: the same
//! seed gives the same file. It writes text; the GIAS import reads it.

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::csv_text;
use super::names::{PLACES, TRUSTS};
use crate::imports::gias;

/// The GIAS columns a generated borough has (a real extract has many more).
const HEADERS: [&str; 14] = [
    gias::URN,
    gias::NAME,
    gias::LA_CODE,
    "LA (name)",
    gias::TYPE,
    gias::TYPE_GROUP,
    gias::PHASE,
    gias::STATUS,
    gias::PUPILS,
    gias::TRUSTS,
    gias::EASTING,
    gias::NORTHING,
    gias::OFSTED,
    gias::POSTCODE,
];

/// Hillingdon's postcode districts on a three-by-three grid over the
/// generated borough (north row first, west to east), so that a school's
/// locality follows where it is.
const DISTRICTS: [[&str; 3]; 3] =
    [["UB9", "HA6", "HA5"], ["UB8", "UB10", "HA4"], ["UB7", "UB3", "UB4"]];

/// The letters a postcode's inward code uses (never C, I, K, M, O or V).
const INWARD_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

/// A postcode in the district of the grid cell that holds the point; the
/// inward code follows from the school's index, so no random draw is used.
fn postcode(i: usize, easting: u32, northing: u32) -> String {
    let column = ((easting.saturating_sub(500_000)) / 5_000).min(2) as usize;
    let row = 2 - ((northing.saturating_sub(178_000)) / 4_000).min(2) as usize;
    let letter = |k: usize| INWARD_LETTERS[k % INWARD_LETTERS.len()] as char;
    format!("{} {}{}{}", DISTRICTS[row][column], i % 10, letter(i / 10), letter(i / 200 + i))
}

/// A GIAS CSV of `schools` invented establishments of LA `la`.
pub fn gias_csv(rng: &mut ChaCha8Rng, schools: usize, la: u16) -> String {
    let mut rows = vec![HEADERS.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for i in 0..schools {
        let place = PLACES[i % PLACES.len()];
        let round = i / PLACES.len();
        let place = if round == 0 { place.to_owned() } else { format!("{place} {}", round + 1) };
        let roll = rng.random_range(0..100);
        let (phase, kind, group, name, pupils) = match roll {
            0..62 => (
                "Primary",
                *["Community school", "Academy converter", "Voluntary aided school"]
                    .choose(rng)
                    .expect("not empty"),
                "Local authority maintained schools",
                format!("{place} Primary School"),
                rng.random_range(180..650),
            ),
            62..82 => (
                "Secondary",
                *["Academy converter", "Foundation school"].choose(rng).expect("not empty"),
                "Academies",
                format!("{place} High School"),
                rng.random_range(800..1_700),
            ),
            82..86 => (
                "Nursery",
                "Local authority nursery school",
                "Local authority maintained schools",
                format!("{place} Nursery School"),
                rng.random_range(60..140),
            ),
            86..93 => (
                "Not applicable",
                "Community special school",
                "Special schools",
                format!("{place} School"),
                rng.random_range(60..260),
            ),
            93..95 => (
                "All-through",
                "Academy converter",
                "Academies",
                format!("{place} Academy"),
                rng.random_range(1_200..2_000),
            ),
            95..96 => (
                "16 plus",
                "Further education",
                "Colleges",
                format!("{place} Sixth Form College"),
                rng.random_range(400..1_200),
            ),
            _ => (
                "Not applicable",
                "Other independent school",
                "Independent schools",
                format!("{place} Preparatory School"),
                rng.random_range(100..500),
            ),
        };
        let trust = if group == "Academies" || rng.random_bool(0.12) {
            TRUSTS.choose(rng).expect("not empty").to_string()
        } else {
            String::new()
        };
        let ofsted = match rng.random_range(0..100) {
            0..15 => "Outstanding",
            15..80 => "Good",
            80..90 => "Requires improvement",
            90..93 => "Inadequate",
            _ => "",
        };
        let easting: u32 = rng.random_range(500_000..515_000);
        let northing: u32 = rng.random_range(178_000..190_000);
        rows.push(vec![
            (990_001 + i).to_string(),
            name,
            la.to_string(),
            "Generated Borough".to_owned(),
            kind.to_owned(),
            group.to_owned(),
            phase.to_owned(),
            "Open".to_owned(),
            pupils.to_string(),
            trust,
            easting.to_string(),
            northing.to_string(),
            ofsted.to_owned(),
            postcode(i, easting, northing),
        ]);
    }
    csv_text(&rows)
}
