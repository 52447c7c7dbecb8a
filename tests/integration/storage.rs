//! Object storage: training, predicting and validating from `s3://` URLs
//! against a real S3 API on loopback, the `moto` server that `.ci/run`
//! starts (`MLOPS_S3_ENDPOINT=http://127.0.0.1:PORT`). Without that
//! variable these tests say so and pass without running.

use std::path::PathBuf;

use crate::common::{GIT_TIME, Test, example_csv, example_toml, repo, sha256_hex, toml_str};

/// The moto endpoint, or `None` (with a note) when it is not running.
fn endpoint() -> Option<String> {
    let e = std::env::var("MLOPS_S3_ENDPOINT").ok();
    if e.is_none() {
        eprintln!("skipped: MLOPS_S3_ENDPOINT is not set (.ci/run starts moto_server and sets it)");
    }
    e
}

/// A new bucket named after the test, with `objects` (key, local file).
fn bucket(ep: &str, name: &str, objects: &[(&str, PathBuf)]) -> String {
    let client = reqwest::blocking::Client::new();
    let bucket = format!("{name}-{}", std::process::id());
    let r = client.put(format!("{ep}/{bucket}")).send().unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    for (key, path) in objects {
        let r = client
            .put(format!("{ep}/{bucket}/{key}"))
            .body(std::fs::read(path).unwrap())
            .send()
            .unwrap();
        assert!(r.status().is_success(), "put {key}: {}", r.status());
    }
    bucket
}

/// An S3 client of moto's, signing as the tests do.
fn s3(ep: &str, bucket: &str) -> (tokio::runtime::Runtime, object_store::aws::AmazonS3) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(ep)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing-secret")
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    (rt, store)
}

fn s3_get(ep: &str, bucket: &str, key: &str) -> Vec<u8> {
    use object_store::ObjectStoreExt;
    let (rt, store) = s3(ep, bucket);
    rt.block_on(async {
        let path = object_store::path::Path::from(key);
        store
            .get(&path)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    })
}

fn s3_put(ep: &str, bucket: &str, key: &str, bytes: Vec<u8>) {
    use object_store::ObjectStoreExt;
    let (rt, store) = s3(ep, bucket);
    rt.block_on(async {
        let path = object_store::path::Path::from(key);
        store.put(&path, bytes.into()).await.unwrap();
    });
}

/// A test whose environment points the AWS client at moto.
fn s3_test(ep: &str) -> Test {
    Test::new()
        .env("AWS_ENDPOINT_URL", ep)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
        .env("AWS_REGION", "us-east-1")
}

fn pq(name: &str) -> PathBuf {
    repo().join("tests/data/parquet").join(name)
}

fn with_path(path: &str) -> String {
    example_toml().replace(
        &toml_str(&example_csv().display().to_string()),
        &toml_str(path),
    )
}

fn model(t: &Test) -> serde_json::Value {
    let mut d = t.read_json("models/house-price.json");
    let o = d.as_object_mut().unwrap();
    o.remove("created_at");
    o.remove("data_objects");
    d
}

#[test]
fn train_reads_csv_and_parquet_objects_and_globs_like_local_files() {
    let Some(ep) = endpoint() else { return };
    let b = bucket(
        &ep,
        "train",
        &[
            ("data/train.csv", example_csv()),
            ("data/train.snappy.parquet", pq("train.snappy.parquet")),
            ("other/x.csv", example_csv()),
        ],
    );
    for (url, file) in [
        (format!("s3://{b}/data/train.csv"), example_csv()),
        (
            format!("s3://{b}/data/*.parquet"),
            pq("train.snappy.parquet"),
        ),
    ] {
        fits_like_local(&|| s3_test(&ep), &format!("s3://{b}/data/"), &url, &file);
    }
}

