//! How fast compiled code can stage link rows into SQLite: a CSV file of links read with the `csv`
//! crate and inserted, row by row, with one prepared statement in one transaction, into the same
//! table and with the same pragmas as `cofi/staging.py`'s `stage.link` (SQLite built in by
//! rusqlite). No validation beyond trimming, upper-casing the type and parsing the share: a floor,
//! not a loader. Run (not part of `make bench`; see benchmarks/README.md):
//!
//!     cargo run --release -- LINKS.csv /tmp/floor.db
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let db_path = &args[2];
    let _ = std::fs::remove_file(db_path);
    let t = Instant::now();
    let conn = rusqlite::Connection::open(db_path).unwrap();
    conn.execute_batch("PRAGMA page_size=16384; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;
      CREATE TABLE link (seq INTEGER PRIMARY KEY, source TEXT, target TEXT, type TEXT, role TEXT, since TEXT, share REAL, until TEXT, source_ref TEXT, fno INTEGER, line INTEGER);").unwrap();
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_path(path).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    let mut n: i64 = 0;
    {
        let mut st = conn.prepare("INSERT INTO link VALUES (?,?,?,?,?,?,?,?,?,?,?)").unwrap();
        let mut rec = csv::StringRecord::new();
        while rdr.read_record(&mut rec).unwrap() {
            n += 1;
            let ty = rec[2].trim().to_uppercase();
            let share: Option<f64> = if rec[4].trim().is_empty() { None } else { rec[4].trim().parse().ok() };
            st.execute(rusqlite::params![n + 1, rec[0].trim(), rec[1].trim(), ty, rec[3].trim(), rec[5].trim(), share, rec[6].trim(), rec[7].trim(), 1, n + 1]).unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    eprintln!("{} rows in {:.2} s", n, t.elapsed().as_secs_f64());
}
