//! Parsing on several threads: a file read whole is parsed in two halves
//! cut at a record boundary; a streamed input is read on one thread and its
//! chunks parsed on a few others, the tables handed on in file order.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use super::blocks::BlockReader;
use super::builder::Builder;
use super::chunk::parse_chunk;
use super::plan::Plan;
use super::records::count_newlines;
use super::table::Table;
use crate::error::{Error, Result};
use crate::report::Progress;

/// Below this size one thread parses.
const PARALLEL_MIN: usize = 4 << 20;

/// Where to cut `data` in two at a record boundary: the first record end
/// (with the `csv` crate's grammar, see [`super::cut`]) past the middle.
/// `None` when there is none within 1 MiB of the middle.
fn split_point(data: &[u8]) -> Option<usize> {
    super::cut::record_end_after(data, data.len() / 2, 1 << 20)
}

/// Parse the records after the header, in two halves on two threads when
/// the body is large (cut at a newline outside quotes).
pub(super) fn parse_body<'p>(
    plan: &'p Plan<'p>,
    data: &[u8],
    first_line: u64,
    progress: &dyn Progress,
) -> Result<Builder<'p>> {
    let cut = if data.len() >= PARALLEL_MIN {
        split_point(data)
    } else {
        None
    };
    let Some(cut) = cut else {
        return parse_chunk(plan, data, first_line, &|b, rows| {
            progress.set_position(b);
            progress.set_rows(rows);
        });
    };
    let (a, b) = data.split_at(cut);
    let second_line = first_line + count_newlines(a);
    std::thread::scope(|s| {
        let h2 = s.spawn(move || parse_chunk(plan, b, second_line, &|_, _| {}));
        // The halves are about equal: twice the first's progress is the whole's.
        let first = parse_chunk(plan, a, first_line, &|b, rows| {
            progress.set_position(b.saturating_mul(2));
            progress.set_rows(rows.saturating_mul(2));
        });
        let second = h2.join();
        match (first, second) {
            (Err(e), _) | (Ok(_), Ok(Err(e))) => Err(e),
            (Ok(mut f), Ok(Ok(sb))) => {
                f.append(sb);
                Ok(f)
            }
            (Ok(_), Err(_)) => Err(Error::data(format!(
                "{}: the parser thread failed; please report this",
                plan.origin
            ))),
        }
    })
}

/// Parse workers of [`parse_in_parallel`].
pub(super) fn parse_workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4))
}

/// A chunk handed to the parse workers: (sequence number, chunk, its first
/// line).
type Job = (u64, Vec<u8>, u64);

/// A parsed chunk: (sequence number, its table or its first error).
type Parsed = (u64, Result<Table>);

/// Read `reader`'s chunks on one thread (which also hashes the raw bytes),
/// parse them on [`parse_workers`] threads, and hand the tables to `f` on
/// this thread in file order. At most `2 × workers` chunks are in flight, so
/// memory stays bounded by the block size. Errors come out in file order
/// too: the first bad record of the file is the one reported, as in a
/// sequential read.
pub(super) fn parse_in_parallel<R: Read + Send>(
    mut reader: BlockReader<R>,
    plan: &Plan<'_>,
    f: &mut dyn FnMut(Table) -> Result<()>,
    position: &(dyn Fn(u64) + Sync),
) -> Result<BlockReader<R>> {
    let workers = parse_workers();
    let in_flight = 2 * workers;
    // A token per chunk in flight: the reader takes one before it hands out
    // a chunk, this thread gives it back once the chunk's table is consumed.
    let (token_tx, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = token_tx.send(());
    }
    let (work_tx, work_rx) = sync_channel::<Job>(in_flight);
    let work_rx: Arc<Mutex<Receiver<Job>>> = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = sync_channel::<Parsed>(in_flight);
    // Parsed chunks' buffers go back to the reader for reuse.
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(in_flight);
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> Result<BlockReader<R>> {
            hand_out_chunks(&mut reader, &token_rx, &work_tx, &spare_rx, position)?;
            Ok(reader)
        });
        for _ in 0..workers {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            let spare_tx = spare_tx.clone();
            s.spawn(move || parse_jobs(plan, &work_rx, &done_tx, &spare_tx));
        }
        drop(spare_tx);
        drop((done_tx, work_rx));
        let consumed = consume_in_order(&done_rx, &token_tx, f);
        // Stop the reader and the workers (their channels close), then wait.
        drop((done_rx, token_tx));
        let produced = producer.join();
        // Chunks arrive in order: an error met here comes from an earlier
        // chunk than any error the reader met after it.
        consumed?;
        produced.map_err(|_| {
            Error::data(format!(
                "{}: the reader thread failed; please report this",
                plan.origin
            ))
        })?
    })
}

