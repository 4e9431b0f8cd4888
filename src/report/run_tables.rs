//! The per-VM and per-host tables of a run in the format `--tables` names: `csv` (`vms.csv`,
//! `hosts.csv`), `csv.gz` (the same bytes gzip-compressed, `vms.csv.gz`, `hosts.csv.gz`),
//! `parquet` (`vms.parquet`, `hosts.parquet`, with the cargo feature `parquet`) or `none`.
//! Written while replications complete under temporary names and renamed into place by
//! `commit` once the run has succeeded; dropped without `commit`, the temporary files go.

use super::atomic::AtomicFile;
use super::tables::{HostsTable, VmsTable};
use crate::metrics::replication::ReplicationOutput;
use crate::scenario::model::Model;
use flate2::write::GzEncoder;
use std::path::{Path, PathBuf};

/// The value of `--tables`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableFormat {
    #[default]
    Csv,
    CsvGz,
    Parquet,
    None,
}

impl TableFormat {
    pub fn parse(s: &str) -> Result<TableFormat, String> {
        match s {
            "csv" => Ok(TableFormat::Csv),
            "csv.gz" => Ok(TableFormat::CsvGz),
            "parquet" if cfg!(feature = "parquet") => Ok(TableFormat::Parquet),
            "parquet" => Err(
                "parquet: this hasim was built without Parquet (cargo build --release --features parquet)"
                    .into(),
            ),
            "none" => Ok(TableFormat::None),
            _ => Err(format!("\"{s}\" is not csv, csv.gz, parquet or none")),
        }
    }
}

/// gzip level of `csv.gz`: 1 (fast). Level 6 took 4x the time of the plain table (200k VMs
/// x 20 replications: 49 s against 12 s), all of it on the thread that writes the tables.
pub const GZIP_LEVEL: flate2::Compression = flate2::Compression::fast();

fn gz(f: AtomicFile) -> GzEncoder<AtomicFile> {
    GzEncoder::new(f, GZIP_LEVEL)
}

/// The writers of each format (boxed where large: one run holds one of them).
enum Sinks<'m> {
    Csv(
        Box<VmsTable<'m, AtomicFile>>,
        Box<HostsTable<'m, AtomicFile>>,
    ),
    CsvGz(
        Box<VmsTable<'m, GzEncoder<AtomicFile>>>,
        Box<HostsTable<'m, GzEncoder<AtomicFile>>>,
    ),
    #[cfg(feature = "parquet")]
    Parquet(Box<super::parquet_tables::ParquetTables<'m>>),
    None,
}

/// The tables of one run.
pub struct RunTables<'m> {
    sinks: Sinks<'m>,
}

impl<'m> RunTables<'m> {
    /// `vms.csv` and `hosts.csv` (the default format).
    pub fn create(dir: &Path, model: &'m Model) -> std::io::Result<Self> {
        Self::create_as(dir, model, TableFormat::Csv)
    }

    /// Creates `dir` if needed and both temporary files, with their headers.
    pub fn create_as(dir: &Path, model: &'m Model, format: TableFormat) -> std::io::Result<Self> {
        let file = |name: &str| AtomicFile::create(&dir.join(name));
        let sinks = match format {
            TableFormat::Csv => Sinks::Csv(
                Box::new(VmsTable::new(file("vms.csv")?, model)?),
                Box::new(HostsTable::new(file("hosts.csv")?, model)?),
            ),
            TableFormat::CsvGz => Sinks::CsvGz(
                Box::new(VmsTable::new(gz(file("vms.csv.gz")?), model)?),
                Box::new(HostsTable::new(gz(file("hosts.csv.gz")?), model)?),
            ),
            #[cfg(feature = "parquet")]
            TableFormat::Parquet => Sinks::Parquet(Box::new(
                super::parquet_tables::ParquetTables::create(dir, model)?,
            )),
            #[cfg(not(feature = "parquet"))]
            TableFormat::Parquet => {
                return Err(std::io::Error::other("built without the parquet feature"))
            }
            TableFormat::None => Sinks::None,
        };
        Ok(RunTables { sinks })
    }

    /// Appends the rows of the next replication (in replication order).
    pub fn write(&mut self, out: &ReplicationOutput) -> std::io::Result<()> {
        match &mut self.sinks {
            Sinks::Csv(v, h) => {
                v.write(out)?;
                h.write(out)
            }
            Sinks::CsvGz(v, h) => {
                v.write(out)?;
                h.write(out)
            }
            #[cfg(feature = "parquet")]
            Sinks::Parquet(p) => p.write(out),
            Sinks::None => Ok(()),
        }
    }

    /// Renames the tables into place (vms, then hosts); returns their paths.
    pub fn commit(self) -> std::io::Result<Vec<PathBuf>> {
        let files = match self.sinks {
            Sinks::Csv(v, h) => vec![v.into_inner()?, h.into_inner()?],
            Sinks::CsvGz(v, h) => vec![v.into_inner()?.finish()?, h.into_inner()?.finish()?],
            #[cfg(feature = "parquet")]
            Sinks::Parquet(p) => return p.commit(),
            Sinks::None => Vec::new(),
        };
        let mut written = Vec::new();
        for f in files {
            let path = f.path().to_path_buf();
            f.commit()?;
            written.push(path);
        }
        Ok(written)
    }
}
