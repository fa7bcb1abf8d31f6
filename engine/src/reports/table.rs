//! A report's table: a name, its column headers and rows of text cells,
//! already formatted (ISO dates, pounds and pence as `1234.50`), so that the
//! CSV file and the HTML page print the same characters. The CSV writer
//! puts a UTF-8 byte-order mark first (Excel then reads `£` and accents
//! right) and escapes a text cell that Excel would take for a formula.

/// One table of a report, written as `<name>.csv` and shown on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The file's stem: `assignments` for `assignments.csv`.
    pub name: &'static str,
    /// What the table is, one line (the page's caption).
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

impl Table {
    pub fn new(name: &'static str, title: &'static str, headers: &[&'static str]) -> Table {
        Table { name, title, headers: headers.to_vec(), rows: Vec::new() }
    }

    /// Adds a row; it must have one cell per header.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.headers.len(), "a row of {}", self.name);
        self.rows.push(row);
    }

    /// The file's name.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.name)
    }

    /// The CSV text: a byte-order mark, the header, one line per row
    /// (CRLF, as Excel writes), every cell escaped by [`excel_safe`].
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(BOM.as_bytes().to_vec());
        writer.write_record(&self.headers)?;
        for row in &self.rows {
            writer.write_record(row.iter().map(|c| excel_safe(c).into_owned()))?;
        }
        writer.into_inner().map_err(|e| csv::Error::from(e.into_error()))
    }

    /// The column `header`'s index.
    pub fn column(&self, header: &str) -> Option<usize> {
        self.headers.iter().position(|h| *h == header)
    }
}

/// A cell as Excel may be given it: a text cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, so that a note
/// or a name cannot become a formula (OWASP's CSV injection advice). A
/// number (`-12.50`) is left as it is, so that it stays a number.
pub fn excel_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Pounds and pence from pence, for a spreadsheet: `1234.50` (no `£`, no
/// thousands separator, so that Excel reads a number).
pub fn pounds(pence: u64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// Half days as days: `3`, `1.5`.
pub fn half_days_as_days(half_days: u64) -> String {
    if half_days.is_multiple_of(2) {
        (half_days / 2).to_string()
    } else {
        format!("{}.5", half_days / 2)
    }
}

/// A percentage with one decimal: `87.5`; blank when the whole is 0.
pub fn percent(part: f64, whole: f64) -> String {
    if whole > 0.0 { format!("{:.1}", part * 100.0 / whole) } else { String::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_escaped_and_numbers_are_not() {
        assert_eq!(excel_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(excel_safe("+44 20"), "'+44 20");
        assert_eq!(excel_safe("-cmd"), "'-cmd");
        assert_eq!(excel_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(excel_safe("-12.50"), "-12.50");
        assert_eq!(excel_safe("Cherry Lane"), "Cherry Lane");
    }

    #[test]
    fn csv_has_a_bom_and_crlf_and_quotes() {
        let mut t = Table::new("t", "T", &["a", "b"]);
        t.push(vec!["£1, said \"x\"".into(), "=1+1".into()]);
        let text = String::from_utf8(t.to_csv().expect("csv")).expect("utf-8");
        assert_eq!(text, "\u{feff}a,b\r\n\"£1, said \"\"x\"\"\",'=1+1\r\n");
    }

    #[test]
    fn money_and_days() {
        assert_eq!(pounds(123_450), "1234.50");
        assert_eq!(pounds(5), "0.05");
        assert_eq!(half_days_as_days(3), "1.5");
        assert_eq!(half_days_as_days(4), "2");
        assert_eq!(percent(1.0, 8.0), "12.5");
        assert_eq!(percent(1.0, 0.0), "");
    }
}
