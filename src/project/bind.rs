//! The grammar of a listening address (`[serve].bind`, `--bind`): an
//! address and port as the standard library writes them (`0.0.0.0:8080`,
//! `[::1]:8080`), and the short forms people type: `localhost:8080`,
//! `:8080` and `8080`, which all mean the loopback address (a server is
//! reachable from other hosts only when asked for explicitly).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// `s` as an address to listen on, or `None` when it is none of the forms.
#[must_use]
pub fn parse_bind(s: &str) -> Option<SocketAddr> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Some(a);
    }
    let loopback = |port: &str| {
        port.parse::<u16>()
            .ok()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p))
    };
    if let Some(port) = s.strip_prefix(':') {
        return loopback(port);
    }
    if let Some(port) = s
        .strip_prefix("localhost:")
        .or_else(|| s.strip_prefix("LOCALHOST:"))
    {
        return loopback(port);
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return loopback(s);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn case(input: &str, expected: Option<&str>) {
        assert_eq!(
            parse_bind(input).map(|a| a.to_string()).as_deref(),
            expected,
            "{input}"
        );
    }

    #[test]
    fn forms() {
        case("127.0.0.1:8080", Some("127.0.0.1:8080"));
        case("0.0.0.0:9000", Some("0.0.0.0:9000"));
        case("[::1]:8080", Some("[::1]:8080"));
        case("localhost:8080", Some("127.0.0.1:8080"));
        case(":8080", Some("127.0.0.1:8080"));
        case("8080", Some("127.0.0.1:8080"));
        case(" 8080 ", Some("127.0.0.1:8080"));
        case("0", Some("127.0.0.1:0"));
        case("65536", None);
        case("", None);
        case("localhost", None);
        case("example.com:80", None);
        case(":http", None);
        case("127.0.0.1", None);
    }
}
