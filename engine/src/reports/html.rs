//! The report's HTML: one self-contained page (inline style, inline SVG
//! charts, a small inline script that sorts a table when its header is
//! clicked; a content security policy that forbids every fetch) and a
//! printable recharge statement per receiving school per quarter. The
//! tables print the same cells as the CSVs, in the same order, so the page
//! reads in order without JavaScript.

use std::fmt::Write as _;

use super::charts::Chart;
use super::rows::Cut;
use super::table::Table;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px}\
table{border-collapse:collapse;font-size:12px;margin:8px 0}\
th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}\
th{background:#f0f0f0;cursor:pointer}td.n{text-align:right}\
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}\
.legend span{display:inline-block;margin-right:14px;font-size:12px}\
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}\
.scroll{max-height:420px;overflow:auto;border:1px solid #eee}\
@media print{.scroll{max-height:none;overflow:visible}th{cursor:auto}}";

/// Sorts a table by the clicked header's column (numbers as numbers),
/// toggling the direction on a second click.
const SCRIPT: &str = "var num=/^-?[0-9]+(\\.[0-9]+)?$/;\
document.querySelectorAll('table.sortable').forEach(function(t){\
t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){\
var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows),d=th.dataset.dir==='asc'?-1:1;\
rows.sort(function(x,y){var p=x.cells[i].textContent,q=y.cells[i].textContent;\
if(num.test(p)&&num.test(q))return d*(parseFloat(p)-parseFloat(q));\
return d*p.localeCompare(q);});rows.forEach(function(r){b.appendChild(r);});\
th.dataset.dir=d===1?'asc':'desc';});});});";

const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Escapes text for HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
<title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    )
}

fn is_number(cell: &str) -> bool {
    !cell.is_empty() && cell.parse::<f64>().is_ok()
}

/// A table as HTML, with the CSV's header names and cells.
pub fn table(t: &Table) -> String {
    let mut out = format!(
        "<table class=\"sortable\" id=\"t-{}\" data-csv=\"{}\"><thead><tr>",
        t.name,
        t.file_name()
    );
    for h in &t.headers {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            if is_number(c) {
                let _ = write!(out, "<td class=\"n\">{}</td>", esc(c));
            } else {
                let _ = write!(out, "<td>{}</td>", esc(c));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// The report's page.
pub fn page(
    la: u16,
    cut: &Cut,
    tables: &[Table],
    charts: &[Chart],
    statements: &[(String, String)],
) -> String {
    let mut out = head(&format!("Bridges report, LA {la}, as of position {}", cut.position));
    let _ = writeln!(
        out,
        "<h1>Bridges: the partnership's report, LA {la}</h1>\n<p>What the log held as of position {} ({}, London date {}). Every number here is in the CSV files beside this page.</p>",
        cut.position,
        crate::views::time(cut.at),
        cut.today()
    );
    out.push_str("<ul>");
    for t in tables {
        let _ = write!(
            out,
            "<li><a href=\"#t-{}\">{}</a> ({}, {} rows)</li>",
            t.name,
            esc(t.title),
            t.file_name(),
            t.rows.len()
        );
    }
    out.push_str("</ul>\n");
    for c in charts {
        let _ = write!(
            out,
            "<figure id=\"chart-{}\" data-table=\"{}\"><figcaption>{}</figcaption><div class=\"legend\">",
            c.id,
            c.table,
            esc(c.title)
        );
        for (colour, name) in &c.legend {
            let _ = write!(out, "<span><i style=\"background:{colour}\"></i>{}</span>", esc(name));
        }
        let _ = writeln!(out, "</div>{}</figure>", strip_xml_header(&c.svg));
    }
    if !statements.is_empty() {
        out.push_str("<h2>Recharge statements</h2><ul>");
        for (file, label) in statements {
            let _ = write!(out, "<li><a href=\"{}\">{}</a></li>", esc(file), esc(label));
        }
        out.push_str("</ul>\n");
    }
    for t in tables {
        let _ = writeln!(
            out,
            "<h2>{}</h2><p>{} rows; {}</p><div class=\"scroll\">{}</div>",
            esc(t.title),
            t.rows.len(),
            t.file_name(),
            table(t)
        );
    }
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}

fn strip_xml_header(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// One receiving school's recharge statement for one quarter: its lines
/// (rows of the `recharges` table) and their total.
pub fn statement(la: u16, urn: &str, school: &str, quarter: &str, lines: &Table) -> String {
    let mut out = head(&format!("Recharge statement {quarter}: {school} ({urn})"));
    let orders: std::collections::BTreeSet<&str> = lines
        .rows
        .iter()
        .filter_map(|r| lines.column("purchase_order").and_then(|i| r.get(i)))
        .map(String::as_str)
        .filter(|p| !p.is_empty())
        .collect();
    let total: u64 = lines
        .rows
        .iter()
        .filter_map(|r| lines.column("total_gbp").and_then(|i| r.get(i)))
        .filter_map(|c| pence(c))
        .sum();
    let _ = writeln!(
        out,
        "<h1>Recharge statement, {}</h1><p>From the school-to-school support partnership of LA {la}, to <b>{}</b> (URN {}).</p><p>Purchase order: {}</p>",
        esc(quarter),
        esc(school),
        esc(urn),
        if orders.is_empty() {
            "none recorded".to_owned()
        } else {
            esc(&orders.into_iter().collect::<Vec<_>>().join(", "))
        }
    );
    out.push_str(&table(lines));
    let _ = writeln!(
        out,
        "<p><b>Total due: £{}</b> (days delivered at the practitioner's day rate, the brokerage fee added).</p></body></html>",
        super::table::pounds(total)
    );
    out
}

/// Pence from `1234.50`.
pub fn pence(cell: &str) -> Option<u64> {
    let (pounds, p) = cell.split_once('.')?;
    Some(pounds.parse::<u64>().ok()? * 100 + p.parse::<u64>().ok()?)
}
