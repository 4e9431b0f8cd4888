//! Reading JSON lines with a cap on each line's length, for every line protocol hasim speaks
//! (`hasim policy`'s input, an external controller's output): a line past the cap is refused
//! before it is held whole, and a line that is not UTF-8 is refused with its own error.

use std::io::BufRead;

/// Why a line could not be read.
#[derive(Debug)]
pub enum LineError {
    TooLong,
    NotUtf8,
    Io(std::io::Error),
}

/// Reads one line (without its `\n`) into `buf`, refusing one longer than `limit` bytes without
/// reading past the limit. Returns false at the end of the input.
pub fn read_line_capped(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    limit: usize,
) -> Result<bool, LineError> {
    buf.clear();
    let mut any = false;
    loop {
        let chunk = match input.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(LineError::Io(e)),
        };
        if chunk.is_empty() {
            break;
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(n) => (n, true),
            None => (chunk.len(), false),
        };
        if buf.len() + take > limit {
            return Err(LineError::TooLong);
        }
        buf.extend_from_slice(&chunk[..take]);
        input.consume(take + usize::from(done));
        if done {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if std::str::from_utf8(buf).is_err() {
        return Err(LineError::NotUtf8);
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], limit: usize) -> Result<Vec<String>, &'static str> {
        let mut r = std::io::BufReader::with_capacity(4, input);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        loop {
            match read_line_capped(&mut r, &mut buf, limit) {
                Ok(true) => out.push(String::from_utf8(buf.clone()).unwrap()),
                Ok(false) => return Ok(out),
                Err(LineError::TooLong) => return Err("too long"),
                Err(LineError::NotUtf8) => return Err("not utf-8"),
                Err(LineError::Io(_)) => return Err("io"),
            }
        }
    }

    /// Lines split as `BufRead::lines` splits them (LF, CRLF, a last line without LF), across
    /// buffer refills; a line over the limit is refused, one at the limit is not.
    #[test]
    fn capped_lines_split_like_lines_and_refuse_long_ones() {
        let input = b"{\"a\":1}\r\nsecond line\n\nlast";
        let want: Vec<String> = input.lines().map(|l| l.unwrap()).collect();
        assert_eq!(lines(input, 100), Ok(want));
        assert_eq!(lines(b"0123456789\n", 10), Ok(vec!["0123456789".into()]));
        assert_eq!(lines(b"0123456789A\n", 10), Err("too long"));
        assert_eq!(lines(b"ok\n\xff\xfe\n", 10), Err("not utf-8"));
        assert_eq!(lines(b"", 10), Ok(vec![]));
    }
}
