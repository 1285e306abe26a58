//! The HTTP server's rules: the open-API rule and the connection limits.

use std::net::SocketAddr;

use secrecy::ExposeSecret;

use super::{ConfigError, Settings, invalid};

impl Settings {
    pub(super) fn validate_http(&self) -> Result<(), ConfigError> {
        let h = &self.http;
        for (key, value) in [
            (
                "http.header_read_timeout_seconds",
                h.header_read_timeout_seconds,
            ),
            ("http.idle_timeout_seconds", h.idle_timeout_seconds),
            ("http.max_connections", h.max_connections.into()),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        self.metrics_bind()?;
        if !h.enabled || !self.api.token.expose_secret().trim().is_empty() {
            return Ok(());
        }
        // Without a token the API holds customers' replies for anyone who can reach it: only
        // this machine may (the Host check in src/http/api keeps browsers' rebinding out).
        let bind = self.http_bind()?;
        if !bind.ip().is_loopback() {
            return Err(invalid(
                "api.token",
                format!(
                    "must be set when http.bind is not a loopback address (got {bind}): \
                     without it the API would answer anyone who can reach the port"
                ),
            ));
        }
        Ok(())
    }

    /// `http.metrics_bind`, if /metrics is served on an address of its own.
    pub fn metrics_bind(&self) -> Result<Option<SocketAddr>, ConfigError> {
        let raw = self.http.metrics_bind.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        let addr: SocketAddr = raw
            .parse()
            .map_err(|e| invalid("http.metrics_bind", format!("not a socket address: {e}")))?;
        if addr.port() != 0 && raw == self.http.bind.trim() {
            return Err(invalid(
                "http.metrics_bind",
                "must differ from http.bind (leave it empty to serve /metrics there)",
            ));
        }
        Ok(Some(addr))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::load_env as load;

    #[test]
    fn a_non_loopback_bind_without_a_token_refuses_to_start_naming_the_token() {
        for bind in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.1.2.3:8080",
            "192.168.0.7:80",
            "[2001:db8::1]:8080",
        ] {
            let err = load(&[("POSTCALL__HTTP__BIND", bind)])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("`api.token`") && err.contains("http.bind"),
                "{bind}: {err}"
            );
        }
    }

    #[test]
    fn a_loopback_bind_or_a_token_or_no_server_starts() {
        for bind in ["127.0.0.1:8080", "127.8.9.10:0", "[::1]:8080"] {
            load(&[("POSTCALL__HTTP__BIND", bind)]).unwrap_or_else(|e| panic!("{bind}: {e}"));
        }
        load(&[
            ("POSTCALL__HTTP__BIND", "0.0.0.0:8080"),
            ("POSTCALL__API__TOKEN", "k7Qm2vX9pL4tR8wZ1nB6cY3h"),
        ])
        .unwrap();
        load(&[
            ("POSTCALL__HTTP__BIND", "0.0.0.0:8080"),
            ("POSTCALL__HTTP__ENABLED", "false"),
        ])
        .unwrap();
        let blank = load(&[
            ("POSTCALL__HTTP__BIND", "0.0.0.0:8080"),
            ("POSTCALL__API__TOKEN", "  "),
        ])
        .unwrap_err();
        assert!(blank.to_string().contains("`api.token`"), "{blank}");
    }

    #[test]
    fn connection_limits_must_be_positive() {
        for (var, key) in [
            (
                "POSTCALL__HTTP__HEADER_READ_TIMEOUT_SECONDS",
                "`http.header_read_timeout_seconds`",
            ),
            (
                "POSTCALL__HTTP__IDLE_TIMEOUT_SECONDS",
                "`http.idle_timeout_seconds`",
            ),
            ("POSTCALL__HTTP__MAX_CONNECTIONS", "`http.max_connections`"),
        ] {
            let err = load(&[(var, "0")]).unwrap_err().to_string();
            assert!(err.contains(key), "{var}: {err}");
        }
        let s = load(&[]).unwrap();
        assert_eq!(
            (
                s.http.header_read_timeout_seconds,
                s.http.idle_timeout_seconds,
                s.http.max_connections
            ),
            (10, 60, 1024)
        );
    }

    #[test]
    fn metrics_bind_is_empty_or_an_address_of_its_own() {
        assert_eq!(load(&[]).unwrap().metrics_bind().unwrap(), None);
        let s = load(&[("POSTCALL__HTTP__METRICS_BIND", "10.0.0.5:9100")]).unwrap();
        assert_eq!(
            s.metrics_bind().unwrap(),
            Some("10.0.0.5:9100".parse().unwrap())
        );
        for bad in ["metrics:9100", "127.0.0.1:8080"] {
            let err = load(&[("POSTCALL__HTTP__METRICS_BIND", bad)])
                .unwrap_err()
                .to_string();
            assert!(err.contains("`http.metrics_bind`"), "{bad}: {err}");
        }
    }
}
