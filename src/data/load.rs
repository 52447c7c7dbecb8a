//! Loading CSV files into one table: read whole and parsed in parallel
//! while hashed, or streamed when too large to hold.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::blocks::STREAM_BLOCK;
use super::builder::Builder;
use super::diagnose;
use super::fingerprint::hex;
use super::header::{Selection, read_header, resolve_features};
use super::open::{decompressed, is_gzip, read_raw, url_of};
use super::parallel::parse_body;
use super::parquet::is_parquet;
use super::plan::{Plan, plan};
use super::records::{count_newlines, csv_reader};
use super::store::DataObject;
use super::store::store_url;
use super::streaming::stream_tables;
use super::table::Table;
use crate::error::{Error, Result, display_path};
use crate::report::Progress;

/// A loaded file: the table and the SHA-256 of the file's bytes.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The table.
    pub table: Table,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    /// The objects in storage read (URL, and the ETag and version their
    /// reads saw), in order; empty for local files.
    pub objects: Vec<DataObject>,
}

/// Files up to this size are read whole and parsed on two threads.
const IN_MEMORY_MAX: u64 = 1 << 30;

/// Load a CSV file into a [`Table`], and hash it.
pub fn load(path: &Path, sel: &Selection, progress: &dyn Progress) -> Result<Loaded> {
    load_files(&[path.to_path_buf()], sel, progress)
}

/// The file as the table spanning several files shows it in messages.
fn joint_origin(paths: &[PathBuf]) -> String {
    match paths {
        [one] => display_path(one),
        [first, rest @ ..] => format!("{} (and {} more)", display_path(first), rest.len()),
        [] => String::new(),
    }
}

/// Load CSV files (each plain, or gzip by a `.gz` suffix) with the same
/// header into one [`Table`], in order; `sha256` is that of the files' raw
/// bytes, concatenated.
///
/// Inputs up to 1 GiB in all are read whole, hashed on one thread while
/// each file is parsed in two halves on two others; larger ones are
/// streamed in blocks through one parser.
pub fn load_files(paths: &[PathBuf], sel: &Selection, progress: &dyn Progress) -> Result<Loaded> {
    let mut size = 0u64;
    for p in paths
        .iter()
        .filter(|p| url_of(p).is_none() && store_url(p).is_none())
    {
        let m = std::fs::metadata(p).map_err(|e| Error::io("read", p, &e))?;
        // A compressed file is judged by a typical 5:1 ratio.
        size += if is_gzip(p) { m.len() * 5 } else { m.len() };
    }
    // Parquet files and objects in storage are decoded batch by batch.
    let batched = |p: &PathBuf| is_parquet(p) || store_url(p).is_some();
    if size > IN_MEMORY_MAX || paths.iter().any(batched) {
        return load_streaming(paths, sel, progress, STREAM_BLOCK);
    }
    let mut raw: Vec<Vec<u8>> = Vec::with_capacity(paths.len());
    for p in paths {
        raw.push(read_raw(p, IN_MEMORY_MAX)?);
    }
    // Gzip decompressed up front, within the in-memory budget: a file that
    // compresses far better than 5:1 (or a gzip bomb) is streamed instead.
    let mut budget = IN_MEMORY_MAX.saturating_mul(2);
    let mut contents: Vec<Cow<'_, [u8]>> = Vec::with_capacity(paths.len());
    for (p, bytes) in paths.iter().zip(&raw) {
        match decompressed(p, bytes, &display_path(p), budget)? {
            Some(c) => {
                if is_gzip(p) {
                    budget = budget.saturating_sub(c.len() as u64);
                }
                contents.push(c);
            }
            None => {
                drop(contents);
                return load_streaming(paths, sel, progress, STREAM_BLOCK);
            }
        }
    }
    progress.start("reading", Some(size));
    let (sha, parsed) = std::thread::scope(|s| {
        let hasher = s.spawn(|| {
            let mut h = Sha256::new();
            for r in &raw {
                h.update(r);
            }
            hex(&h.finalize())
        });
        let parsed = parse_files(paths, contents, sel, progress);
        (hasher.join().unwrap_or_default(), parsed)
    });
    progress.finish();
    Ok(Loaded {
        table: parsed?,
        sha256: sha,
        objects: Vec::new(),
    })
}

