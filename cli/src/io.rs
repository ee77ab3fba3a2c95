//! Reading event files (CSV, JSON lines, Parquet) into an [`EventLog`], and writing event logs
//! and tables back out.

use crate::commands::Progress;
use crate::commands::{CliError, Result};
use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use jornada::analytics::{ColumnNames, EventLog, PropColumn};
use jornada::{PropValue, Timestamp};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Column names of an events file (flags shared by every command that reads events).
#[derive(Debug, Clone, clap::Args)]
pub struct ColumnArgs {
    /// Column holding the customer key.
    #[arg(long, default_value = "customer", value_name = "NAME")]
    pub customer_col: String,
    /// Column holding the event time (RFC 3339, epoch milliseconds, or a Parquet timestamp).
    #[arg(long, default_value = "at", value_name = "NAME")]
    pub at_col: String,
    /// Column holding the channel.
    #[arg(long, default_value = "channel", value_name = "NAME")]
    pub channel_col: String,
    /// Column holding the event kind.
    #[arg(long, default_value = "kind", value_name = "NAME")]
    pub kind_col: String,
    /// Column holding the event value (optional; absent means no values).
    #[arg(long, default_value = "value", value_name = "NAME")]
    pub value_col: String,
}

impl Default for ColumnArgs {
    fn default() -> Self {
        ColumnArgs {
            customer_col: "customer".into(),
            at_col: "at".into(),
            channel_col: "channel".into(),
            kind_col: "kind".into(),
            value_col: "value".into(),
        }
    }
}

impl ColumnArgs {
    fn names(&self) -> ColumnNames {
        ColumnNames {
            customer: self.customer_col.clone(),
            at: self.at_col.clone(),
            channel: self.channel_col.clone(),
            kind: self.kind_col.clone(),
            value: Some(self.value_col.clone()),
            ..ColumnNames::default()
        }
    }

    fn required(&self) -> [(&str, &str); 4] {
        [
            (self.customer_col.as_str(), "--customer-col"),
            (self.at_col.as_str(), "--at-col"),
            (self.channel_col.as_str(), "--channel-col"),
            (self.kind_col.as_str(), "--kind-col"),
        ]
    }
}

/// The file formats, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl FileFormat {
    pub fn of(path: &Path) -> Result<FileFormat> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Ok(FileFormat::Csv),
            "jsonl" | "ndjson" | "json" => Ok(FileFormat::Jsonl),
            "parquet" | "pq" => Ok(FileFormat::Parquet),
            _ => Err(CliError::Invalid(format!(
                "{}: unknown file type; use .csv, .jsonl (or .ndjson) or .parquet",
                path.display()
            ))),
        }
    }
}

pub fn io_err(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Io(format!("{}: {e} [io_error]", path.display()))
}

fn invalid(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Invalid(format!("{}: {e}", path.display()))
}

/// How a file's rows are named in messages.
#[derive(Clone)]
pub enum RowNames {
    /// CSV: data row `i` is on line `i + 2`.
    Csv,
    /// JSON lines: the line of each row.
    Lines(Vec<usize>),
    /// Parquet: rows from 0.
    Plain,
}

impl RowNames {
    fn name(&self, row: usize) -> String {
        match self {
            RowNames::Csv => format!("row {row} (line {})", row + 2),
            RowNames::Lines(lines) => match lines.get(row) {
                Some(l) => format!("row {row} (line {l})"),
                None => format!("row {row}"),
            },
            RowNames::Plain => format!("row {row}"),
        }
    }
}

/// An events file read into a log, with what's needed to name its rows in messages.
pub struct Events {
    pub path: PathBuf,
    pub log: EventLog,
    pub rows: RowNames,
}

impl Events {
    /// A core error about this file, its rows named as the file names them.
    pub fn error(&self, e: jornada::Error) -> CliError {
        core_error(&self.path, &self.rows, e)
    }
}

