//! `serve`: the model server. Simple REST, the Open Inference Protocol V2
//! (with Triton's binary tensors), the MLflow scoring protocol, an admin
//! API for deploys, Prometheus metrics and a prediction log.
//!
//! Each protocol is a plain function of (model, request) → response
//! ([`rest`], [`v2`], [`mlflow`]) tested without sockets; [`http`] wires
//! them to axum, next to the [`admin`] API, both on the shared [`app`]
//! state; [`state`] holds the models and swaps them atomically; [`persist`]
//! keeps what the server is given (bundles, slots, A/B observations) in a
//! state folder and restores it before the server listens.

pub mod access;
pub mod admin;
pub mod app;
pub mod auth;
pub mod conn;
pub mod feedback;
pub mod grpc;
pub mod http;
pub mod log;
pub mod metrics;
pub mod mlflow;
pub mod model;
pub mod monitor;
pub mod persist;
pub mod ratelimit;
pub mod rest;
pub mod state;
pub mod tls;
pub mod v2;
pub mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, Result, display_path};
use crate::project::ServeSection;

pub use model::Model;
pub use state::{Models, Variant};

/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Default body limit (1 MiB).
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
/// Default row limit per request.
pub const DEFAULT_MAX_ROWS: usize = 10_000;
/// Default per-request timeout, seconds.
pub const DEFAULT_TIMEOUT_S: f64 = 10.0;
/// Default prediction log rotation size (100 MiB).
pub const DEFAULT_LOG_MAX_BYTES: u64 = log::DEFAULT_MAX_BYTES;
/// Default rotated logs kept.
pub const DEFAULT_LOG_KEEP: u32 = log::DEFAULT_KEEP;

/// Everything the server needs, settled before it starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub bind: SocketAddr,
    /// The admin token; `None`: no admin API.
    pub admin_token: Option<String>,
    /// The prediction log: sink, features, rotation.
    pub prediction_log: Option<log::Settings>,
    /// Where uploaded bundles, slots, split and A/B observations are kept
    /// across restarts ([`persist`]).
    pub state_dir: Option<PathBuf>,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Most rows per request.
    pub max_batch_rows: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// TLS certificate chain and key (PEM).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// A local environment folder to serve and follow.
    pub env_dir: Option<PathBuf>,
    /// How often the folder is looked at.
    pub watch_every: Duration,
    /// `[serve.tls].client_ca`: require client certificates signed by it.
    pub client_ca: Option<PathBuf>,
    /// Who may call what.
    pub auth: access::AuthSettings,
    /// How often callers may call.
    pub rate_limit: Option<access::RateSettings>,
    /// Timeouts and the connection cap.
    pub limits: conn::Limits,
    /// Requests handled at once.
    pub max_in_flight: usize,
    /// `[serve].admin_bind`: the admin API listens there only.
    pub admin_bind: Option<SocketAddr>,
    /// `[serve].allow_insecure_admin`.
    pub allow_insecure_admin: bool,
    /// `[serve.monitor]`: the live drift window.
    pub monitor: monitor::Settings,
    /// Where the gRPC service listens (none: no gRPC).
    pub grpc_bind: Option<SocketAddr>,
    /// Largest gRPC request message.
    pub max_message_bytes: usize,
    /// `[serve] strict_features`: refuse request fields that are not features.
    pub strict_features: bool,
}

/// Seconds from the project file as a duration of at most a day; `key`
/// names it when it is not a positive number.
fn seconds(v: Option<f64>, default: f64, key: &str) -> Result<Duration> {
    let s = v.unwrap_or(default);
    if s.is_nan() || s <= 0.0 {
        return Err(Error::usage(format!(
            "[serve].{key} = {s} must be a positive number of seconds"
        )));
    }
    Ok(Duration::try_from_secs_f64(s)
        .unwrap_or(Duration::MAX)
        .min(Duration::from_secs(86_400)))
}