/// Parse the contents of `paths` (gzip already decompressed) into one table.
fn parse_files(
    paths: &[PathBuf],
    raw: Vec<Cow<'_, [u8]>>,
    sel: &Selection,
    progress: &dyn Progress,
) -> Result<Table> {
    let origins: Vec<String> = paths.iter().map(|p| display_path(p)).collect();
    let (bodies, first) = read_headers(raw, sel, &origins)?;
    let Some((header, feature_names)) = &first else {
        return Err(Error::usage(
            "data.path names no file; name at least one CSV",
        ));
    };
    let mut plans: Vec<Plan<'_>> = Vec::new();
    for origin in &origins {
        plans.push(plan(header, feature_names, sel, origin)?);
    }
    parse_and_join(paths, &plans, &bodies, &origins, progress)
}

/// The records of one file after its header row.
struct Body<'a> {
    /// The file's contents: the raw bytes of a plain file (parsed in
    /// place), a new buffer only for a gzip file.
    bytes: Cow<'a, [u8]>,
    /// Where the records start, just past the header row.
    start: usize,
    /// The 1-based file line of the first record.
    first_line: u64,
}

impl<'a> Body<'a> {
    /// Read and check the header row of `bytes`; returns it and the records
    /// after it.
    fn after_header(bytes: Cow<'a, [u8]>, origin: &str) -> Result<(Vec<String>, Body<'a>)> {
        let mut rdr = csv_reader(&bytes[..]);
        let header = read_header(&mut rdr, origin)?;
        let mut hdr_end = usize::try_from(rdr.position().byte()).unwrap_or(bytes.len());
        if bytes.get(hdr_end) == Some(&b'\n') {
            hdr_end += 1;
        }
        let hdr_end = hdr_end.min(bytes.len());
        let first_line = 1 + count_newlines(&bytes[..hdr_end]);
        let body = Body {
            bytes,
            start: hdr_end,
            first_line,
        };
        Ok((header, body))
    }

