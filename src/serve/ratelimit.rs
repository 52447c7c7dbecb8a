//! Per-caller rate limits (`[serve.rate_limit]`): GCRA through the
//! `governor` crate, one limiter per caller key (subject, client address or
//! a header), in a table bounded by `max_keys` whose idle keys are evicted.
//! Behind a proxy, `X-Forwarded-For` is read only from trusted proxies, and
//! then its right-most untrusted hop is the client. Answers carry the IETF
//! `RateLimit-Policy` / `RateLimit` headers.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::Quota;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::{InMemoryState, NotKeyed};

use super::auth::{Caller, Role};

type Direct =
    governor::RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Default bound of the key table.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// A rate: `n` requests per `window`, with a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per window.
    pub n: u32,
    /// The window.
    pub window: Duration,
    /// Requests admitted at once.
    pub burst: u32,
}

impl Rate {
    /// Parse `N/s`, `N/min` or `N/h`; `burst` defaults to N.
    ///
    /// # Errors
    /// Not of that form, or zero.
    pub fn parse(s: &str, burst: Option<u32>) -> Result<Rate, String> {
        let bad = || format!("\"{s}\" is not a rate like \"100/s\", \"600/min\" or \"1000/h\"");
        let (n, unit) = s.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let window = match unit.trim() {
            "s" => Duration::from_secs(1),
            "min" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        if n == 0 || burst == Some(0) {
            return Err(format!("\"{s}\": a rate and a burst must be at least 1"));
        }
        Ok(Rate {
            n,
            window,
            burst: burst.unwrap_or(n),
        })
    }

    fn quota(self) -> Quota {
        let per = self.window / self.n;
        Quota::with_period(per.max(Duration::from_nanos(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN))
    }

    /// `RateLimit-Policy` value.
    fn policy(self, name: &str) -> String {
        format!("\"{name}\";q={};w={}", self.n, self.window.as_secs().max(1))
    }
}

/// What a caller is keyed by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyBy {
    /// The token's subject (its address when it has none).
    Sub,
    /// The client address.
    Ip,
    /// A request header (the address when it is absent).
    Header(String),
}

impl KeyBy {
    /// Parse `sub`, `ip` or `header:NAME`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(s: &str) -> Result<KeyBy, String> {
        match s {
            "sub" => Ok(KeyBy::Sub),
            "ip" => Ok(KeyBy::Ip),
            _ => match s.strip_prefix("header:") {
                Some(h) if axum::http::HeaderName::from_bytes(h.as_bytes()).is_ok() => {
                    Ok(KeyBy::Header(h.to_ascii_lowercase()))
                }
                _ => Err(format!("\"{s}\" is not \"sub\", \"ip\" or \"header:NAME\"")),
            },
        }
    }
}

/// An IP network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Parse `10.0.0.0/8`, `::1/128` or a bare address.
    ///
    /// # Errors
    /// Not an address or a prefix too long.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, b) = s.split_once('/').unwrap_or((s, ""));
        let net: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("\"{s}\" is not a CIDR like \"10.0.0.0/8\""))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = if b.is_empty() {
            max
        } else {
            b.parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("\"{s}\": the prefix length must be 0 to {max}"))?
        };
        Ok(Cidr { net, bits })
    }

    /// Whether `ip` is in the network.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b, len) = match (self.net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (
                u128::from(n.to_bits()) << 96,
                u128::from(i.to_bits()) << 96,
                self.bits,
            ),
            (IpAddr::V6(n), IpAddr::V6(i)) => (n.to_bits(), i.to_bits(), self.bits),
            _ => return false,
        };
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(len))
        };
        a & mask == b & mask
    }
}

/// The client address: the peer, or, when the peer is a trusted proxy,
/// the right-most `X-Forwarded-For` hop that is not one.
#[must_use]
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        let Ok(v) = v.to_str() else { return peer };
        for h in v.split(',') {
            match h.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(ip),
                // A garbled list cannot be trusted beyond the proxy.
                Err(_) => return peer,
            }
        }
    }
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(*ip))
        .unwrap_or(peer)
}

struct Slot {
    limiter: Direct,
    used: Instant,
}

/// The answer for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Admitted.
    pub allowed: bool,
    /// `Retry-After` seconds when refused.
    pub retry_after: u64,
    /// The `RateLimit-Policy` header.
    pub policy: String,
    /// The `RateLimit` header.
    pub state: String,
}

/// The limiter of a server.
#[derive(Debug)]
pub struct RateLimiter {
    default: Rate,
    roles: Vec<(Role, Rate)>,
    key: KeyBy,
    trusted: Vec<Cidr>,
    max_keys: usize,
    table: Mutex<HashMap<(Role, String), Slot>>,
    rejected: [AtomicU64; 2],
    clock: DefaultClock,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slot")
    }
}

impl RateLimiter {
    /// A limiter of `default` (overridden per role), keyed by `key`.
    #[must_use]
    pub fn new(
        default: Rate,
        roles: Vec<(Role, Rate)>,
        key: KeyBy,
        trusted: Vec<Cidr>,
        max_keys: usize,
    ) -> RateLimiter {
        RateLimiter {
            default,
            roles,
            key,
            trusted,
            max_keys: max_keys.max(1),
            table: Mutex::new(HashMap::new()),
            rejected: [AtomicU64::new(0), AtomicU64::new(0)],
            clock: DefaultClock::default(),
        }
    }

    fn rate(&self, role: Role) -> Rate {
        self.roles
            .iter()
            .find(|(r, _)| *r == role)
            .map_or(self.default, |(_, q)| *q)
    }