/// Rewrites the core's `event N` (an input row) in terms of the file.
fn core_error(path: &Path, rows: &RowNames, e: jornada::Error) -> CliError {
    let code = e.code();
    let msg = e.to_string();
    let mut out = String::new();
    let mut rest = msg.as_str();
    while let Some(i) = rest.find("event ") {
        let digits: String = rest[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.is_empty() {
            out.push_str(&rest[..i + 6]);
            rest = &rest[i + 6..];
            continue;
        }
        out.push_str(&rest[..i]);
        out.push_str(&rows.name(digits.parse().unwrap_or(0)));
        rest = &rest[i + 6 + digits.len()..];
    }
    out.push_str(rest);
    let out = out.replace("field `", "column `");
    match e {
        jornada::Error::Io { .. } => CliError::Io(format!("{}: {out} [{code}]", path.display())),
        _ => CliError::Invalid(format!("{}: {out} [{code}]", path.display())),
    }
}

/// Reads an events file (format by extension), showing the bytes (CSV, JSON lines) or rows
/// (Parquet) read on `progress`, then a spinner while the log is built.
pub fn read_events(path: &Path, cols: &ColumnArgs, progress: &Progress) -> Result<Events> {
    let format = FileFormat::of(path)?;
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let msg = format!("reading {}", path.display());
    let (batches, rows) = match format {
        FileFormat::Csv => {
            progress.bar_of(size, "bytes", &msg);
            (read_csv(path, file, cols, progress)?, RowNames::Csv)
        }
        FileFormat::Jsonl => {
            progress.bar_of(size, "bytes", &msg);
            let mut data = Vec::with_capacity(size as usize);
            progress
                .reader(file)
                .read_to_end(&mut data)
                .map_err(|e| io_err(path, e))?;
            progress.step(&format!("building the event log of {}", path.display()));
            // The core's reader names the line and the event of an error itself.
            let log = EventLog::from_json_lines(&data, &cols.names())
                .map_err(|e| core_error(path, &RowNames::Plain, e))?;
            return Ok(Events {
                path: path.to_path_buf(),
                log,
                rows: RowNames::Lines(event_lines(&data)),
            });
        }
        FileFormat::Parquet => (read_parquet(path, file, progress, &msg)?, RowNames::Plain),
    };
    progress.step(&format!("building the event log of {}", path.display()));
    if let Some(first) = batches.first() {
        let schema = first.schema();
        for (name, flag) in cols.required() {
            if schema.column_with_name(name).is_none() {
                let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
                return Err(invalid(
                    path,
                    format!(
                        "no column `{name}` (the file has: {}); name the column with {flag} [missing_field]",
                        have.join(", ")
                    ),
                ));
            }
        }
    }
    let log = EventLog::from_record_batches(&batches, &cols.names())
        .map_err(|e| core_error(path, &rows, e))?;
    Ok(Events {
        path: path.to_path_buf(),
        log,
        rows,
    })
}

fn read_csv(
    path: &Path,
    file: File,
    cols: &ColumnArgs,
    progress: &Progress,
) -> Result<Vec<RecordBatch>> {
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (schema, _) = format
        .infer_schema(BufReader::new(file), None)
        .map_err(|e| invalid(path, format!("not a readable CSV file: {e}")))?;
    // The customer, time, channel and kind columns are read as text (the core parses times
    // with row-level errors); the value column too, converted below with row-level errors.
    let as_text: Vec<&str> = cols
        .required()
        .iter()
        .map(|(n, _)| *n)
        .chain([cols.value_col.as_str()])
        .collect();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if as_text.contains(&f.name().as_str()) {
                Field::new(f.name(), DataType::Utf8, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_format(format)
        .with_batch_size(64 * 1024)
        .build(progress.reader(file))
        .map_err(|e| invalid(path, e))?;
    let mut batches = Vec::new();
    let mut row0 = 0usize;
    for b in reader {
        let b = b.map_err(|e| invalid(path, e))?;
        let b = numeric_value(path, b, &cols.value_col, row0)?;
        row0 += b.num_rows();
        batches.push(b);
    }
    Ok(batches)
}

/// Converts a text value column to numbers, naming the first bad row.
fn numeric_value(path: &Path, b: RecordBatch, col: &str, row0: usize) -> Result<RecordBatch> {
    let Some((idx, _)) = b.schema().column_with_name(col) else {
        return Ok(b);
    };
    let Some(text) = b.column(idx).as_any().downcast_ref::<StringArray>() else {
        return Ok(b);
    };
    let mut values = Vec::with_capacity(text.len());
    for i in 0..text.len() {
        if text.is_null(i) || text.value(i).trim().is_empty() {
            values.push(None);
            continue;
        }
        let s = text.value(i).trim();
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => values.push(Some(v)),
            _ => {
                return Err(invalid(
                    path,
                    format!(
                        "{}, column `{col}`: `{s}` is not a number [invalid_value]",
                        RowNames::Csv.name(row0 + i)
                    ),
                ))
            }
        }
    }
    let mut columns = b.columns().to_vec();
    columns[idx] = Arc::new(Float64Array::from(values));
    let fields: Vec<Field> = b
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == idx {
                Field::new(f.name(), DataType::Float64, true)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(|e| invalid(path, e))
}

fn read_parquet(
    path: &Path,
    file: File,
    progress: &Progress,
    msg: &str,
) -> Result<Vec<RecordBatch>> {
    let bad = |e: parquet::errors::ParquetError| {
        invalid(path, format!("not a readable Parquet file: {e}"))
    };
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(bad)?;
    let total = builder.metadata().file_metadata().num_rows().max(0) as u64;
    progress.bar_of(total, "rows", msg);
    let reader = builder.with_batch_size(64 * 1024).build().map_err(bad)?;
    let mut batches = Vec::new();
    for b in reader {
        let b = b.map_err(|e| invalid(path, format!("not a readable Parquet file: {e}")))?;
        progress.inc(b.num_rows());
        batches.push(b);
    }
    Ok(batches)
}

/// The 1-based line of each event in JSON lines (blank lines hold none; the core's rule).
fn event_lines(data: &[u8]) -> Vec<usize> {
    data.split(|c| *c == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, _)| i + 1)
        .collect()
}

/// Creates a file for writing (its folder too).
pub fn create(path: &Path) -> Result<BufWriter<File>> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
    }
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| io_err(path, e))
}

