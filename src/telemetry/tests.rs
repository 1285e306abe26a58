use std::{
    io,
    sync::{Arc, Mutex},
};

use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Logs through the text format as `init` sets it up, into a buffer.
fn text_logs(emit: impl FnOnce()) -> String {
    let buffer = Buffer::default();
    let subscriber = fmt()
        .with_writer(buffer.clone())
        .with_target(false)
        .with_ansi(false)
        .fmt_fields(EscapedFields)
        .finish();
    tracing::subscriber::with_default(subscriber, emit);
    String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
}

#[derive(Debug, thiserror::Error)]
#[error("broker said \u{1b}]0;owned\u{7}")]
struct Outside;

#[test]
fn no_field_of_any_event_can_forge_a_line_or_reach_the_terminal() {
    let forged = "completed\nERROR forged";
    let colour = "agent-\u{1b}[31m7";
    let logs = text_logs(|| {
        let span = tracing::info_span!("batch", call_id = %"call\r\n2");
        let _entered = span.enter();
        tracing::warn!(reason = %forged, agent_id = colour, "poison event dead-lettered");
        tracing::info!(debugged = ?forged, tab = %"a\tb", c1 = %"x\u{9b}31my", del = %"\u{7f}",
            separator = %"p\u{2028}q", "message with\na newline and \u{1b}[2J");
        tracing::error!(
            error = &Outside as &(dyn std::error::Error + 'static),
            "failed"
        );
    });
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 3, "one line per event:\n{logs}");
    for line in &lines {
        assert!(
            !line.chars().any(|c| c.is_control() || c == '\u{2028}'),
            "a control character reached the output: {line:?}"
        );
    }
    assert!(
        lines[0].contains(r"reason=completed\nERROR forged")
            && lines[0].contains(r#"agent_id="agent-\u{1b}[31m7""#)
            && lines[0].contains(r"batch{call_id=call\r\n2}"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains(r"message with\na newline and \u{1b}[2J")
            && lines[1].contains(r"tab=a\tb")
            && lines[1].contains(r"c1=x\u{9b}31my")
            && lines[1].contains(r"del=\u{7f}")
            && lines[1].contains(r"separator=p\u{2028}q"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(r"failed error=broker said \u{1b}]0;owned\u{7}"),
        "{}",
        lines[2]
    );
}

#[test]
fn ordinary_values_read_as_before() {
    let logs = text_logs(|| {
        tracing::info!(n = 3, to = %"+86139******22", body = "感谢您的反馈！", path = %r"C:\tmp", "SMS (console provider)");
    });
    assert!(
        logs.trim_end().ends_with(
            r#"SMS (console provider) n=3 to=+86139******22 body="感谢您的反馈！" path=C:\tmp"#
        ),
        "{logs}"
    );
}

#[test]
fn escape_controls_leaves_clean_text_alone() {
    assert!(matches!(
        escape_controls("中文 call-1 \\n"),
        std::borrow::Cow::Borrowed("中文 call-1 \\n")
    ));
    assert_eq!(
        escape_controls("a\nb\u{1b}[31mc\u{0}\u{85}"),
        r"a\nb\u{1b}[31mc\u{0}\u{85}"
    );
}