    /// The records, from the first byte after the header row.
    fn records(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// The header of the first file and the feature names chosen from it.
type FirstHeader = (Vec<String>, Vec<String>);

/// Read the header row of each file: the records of each file,
/// and the first file's header and features (`None` for no file). Every
/// later file must repeat the first one's header.
fn read_headers<'a>(
    raw: Vec<Cow<'a, [u8]>>,
    sel: &Selection,
    origins: &[String],
) -> Result<(Vec<Body<'a>>, Option<FirstHeader>)> {
    let mut first: Option<FirstHeader> = None;
    let mut bodies: Vec<Body<'a>> = Vec::new();
    for (i, bytes) in raw.into_iter().enumerate() {
        let origin = &origins[i];
        let (header, body) = Body::after_header(bytes, origin)?;
        match &first {
            None => {
                let names = resolve_features(&header, sel, origin)?;
                first = Some((header, names));
            }
            Some((h, _)) if *h != header => {
                return Err(Error::data(format!(
                    "{origin}:1: the header differs from that of {}; every file of data.path needs the same columns in the same order",
                    origins[0]
                )));
            }
            Some(_) => {}
        }
        bodies.push(body);
    }
    Ok((bodies, first))
}

/// Parse the records of each file with its plan and join them, in file
/// order, into one table that knows which file each row came from.
fn parse_and_join(
    paths: &[PathBuf],
    plans: &[Plan<'_>],
    bodies: &[Body<'_>],
    origins: &[String],
    progress: &dyn Progress,
) -> Result<Table> {
    let mut all: Option<Builder<'_>> = None;
    let mut sources = Vec::new();
    for (k, body) in bodies.iter().enumerate() {
        let b = diagnose::explain(
            parse_body(&plans[k], body.records(), body.first_line, progress),
            &plans[k],
            body.records(),
            body.first_line,
        )?;
        if b.lines.is_empty() {
            return Err(Error::data(format!(
                "{} has a header row but no data rows; add data",
                origins[k]
            )));
        }
        match &mut all {
            None => all = Some(b),
            Some(a) => {
                sources.push((a.lines.len(), origins[k].clone()));
                a.append(b);
            }
        }
    }
    let mut table = all
        .ok_or_else(|| Error::usage("data.path names no file; name at least one CSV"))?
        .into_table();
    if !sources.is_empty() {
        table.origin = joint_origin(paths);
        sources.insert(0, (0, origins[0].clone()));
    }
    table.sources = sources;
    Ok(table)
}

/// One thread and bounded buffers, for inputs too large to hold whole: the
/// same chunk parser as the in-memory path, so values, messages and line
/// numbers are the same.
fn load_streaming(
    paths: &[PathBuf],
    sel: &Selection,
    progress: &dyn Progress,
    block: usize,
) -> Result<Loaded> {
    let mut all: Option<Table> = None;
    let mut sources: Vec<(usize, String)> = Vec::new();
    let read = stream_tables(paths, sel, block, progress, &mut |t| {
        match &mut all {
            None => {
                sources.push((0, t.origin.clone()));
                all = Some(t);
            }
            Some(a) => {
                if sources.last().is_some_and(|(_, o)| *o != t.origin) {
                    sources.push((a.rows(), t.origin.clone()));
                }
                a.append(t);
            }
        }
        Ok(())
    })?;
    let Some(mut table) = all.filter(|t| t.rows() > 0) else {
        return Err(Error::data(format!(
            "{} has a header row but no data rows; add data",
            joint_origin(paths)
        )));
    };
    if paths.len() > 1 {
        table.origin = joint_origin(paths);
        table.sources = sources;
    }
    Ok(Loaded {
        table,
        sha256: read.sha256,
        objects: read.objects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::chunk::parse_chunk;
    use crate::data::fingerprint::sha256_file;
    use crate::data::table::Column;
    use crate::project::MissingPolicy;
    use crate::report::NoProgress;

    fn sel() -> Selection {
        Selection {
            target: Some("y".into()),
            features: None,
            exclude: vec![],
            categorical: vec!["c".into()],
            missing: MissingPolicy::Error,
            na_values: vec![],
        }
    }

    fn load_str(text: &[u8], sel: &Selection) -> Result<Table> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        load(&p, sel, &NoProgress)
            .map(|l| l.table)
            .map_err(|e| Error::data(e.to_string().replace(&display_path(&p), "t.csv")))
    }

    #[track_caller]
    fn bad(text: &[u8], expected: &str) {
        let e = load_str(text, &sel()).unwrap_err();
        assert_eq!(e.exit_code(), 3, "{e}");
        assert_eq!(e.to_string(), expected);
    }

    #[test]
    fn reads_numbers_levels_quotes_and_crlf() {
        let t = load_str(b"\xEF\xBB\xBFa,c,y\r\n1.5,\"x, y\",2\r\n-3e2,z,4", &sel()).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(t.feature_names, ["a", "c"]);
        match &t.features[0] {
            Column::Numeric(v) => assert_eq!(v, &[1.5, -300.0]),
            Column::Categorical { .. } => panic!(),
        }
        match &t.features[1] {
            Column::Categorical { levels, codes } => {
                assert_eq!(levels, &["x, y", "z"]);
                assert_eq!(codes, &[0, 1]);
            }
            Column::Numeric(_) => panic!(),
        }
        assert_eq!(t.target, [2.0, 4.0]);
        assert_eq!(t.lines, [2, 3]);
    }

    #[test]
    fn bad_data_messages() {
        bad(
            b"a,c,y\n1,x,2\n12a,x,3\n",
            "t.csv:3: column \"a\": \"12a\" is not a number; fix the cell, or list the column in data.categorical",
        );
        bad(
            b"a,c,y\n1,x,NaN\n",
            "t.csv:2: column \"y\": \"NaN\" is not a number; list \"NaN\" in data.na_values to read it as a missing cell",
        );
        bad(
            b"a,c,y\ninf,x,1\n",
            "t.csv:2: column \"a\": \"inf\" is not a finite number; remove or fix the row",
        );
        bad(
            b"a,c,y\n1,x\n",
            "t.csv:2: expected 3 fields as in the header, found 2; fix the row",
        );
        bad(
            b"a,c,a,y\n1,x,1,2\n",
            "t.csv:1: column \"a\" appears twice (fields 1 and 3); rename one",
        );
        bad(
            b"a,c,z\n1,x,2\n",
            "t.csv:1: target column \"y\" not in the header; its columns are: a, c, z",
        );
        bad(
            b"",
            "t.csv is empty; it needs a header row and at least one data row",
        );
        bad(
            b"a,c,y\n",
            "t.csv has a header row but no data rows; add data",
        );
        bad(
            b"a,c,y\n1,\xff,2\n",
            "t.csv:2: column \"c\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
        );
        bad(
            b"a,c,y\n\xff,x,2\n",
            "t.csv:2: column \"a\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
        );
        bad(
            b"a,c,y\n,x,2\n",
            "t.csv:2: column \"a\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\"",
        );
    }

    /// The same rows through the three parsers: the plain fast path (no
    /// quotes), the csv-crate path (quotes present), and the streaming path.
    #[test]
    fn all_parsers_agree_on_values_and_lines() {
        let s = sel();
        let plain = b"a,c,y\r\n1.5,x,2\r\n\r\n-3e2,z,4\r\n7,x,8".to_vec();
        let quoted = b"a,c,y\r\n1.5,\"x\",2\r\n\r\n-3e2,z,4\r\n7,x,8".to_vec();
        let plan_header: Vec<String> = vec!["a".into(), "c".into(), "y".into()];
        let feats = resolve_features(&plan_header, &s, "t.csv").unwrap();
        let plan = plan(&plan_header, &feats, &s, "t.csv").unwrap();
        let noop = |_: u64, _: u64| {};
        let body = |b: &[u8]| b[7..].to_vec();
        let a = parse_chunk(&plan, &body(&plain), 2, &noop)
            .unwrap()
            .into_table();
        let b = parse_chunk(&plan, &body(&quoted), 2, &noop)
            .unwrap()
            .into_table();
        assert_eq!(a.lines, [2, 4, 5]);
        assert_eq!(b.lines, [2, 4, 5]);
        assert_eq!(a.target, b.target);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, &quoted).unwrap();
        let c = load_streaming(std::slice::from_ref(&p), &s, &NoProgress, STREAM_BLOCK).unwrap();
        assert_eq!(c.table.lines, [2, 4, 5]);
        assert_eq!(c.table.target, a.target);
        assert_eq!(c.sha256, sha256_file(&p).unwrap());
        // Errors carry the file line in every path.
        let bad = b"5,x,1\r\n12a,x,3\r\n";
        let e = parse_chunk(&plan, bad, 2, &noop).map(|_| ()).unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: column \"a\""), "{e}");
        let bad_quoted = b"5,\"x\",1\r\n12a,x,3\r\n";
        let e = parse_chunk(&plan, bad_quoted, 2, &noop)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().starts_with("t.csv:3: column \"a\""), "{e}");
    }

