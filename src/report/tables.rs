//! `vms.csv` and `hosts.csv`: one row per VM (or host) per replication, each carrying the seed
//! so any row can be traced back to the run that made it.
//!
//! The tables are written while replications complete (`RunTables` is the sink of
//! `runner::run_streaming`), one replication at a time, so they are never held in memory.
//! Rows allocate nothing: names are borrowed from the model, the seed is formatted once, and
//! numbers are formatted into one reused buffer exactly as `Display` (`to_string`) formats them.

use crate::metrics::ledger::VmState;
use crate::metrics::replication::ReplicationOutput;
use crate::metrics::summary::vm_figures;
use crate::scenario::model::Model;
use std::io::Write;

/// Every per-VM and per-host table file a run may write.
pub const TABLE_FILES: [&str; 6] = [
    "vms.csv",
    "hosts.csv",
    "vms.csv.gz",
    "hosts.csv.gz",
    "vms.parquet",
    "hosts.parquet",
];

/// How the tables write a float: `Display` (the shortest text that reads back as the same
/// `f64`), with ".0" after a whole value, so that every value of a float column reads as a
/// float.
pub fn float_text(x: f64) -> String {
    let s = x.to_string();
    if s.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
        s + ".0"
    } else {
        s
    }
}

/// 2^53: every integer below it is an exact `f64`.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;

/// Formats numbers into a reused buffer, byte for byte as their `Display` does.
#[derive(Default)]
struct Num {
    buf: Vec<u8>,
    int: itoa::Buffer,
}

impl Num {
    fn int(&mut self, x: impl itoa::Integer) -> &[u8] {
        self.int.format(x).as_bytes()
    }

    /// `float_text` of an `f64`: `Display`, with ".0" after a value `Display` writes as bare
    /// digits, so a float column always reads as floats (a column of whole values in one run
    /// would otherwise be read as integers, and fail a reader that fixed its type on another
    /// run's). An integer-valued one below 2^53 in magnitude displays as its integer digits
    /// (its shortest round-trip form is that exact integer: any shorter digit string is another
    /// integer, exactly representable, so not this one), which is much faster to format as an
    /// integer. Negative zero displays as "-0" and is left to `Display`.
    fn float(&mut self, x: f64) -> &[u8] {
        self.buf.clear();
        if x.abs() < EXACT_INT {
            let i = x as i64;
            if i as f64 == x && !(i == 0 && x.is_sign_negative()) {
                self.buf.extend_from_slice(self.int.format(i).as_bytes());
                self.buf.extend_from_slice(b".0");
                return &self.buf;
            }
        }
        write!(self.buf, "{x}").expect("writing to memory cannot fail");
        if self.buf.iter().all(|c| c.is_ascii_digit() || *c == b'-') {
            self.buf.extend_from_slice(b".0");
        }
        &self.buf
    }

    /// `float_text` of `us as f64 / 1e6` (microseconds as seconds), formatted from the integer:
    /// the seconds, then the µs digits without trailing zeros. Exact below 10^15 µs (31.7
    /// years): there the decimal `us / 10^6` has at most 15 significant digits, `us as f64` is
    /// exact and the division correctly rounded, so the quotient is the `f64` nearest that
    /// decimal; decimals of 15 digits or fewer map to distinct `f64`s (DBL_DIG = 15), so no
    /// other decimal as short or shorter round-trips to it, and the shortest round-trip form
    /// `Display` prints is that decimal itself. Larger values are left to `Display`.
    fn seconds(&mut self, us: u64) -> &[u8] {
        const EXACT_DIGITS_US: u64 = 1_000_000_000_000_000;
        if us >= EXACT_DIGITS_US {
            return self.float(us as f64 / 1e6);
        }
        let (whole, mut frac) = (us / 1_000_000, us % 1_000_000);
        self.buf.clear();
        self.buf
            .extend_from_slice(self.int.format(whole).as_bytes());
        if frac == 0 {
            self.buf.extend_from_slice(b".0");
        } else {
            let mut digits = [b'0'; 6];
            for d in digits.iter_mut().rev() {
                *d = b'0' + (frac % 10) as u8;
                frac /= 10;
            }
            let len = 6 - digits.iter().rev().take_while(|d| **d == b'0').count();
            self.buf.push(b'.');
            self.buf.extend_from_slice(&digits[..len]);
        }
        &self.buf
    }
}

