//! What a web page open in the user's browser must not be able to do to the sandbox: reach it under
//! a name of its own (DNS rebinding), or make the hosted pages pay or cancel on its behalf (a
//! cross-site form post). Owns the `Host` allow-list (applied to every route), the per-process
//! CSRF key, and the checks a page's form post must pass. The pages' response headers (CSP and
//! the rest) live with the pages.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::hmac;
use url::{Host, Url};

use super::St;

/// Which `Host` values the sandbox answers to. A DNS-rebinding page reaches the socket under a
/// name it controls, so every name but `localhost` is refused; an IP literal cannot be rebound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostPolicy {
    /// Bound to one address: exactly `ip:port`, plus `localhost:port` when `ip` is loopback.
    Bound(SocketAddr),
    /// Bound to every interface (`0.0.0.0`, `::`): any IP address on `port`, and `localhost:port`.
    AnyAddress { port: u16 },
}

impl HostPolicy {
    /// The policy of a listener bound to `addr` (as bound, before any unspecified IP is replaced).
    pub(crate) fn for_listener(addr: SocketAddr) -> Self {
        if addr.ip().is_unspecified() {
            Self::AnyAddress { port: addr.port() }
        } else {
            Self::Bound(addr)
        }
    }

    /// Whether a request whose `Host` (or request-target authority) is `authority` is addressed
    /// to this sandbox.
    pub(crate) fn allows(self, authority: &str) -> bool {
        let Some((host, port)) = parse_authority(authority) else {
            return false;
        };
        match self {
            Self::Bound(addr) => {
                port == addr.port()
                    && match host {
                        Host::Domain(name) => name == "localhost" && addr.ip().is_loopback(),
                        Host::Ipv4(ip) => IpAddr::V4(ip) == addr.ip(),
                        Host::Ipv6(ip) => IpAddr::V6(ip) == addr.ip(),
                    }
            }
            Self::AnyAddress { port: served } => {
                port == served
                    && match host {
                        Host::Domain(name) => name == "localhost",
                        Host::Ipv4(_) | Host::Ipv6(_) => true,
                    }
            }
        }
    }
}

impl fmt::Display for HostPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bound(addr) if addr.ip().is_loopback() => {
                write!(f, "{addr} or localhost:{}", addr.port())
            }
            Self::Bound(addr) => write!(f, "{addr}"),
            Self::AnyAddress { port } => {
                write!(f, "an IP address of this machine or localhost, port {port}")
            }
        }
    }
}

/// `host[:port]` → the normalised host (lower case, IP parsed) and the port (default 80);
/// `None` for anything that is not a bare authority.
fn parse_authority(raw: &str) -> Option<(Host<String>, u16)> {
    if raw.is_empty() || raw.contains(['/', '\\', '?', '#', '@']) {
        return None;
    }
    let url = Url::parse(&format!("http://{raw}")).ok()?;
    Some((url.host()?.to_owned(), url.port_or_known_default()?))
}

/// Refuses, with a plain 421 and no ledger data, a request not addressed to the sandbox's own
/// address. Both the `Host` header and an absolute request-target must pass.
pub(crate) async fn require_host(State(st): St, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let target = req.uri().authority().map(|a| a.as_str());
    if st.hosts.allows(host) && target.is_none_or(|a| st.hosts.allows(a)) {
        return next.run(req).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Misdirected request: this SolvaPay sandbox answers only to its own address ({}), \
             so that a web page cannot reach it under another name.\n",
            st.hosts
        ),
    )
        .into_response()
}

/// The form a CSRF token is for; signed with the session id, so a checkout token does nothing on
/// the portal and a token of one session nothing on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PageForm {
    /// The Pay button of `/customer/checkout`.
    Checkout,
    /// The cancel-renewal buttons of `/customer/manage`.
    PortalCancel,
    /// The clock form of `/dashboard` (one page, so one session: [`DASHBOARD_SESSION`]).
    DashboardClock,
}

/// The session id the dashboard's clock form is signed for: the dashboard has no session.
pub(crate) const DASHBOARD_SESSION: &str = "dashboard";

impl PageForm {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Checkout => b"checkout",
            Self::PortalCancel => b"portal-cancel",
            Self::DashboardClock => b"dashboard-clock",
        }
    }
}

/// The per-process key of the pages' CSRF tokens (HMAC-SHA256 of the form and session id). It
/// lives in memory only: after a restart an open page must be reloaded before its form works.
pub(crate) struct CsrfKey(hmac::Key);

impl CsrfKey {
    pub(crate) fn random() -> Self {
        Self(hmac::Key::new(
            hmac::HMAC_SHA256,
            &rand::random::<[u8; 32]>(),
        ))
    }

