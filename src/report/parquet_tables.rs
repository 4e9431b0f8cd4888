//! `vms.parquet` and `hosts.parquet` (`--tables parquet`, cargo feature `parquet`): the same
//! columns as `vms.csv` and `hosts.csv`, with fixed types (unsigned integers for replication,
//! seed and failure counts, UTF-8 strings for names, doubles for every measured value), one
//! row group per replication, written as replications complete like the CSV tables, snappy
//! compressed. Written with the parquet crate's column writer (no Arrow arrays in between).

use super::atomic::AtomicFile;
use crate::metrics::ledger::VmState;
use crate::metrics::replication::ReplicationOutput;
use crate::metrics::summary::vm_figures;
use crate::scenario::model::Model;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn pq(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e)
}

/// One column's values for one row group.
enum Col {
    U32(Vec<i32>),
    U64(Vec<i64>),
    Str(Vec<ByteArray>),
    F64(Vec<f64>),
}

fn write_group(w: &mut SerializedFileWriter<AtomicFile>, cols: Vec<Col>) -> io::Result<()> {
    let mut rg = w.next_row_group().map_err(pq)?;
    for col in cols {
        let mut c = rg
            .next_column()
            .map_err(pq)?
            .expect("schema has the column");
        match col {
            Col::U32(v) => c.typed::<Int32Type>().write_batch(&v, None, None),
            Col::U64(v) => c.typed::<Int64Type>().write_batch(&v, None, None),
            Col::Str(v) => c.typed::<ByteArrayType>().write_batch(&v, None, None),
            Col::F64(v) => c.typed::<DoubleType>().write_batch(&v, None, None),
        }
        .map_err(pq)?;
        c.close().map_err(pq)?;
    }
    rg.close().map_err(pq)?;
    Ok(())
}

fn open(path: &Path, schema: &str) -> io::Result<SerializedFileWriter<AtomicFile>> {
    let schema = Arc::new(parse_message_type(schema).map_err(pq)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("hasim {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    SerializedFileWriter::new(AtomicFile::create(path)?, schema, props).map_err(pq)
}

/// Both Parquet tables of a run, written one row group per replication.
pub struct ParquetTables<'m> {
    model: &'m Model,
    vms: SerializedFileWriter<AtomicFile>,
    hosts: SerializedFileWriter<AtomicFile>,
    dir: PathBuf,
}

const U32: &str = "(INTEGER(32,false))";
const U64: &str = "(INTEGER(64,false))";

impl<'m> ParquetTables<'m> {
    pub fn create(dir: &Path, model: &'m Model) -> io::Result<Self> {
        let mut vms = format!(
            "message vms {{ required int32 replication {U32}; required int64 seed {U64}; \
             required binary vm (STRING); required binary workload (STRING); \
             required binary host (STRING); required double availability; \
             required double downtime_min_per_year;"
        );
        for s in VmState::ALL {
            vms.push_str(&format!(" required double {}_s;", s.name()));
        }
        vms.push_str(" }");
        let hosts = format!(
            "message hosts {{ required int32 replication {U32}; required int64 seed {U64}; \
             required binary host (STRING); required binary rack (STRING); \
             required binary fault_domain (STRING); required binary zone (STRING); \
             required binary host_type (STRING); required int32 failures {U32}; \
             required double down_s; required double observed_s; required double availability; }}"
        );
        Ok(ParquetTables {
            model,
            vms: open(&dir.join("vms.parquet"), &vms)?,
            hosts: open(&dir.join("hosts.parquet"), &hosts)?,
            dir: dir.to_path_buf(),
        })
    }

    /// Appends the next replication's rows as one row group in each table.
    pub fn write(&mut self, out: &ReplicationOutput) -> io::Result<()> {
        let m = self.model;
        // The seed's bits as the unsigned 64-bit column stores them.
        let seed = m.simulation.seed as i64;
        let rep = out.replication as i32;
        let s = |x: &str| ByteArray::from(x);
        let n = m.vms.len();
        let figs = vm_figures(out);
        let mut cols = vec![
            Col::U32(vec![rep; n]),
            Col::U64(vec![seed; n]),
            Col::Str(m.vms.iter().map(|v| s(&v.name)).collect()),
            Col::Str(
                m.vms
                    .iter()
                    .map(|v| s(&m.workloads[v.workload.index()].name))
                    .collect(),
            ),
            Col::Str(
                m.placement
                    .iter()
                    .map(|h| s(&m.topology.hosts[h.index()].name))
                    .collect(),
            ),
            Col::F64(figs.iter().map(|f| f.availability).collect()),
            Col::F64(figs.iter().map(|f| f.downtime_min_per_year).collect()),
        ];
        for k in 0..VmState::ALL.len() {
            cols.push(Col::F64(
                out.vm_time_us.iter().map(|t| t[k] as f64 / 1e6).collect(),
            ));
        }
        write_group(&mut self.vms, cols)?;
        let t = &m.topology;
        let h = t.hosts.len();
        let names = |f: fn(&crate::scenario::model::Model, usize) -> &str| {
            Col::Str((0..h).map(|i| s(f(m, i))).collect())
        };
        let cols = vec![
            Col::U32(vec![rep; h]),
            Col::U64(vec![seed; h]),
            names(|m, i| &m.topology.hosts[i].name),
            names(|m, i| &m.topology.racks[m.topology.hosts[i].rack.index()].name),
            names(|m, i| {
                let t = &m.topology;
                &t.fault_domains[t.hosts[i].fault_domain.index()].name
            }),
            names(|m, i| &m.topology.zones[m.topology.hosts[i].zone.index()].name),
            names(|m, i| {
                let t = &m.topology;
                &t.host_types[t.hosts[i].host_type.index()].name
            }),
            Col::U32(out.host_failures.iter().map(|&f| f as i32).collect()),
            Col::F64(out.host_down_us.iter().map(|&u| u as f64 / 1e6).collect()),
            Col::F64(
                out.host_observed_us
                    .iter()
                    .map(|&u| u as f64 / 1e6)
                    .collect(),
            ),
            Col::F64(
                out.host_down_us
                    .iter()
                    .zip(&out.host_observed_us)
                    .map(|(&d, &o)| {
                        if o == 0 {
                            1.0
                        } else {
                            1.0 - d as f64 / o as f64
                        }
                    })
                    .collect(),
            ),
        ];
        write_group(&mut self.hosts, cols)
    }

    /// Finishes both files and renames them into place; returns their paths.
    pub fn commit(self) -> io::Result<Vec<PathBuf>> {
        for w in [self.vms, self.hosts] {
            w.into_inner().map_err(pq)?.commit()?;
        }
        Ok(vec![
            self.dir.join("vms.parquet"),
            self.dir.join("hosts.parquet"),
        ])
    }
}