impl Config {
    /// The settings of `[serve]` (paths resolved by `resolve`), with
    /// defaults for what it leaves out; `token` is the admin token read
    /// from the environment.
    ///
    /// # Errors
    /// A bind address that does not parse.
    pub fn from_section(
        sv: Option<&ServeSection>,
        resolve: impl Fn(&std::path::Path) -> PathBuf,
        token: Option<String>,
    ) -> Result<Config> {
        let d = ServeSection::default();
        let sv = sv.unwrap_or(&d);
        let bind = sv.bind.as_deref().unwrap_or(DEFAULT_BIND);
        let bind = crate::project::parse_bind(bind).ok_or_else(|| {
            Error::usage(format!(
                "[serve].bind = \"{bind}\" is not an address and port, like \"127.0.0.1:8080\""
            ))
        })?;
        Ok(Config {
            bind,
            admin_token: token.filter(|t| !t.is_empty()),
            prediction_log: log::Settings::of_section(sv, &resolve, &|v| std::env::var(v).ok())?,
            state_dir: sv.state_dir.as_deref().map(&resolve),
            max_body_bytes: usize::try_from(sv.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY))
                .unwrap_or(usize::MAX),
            max_batch_rows: sv.max_batch_rows.unwrap_or(DEFAULT_MAX_ROWS),
            // At most a day: a longer timeout is no timeout, and stays far
            // from Duration's overflow.
            timeout: Duration::try_from_secs_f64(sv.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S))
                .unwrap_or(Duration::MAX)
                .min(Duration::from_secs(86_400)),
            tls: sv.tls.as_ref().map(|t| (resolve(&t.cert), resolve(&t.key))),
            env_dir: None,
            watch_every: Duration::from_millis(500),
            client_ca: sv
                .tls
                .as_ref()
                .and_then(|t| t.client_ca.as_deref())
                .map(&resolve),
            auth: access::auth_settings(sv.auth.as_ref(), &resolve, &|v| std::env::var(v).ok())?,
            rate_limit: access::rate_settings(sv.rate_limit.as_ref())?,
            monitor: monitor::settings_of(sv.monitor.as_ref())?,
            strict_features: sv.strict_features.unwrap_or(false),
            limits: conn::Limits {
                header_timeout: seconds(
                    sv.header_timeout_s,
                    conn::DEFAULT_HEADER_TIMEOUT_S,
                    "header_timeout_s",
                )?,
                body_timeout: seconds(
                    sv.body_timeout_s,
                    conn::DEFAULT_BODY_TIMEOUT_S,
                    "body_timeout_s",
                )?,
                max_connections: positive(
                    sv.max_connections,
                    conn::DEFAULT_MAX_CONNECTIONS,
                    "max_connections",
                )?,
                idle_timeout: seconds(
                    sv.idle_timeout_s,
                    conn::DEFAULT_IDLE_TIMEOUT_S,
                    "idle_timeout_s",
                )?,
                upload_timeout: seconds(
                    sv.upload_timeout_s,
                    conn::DEFAULT_UPLOAD_TIMEOUT_S,
                    "upload_timeout_s",
                )?,
            },
            max_in_flight: positive(
                sv.max_in_flight,
                app::DEFAULT_MAX_IN_FLIGHT,
                "max_in_flight",
            )?,
            admin_bind: match sv.admin_bind.as_deref() {
                None => None,
                Some(b) => Some(crate::project::parse_bind(b).ok_or_else(|| {
                    Error::usage(format!(
                        "[serve].admin_bind = \"{b}\" is not an address and port, like \"127.0.0.1:8081\""
                    ))
                })?),
            },
            allow_insecure_admin: sv.allow_insecure_admin.unwrap_or(false),
            grpc_bind: match sv.grpc_bind.as_deref() {
                None => None,
                Some(b) => Some(crate::project::parse_bind(b).ok_or_else(|| {
                    Error::usage(format!(
                        "[serve].grpc_bind = \"{b}\" is not an address and port, like \"127.0.0.1:8001\""
                    ))
                })?),
            },
            max_message_bytes: match sv.max_message_bytes {
                Some(0) => {
                    return Err(Error::usage(
                        "[serve].max_message_bytes must be at least 1",
                    ));
                }
                v => usize::try_from(v.unwrap_or(grpc::DEFAULT_MAX_MESSAGE_BYTES))
                    .unwrap_or(usize::MAX),
            },
        })
    }

    /// Whether the admin API answers: an admin token, or `jwt` mode.
    #[must_use]
    pub fn admin_on(&self) -> bool {
        self.admin_token.is_some() || matches!(self.auth.mode, auth::Mode::Jwt(_))
    }

    /// Refuse to carry admin credentials in cleartext off this machine: the
    /// admin API on a non-loopback address needs `[serve.tls]`, unless
    /// `allow_insecure_admin = true` says a proxy or a private network
    /// takes care of it.
    ///
    /// # Errors
    /// The admin API would listen on a non-loopback address without TLS.
    pub fn check_admin_exposure(&self) -> Result<()> {
        let addr = self.admin_bind.unwrap_or(self.bind);
        if !self.admin_on()
            || self.tls.is_some()
            || self.allow_insecure_admin
            || addr.ip().is_loopback()
        {
            return Ok(());
        }
        let key = if self.admin_bind.is_some() {
            "[serve].admin_bind"
        } else {
            "[serve].bind (or --bind)"
        };
        Err(Error::usage(format!(
            "the admin API would listen on {addr} ({key}) without TLS, so its bearer token would cross the network in cleartext; add [serve.tls], or set [serve].admin_bind to a loopback address such as \"127.0.0.1:8081\", or set [serve].allow_insecure_admin = true if a TLS proxy or a private network protects it"
        )))
    }
}