/// Quotes a CSV field when needed.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn prop_text(v: Option<PropValue>) -> String {
    match v {
        None => String::new(),
        Some(PropValue::Str(s)) => s.to_string(),
        Some(PropValue::Num(n)) => n.to_string(),
        Some(PropValue::Bool(b)) => b.to_string(),
    }
}

fn prop_json(v: Option<PropValue>) -> serde_json::Value {
    match v {
        None => serde_json::Value::Null,
        Some(PropValue::Str(s)) => serde_json::Value::String(s.to_string()),
        Some(PropValue::Num(n)) => serde_json::json!(n),
        Some(PropValue::Bool(b)) => serde_json::Value::Bool(b),
    }
}

/// Writes an event log (format by extension) with the default column names.
pub fn write_events(log: &EventLog, path: &Path) -> Result<()> {
    let format = FileFormat::of(path)?;
    let mut w = create(path)?;
    let customers = log.customers();
    let codes = log.customer_codes();
    let props: &[(String, PropColumn)] = log.properties();
    match format {
        FileFormat::Parquet => {
            let batch = log.to_record_batch().map_err(CliError::from)?;
            write_parquet(path, w, &batch)?;
            return Ok(());
        }
        FileFormat::Csv => {
            let mut header = vec!["customer", "at", "channel", "kind", "value"];
            header.extend(props.iter().map(|(n, _)| n.as_str()));
            let header: Vec<String> = header.iter().map(|h| csv_field(h)).collect();
            writeln!(w, "{}", header.join(",")).map_err(|e| io_err(path, e))?;
            for row in 0..log.len() {
                let v = log.values()[row];
                let mut line = format!(
                    "{},{},{},{},{}",
                    csv_field(&customers[codes[row] as usize]),
                    Timestamp(log.at()[row]),
                    csv_field(log.channel_name(log.channel_codes()[row])),
                    csv_field(log.kind_name(log.kind_codes()[row])),
                    if v.is_nan() {
                        String::new()
                    } else {
                        v.to_string()
                    }
                );
                for (_, c) in props {
                    line.push(',');
                    line.push_str(&csv_field(&prop_text(c.get(row))));
                }
                writeln!(w, "{line}").map_err(|e| io_err(path, e))?;
            }
        }
        FileFormat::Jsonl => {
            for row in 0..log.len() {
                let mut o = serde_json::Map::new();
                o.insert("customer".into(), (&*customers[codes[row] as usize]).into());
                o.insert("at".into(), Timestamp(log.at()[row]).to_string().into());
                o.insert(
                    "channel".into(),
                    log.channel_name(log.channel_codes()[row]).into(),
                );
                o.insert("kind".into(), log.kind_name(log.kind_codes()[row]).into());
                let v = log.values()[row];
                if !v.is_nan() {
                    o.insert("value".into(), serde_json::json!(v));
                }
                for (name, c) in props {
                    let v = c.get(row);
                    if v.is_some() {
                        o.insert(name.clone(), prop_json(v));
                    }
                }
                serde_json::to_writer(&mut w, &o).map_err(|e| io_err(path, e))?;
                w.write_all(b"\n").map_err(|e| io_err(path, e))?;
            }
        }
    }
    w.flush().map_err(|e| io_err(path, e))
}

/// Writes one record batch as a Parquet file.
pub fn write_parquet(path: &Path, w: BufWriter<File>, batch: &RecordBatch) -> Result<()> {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(w, batch.schema(), Some(props))
        .map_err(|e| io_err(path, e))?;
    writer.write(batch).map_err(|e| io_err(path, e))?;
    writer.close().map_err(|e| io_err(path, e))?;
    Ok(())
}

/// A nullable UTC millisecond timestamp column.
pub fn timestamps(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMillisecondArray::from(v).with_timezone("UTC"))
}