    /// The token rendered into `form`'s page for `session_id` (64 hex digits).
    pub(crate) fn token(&self, form: PageForm, session_id: &str) -> String {
        let mut msg = form.label().to_vec();
        msg.push(0);
        msg.extend_from_slice(session_id.as_bytes());
        let tag = hmac::sign(&self.0, &msg);
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `given` is the token of `form` for `session_id`, compared in constant time.
    pub(crate) fn verify(&self, form: PageForm, session_id: &str, given: &str) -> bool {
        constant_time_eq(
            self.token(form, session_id).as_bytes(),
            given.trim().as_bytes(),
        )
    }
}

/// `a == b` without an early exit on the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a page's form post was refused; nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    /// `Sec-Fetch-Site` says another site (or origin) sent it.
    #[error("The browser reported that another site sent this form.")]
    CrossSite,
    /// No `Origin` header, so the sender cannot be told apart from another site.
    #[error("The request did not say which page sent it (no Origin header).")]
    NoOrigin,
    /// `Origin` is not this sandbox's own origin (`null` included).
    #[error("This form was sent from another site or page, not from this sandbox's own page.")]
    ForeignOrigin,
    /// Not `application/x-www-form-urlencoded`.
    #[error("This form must be sent as application/x-www-form-urlencoded.")]
    NotAForm,
    /// The CSRF token is missing, wrong, or another session's.
    #[error("The form's security token is missing or does not match this page: reload the page.")]
    BadToken,
}

impl Refusal {
    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::CrossSite | Self::NoOrigin | Self::ForeignOrigin | Self::BadToken => {
                StatusCode::FORBIDDEN
            }
        }
    }
}