fn positive(v: Option<usize>, default: usize, key: &str) -> Result<usize> {
    match v {
        Some(0) => Err(Error::usage(format!("[serve].{key} must be at least 1"))),
        v => Ok(v.unwrap_or(default)),
    }
}

/// What the server reports while it runs; the CLI prints it.
pub trait Events: Send + Sync {
    /// Listening on `url`.
    fn listening(&self, url: &str);
    /// Something worth a line (a model loaded, a swap, shutting down).
    fn info(&self, msg: &str);
    /// Something went wrong but the server carries on.
    fn warn(&self, msg: &str);
    /// The gRPC service listens on `addr` (host:port).
    fn listening_grpc(&self, addr: &str) {
        self.info(&format!("grpc listening on {addr}"));
    }
}

/// Load `--model PATH`: a bundle `.tar.gz` (verified) or an artifact JSON.
///
/// # Errors
/// An unreadable file, a bad bundle (exit 3) or artifact (exit 2).
pub fn load_model(path: &std::path::Path) -> Result<Model> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read the model", path, &e))?;
    let origin = display_path(path);
    if bytes.starts_with(&[0x1f, 0x8b]) {
        Model::from_bundle(crate::bundle::read(&bytes, &origin)?)
    } else {
        let art = crate::model::Artifact::from_slice(&bytes, &origin)?;
        Model::new(art, "unversioned", &crate::bundle::sha256_hex(&bytes))
    }
}