/// Builds one CSV row at a time and writes it whole. Text fields are quoted exactly as the
/// `csv` crate's default (`QuoteStyle::Necessary`) quotes them — when they hold a comma, a
/// double quote, CR or LF, with quotes doubled — and numbers, which never need it, are copied
/// as they are: a hand-written writer because the tables are hundreds of MB and csv's
/// per-byte field state machine was a fifth of their cost.
struct Rows<W: Write> {
    out: W,
    row: Vec<u8>,
    /// Fields in `row` so far.
    fields: usize,
}

impl<W: Write> Rows<W> {
    fn new(out: W) -> Self {
        Rows {
            out,
            row: Vec::with_capacity(256),
            fields: 0,
        }
    }

    fn sep(&mut self) {
        if self.fields > 0 {
            self.row.push(b',');
        }
        self.fields += 1;
    }

    /// A field that never needs quoting (a formatted number).
    fn raw(&mut self, field: &[u8]) {
        self.sep();
        self.row.extend_from_slice(field);
    }

    fn text(&mut self, field: &str) {
        self.sep();
        let b = field.as_bytes();
        if b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
            self.row.push(b'"');
            for &c in b {
                if c == b'"' {
                    self.row.push(b'"');
                }
                self.row.push(c);
            }
            self.row.push(b'"');
        } else {
            self.row.extend_from_slice(b);
        }
    }

    fn end(&mut self) -> std::io::Result<()> {
        self.row.push(b'\n');
        self.out.write_all(&self.row)?;
        self.row.clear();
        self.fields = 0;
        Ok(())
    }

    fn into_inner(self) -> W {
        self.out
    }
}

/// Writes `vms.csv` rows, one replication at a time.
pub struct VmsTable<'m, W: Write> {
    w: Rows<W>,
    model: &'m Model,
    seed: String,
    num: Num,
}

impl<'m, W: Write> VmsTable<'m, W> {
    /// Writes the header.
    pub fn new(inner: W, model: &'m Model) -> std::io::Result<Self> {
        let mut w = Rows::new(inner);
        for name in [
            "replication",
            "seed",
            "vm",
            "workload",
            "host",
            "availability",
            "downtime_min_per_year",
        ] {
            w.text(name);
        }
        for s in VmState::ALL {
            w.text(&format!("{}_s", s.name()));
        }
        w.end()?;
        Ok(VmsTable {
            w,
            model,
            seed: model.simulation.seed.to_string(),
            num: Num::default(),
        })
    }

    /// Writes one row per VM of `out`.
    pub fn write(&mut self, out: &ReplicationOutput) -> std::io::Result<()> {
        let (m, w, num) = (self.model, &mut self.w, &mut self.num);
        let figs = vm_figures(out);
        let mut replication = itoa::Buffer::new();
        let replication = replication.format(out.replication).as_bytes();
        for (i, vm) in m.vms.iter().enumerate() {
            w.raw(replication);
            w.raw(self.seed.as_bytes());
            w.text(&vm.name);
            w.text(&m.workloads[vm.workload.index()].name);
            w.text(&m.topology.hosts[m.placement[i].index()].name);
            w.raw(num.float(figs[i].availability));
            w.raw(num.float(figs[i].downtime_min_per_year));
            for us in &out.vm_time_us[i] {
                w.raw(num.seconds(*us));
            }
            w.end()?;
        }
        Ok(())
    }

    /// Returns the writer (each row was written whole; the writer buffers and flushes).
    pub fn into_inner(self) -> std::io::Result<W> {
        Ok(self.w.into_inner())
    }
}

/// Writes `hosts.csv` rows, one replication at a time.
pub struct HostsTable<'m, W: Write> {
    w: Rows<W>,
    model: &'m Model,
    seed: String,
    num: Num,
}

impl<'m, W: Write> HostsTable<'m, W> {
    /// Writes the header.
    pub fn new(inner: W, model: &'m Model) -> std::io::Result<Self> {
        let mut w = Rows::new(inner);
        for name in [
            "replication",
            "seed",
            "host",
            "rack",
            "fault_domain",
            "zone",
            "host_type",
            "failures",
            "down_s",
            "observed_s",
            "availability",
        ] {
            w.text(name);
        }
        w.end()?;
        Ok(HostsTable {
            w,
            model,
            seed: model.simulation.seed.to_string(),
            num: Num::default(),
        })
    }

