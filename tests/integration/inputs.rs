//! Training inputs beyond one plain CSV: gzip files, lists of files and
//! globs, on both fitting paths.

use std::io::Write;

use crate::common::{Test, noisy_csv, sha256_hex};

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn toml(path: &str) -> String {
    format!(
        "[data]\npath = {path}\ntarget = \"y\"\nexclude = [\"id\"]\ncategorical = [\"c\"]\n[split]\nvalidation_fraction = 0.2\n[model]\nname = \"m\"\nartifact = \"m.json\"\n"
    )
}

/// The rows of `noisy_csv(n)` cut into files of `parts` rows (each with the header).
fn split_csv(n: u64, parts: usize) -> Vec<String> {
    let text = noisy_csv(n);
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    rows.chunks(parts)
        .map(|c| format!("{header}\n{}\n", c.join("\n")))
        .collect()
}

#[track_caller]
fn close_coefficients(doc: &serde_json::Value, reference: &serde_json::Value, what: &str) {
    for (k, v) in reference["coefficients"].as_object().unwrap() {
        let (a, b) = (
            doc["coefficients"][k].as_f64().unwrap(),
            v.as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{what}: {k}: {a} vs {b}");
    }
}

#[test]
fn gzip_list_and_glob_give_the_model_of_the_single_file() {
    let whole = noisy_csv(300);
    let one = Test::new()
        .toml(&toml("\"d.csv\""))
        .file("d.csv", &whole)
        .args(["--json", "train"]);
    let reference = one.run().success().json();
    assert_eq!(reference["data_sha256"], sha256_hex(whole.as_bytes()));

    let gz = gzip(whole.as_bytes());
    for streaming in [false, true] {
        let mut args = vec!["--json", "train"];
        if streaming {
            args.push("--streaming");
        }
        let t = Test::new()
            .toml(&toml("\"d.csv.gz\""))
            .file("d.csv.gz", &gz)
            .args(args.clone());
        let doc = t.run().success().json();
        close_coefficients(&doc, &reference, &format!("gzip, streaming {streaming}"));
        assert_eq!(
            doc["data_sha256"],
            sha256_hex(&gz),
            "the hash is of the file as stored"
        );

        let parts = split_csv(300, 110);
        let t = Test::new()
            .toml(&toml("[\"parts/a.csv\", \"parts/b.csv\", \"parts/c.csv\"]"))
            .file("parts/a.csv", &parts[0])
            .file("parts/b.csv", &parts[1])
            .file("parts/c.csv", &parts[2])
            .args(args.clone());
        let doc = t.run().success().json();
        assert_eq!(doc["rows"]["total"], 300);
        let sha = sha256_hex(format!("{}{}{}", parts[0], parts[1], parts[2]).as_bytes());
        assert_eq!(doc["data_sha256"], sha);
        close_coefficients(&doc, &reference, &format!("list, streaming {streaming}"));

        let t = Test::new()
            .toml(&toml("\"parts/*.csv\""))
            .file("parts/a.csv", &parts[0])
            .file("parts/b.csv", &parts[1])
            .file("parts/c.csv", &parts[2])
            .args(args);
        let doc = t.run().success().json();
        assert_eq!(doc["data_sha256"], sha, "a glob expands in sorted order");
    }
}

#[test]
fn input_errors_name_the_file() {
    let parts = split_csv(60, 30);
    let bad_second = format!("{}999,zz,1,north,2\n", parts[1]);
    for streaming in [false, true] {
        let mut args = vec!["train"];
        if streaming {
            args.push("--streaming");
        }
        let t = Test::new()
            .toml(&toml("[\"a.csv\", \"b.csv\"]"))
            .file("a.csv", &parts[0])
            .file("b.csv", "id,a,c,b,y\n1,2,north,3,4\n")
            .args(args.clone());
        t.run().error(
            3,
            "b.csv:1: the header differs from that of a.csv; every file of data.path needs the same columns in the same order",
        );
        let t = Test::new()
            .toml(&toml("[\"a.csv\", \"b.csv\"]"))
            .file("a.csv", &parts[0])
            .file("b.csv", &bad_second)
            .args(args.clone());
        t.run().error(
            3,
            "b.csv:32: column \"a\": \"zz\" is not a number; fix the cell, or list the column in data.categorical",
        );
        let t = Test::new()
            .toml(&toml("\"nothing/*.csv\""))
            .args(args.clone());
        t.run().error(
            2,
            "mlops.toml:2: data.path pattern \"nothing/*.csv\" matches no file; check the pattern (it is relative to the project file)",
        );
        let t = Test::new()
            .toml(&toml("\"d.csv.gz\""))
            .file("d.csv.gz", "not gzip at all")
            .args(args);
        let out = t.run();
        out.code(3);
        assert!(out.stderr.contains("d.csv.gz"), "{}", out.stderr);
    }
}

/// A one-thread HTTP/1.1 server on loopback that answers `requests`
/// requests (path → body, else 404) and then stops.
fn serve(
    files: Vec<(&'static str, Vec<u8>)>,
    requests: usize,
) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        for _ in 0..requests {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            match files.iter().find(|(p, _)| *p == path) {
                Some((_, body)) => {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(body);
                }
                None => {
                    let _ = stream.write_all(
                        b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    (base, handle)
}

#[test]
fn data_path_can_be_a_url() {
    let whole = noisy_csv(200);
    let local = Test::new()
        .toml(&toml("\"d.csv\""))
        .file("d.csv", &whole)
        .args(["--json", "train"]);
    let reference = local.run().success().json();
    let gz = gzip(whole.as_bytes());
    // URLs stream (pass 2 reads the spill file, not the URL): one request
    // each, as in memory.
    let (base, server) = serve(
        vec![
            ("/d.csv", whole.clone().into_bytes()),
            ("/d.csv.gz", gz.clone()),
        ],
        1 + 1 + 1 + 1,
    );
    for (path, sha, args) in [
        (
            "/d.csv",
            sha256_hex(whole.as_bytes()),
            vec!["--json", "train"],
        ),
        ("/d.csv.gz", sha256_hex(&gz), vec!["--json", "train"]),
    ] {
        let t = Test::new()
            .toml(&toml(&format!("\"{base}{path}\"")))
            .args(args);
        let doc = t.run().success().json();
        assert_eq!(doc["fit_path"], "streaming");
        assert_eq!(doc["data_sha256"], sha);
        close_coefficients(&doc, &reference, path);
    }
    let t = Test::new()
        .toml(
            &toml(&format!("\"{base}/d.csv\""))
                .replace("name = \"m\"", "name = \"m\"\nstreaming = false"),
        )
        .args(["--json", "train"]);
    let doc = t.run().success().json();
    assert_eq!(doc["fit_path"], "in-memory");
    assert_eq!(doc["coefficients"], reference["coefficients"]);
    let t = Test::new()
        .toml(&toml(&format!("\"{base}/missing.csv\"")))
        .args(["train"]);
    t.run().error(
        5,
        &format!("GET {base}/missing.csv answered 404 Not Found; check the URL"),
    );
    server.join().unwrap();
    // Nothing listens any more: a connection error, also exit 5.
    let t = Test::new()
        .toml(&toml(&format!("\"{base}/d.csv\"")))
        .args(["train"]);
    let out = t.run();
    out.code(5);
    assert!(
        out.stderr.contains(&format!("GET {base}/d.csv failed:")),
        "{}",
        out.stderr
    );
}

/// A loopback listener whose accept queue is full: a further connect sends
/// its SYN and never completes (Linux drops SYNs to a listener with a full
/// queue), with no non-routable address involved. Keep both values alive.
fn full_backlog() -> (socket2::Socket, Vec<std::net::TcpStream>) {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    s.listen(0).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let mut held = Vec::new();
    for _ in 0..16 {
        match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(300)) {
            Ok(c) => held.push(c),
            Err(_) => return (s, held),
        }
    }
    panic!("the accept queue of {addr} never filled up");
}

/// L15: a URL whose server accepts the connection but never answers, and
/// one whose connection never completes (a loopback listener with a full
/// accept queue), each fail once the timeout set by
/// `MLOPS_HTTP_IDLE_TIMEOUT_S` / `MLOPS_HTTP_CONNECT_TIMEOUT_S` has run
/// out: exit 5, one line naming the URL without its secrets and "timed
/// out", in a few seconds. A bad value of either variable is exit 2.
#[test]
fn a_url_that_never_answers_or_never_connects_times_out() {
    use std::time::{Duration, Instant};
    let quiet = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let quiet_addr = quiet.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in quiet.incoming().take(2) {
            held.push(c);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let (_listener, _held) = full_backlog();
    let full_addr = _listener.local_addr().unwrap().as_socket().unwrap();
    // The other timeout is longer, so that the one under test runs out
    // first (reqwest's read timeout also bounds the wait for a connection).
    for (addr, connect, idle, why) in [
        (
            quiet_addr,
            "3",
            "1",
            "failed: timed out: no answer within 1 s (the read timeout, MLOPS_HTTP_IDLE_TIMEOUT_S); check the URL and the network",
        ),
        (
            full_addr,
            "1",
            "3",
            "failed: timed out: no connection within 1 s (the connect timeout, MLOPS_HTTP_CONNECT_TIMEOUT_S); check the URL and the network",
        ),
    ] {
        let t = Test::new()
            .toml(&toml(&format!(
                "\"http://user:s3cret@{addr}/d.csv?sig=s3cret\""
            )))
            .env("MLOPS_HTTP_CONNECT_TIMEOUT_S", connect)
            .env("MLOPS_HTTP_IDLE_TIMEOUT_S", idle)
            .args(["train"]);
        let start = Instant::now();
        let out = t.run();
        let took = start.elapsed();
        out.error(5, &format!("GET http://{addr}/d.csv?… {why}"));
        assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
        assert!(took < Duration::from_secs(8), "{took:?}");
    }
    let t = Test::new()
        .toml(&toml(&format!("\"http://{quiet_addr}/d.csv\"")))
        .env("MLOPS_HTTP_CONNECT_TIMEOUT_S", "soon")
        .args(["train"]);
    t.run().error(
        2,
        "MLOPS_HTTP_CONNECT_TIMEOUT_S is \"soon\", not a number of seconds above 0 and at most 86400; set it to e.g. 10, or unset it",
    );
}