/// Run the server until SIGTERM or SIGINT, then drain in-flight requests
/// and return. `initial` is served as the champion from the start.
///
/// # Errors
/// The address cannot be bound, the TLS files are unusable, the runtime
/// cannot start (exit 2).
pub fn serve(config: Config, initial: Option<Model>, events: Arc<dyn Events>) -> Result<()> {
    monitor::configure(config.monitor);
    let initial = initial.map(|mut m| {
        m.monitor = monitor::Monitor::new(&m.artifact);
        m.strict(config.strict_features)
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::usage(format!("cannot start the server's runtime: {e}")))?;
    config.check_admin_exposure()?;
    // Keys are fetched before the runtime starts (the fetch blocks).
    let mut auth = auth::Auth::new(
        config.auth.mode.clone(),
        config.auth.protect_predict,
        config.auth.protect_admin,
        config.admin_token.clone(),
    )
    .map_err(Error::usage)?;
    auth.protect_health = config.auth.protect_health;
    auth.protect_metrics = config.auth.protect_metrics;
    rt.block_on(run(config, initial, events, Arc::new(auth)))
}

async fn run(
    config: Config,
    initial: Option<Model>,
    events: Arc<dyn Events>,
    auth: Arc<auth::Auth>,
) -> Result<()> {
    let models = Arc::new(Models::new());
    let restored = match &config.state_dir {
        Some(dir) => Some(restore(dir, config.strict_features, &models, &*events)?),
        None => None,
    };
    if let Some(m) = initial {
        place_initial(&models, m, &*events);
    }
    let metrics = Arc::new(metrics::Metrics::default());
    let log = config.prediction_log.clone().map(|s| {
        let _ = metrics.log_sink.set(s.sink.kind().as_str());
        log::PredictionLog::start(s, Arc::clone(&metrics.dropped_log_lines))
    });
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls::server_config(cert, key, config.client_ca.as_deref())?),
        None => None,
    };
    let (listener, addr) = bind(config.bind).await?;
    let grpc_listener = match config.grpc_bind {
        Some(b) => Some(grpc::bind(b).await?),
        None => None,
    };
    let app = build_app(&config, &models, &metrics, log, auth);
    if !app.admin_on() {
        events.info("admin API off (no token in the variable named by [serve].admin_token_env); /feedback is refused too, since nobody could export it");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if let Some((state, observations)) = restored {
        app.feedback
            .persist(observations, Arc::clone(&state) as Arc<dyn log::Journal>);
        sync_in_background(&state, stop_rx.clone());
        let _ = app.state.set(state);
    }
    if let Some(dir) = config.env_dir.clone() {
        follow(
            (dir, config.strict_features),
            config.watch_every,
            &models,
            &events,
            stop_rx.clone(),
        );
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let grpc_tls = tls.as_ref().map(grpc::incoming::h2_acceptor);
    let tls = tls.map(tokio_rustls::TlsAcceptor::from);
    let router = match config.admin_bind {
        None => http::router(Arc::clone(&app)),
        Some(at) => {
            let (l, a) = bind(at).await?;
            events.info(&format!("admin API on {scheme}://{a} ([serve].admin_bind)"));
            let r = http::router_part(Arc::clone(&app), true);
            tokio::spawn(conn::run(l, tls.clone(), r, config.limits, stop_rx.clone()));
            http::router_part(Arc::clone(&app), false)
        }
    };
    events.listening(&format!("{scheme}://{addr}"));
    let grpc_served = grpc_listener.map(|(l, a)| {
        events.listening_grpc(&a.to_string());
        grpc::serve(
            l,
            grpc_tls,
            Arc::clone(&app),
            (config.max_message_bytes, config.limits),
            stop_rx.clone(),
        )
    });
    let http_served = accept(
        listener,
        tls,
        router,
        config.limits,
        stop_tx,
        stop_rx.clone(),
    );
    // Both servers stop on the same signal and drain together.
    let served = async move {
        match grpc_served {
            Some(g) => {
                let (h, g) = tokio::join!(http_served, g);
                h.and(g)
            }
            None => http_served.await,
        }
    };
    // Once a signal came, in-flight requests get the request timeout plus
    // a margin to finish; then the server stops regardless.
    let deadline = config.timeout.saturating_add(Duration::from_secs(5));
    drain(served, stop_rx, deadline, &*events).await;
    events.info("stopped: in-flight requests drained");
    if let Some(dir) = &config.env_dir {
        watch::forget(dir);
    }
    if let Some(l) = &app.log {
        l.close();
    }
    if let Some(st) = app.state.get() {
        st.sync();
    }
    Ok(())
}

/// Serve `m` (from `--model`) as champion, unless the state folder already
/// restored one for its name.
fn place_initial(models: &Models, m: Model, events: &dyn Events) {
    if models
        .snapshot()
        .get(&m.name)
        .is_some_and(|s| s.champion.is_some())
    {
        events.info(&format!(
            "--model {} {} not loaded: the state folder's champion is kept",
            m.name, m.version
        ));
    } else {
        events.info(&format!("serving {} {} as champion", m.name, m.version));
        let _ = models.put(m, Variant::Champion, None, false);
    }
}

/// The shared server state: models, metrics, log, auth and limits.
fn build_app(
    config: &Config,
    models: &Arc<Models>,
    metrics: &Arc<metrics::Metrics>,
    log: Option<log::PredictionLog>,
    auth: Arc<auth::Auth>,
) -> Arc<app::App> {
    Arc::new(
        app::App::new(
            Arc::clone(models),
            Arc::clone(metrics),
            log,
            config.admin_token.clone(),
            config.max_body_bytes,
            config.max_batch_rows,
            config.timeout,
        )
        .with_auth(auth, config.auth.audit_log.clone().map(auth::AuditLog::new))
        .with_limits(
            config.max_in_flight,
            config
                .rate_limit
                .as_ref()
                .map(access::RateSettings::limiter),
        )
        .with_strict_features(config.strict_features)
        .with_upload_timeout(config.limits.upload_timeout),
    )
}

/// Open the state folder `dir`, fill `models` with what it holds and save
/// every later change there; returns the folder and its observations.
fn restore(
    dir: &std::path::Path,
    strict_features: bool,
    models: &Models,
    events: &dyn Events,
) -> Result<(Arc<persist::StateDir>, Vec<log::Observation>)> {
    let state = persist::StateDir::open_with(dir, strict_features)?;
    let r = state.restore()?;
    for n in &r.notes {
        events.warn(n);
    }
    for (name, s) in &r.table {
        let v = |m: Option<&Arc<Model>>| m.map_or("none".to_string(), |m| m.version.clone());
        events.info(&format!(
            "restored {name} from {}: champion {}, challenger {} at {}%, previous {}",
            display_path(dir),
            v(s.champion.as_ref()),
            v(s.challenger.as_ref()),
            s.challenger_percent,
            v(s.previous.as_ref())
        ));
    }
    if !r.observations.is_empty() {
        events.info(&format!(
            "restored {} A/B observation(s)",
            r.observations.len()
        ));
    }
    let table = r.table;
    let _ = models.update(move |t| {
        *t = table;
        Ok(())
    });
    let saver = Arc::clone(&state);
    models.set_saver(Box::new(move |t| saver.save_table(t)));
    Ok((state, r.observations))
}

/// Fsync the observations every [`persist::SYNC_EVERY`] until `stop`.
fn sync_in_background(
    state: &Arc<persist::StateDir>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let state = Arc::clone(state);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = tokio::time::sleep(persist::SYNC_EVERY) => {}
                _ = stop.changed() => return,
            }
            let st = Arc::clone(&state);
            if tokio::task::spawn_blocking(move || st.sync())
                .await
                .is_err()
            {
                return;
            }
        }
    });
}