/// `train` on `url` (a `remote()` test), in memory and streaming, fits the
/// model the same `file` gives locally, and records the object's URL
/// (under `prefix`) and ETag.
fn fits_like_local(remote: &dyn Fn() -> Test, prefix: &str, url: &str, file: &std::path::Path) {
    for streaming in [false, true] {
        let mut args = vec!["train"];
        if streaming {
            args.push("--streaming");
        }
        // The same file read locally, by the same path.
        let local = Test::new()
            .toml(&with_path(&file.display().to_string()))
            .args(args.clone());
        local.run().success();
        let want = model(&local);
        let t = remote().toml(&with_path(url)).args(args);
        t.run().success();
        let objects = &t.read_json("models/house-price.json")["data_objects"];
        assert_eq!(objects.as_array().unwrap().len(), 1, "{objects}");
        assert!(objects[0]["url"].as_str().unwrap().starts_with(prefix));
        assert!(
            objects[0]["etag"].as_str().is_some_and(|e| !e.is_empty()),
            "{objects}"
        );
        let got = model(&t);
        assert_eq!(got["coefficients"], want["coefficients"], "{url}");
        assert_eq!(got["metrics"], want["metrics"], "{url}");
        assert_eq!(
            got["data_sha256"],
            sha256_hex(&std::fs::read(file).unwrap()),
            "{url}"
        );
    }
}

#[test]
fn predict_and_drift_read_objects() {
    let Some(ep) = endpoint() else { return };
    let b = bucket(&ep, "predict", &[("recent.parquet", pq("recent.parquet"))]);
    let t = s3_test(&ep).toml(&example_toml()).args(["train"]);
    t.run().success();
    t.run_args([
        "validate",
        "--drift-data",
        &format!("s3://{b}/recent.parquet"),
    ])
    .success();
    let local = t.run_args([
        "predict",
        "--input",
        &pq("recent.parquet").display().to_string(),
    ]);
    let remote = t.run_args(["predict", "--input", &format!("s3://{b}/recent.parquet")]);
    assert_eq!(remote.success().stdout, local.success().stdout);
}

#[test]
fn a_missing_bucket_or_key_is_a_remote_error_naming_the_url() {
    let Some(ep) = endpoint() else { return };
    let b = bucket(&ep, "missing", &[]);
    for url in [
        format!("s3://{b}/nope.parquet"),
        format!("s3://no-such-bucket-{b}/train.csv"),
    ] {
        s3_test(&ep)
            .toml(&with_path(&url))
            .args(["train"])
            .run()
            .code(5)
            .stderr_contains(&url)
            .stderr_contains("no such object (or bucket); check the URL");
    }
    s3_test(&ep)
        .toml(&with_path(&format!("s3://{b}/data/*.csv")))
        .args(["train"])
        .run()
        .code(2)
        .stderr_contains("matches no object");
}

/// Wrong credentials, against a moto that checks them (`.ci/run` starts it
/// with `INITIAL_NO_AUTH_ACTION_COUNT=0` and sets `MLOPS_S3_AUTH_ENDPOINT`):
/// exit 5, one sentence naming the URL and the variables to check, and
/// never the secret.
#[test]
fn wrong_credentials_are_a_remote_error_naming_the_url_and_the_variables() {
    let Ok(ep) = std::env::var("MLOPS_S3_AUTH_ENDPOINT") else {
        eprintln!(
            "skipped: MLOPS_S3_AUTH_ENDPOINT is not set (.ci/run starts moto_server with INITIAL_NO_AUTH_ACTION_COUNT=0 and sets it)"
        );
        return;
    };
    let url = "s3://secured/data/train.csv";
    let out = s3_test(&ep)
        .env("AWS_SECRET_ACCESS_KEY", "n0t-the-s3cret")
        .toml(&with_path(url))
        .args(["train"])
        .run();
    out.code(5)
        .stderr_contains(url)
        .stderr_contains("check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("n0t-the-s3cret"), "{}", out.stderr);
}

#[test]
fn a_large_object_is_read_in_ranges() {
    let Some(ep) = endpoint() else { return };
    // About 20 MB of CSV, streamed in one GET (tests/integration/s3_count.rs
    // counts the requests).
    let mut csv = String::from("a,b,y\n");
    for i in 0..1_000_000u64 {
        csv.push_str(&format!(
            "{},{},{}\n",
            i % 97,
            i % 13,
            (i % 97) * 2 + (i % 13)
        ));
    }
    let t = s3_test(&ep);
    t.write("big.csv", &csv);
    let b = bucket(&ep, "large", &[("big.csv", t.path("big.csv"))]);
    let toml = format!(
        "[data]\npath = \"s3://{b}/big.csv\"\ntarget = \"y\"\n[split]\nvalidation_fraction = 0.0\n[model]\nname = \"m\"\nartifact = \"m.json\"\n"
    );
    let t = t.toml(&toml).args(["--json", "train"]);
    let doc = t.run().success().json();
    assert_eq!(doc["data_sha256"], sha256_hex(csv.as_bytes()));
}

/// The example project with a bundle store and a local environment,
/// trained and committed.
fn store_project(ep: &str, store: &str) -> Test {
    let toml = format!(
        "{}\n[registry]\nbundle_store = \"{store}\"\n\n[environments.staging]\ntarget = \"local\"\npath = \"env/staging\"\nkeep = 1\n",
        example_toml()
    );
    let t = s3_test(ep)
        .toml(&toml)
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string())
        .args(["-q", "train"]);
    t.run().success();
    t.commit_all("model", GIT_TIME);
    t
}

