//! `--tables parquet` (cargo feature `parquet`): the Parquet tables hold the rows of the CSV
//! tables, value for value, with fixed column types.

use crate::support::{hasim, scratch, stderr};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn csv_rows(path: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (h, rows)
}

#[test]
fn parquet_tables_hold_the_csv_values() {
    let dir = scratch("parquet_tables");
    for (f, out) in [("csv", "c"), ("parquet", "p")] {
        let o = hasim(&[
            "run",
            "scenarios/rack_outages.toml",
            "-n",
            "3",
            "--tables",
            f,
            "--out",
            dir.join(out).to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for table in ["vms", "hosts"] {
        let (header, rows) = csv_rows(&dir.join(format!("c/{table}.csv")));
        let file = std::fs::File::open(dir.join(format!("p/{table}.parquet"))).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3, "one per replication");
        let mut n = 0;
        for (row, want) in reader.get_row_iter(None).unwrap().zip(&rows) {
            let row = row.unwrap();
            for ((name, field), (h, text)) in row.get_column_iter().zip(header.iter().zip(want)) {
                assert_eq!(name, h);
                let same = match field {
                    Field::UInt(v) => v.to_string() == *text,
                    Field::ULong(v) => v.to_string() == *text,
                    Field::Str(v) => v == text,
                    Field::Double(v) => *v == text.parse::<f64>().unwrap(),
                    other => panic!("{table}.{name}: unexpected type {other:?}"),
                };
                assert!(same, "{table}.{name}: {field:?} vs {text}");
            }
            n += 1;
        }
        assert_eq!(n, rows.len());
    }
}
