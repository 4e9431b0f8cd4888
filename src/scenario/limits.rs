//! Every size limit of the input edge in one place, and the helpers that enforce them while
//! reading files and quoting user values in messages.
//!
//! These are engineering limits, not properties of any cloud: each is far above what a bundled
//! scenario uses and low enough that a typo or a hostile input ends in a clear error instead of
//! an allocation abort, a day of simulation or a read that never ends ("put a limit on
//! everything"). Raising one is a code change, on purpose.

use std::io::Read;
use std::path::Path;

/// A scenario file. The bundled ones are under 10 KiB; 16 MiB leaves room for generated
/// `[[racks]]` lists of a large fleet.
pub const MAX_SCENARIO_BYTES: u64 = 16 << 20;

/// A failure trace on disk (compressed size for `.gz`). The bundled LANL trace is 0.5 MiB
/// compressed; the Failure Trace Archive's largest traces are tens of MiB.
pub const MAX_TRACE_BYTES: u64 = 256 << 20;

/// An `empirical` distribution file (one duration per line): 64 MiB is several million samples.
pub const MAX_EMPIRICAL_BYTES: u64 = 64 << 20;

/// A `hasim policy --config` JSON file of policy options (a few hundred bytes in practice).
pub const MAX_POLICY_CONFIG_BYTES: u64 = 1 << 20;

/// A name (scenario, zone, rack, host type, flavor, workload, tag, ...): 255 bytes, the longest
/// file name Linux filesystems allow (the scenario name becomes a directory name, the others
/// become parts of host and VM names).
pub const MAX_NAME_BYTES: usize = 255;

/// A file path inside a scenario: Linux's `PATH_MAX`.
pub const MAX_PATH_BYTES: usize = 4096;

/// Free text (`description`).
pub const MAX_TEXT_BYTES: usize = 64 << 10;

/// Points of a `--grid` product: each point is a whole run, so 10,000 is already days of work.
pub const MAX_GRID_POINTS: usize = 10_000;

/// The longest horizon, in years: far beyond any fleet's lifetime, and a factor of 500 below
/// where microsecond time (a `u64`, 584,942 years) would overflow when durations are added to
/// it.
pub const MAX_HORIZON_YEARS: u64 = 1_000;

/// The fastest host NIC, in Gb/s: 100 times the 800 Gb/s of today's fastest Ethernet NICs, so
/// a typo in the unit (bits for gigabits) is caught while byte rates stay far from overflow.
pub const MAX_NIC_GBPS: f64 = 100_000.0;

/// How much of a user's value a message quotes before eliding the rest.
pub const QUOTE_BYTES: usize = 60;

/// Reads a whole regular file of at most `cap` bytes. FIFOs, devices and directories are
/// refused before any read (a FIFO would block, `/dev/zero` would never end), and the read
/// itself stops at `cap + 1` bytes, so a file that grows meanwhile cannot exceed the cap.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let file = open_regular(path, cap)?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

/// Checks that `path` is a regular file of at most `cap` bytes (for readers that open the
/// file themselves); returns it opened.
pub fn open_regular(path: &Path, cap: u64) -> Result<std::fs::File, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a FIFO, device or directory cannot be read)".into());
    }
    if meta.len() > cap {
        return Err(too_large(cap));
    }
    std::fs::File::open(path).map_err(|e| e.to_string())
}

/// Checks a gzip file inflates to at most `cap` bytes, reading it through once without
/// keeping it, so a small compressed file cannot expand into memory without bound (a "zip
/// bomb") when its reader inflates it whole.
pub fn check_gzip_inflated(path: &Path, cap: u64) -> Result<(), String> {
    let file = open_regular(path, cap)?;
    let mut inflated = flate2::read::GzDecoder::new(file).take(cap + 1);
    let n = std::io::copy(&mut inflated, &mut std::io::sink()).map_err(|e| e.to_string())?;
    if n > cap {
        return Err(format!(
            "inflates to more than the limit of {} MiB",
            cap >> 20
        ));
    }
    Ok(())
}