fn tags(t: &Test) -> Vec<String> {
    let repo = git2::Repository::open(t.root()).unwrap();
    let names = repo.tag_names(None).unwrap();
    names
        .iter()
        .flatten()
        .flatten()
        .map(str::to_string)
        .collect()
}

#[test]
fn package_uploads_before_tagging_and_deploy_fetches_and_verifies() {
    let Some(ep) = endpoint() else { return };
    let b = bucket(&ep, "bundles", &[]);
    let t = store_project(&ep, &format!("s3://{b}/bundles/"));
    t.run_args(["-q", "package", "--version", "v1.0.0", "--upload"])
        .success();
    let key = "bundles/house-price-v1.0.0.tar.gz";
    let stored = s3_get(&ep, &b, key);
    let local = t.read_bytes("dist/house-price-v1.0.0.tar.gz");
    assert_eq!(stored, local);

    // Another machine: no dist/. A bundle altered in the store is refused.
    std::fs::remove_dir_all(t.path("dist")).unwrap();
    s3_put(&ep, &b, key, b"not the bundle".to_vec());
    t.run_args(["deploy", "staging", "--version", "v1.0.0"])
        .code(4)
        .stderr_contains(&format!(
            "s3://{b}/bundles/house-price-v1.0.0.tar.gz has sha256"
        ))
        .stderr_contains("the bundle was altered; nothing was deployed");
    assert!(!t.exists("env/staging/current"));
    s3_put(&ep, &b, key, stored);
    let doc = t
        .run_args(["--json", "deploy", "staging", "--version", "v1.0.0"])
        .success()
        .json();
    assert_eq!(doc["bundle"]["source"], "store");
}

#[test]
fn a_failed_upload_leaves_no_tag_and_no_bundle() {
    let Some(ep) = endpoint() else { return };
    let t = store_project(&ep, "s3://no-such-bucket-for-bundles/b");
    t.run_args(["package", "--version", "v1.0.0", "--upload"])
        .code(5)
        .stderr_contains("s3://no-such-bucket-for-bundles/b/house-price-v1.0.0.tar.gz");
    assert!(tags(&t).is_empty());
    assert!(!t.exists("dist/house-price-v1.0.0.tar.gz"));
    // --upload without a store is a usage error.
    let plain = Test::new()
        .toml(&example_toml())
        .git_init()
        .args(["-q", "train"]);
    plain.run().success();
    plain.commit_all("model", GIT_TIME);
    plain
        .run_args(["package", "--upload"])
        .code(2)
        .stderr_contains("--upload needs [registry].bundle_store");
}

/// The Azurite endpoint (`http://127.0.0.1:PORT`, which `.ci/run` starts
/// and sets `MLOPS_AZURITE_ENDPOINT` to), or `None` with a note.
fn azurite() -> Option<String> {
    let e = std::env::var("MLOPS_AZURITE_ENDPOINT").ok();
    if e.is_none() {
        eprintln!(
            "skipped: MLOPS_AZURITE_ENDPOINT is not set (.ci/run starts Azurite, from npm, and sets it)"
        );
    }
    e
}