/// Listen on `bind`; the listener and the address it got.
async fn bind(bind: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
        Error::usage(format!(
            "cannot listen on {}: {}; choose another --bind or [serve].bind",
            bind,
            crate::error::io_reason(&e)
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::usage(format!("cannot read the bound address: {e}")))?;
    Ok((listener, addr))
}

/// Serve the environment folder `dir`: look at it now, then every `every`
/// in the background until `stop` changes, reporting each change.
fn follow(
    (dir, strict_features): (PathBuf, bool),
    every: Duration,
    models: &Arc<Models>,
    events: &Arc<dyn Events>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut w = watch::Watcher::new(dir);
    w.strict_features = strict_features;
    let first = w.poll(models);
    report(&**events, &first);
    let models = Arc::clone(models);
    let events = Arc::clone(events);
    tokio::spawn(async move {
        let mut w = Some(w);
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            let Some(mut watcher) = w.take() else { return };
            let models = Arc::clone(&models);
            let Ok((back, change)) = tokio::task::spawn_blocking(move || {
                let c = watcher.poll(&models);
                (watcher, c)
            })
            .await
            else {
                return;
            };
            report(&*events, &change);
            w = Some(back);
        }
    });
}

/// Accept connections (over TLS when `tls` is set) and answer them with
/// `router` until SIGTERM or SIGINT, which is announced on `stop_tx`.
async fn accept(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: axum::Router,
    limits: conn::Limits,
    stop_tx: tokio::sync::watch::Sender<bool>,
    stop_rx: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    conn::run(listener, tls, router, limits, stop_rx).await
}