    /// The key of a request.
    #[must_use]
    pub fn key_of(&self, peer: SocketAddr, headers: &HeaderMap, caller: Option<&Caller>) -> String {
        let ip = || client_ip(peer.ip(), headers, &self.trusted).to_string();
        match &self.key {
            KeyBy::Ip => ip(),
            KeyBy::Sub => caller
                .and_then(|c| c.subject.clone())
                .map_or_else(ip, |s| format!("sub:{s}")),
            KeyBy::Header(h) => headers
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .map_or_else(ip, |v| {
                    format!("h:{}", v.chars().take(128).collect::<String>())
                }),
        }
    }

    /// Count one request of `key` on `role`'s routes.
    pub fn check(&self, role: Role, key: String) -> Verdict {
        let rate = self.rate(role);
        let name = role.as_str();
        let now = Instant::now();
        let Ok(mut table) = self.table.lock() else {
            return Verdict {
                allowed: true,
                retry_after: 0,
                policy: rate.policy(name),
                state: String::new(),
            };
        };
        if !table.contains_key(&(role, key.clone())) && table.len() >= self.max_keys {
            self.evict(&mut table, now);
        }
        let slot = table.entry((role, key)).or_insert_with(|| Slot {
            limiter: governor::RateLimiter::direct(rate.quota())
                .with_middleware::<StateInformationMiddleware>(),
            used: now,
        });
        slot.used = now;
        let period = rate.window / rate.n;
        match slot.limiter.check() {
            Ok(snap) => {
                let left = snap.remaining_burst_capacity();
                let reset = period * (rate.burst - left.min(rate.burst));
                Verdict {
                    allowed: true,
                    retry_after: 0,
                    policy: rate.policy(name),
                    state: format!("\"{name}\";r={left};t={}", ceil_s(reset)),
                }
            }
            Err(not) => {
                let wait = ceil_s(not.wait_time_from(self.clock.now())).max(1);
                self.rejected[usize::from(role == Role::Admin)].fetch_add(1, Ordering::Relaxed);
                Verdict {
                    allowed: false,
                    retry_after: wait,
                    policy: rate.policy(name),
                    state: format!("\"{name}\";r=0;t={wait}"),
                }
            }
        }
    }

    /// Make room: drop keys idle long enough to be full again, then, if
    /// that is not enough, the least recently used tenth.
    fn evict(&self, table: &mut HashMap<(Role, String), Slot>, now: Instant) {
        let full_after = |r: Role| {
            let q = self.rate(r);
            (q.window / q.n) * q.burst
        };
        table.retain(|(r, _), s| now.duration_since(s.used) < full_after(*r));
        if table.len() >= self.max_keys {
            let mut ages: Vec<Instant> = table.values().map(|s| s.used).collect();
            ages.sort_unstable();
            let cut = ages[(ages.len() / 10).min(ages.len() - 1)];
            table.retain(|_, s| s.used > cut);
        }
    }

    /// Keys held now.
    #[must_use]
    pub fn keys(&self) -> usize {
        self.table.lock().map_or(0, |t| t.len())
    }

    /// Prometheus lines of `mlops_rate_limited_total{role}`.
    #[must_use]
    pub fn render(&self) -> String {
        let mut s = String::from(
            "# HELP mlops_rate_limited_total Requests refused by the rate limit.\n# TYPE mlops_rate_limited_total counter\n",
        );
        for (i, r) in [Role::Predict, Role::Admin].iter().enumerate() {
            s.push_str(&format!(
                "mlops_rate_limited_total{{role=\"{}\"}} {}\n",
                r.as_str(),
                self.rejected[i].load(Ordering::Relaxed)
            ));
        }
        s
    }
}

/// Whole seconds, rounded up.
fn ceil_s(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse() {
        assert_eq!(
            Rate::parse("100/s", None).unwrap(),
            Rate {
                n: 100,
                window: Duration::from_secs(1),
                burst: 100
            }
        );
        assert_eq!(
            Rate::parse("6/min", Some(2)).unwrap().window,
            Duration::from_secs(60)
        );
        assert!(Rate::parse("0/s", None).is_err());
        assert!(
            Rate::parse("5/day", None)
                .unwrap_err()
                .contains("not a rate")
        );
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let trusted = vec![Cidr::parse("10.0.0.0/8").unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "1.2.3.4, 5.6.7.8, 10.1.1.1".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let direct: IpAddr = "9.9.9.9".parse().unwrap();
        assert_eq!(client_ip(proxy, &h, &trusted).to_string(), "5.6.7.8");
        assert_eq!(
            client_ip(direct, &h, &trusted),
            direct,
            "never trusted otherwise"
        );
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        assert!(Cidr::parse("::1/129").is_err());
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
    }

    #[test]
    fn a_burst_then_refusals_with_retry_after() {
        let rate = Rate::parse("1/min", Some(3)).unwrap();
        let l = RateLimiter::new(rate, vec![], KeyBy::Ip, vec![], 10);
        for _ in 0..3 {
            assert!(l.check(Role::Predict, "a".into()).allowed);
        }
        let v = l.check(Role::Predict, "a".into());
        assert!(!v.allowed);
        assert!((59..=60).contains(&v.retry_after), "{v:?}");
        assert_eq!(v.policy, "\"predict\";q=1;w=60");
        assert!(
            l.check(Role::Predict, "b".into()).allowed,
            "keys are separate"
        );
        assert!(
            l.render()
                .contains("mlops_rate_limited_total{role=\"predict\"} 1")
        );
    }

    #[test]
    fn the_key_table_stays_bounded() {
        let rate = Rate::parse("1/h", None).unwrap();
        let l = RateLimiter::new(rate, vec![], KeyBy::Ip, vec![], 1000);
        for i in 0..20_000u32 {
            l.check(Role::Predict, format!("2001:db8::{i:x}"));
        }
        assert!(l.keys() <= 1000, "{}", l.keys());
    }
}