/// A new container named after the test, with `objects` (key, local file),
/// made by `.ci/azurite-put.js` (Azurite has no anonymous writes).
fn container(ep: &str, name: &str, objects: &[(&str, PathBuf)]) -> String {
    let c = format!("{name}-{}", std::process::id());
    let mut cmd = std::process::Command::new("node");
    cmd.arg(repo().join(".ci/azurite-put.js")).args([ep, &c]);
    for (key, path) in objects {
        cmd.arg(format!("{key}={}", path.display()));
    }
    let out = cmd.output().expect("node (Azurite runs on it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    c
}

/// A test whose environment points the Azure client at Azurite (the
/// emulator's account and key unless a test sets another key).
fn az_test(ep: &str) -> Test {
    Test::new()
        .env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", ep)
        .env_remove("AZURE_STORAGE_ACCOUNT_KEY")
        .env_remove("AZURE_STORAGE_ACCOUNT_NAME")
}

/// `az://` reads through Azurite: CSV and Parquet (a glob), in memory and
/// streaming, give the model the same file gives locally, and record the
/// ETag; a missing key, or a key the store refuses, is exit 5 naming the
/// URL (and the variables to check), never the key.
#[test]
fn azure_reads_through_azurite_like_local_files() {
    let Some(ep) = azurite() else { return };
    let c = container(
        &ep,
        "train",
        &[
            ("data/train.csv", example_csv()),
            ("data/train.snappy.parquet", pq("train.snappy.parquet")),
        ],
    );
    reads_like_local(&|| az_test(&ep), &format!("az://{c}"));
    let url = format!("az://{c}/data/train.csv");
    let out = az_test(&ep)
        .env("AZURE_STORAGE_ACCOUNT_KEY", "d3Jvbmcta2V5")
        .toml(&with_path(&url))
        .args(["train"])
        .run();
    out.code(5)
        .stderr_contains(&url)
        .stderr_contains("check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("d3Jvbmcta2V5"), "{}", out.stderr);
}

/// The fake-gcs-server endpoint (`.ci/run` starts it and sets
/// `MLOPS_GCS_ENDPOINT`), or `None` with a note.
fn fake_gcs() -> Option<String> {
    let e = std::env::var("MLOPS_GCS_ENDPOINT").ok();
    if e.is_none() {
        eprintln!(
            "skipped: MLOPS_GCS_ENDPOINT is not set (.ci/run starts fake-gcs-server, from PyPI, and sets it)"
        );
    }
    e
}

/// A new GCS bucket named after the test, with `objects` (key, local file),
/// through the JSON API (the fake server takes no credentials).
fn gcs_bucket(ep: &str, name: &str, objects: &[(&str, PathBuf)]) -> String {
    let client = reqwest::blocking::Client::new();
    let bucket = format!("{name}-{}", std::process::id());
    let r = client
        .post(format!("{ep}/storage/v1/b"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "name": bucket }).to_string())
        .send()
        .unwrap();
    assert!(r.status().is_success(), "create bucket: {}", r.status());
    for (key, path) in objects {
        let r = client
            .post(format!(
                "{ep}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={key}"
            ))
            .body(std::fs::read(path).unwrap())
            .send()
            .unwrap();
        assert!(r.status().is_success(), "put {key}: {}", r.status());
    }
    bucket
}

/// A test whose GCS client talks to the fake server without OAuth (a
/// service-account key with `disable_oauth` and `gcs_base_url`, as
/// object_store documents for fake-gcs-server).
fn gcs_test(ep: &str) -> Test {
    let key = serde_json::json!({
        "private_key": "unused", "private_key_id": "unused", "client_email": "unused",
        "disable_oauth": true, "gcs_base_url": ep,
    });
    Test::new()
        .env("GOOGLE_SERVICE_ACCOUNT_KEY", key.to_string())
        .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
}

/// `gs://` reads through fake-gcs-server: CSV and Parquet (a glob), in
/// memory and streaming, give the local fit and record the ETag; a missing
/// object is exit 5 naming the URL.
#[test]
fn gcs_reads_through_fake_gcs_server_like_local_files() {
    let Some(ep) = fake_gcs() else { return };
    let b = gcs_bucket(
        &ep,
        "train",
        &[
            ("data/train.csv", example_csv()),
            ("data/train.snappy.parquet", pq("train.snappy.parquet")),
        ],
    );
    reads_like_local(&|| gcs_test(&ep), &format!("gs://{b}"));
}

/// Under `base` (`SCHEME://BUCKET`), which holds `data/train.csv` and
/// `data/train.snappy.parquet`: both fit as locally (the Parquet by a
/// glob), and a missing object is exit 5 naming its URL.
fn reads_like_local(remote: &dyn Fn() -> Test, base: &str) {
    for (url, file) in [
        (format!("{base}/data/train.csv"), example_csv()),
        (format!("{base}/data/*.parquet"), pq("train.snappy.parquet")),
    ] {
        fits_like_local(remote, &format!("{base}/data/"), &url, &file);
    }
    let missing = format!("{base}/nope.csv");
    remote()
        .toml(&with_path(&missing))
        .args(["train"])
        .run()
        .code(5)
        .stderr_contains(&missing)
        .stderr_contains("no such object (or bucket); check the URL");
}