/// Wait for `served` to finish draining, or for `deadline` past the stop
/// signal (seen on `drained`), whichever comes first.
async fn drain(
    served: impl Future<Output = std::io::Result<()>>,
    mut drained: tokio::sync::watch::Receiver<bool>,
    deadline: Duration,
    events: &dyn Events,
) {
    let limit = async move {
        let _ = drained.changed().await;
        tokio::time::sleep(deadline).await;
    };
    tokio::select! {
        r = served => {
            if let Err(e) = r {
                events.warn(&format!("the server stopped: {e}"));
            }
        }
        () = limit => events.warn("in-flight requests did not finish in time; stopping anyway"),
    }
}

fn report(events: &dyn Events, c: &watch::Change) {
    match c {
        watch::Change::None => {}
        watch::Change::Empty => events
            .info("the environment has no current release yet; not ready until one is deployed"),
        watch::Change::Swapped(s) => events.info(&format!("serving {s}")),
        watch::Change::Failed(e) => events.warn(e),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn config_defaults_and_section() {
        let c = Config::from_section(None, Path::to_path_buf, None).unwrap();
        assert_eq!(c.bind.to_string(), DEFAULT_BIND);
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert_eq!(c.max_batch_rows, 10_000);
        assert_eq!(c.timeout, Duration::from_secs(10));
        assert!(c.admin_token.is_none() && c.prediction_log.is_none() && c.tls.is_none());
        let sv = ServeSection {
            bind: Some("0.0.0.0:9000".into()),
            prediction_log: Some("logs/p.jsonl".into()),
            timeout_s: Some(1e300),
            tls: Some(crate::project::TlsSection {
                cert: "c.pem".into(),
                key: "k.pem".into(),
                client_ca: None,
            }),
            ..ServeSection::default()
        };
        let c = Config::from_section(Some(&sv), |p| Path::new("/p").join(p), Some(String::new()))
            .unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:9000");
        let log = c.prediction_log.unwrap();
        assert!(
            matches!(&log.sink, log::SinkSettings::File(p) if p == Path::new("/p/logs/p.jsonl")),
            "{log:?}"
        );
        assert_eq!(
            (log.max_bytes, log.keep, log.features),
            (DEFAULT_LOG_MAX_BYTES, DEFAULT_LOG_KEEP, false)
        );
        assert_eq!(c.timeout, Duration::from_secs(86_400), "capped");
        assert_eq!(c.tls.unwrap().1, Path::new("/p/k.pem"));
        assert!(c.admin_token.is_none(), "an empty token is no token");
    }

    /// Security review H3.
    #[test]
    fn the_admin_api_needs_tls_off_loopback() {
        let sv = |extra: &str| -> ServeSection {
            toml::from_str(&format!("bind = \"0.0.0.0:8080\"\n{extra}")).unwrap()
        };
        let config = |extra: &str, token: Option<&str>| {
            Config::from_section(Some(&sv(extra)), Path::to_path_buf, token.map(String::from))
                .unwrap()
        };
        let e = config("", Some("t")).check_admin_exposure().unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("0.0.0.0:8080"), "{e}");
        assert!(e.to_string().contains("allow_insecure_admin"), "{e}");
        // No admin API, nothing to protect.
        assert!(config("", None).check_admin_exposure().is_ok());
        assert!(
            config("allow_insecure_admin = true", Some("t"))
                .check_admin_exposure()
                .is_ok()
        );
        assert!(
            config("tls = { cert = \"c.pem\", key = \"k.pem\" }", Some("t"))
                .check_admin_exposure()
                .is_ok()
        );
        let c = config("admin_bind = \"127.0.0.1:8081\"", Some("t"));
        assert_eq!(c.admin_bind.unwrap().to_string(), "127.0.0.1:8081");
        assert!(c.check_admin_exposure().is_ok());
        let e = config("admin_bind = \"10.1.2.3:8081\"", Some("t"))
            .check_admin_exposure()
            .unwrap_err();
        assert!(e.to_string().contains("[serve].admin_bind"), "{e}");
        let loopback: ServeSection = toml::from_str("bind = \"127.0.0.1:8080\"").unwrap();
        let c = Config::from_section(Some(&loopback), Path::to_path_buf, Some("t".into())).unwrap();
        assert!(c.check_admin_exposure().is_ok());
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
    }
}
