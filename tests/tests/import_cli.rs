//! `bridges import ...` as a user runs it: the report on stdout (one line
//! per skipped or rejected row, never a name), exit 2 when a row was
//! rejected after the good rows went in, 0 when all went in, 2 for a file
//! missing a required column, 1 for a file that cannot be read; `--help`
//! says so.

use std::path::Path;
use std::process::{Command, Output};

use bridges_tests::{binary, run};

const GIAS: &str = "\
URN,EstablishmentName,LA (code),PhaseOfEducation (name),TypeOfEstablishment (name),NumberOfPupils,Easting,Northing,OfstedRating (name)
102400,Alpha Primary School,312,Primary,Community school,420,507000,182000,Good
102401,Beta High School,312,Secondary,Academy converter,many,508000,183000,Good
102402,Gamma Prep,312,Not applicable,Other independent school,200,509000,181000,
";

const PRACTITIONERS: &str = "\
Practitioner ID,Name,Email,Phone,Title,Home URN,Specialisms,Phases,Day rate,2026-AU1,2026-AU2,Max days,Conflicts
sle-1,Amara Okafor,amara@alpha.sch.example,,SLE,102400,maths,primary,,2,2,4,
sle-2,Ben Hughes,ben@alpha.sch.example,,SLE,102400,maths,primary,,2,2,4,
";

fn import(data: &Path, args: &[&str]) -> Output {
    run(Command::new(binary("bridges")).arg("--data").arg(data).arg("import").args(args).args([
        "--at",
        "2026-09-07",
        "--as",
        "broker-1",
    ]))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_rejected_row_exits_2_after_the_good_rows_go_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = dir.path().join("gias.csv");
    std::fs::write(&file, GIAS).expect("write");
    let out = import(&data, &["gias", &file.to_string_lossy(), "--la", "312"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("3 rows: 1 applied, 0 unchanged, 1 skipped, 1 rejected"), "{stdout}");
    assert!(
        stdout.contains("rejected row 3, column NumberOfPupils = \"many\": not a whole number"),
        "{stdout}"
    );
    assert!(stdout.contains("skipped row 4 (URN 102402)"), "{stdout}");

    // The good row went in: practitioners can work from it, and all their rows import (exit 0).
    let people = dir.path().join("practitioners.csv");
    std::fs::write(&people, PRACTITIONERS).expect("write");
    let out = import(&data, &["practitioners", &people.to_string_lossy()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("2 rows: 2 applied"), "{stdout}");
    assert!(!stdout.contains("Okafor") && !stdout.contains("amara@"), "no personal data: {stdout}");

    // The same file again changes nothing and exits 0.
    let out = import(&data, &["practitioners", &people.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("0 applied, 2 unchanged"), "{}", text(&out.stdout));
}

#[test]
fn a_refused_file_exits_2_and_an_unreadable_one_1_and_help_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let file = dir.path().join("requests.csv");
    std::fs::write(&file, "Request ID,URN,Need\nr-1,102400,maths\n").expect("write");
    let out = import(&data, &["requests", &file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("column \"Tier\" = (missing)"), "{stderr}");

    let out = import(&data, &["requests", &dir.path().join("absent.csv").to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));

    let out = import(&data, &["requests", &file.to_string_lossy(), "--at", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));

    let help = run(Command::new(binary("bridges")).args(["import", "gias", "--help"]));
    let help = text(&help.stdout);
    assert!(
        help.contains("Example: bridges import gias") && help.contains("2 when a row was rejected"),
        "{help}"
    );
}
