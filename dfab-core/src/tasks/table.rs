//! Text tables for the listing tasks: aligned columns whose cells may span several lines.

/// A table of cells, each cell one or more lines.
pub(crate) struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<Vec<String>>>,
}

impl Table {
    /// A table with these column headers and no rows.
    pub(crate) fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; each cell is a list of lines (an empty list is an empty cell).
    pub(crate) fn row(&mut self, cells: Vec<Vec<String>>) {
        self.rows.push(cells);
    }

    /// The table as text: a header line, then each row on as many lines as its tallest cell.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                for line in cell {
                    *width = (*width).max(line.chars().count());
                }
            }
        }
        let mut text = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| (*h).to_owned()).collect();
        push_line(&mut text, &widths, &header);
        for row in &self.rows {
            let height = row.iter().map(Vec::len).max().unwrap_or(0).max(1);
            for index in 0..height {
                let line: Vec<String> = row
                    .iter()
                    .map(|cell| cell.get(index).cloned().unwrap_or_default())
                    .collect();
                push_line(&mut text, &widths, &line);
            }
        }
        text
    }
}

fn push_line(text: &mut String, widths: &[usize], cells: &[String]) {
    let mut line = String::new();
    for (width, cell) in widths.iter().zip(cells) {
        line.push_str(cell);
        line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
    }
    text.push_str(line.trim_end());
    text.push('\n');
}

/// A Unix time as an absolute local date and time, `2024-05-01 12:30:00`.
pub(crate) fn timestamp(seconds: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(seconds, 0) {
        chrono::LocalResult::Single(time) | chrono::LocalResult::Ambiguous(time, _) => {
            time.format("%Y-%m-%d %H:%M:%S").to_string()
        }
        chrono::LocalResult::None => seconds.to_string(),
    }
}

/// An RFC 3339 time from the engine, shown like [`timestamp`].
pub(crate) fn engine_time(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| timestamp(t.timestamp()))
        .unwrap_or_else(|_| text.to_owned())
}

/// A byte count as Docker prints sizes: `5.2 MB`, `1.07 GB` (powers of 1000).
pub(crate) fn size(bytes: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.3} {}", units[unit])
            .replace(".000 ", " ")
            .to_owned()
    }
}

/// An id without its `sha256:` prefix, cut to Docker's 12 characters unless `full`.
pub(crate) fn short_id(id: &str, full: bool) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    if full {
        id.to_owned()
    } else {
        id.chars().take(12).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_cells_align() {
        let mut table = Table::new(&["Id", "Names", "Status"]);
        table.row(vec![
            vec!["abc".into()],
            vec!["/web".into(), "/app/web".into()],
            vec!["Up 2 hours".into()],
        ]);
        table.row(vec![vec!["def".into()], vec![], vec!["Exited (0)".into()]]);
        assert_eq!(
            table.render(),
            "Id   Names     Status\n\
             abc  /web      Up 2 hours\n\
             \x20    /app/web\n\
             def            Exited (0)\n"
        );
    }

    #[test]
    fn sizes_and_ids() {
        assert_eq!(size(512), "512 B");
        assert_eq!(size(4_862_000), "4.862 MB");
        assert_eq!(size(2_000_000_000), "2 GB");
        assert_eq!(short_id("sha256:0123456789abcdef", false), "0123456789ab");
        assert_eq!(
            short_id("sha256:0123456789abcdef", true),
            "0123456789abcdef"
        );
    }
}
