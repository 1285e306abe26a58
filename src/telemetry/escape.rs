//! Control characters from outside values, made visible: a newline in an event's field
//! would otherwise start a forged log line, and an ESC sequence would reach the operator's
//! terminal.

use std::{borrow::Cow, fmt};

/// C0 controls (newline, carriage return, tab, ESC…), DEL, C1 controls, and the Unicode
/// line and paragraph separators, which some viewers also break lines at.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `text` with each control character written as an escape (`\n`, `\r`, `\t`, `\u{1b}`),
/// as Rust's `escape_debug` writes them; everything else, backslashes included, unchanged.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let _ = fmt::Write::write_str(&mut Escaping(&mut out), text);
    Cow::Owned(out)
}

/// A writer that escapes control characters on their way to `W`.
pub struct Escaping<W>(pub W);

impl<W: fmt::Write> fmt::Write for Escaping<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(is_control) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("found at a char boundary");
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                other => write!(self.0, "\\u{{{:x}}}", u32::from(other))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}
