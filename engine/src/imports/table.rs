//! A CSV file read by its header names, as an LA keeps it: columns are found
//! by name (case and spacing aside), never by position, and columns nobody
//! asked for are ignored (a GIAS extract has about 300). Rows are numbered as
//! a spreadsheet shows them: the header is row 1, the first data row row 2.
//! Wholly blank rows (a spreadsheet's trailing `,,,,`) are left out.
//!
//! It reads text and cells only; what a cell means is each importer's.

use csv::{ByteRecord, ReaderBuilder, StringRecord};

use super::{ImportError, RowError};

/// A CSV file's header and rows.
#[derive(Debug)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Result<Row, RowError>>,
}

/// One data row: its spreadsheet row number and its cells.
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    cells: StringRecord,
}

impl Table {
    /// Reads CSV text (UTF-8; a leading byte-order mark, as Excel writes it,
    /// is dropped). A row that is not UTF-8 is a row error; a file that is
    /// not CSV at all is an `ImportError`.
    pub fn read(bytes: &[u8]) -> Result<Table, ImportError> {
        let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
        let mut reader = ReaderBuilder::new().flexible(true).from_reader(bytes);
        let headers = reader
            .byte_headers()
            .map_err(|e| ImportError::Csv { row: 1, reason: e.to_string() })?
            .clone();
        let headers = StringRecord::from_byte_record(headers).map_err(|_| ImportError::Csv {
            row: 1,
            reason: "the header row is not UTF-8 text (save the file as \"CSV UTF-8\")".into(),
        })?;
        let headers: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
        if headers.iter().all(String::is_empty) {
            return Err(ImportError::Csv { row: 1, reason: "the file has no header row".into() });
        }
        let mut rows = Vec::new();
        let mut record = ByteRecord::new();
        let mut number = 1;
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(ImportError::Csv { row: number + 1, reason: e.to_string() });
                }
            }
            number += 1;
            if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            rows.push(match StringRecord::from_byte_record(record.clone()) {
                Ok(cells) => Ok(Row { number, cells }),
                Err(_) => Err(RowError {
                    row: number,
                    column: "(row)".into(),
                    value: String::new(),
                    reason: "not UTF-8 text (save the file as \"CSV UTF-8\")".into(),
                }),
            });
        }
        Ok(Table { headers, rows })
    }

    /// The rows, in file order.
    pub fn rows(&self) -> &[Result<Row, RowError>] {
        &self.rows
    }

    /// The index of the column named `name`, if the file has one. Two
    /// columns of that name are an error: which one would be meant?
    pub fn column(&self, name: &str) -> Result<Option<usize>, ImportError> {
        let want = normalise(name);
        let mut found = self.headers.iter().enumerate().filter(|(_, h)| normalise(h) == want);
        let first = found.next().map(|(i, _)| i);
        if found.next().is_some() {
            return Err(ImportError::DuplicateColumn { column: name.to_owned() });
        }
        Ok(first)
    }

    /// The index of a column the importer cannot do without.
    pub fn require(&self, name: &str) -> Result<usize, ImportError> {
        self.column(name)?.ok_or_else(|| ImportError::MissingColumn { column: name.to_owned() })
    }

    /// The headers as the file spells them.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }
}

impl Row {
    /// The trimmed cell of a column (empty when the column is absent or the
    /// row is short).
    pub fn get(&self, column: Option<usize>) -> &str {
        column.and_then(|c| self.cells.get(c)).map(str::trim).unwrap_or("")
    }

    /// The trimmed cell of a column the file is known to have.
    pub fn cell(&self, column: usize) -> &str {
        self.get(Some(column))
    }
}

/// Header names compared without case and with runs of spaces as one.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name_whatever_their_order_case_or_spacing() {
        let t = Table::read(b"\xEF\xBB\xBFName , urn,Other\nA,102400,x\n,,\nB,102401,y\n")
            .expect("reads");
        assert_eq!(t.require("URN").expect("urn"), 1);
        assert_eq!(t.require("name").expect("name"), 0);
        assert!(t.column("Missing").expect("no duplicate").is_none());
        let rows: Vec<&Row> = t.rows().iter().map(|r| r.as_ref().expect("utf-8")).collect();
        assert_eq!(
            rows.iter().map(|r| r.number).collect::<Vec<_>>(),
            [2, 4],
            "blank row 3 left out"
        );
        assert_eq!(rows[1].get(Some(1)), "102401");
        assert_eq!(rows[1].get(Some(7)), "", "a short row reads as empty cells");
    }

    #[test]
    fn a_column_named_twice_or_missing_is_refused_and_a_bad_row_is_a_row_error() {
        let t = Table::read(b"URN,urn\n1,2\n").expect("reads");
        assert!(matches!(t.column("URN"), Err(ImportError::DuplicateColumn { .. })));
        assert!(matches!(t.require("Name"), Err(ImportError::MissingColumn { .. })));
        let t = Table::read(b"URN,Name\n102400,\xff\xfe\n102401,B\n").expect("reads");
        let err = t.rows()[0].as_ref().expect_err("not UTF-8");
        assert_eq!(err.row, 2);
        assert!(t.rows()[1].is_ok(), "the good row after it reads");
    }
}