    #[test]
    fn streaming_blocks_cut_at_record_boundaries() {
        let mut text = String::from("a,c,y\r\n");
        for i in 0..200 {
            text.push_str(&format!("{i},\"l,{}\n2\",{}\r\n", i % 3, i % 5));
            if i % 50 == 0 {
                text.push_str("\r\n");
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, &text).unwrap();
        let whole = load(&p, &sel(), &NoProgress).unwrap();
        for block in [7, 64, 1000] {
            let s = load_streaming(std::slice::from_ref(&p), &sel(), &NoProgress, block).unwrap();
            assert_eq!(s.table.lines, whole.table.lines, "block {block}");
            assert_eq!(s.table.target, whole.table.target);
            assert_eq!(s.sha256, whole.sha256);
        }
        assert_eq!(whole.table.rows(), 200);
        assert_eq!(whole.table.lines[1], 5);
    }

    #[test]
    fn two_halves_merge_levels_and_lines() {
        let mut text = String::from("a,c,y\n");
        for i in 0..300_000 {
            let level = if i < 150_000 { "p" } else { "q" };
            text.push_str(&format!("{i},{level},{}\n", i % 7));
        }
        let t = load_str(text.as_bytes(), &sel()).unwrap();
        assert_eq!(t.rows(), 300_000);
        assert_eq!(t.lines[0], 2);
        assert_eq!(t.lines[299_999], 300_001);
        match &t.features[1] {
            Column::Categorical { codes, levels } => {
                assert_eq!(levels, &["p", "q"]);
                assert_eq!(codes[0], 0);
                assert_eq!(codes[299_999], 1);
            }
            Column::Numeric(_) => panic!(),
        }
        let mut bad = text.clone();
        bad.push_str("1,p,zz\n");
        let e = load_str(bad.as_bytes(), &sel()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:300002: column \"y\": \"zz\" is not a number; the target must be numeric, fix the cell"
        );
    }

    #[test]
    fn whitespace_only_lines_are_blank_lines_in_every_path() {
        for text in [
            &b"a,c,y\n1,x,2\n   \n3,z,4\n"[..],
            b"a,c,y\n1,\"x\",2\n   \n3,z,4\n",
        ] {
            let t = load_str(text, &sel()).unwrap();
            assert_eq!(t.lines, [2, 4]);
        }
    }

    #[test]
    fn missing_cells_are_kept_as_markers_when_allowed() {
        let mut s = sel();
        s.missing = MissingPolicy::DropRow;
        let t = load_str(b"a,c,y\n,x,1\n2,,3\n", &s).unwrap();
        assert!(t.features[0].is_missing(0));
        assert!(t.features[1].is_missing(1));
    }
}