/// The reader thread: take a token, then hand the next chunk to the
/// workers with its sequence number, reusing the buffers they give back;
/// fails with "stopped" once this thread has stopped consuming.
fn hand_out_chunks<R: Read>(
    reader: &mut BlockReader<R>,
    tokens: &Receiver<()>,
    work: &SyncSender<Job>,
    spare: &Receiver<Vec<u8>>,
    position: &dyn Fn(u64),
) -> Result<()> {
    let stopped = || Error::data("stopped");
    let mut seq = 0u64;
    reader.for_each_owned_chunk(
        &mut |chunk, line| {
            tokens.recv().map_err(|_| stopped())?;
            work.send((seq, chunk, line)).map_err(|_| stopped())?;
            seq += 1;
            Ok(())
        },
        &|| spare.try_recv().ok(),
        position,
    )
}

/// A parse worker: parse jobs until their channel closes or the consumer
/// is gone, giving each chunk's buffer back for reuse.
fn parse_jobs(
    plan: &Plan<'_>,
    jobs: &Mutex<Receiver<Job>>,
    done: &SyncSender<Parsed>,
    spare: &SyncSender<Vec<u8>>,
) {
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, bytes, line)) = job else { return };
        let t = parse_chunk(plan, &bytes, line, &|_, _| {}).map(Builder::into_table);
        let _ = spare.try_send(bytes);
        if done.send((seq, t)).is_err() {
            return;
        }
    }
}

/// The consuming thread: hand the parsed tables to `f` in file order,
/// giving a token back for each; stops at the first error, a chunk's or
/// `f`'s, and returns it.
fn consume_in_order(
    done: &Receiver<Parsed>,
    tokens: &SyncSender<()>,
    f: &mut dyn FnMut(Table) -> Result<()>,
) -> Result<()> {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Result<Table>> = BTreeMap::new();
    while let Ok((seq, t)) = done.recv() {
        waiting.insert(seq, t);
        while let Some(t) = waiting.remove(&next) {
            next += 1;
            t.and_then(&mut *f)?;
            let _ = tokens.send(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_avoids_quoted_newlines() {
        let mut data = Vec::new();
        for i in 0..100 {
            data.extend_from_slice(format!("{i},\"a\nb\",1\n").as_bytes());
        }
        let cut = split_point(&data).unwrap();
        assert_eq!(data[cut - 1], b'\n');
        let quotes = data[..cut].iter().filter(|&&b| b == b'"').count();
        assert_eq!(quotes % 2, 0);
        // Both halves parse to whole rows.
        let first = String::from_utf8_lossy(&data[..cut]);
        assert!(first.ends_with(",1\n"), "{first}");
    }

    #[test]
    fn split_point_takes_a_stray_quote_for_data() {
        // A quote inside an unquoted field (inches) is data for the csv
        // crate: the cut is still the first record end past the middle.
        let mut data = b"a,b\n1,12\"\n".to_vec();
        for i in 0..100 {
            data.extend_from_slice(format!("{i},x\n").as_bytes());
        }
        let cut = split_point(&data).unwrap();
        let mid = data.len() / 2;
        assert!(cut > mid && cut < mid + 8, "cut {cut}, middle {mid}");
        assert_eq!(data[cut - 1], b'\n');
    }
}
