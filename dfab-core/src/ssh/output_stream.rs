//! Fabric's display of remote output: bytewise (prompts show at once) or linewise (whole lines, for parallel runs).

/// Turns chunks of remote output into prefixed lines.
pub(crate) struct LineStream {
    prefix: String,
    linewise: bool,
    /// A prefix has been written for the current line.
    line_open: bool,
    /// Linewise mode: the text of the current line so far.
    partial: String,
    /// The previous chunk ended in `\r`, so a leading `\n` belongs to it.
    skip_lf: bool,
    /// Bytes of a UTF-8 character split between chunks.
    carry: Vec<u8>,
}

impl LineStream {
    /// A stream that prefixes every line with `prefix` (`[web1] out: `).
    pub(crate) fn new(prefix: String, linewise: bool) -> LineStream {
        LineStream {
            prefix,
            linewise,
            line_open: false,
            partial: String::new(),
            skip_lf: false,
            carry: Vec::new(),
        }
    }

    /// The text to print for one chunk.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> String {
        self.carry.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.carry) {
            Ok(_) => self.carry.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => self.carry.len(),
        };
        let text = String::from_utf8_lossy(&self.carry[..valid]).into_owned();
        self.carry.drain(..valid);
        let mut out = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if std::mem::take(&mut self.skip_lf) && c == '\n' {
                continue;
            }
            match c {
                '\r' | '\n' => {
                    if c == '\r' {
                        match chars.peek() {
                            Some('\n') => {
                                chars.next();
                            }
                            None => self.skip_lf = true,
                            Some(_) => {}
                        }
                    }
                    self.end_line(&mut out);
                }
                other => {
                    if self.linewise {
                        self.partial.push(other);
                    } else {
                        self.open_line(&mut out);
                        out.push(other);
                    }
                }
            }
        }
        if !self.linewise && !text.is_empty() {
            self.open_line(&mut out);
        }
        out
    }

    /// The text to print when the stream ends: Fabric's final (often empty) prefixed line.
    pub(crate) fn finish(&mut self) -> String {
        let mut out = String::new();
        if self.linewise {
            out.push_str(&self.prefix);
            out.push_str(&std::mem::take(&mut self.partial));
            out.push('\n');
        } else if self.line_open {
            out.push('\n');
            self.line_open = false;
        }
        out
    }

    fn open_line(&mut self, out: &mut String) {
        if !self.line_open {
            out.push_str(&self.prefix);
            self.line_open = true;
        }
    }

    fn end_line(&mut self, out: &mut String) {
        if self.linewise {
            out.push_str(&self.prefix);
            out.push_str(&std::mem::take(&mut self.partial));
        } else {
            self.open_line(out);
        }
        out.push('\n');
        self.line_open = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(linewise: bool, chunks: &[&[u8]]) -> String {
        let mut stream = LineStream::new("[h] out: ".into(), linewise);
        let mut out: String = chunks.iter().map(|c| stream.feed(c)).collect();
        out.push_str(&stream.finish());
        out
    }

    #[test]
    fn bytewise_matches_fabric() {
        assert_eq!(
            run(false, &[b"up 41 days\n"]),
            "[h] out: up 41 days\n[h] out: \n"
        );
        assert_eq!(
            run(false, &[b"a\r\nb\rc\n"]),
            "[h] out: a\n[h] out: b\n[h] out: c\n[h] out: \n"
        );
        assert_eq!(
            run(false, &[b"a\r", b"\nb\n"]),
            "[h] out: a\n[h] out: b\n[h] out: \n"
        );
        assert_eq!(run(false, &[b"Password: "]), "[h] out: Password: \n");
        assert_eq!(run(false, &[b"x", b"y\n"]), "[h] out: xy\n[h] out: \n");
        assert_eq!(run(false, &[]), "");
    }

    #[test]
    fn linewise_writes_whole_lines() {
        assert_eq!(
            run(true, &[b"a", b"b\nc", b"d\n"]),
            "[h] out: ab\n[h] out: cd\n[h] out: \n"
        );
        assert_eq!(run(true, &[b"tail"]), "[h] out: tail\n");
    }

    #[test]
    fn utf8_split_between_chunks() {
        let bytes = "é\n".as_bytes();
        assert_eq!(
            run(true, &[&bytes[..1], &bytes[1..]]),
            "[h] out: é\n[h] out: \n"
        );
    }
}