fn too_large(cap: u64) -> String {
    format!("larger than the limit of {} MiB", cap >> 20)
}

/// `text` as a message quotes it: in double quotes, with control characters, quotes and
/// backslashes escaped (a newline cannot split a message over lines) and at most
/// `QUOTE_BYTES` of it, the rest elided with its length.
pub fn quote(text: &str) -> String {
    let (body, cut) = escaped(text, QUOTE_BYTES);
    format!("\"{body}\"{cut}")
}

/// `text` escaped like `quote` but not quoted, at most `max` bytes of it.
pub fn escape(text: &str, max: usize) -> String {
    let (body, cut) = escaped(text, max);
    format!("{body}{cut}")
}

/// The longest message (or key) a problem line prints before the rest is elided.
pub const MESSAGE_BYTES: usize = 400;

/// A message as printed: control characters escaped, so one problem is one line, and at most
/// `MESSAGE_BYTES` long. The last defence for values quoted by code that does not `quote`.
pub fn one_line(msg: &str) -> String {
    if msg.len() <= MESSAGE_BYTES && !msg.chars().any(char::is_control) {
        return msg.to_string();
    }
    let mut end = msg.len().min(MESSAGE_BYTES);
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    let mut out: String = msg[..end]
        .chars()
        .flat_map(|c| {
            let e: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            e
        })
        .collect();
    if end < msg.len() {
        out.push_str(&format!("... ({} bytes)", msg.len()));
    }
    out
}

fn escaped(text: &str, max: usize) -> (String, String) {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut body = String::with_capacity(end);
    for c in text[..end].chars() {
        match c {
            '"' => body.push_str("\\\""),
            '\\' => body.push_str("\\\\"),
            c if c.is_control() => body.extend(c.escape_default()),
            c => body.push(c),
        }
    }
    let cut = if end < text.len() {
        format!("... ({} bytes)", text.len())
    } else {
        String::new()
    };
    (body, cut)
}

/// The line (1-based) and byte offset of the first byte that is not UTF-8, if any.
pub fn utf8_error_position(bytes: &[u8]) -> Option<(usize, usize)> {
    let e = std::str::from_utf8(bytes).err()?;
    let offset = e.valid_up_to();
    let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
    Some((line, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_and_truncate() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        let long = "é".repeat(100);
        let q = quote(&long);
        assert!(q.ends_with("... (200 bytes)"), "{q}");
        assert!(q.len() < 80, "{q}");
    }

    #[test]
    fn messages_stay_on_one_line() {
        assert_eq!(one_line("a \"b\"\nc"), "a \"b\"\\nc");
        assert!(one_line(&"x".repeat(1 << 20)).ends_with("... (1048576 bytes)"));
    }

    #[test]
    fn utf8_errors_have_a_line_and_offset() {
        assert_eq!(utf8_error_position(b"a\nb\n\xffc"), Some((3, 4)));
        assert_eq!(utf8_error_position(b"fine"), None);
    }

    #[test]
    fn gzip_files_are_checked_inflated() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("hasim-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("zeros.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; 3 << 20]).unwrap();
        std::fs::write(&f, gz.finish().unwrap()).unwrap();
        assert!(
            std::fs::metadata(&f).unwrap().len() < 1 << 20,
            "small on disk"
        );
        assert!(check_gzip_inflated(&f, 2 << 20)
            .unwrap_err()
            .contains("inflates to more than the limit of 2 MiB"));
        assert!(check_gzip_inflated(&f, 4 << 20).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn non_regular_and_large_files_are_refused() {
        assert!(read_capped(Path::new("/dev/zero"), 10)
            .unwrap_err()
            .contains("not a regular file"));
        let dir = std::env::temp_dir().join(format!("hasim-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("big");
        std::fs::write(&f, vec![b'x'; 2 << 20]).unwrap();
        assert!(read_capped(&f, 1 << 20)
            .unwrap_err()
            .contains("limit of 1 MiB"));
        assert_eq!(read_capped(&f, 2 << 20).unwrap().len(), 2 << 20);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