/// A page's form post must come from a page of this very origin (`Sec-Fetch-Site`, when the
/// browser sends it, and `Origin`, which it always sends on a POST), be a urlencoded form, and
/// carry the token its page was rendered with for `session_id`. The `Host` it is compared with
/// was already checked by [`require_host`].
pub(crate) fn check_form_post(
    headers: &HeaderMap,
    key: &CsrfKey,
    form: PageForm,
    session_id: &str,
    token: Option<&str>,
) -> Result<(), Refusal> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site").is_some_and(|site| !site.eq_ignore_ascii_case("same-origin")) {
        return Err(Refusal::CrossSite);
    }
    let origin = text(header::ORIGIN.as_str()).ok_or(Refusal::NoOrigin)?;
    let host = text(header::HOST.as_str()).and_then(parse_authority);
    let from = Url::parse(origin).ok().filter(|u| u.scheme() == "http");
    let same = match (from, host) {
        (Some(from), Some(host)) => {
            from.host().map(|h| h.to_owned()) == Some(host.0)
                && from.port_or_known_default() == Some(host.1)
        }
        _ => false,
    };
    if !same {
        return Err(Refusal::ForeignOrigin);
    }
    let essence = text(header::CONTENT_TYPE.as_str())
        .and_then(|ct| ct.split(';').next())
        .map(str::trim);
    if !essence.is_some_and(|e| e.eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
        return Err(Refusal::NotAForm);
    }
    match token {
        Some(t) if key.verify(form, session_id, t) => Ok(()),
        _ => Err(Refusal::BadToken),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_token_opens_only_its_own_form_of_its_own_session_in_this_process() {
        let key = CsrfKey::random();
        let token = key.token(PageForm::Checkout, "session-a");
        assert_eq!(token.len(), 64);
        assert!(key.verify(PageForm::Checkout, "session-a", &token));
        assert!(!key.verify(PageForm::Checkout, "session-b", &token));
        assert!(!key.verify(PageForm::PortalCancel, "session-a", &token));
        assert!(!key.verify(PageForm::Checkout, "session-a", ""));
        assert!(!key.verify(PageForm::Checkout, "session-a", &token[..63]));
        let mut flipped = token.clone().into_bytes();
        flipped[10] = if flipped[10] == b'0' { b'1' } else { b'0' };
        assert!(!key.verify(
            PageForm::Checkout,
            "session-a",
            &String::from_utf8(flipped).unwrap()
        ));
        let other_process = CsrfKey::random();
        assert!(!other_process.verify(PageForm::Checkout, "session-a", &token));
    }

    #[test]
    fn the_sandbox_answers_only_to_its_own_address() {
        let loopback = HostPolicy::for_listener("127.0.0.1:8080".parse().unwrap());
        let v6 = HostPolicy::for_listener("[::1]:8080".parse().unwrap());
        let lan = HostPolicy::for_listener("192.168.1.5:8080".parse().unwrap());
        let all = HostPolicy::for_listener("0.0.0.0:8080".parse().unwrap());
        let cases: &[(HostPolicy, &str, bool)] = &[
            (loopback, "127.0.0.1:8080", true),
            (loopback, "localhost:8080", true),
            (loopback, "LocalHost:8080", true),
            (loopback, "127.0.0.1:8081", false),
            (loopback, "127.0.0.1", false),
            (loopback, "127.0.0.2:8080", false),
            (loopback, "evil.example:8080", false),
            (loopback, "localhost.evil.example:8080", false),
            (loopback, "127.0.0.1.nip.io:8080", false),
            (loopback, "user@127.0.0.1:8080", false),
            (loopback, "127.0.0.1:8080/x", false),
            (loopback, "", false),
            (v6, "[::1]:8080", true),
            (v6, "localhost:8080", true),
            (v6, "127.0.0.1:8080", false),
            (lan, "192.168.1.5:8080", true),
            (lan, "localhost:8080", false),
            (lan, "devbox.lan:8080", false),
            (all, "192.168.1.5:8080", true),
            (all, "127.0.0.1:8080", true),
            (all, "[fe80::1]:8080", true),
            (all, "localhost:8080", true),
            (all, "devbox.lan:8080", false),
            (all, "192.168.1.5:9090", false),
        ];
        for &(policy, host, allowed) in cases {
            assert_eq!(
                policy.allows(host),
                allowed,
                "{policy:?} with Host {host:?}"
            );
        }
    }

    fn post(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn a_form_post_passes_only_from_its_own_origin_as_a_form_with_its_token() {
        let key = CsrfKey::random();
        let token = key.token(PageForm::PortalCancel, "s1");
        let form = "application/x-www-form-urlencoded";
        let host = ("host", "127.0.0.1:8080");
        let same = ("origin", "http://127.0.0.1:8080");
        type Headers<'a> = &'a [(&'a str, &'a str)];
        let cases: &[(Headers<'_>, Result<(), Refusal>)] = &[
            (&[host, same, ("content-type", form)], Ok(())),
            (
                &[
                    host,
                    same,
                    (
                        "content-type",
                        "Application/X-WWW-Form-Urlencoded; charset=UTF-8",
                    ),
                    ("sec-fetch-site", "same-origin"),
                ],
                Ok(()),
            ),
            (
                &[
                    ("host", "localhost:8080"),
                    ("origin", "http://localhost:8080"),
                    ("content-type", form),
                ],
                Ok(()),
            ),
            (
                &[
                    host,
                    same,
                    ("content-type", form),
                    ("sec-fetch-site", "cross-site"),
                ],
                Err(Refusal::CrossSite),
            ),
            (
                &[
                    host,
                    same,
                    ("content-type", form),
                    ("sec-fetch-site", "same-site"),
                ],
                Err(Refusal::CrossSite),
            ),
            (&[host, ("content-type", form)], Err(Refusal::NoOrigin)),
            (
                &[host, ("origin", "null"), ("content-type", form)],
                Err(Refusal::ForeignOrigin),
            ),
            (
                &[
                    host,
                    ("origin", "http://evil.example"),
                    ("content-type", form),
                ],
                Err(Refusal::ForeignOrigin),
            ),
            (
                &[
                    host,
                    ("origin", "http://localhost:8080"),
                    ("content-type", form),
                ],
                Err(Refusal::ForeignOrigin),
            ),
            (
                &[
                    host,
                    ("origin", "http://127.0.0.1:8081"),
                    ("content-type", form),
                ],
                Err(Refusal::ForeignOrigin),
            ),
            (
                &[
                    host,
                    ("origin", "https://127.0.0.1:8080"),
                    ("content-type", form),
                ],
                Err(Refusal::ForeignOrigin),
            ),
            (
                &[host, same, ("content-type", "text/plain")],
                Err(Refusal::NotAForm),
            ),
            (
                &[
                    host,
                    same,
                    ("content-type", "multipart/form-data; boundary=x"),
                ],
                Err(Refusal::NotAForm),
            ),
            (&[host, same], Err(Refusal::NotAForm)),
        ];
        for (headers, expected) in cases {
            assert_eq!(
                check_form_post(
                    &post(headers),
                    &key,
                    PageForm::PortalCancel,
                    "s1",
                    Some(&token)
                ),
                *expected,
                "{headers:?}"
            );
        }
        let ok = post(&[host, same, ("content-type", form)]);
        for wrong in [
            None,
            Some(""),
            Some("00"),
            Some(key.token(PageForm::PortalCancel, "s2").as_str()),
        ] {
            assert_eq!(
                check_form_post(&ok, &key, PageForm::PortalCancel, "s1", wrong),
                Err(Refusal::BadToken),
                "{wrong:?}"
            );
        }
    }
}