    /// Writes one row per host of `out`.
    pub fn write(&mut self, out: &ReplicationOutput) -> std::io::Result<()> {
        let (topo, w, num) = (&self.model.topology, &mut self.w, &mut self.num);
        let mut replication = itoa::Buffer::new();
        let replication = replication.format(out.replication).as_bytes();
        for (i, h) in topo.hosts.iter().enumerate() {
            let (down, obs) = (out.host_down_us[i], out.host_observed_us[i]);
            let avail = if obs == 0 {
                1.0
            } else {
                1.0 - down as f64 / obs as f64
            };
            w.raw(replication);
            w.raw(self.seed.as_bytes());
            w.text(&h.name);
            w.text(&topo.racks[h.rack.index()].name);
            w.text(&topo.fault_domains[h.fault_domain.index()].name);
            w.text(&topo.zones[h.zone.index()].name);
            w.text(&topo.host_types[h.host_type.index()].name);
            w.raw(num.int(out.host_failures[i]));
            w.raw(num.seconds(down));
            w.raw(num.seconds(obs));
            w.raw(num.float(avail));
            w.end()?;
        }
        Ok(())
    }

    /// Returns the writer (each row was written whole; the writer buffers and flushes).
    pub fn into_inner(self) -> std::io::Result<W> {
        Ok(self.w.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_display(x: f64) {
        let mut num = Num::default();
        assert_eq!(
            std::str::from_utf8(num.float(x)).unwrap(),
            float_text(x),
            "{x:?}"
        );
    }

    #[test]
    fn whole_floats_keep_a_fraction() {
        assert_eq!(float_text(1.0), "1.0");
        assert_eq!(float_text(-3.0), "-3.0");
        assert_eq!(float_text(1e21), "1000000000000000000000.0");
        assert_eq!(float_text(0.5), "0.5");
        assert_eq!(float_text(-0.0), "-0.0");
        assert_eq!(float_text(f64::NAN), "NaN");
        assert_eq!(float_text(f64::INFINITY), "inf");
    }

    #[test]
    fn floats_format_as_display() {
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e-7,
            0.9996651,
            1e15,
            1e21,
            EXACT_INT - 1.0,
            EXACT_INT,
            EXACT_INT + 2.0,
            -(EXACT_INT - 1.0),
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        edges.into_iter().for_each(same_as_display);
        // A fixed xorshift: microsecond counts as the tables divide them, and arbitrary bits.
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for _ in 0..200_000 {
            let r = next();
            same_as_display((r >> 12) as f64 / 1e6);
            same_as_display(((r % 40_000_000) * 1_000_000) as f64 / 1e6);
            same_as_display((r >> 40) as f64 / 60e6);
            same_as_display(f64::from_bits(r));
        }
    }

    #[test]
    fn seconds_format_as_display_of_the_quotient() {
        let mut num = Num::default();
        let mut check = |us: u64| {
            let want = float_text(us as f64 / 1e6);
            assert_eq!(std::str::from_utf8(num.seconds(us)).unwrap(), want, "{us}");
        };
        for us in [
            0,
            1,
            999_999,
            1_000_000,
            31_536_000_000_000,
            31_535_827_888_930,
            999_999_999_999_999,
            1_000_000_000_000_000,
            EXACT_INT as u64 - 1,
        ] {
            check(us);
        }
        for us in [EXACT_INT as u64, EXACT_INT as u64 + 1_000_000, u64::MAX] {
            check(us);
        }
        let mut s: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200_000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            check(s >> 10);
            check((s % 40_000_000) * 1_000_000);
            check(s);
            // Around the 10^15 µs bound of the integer path, and every fraction length.
            check(s % 1_000_000_000_000_000);
            check(999_999_999_000_000 + s % 2_000_000);
            check((s % 100_000_000_000) * 10u64.pow((s % 6) as u32));
        }
    }

    /// Rows quote text exactly as the csv crate does, whatever the field holds.
    #[test]
    fn rows_quote_like_the_csv_crate() {
        let fields = [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "line\nbreak",
            "cr\rhere",
            " spaced ",
            "\"",
            ",",
            "é-ünïcode",
            "tab\there",
            "'single'",
            "#hash",
        ];
        let mut s: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..2_000 {
            let mut ours = Rows::new(Vec::new());
            let mut theirs = csv::Writer::from_writer(Vec::new());
            for _ in 0..1 + s % 5 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                let f = fields[(s % fields.len() as u64) as usize];
                ours.text(f);
                theirs.write_field(f).unwrap();
            }
            // A record of one empty field is the one case csv quotes an empty field ("");
            // the tables never write one.
            if ours.fields == 1 && ours.row.is_empty() {
                continue;
            }
            ours.end().unwrap();
            theirs.write_record(None::<&[u8]>).unwrap();
            assert_eq!(ours.into_inner(), theirs.into_inner().unwrap());
        }
    }

    #[test]
    fn integers_format_as_display() {
        let mut num = Num::default();
        for x in [0u32, 7, 42, u32::MAX] {
            assert_eq!(num.int(x), x.to_string().as_bytes());
        }
    }
}
