//! Fetching a job's remote input.
//!
//! A job's input is either inline (its bytes are on chain) or remote: a URI together with the
//! exact byte length and the blake2-256 hash of the bytes, both fixed on chain when the job was
//! posted. A [`Fetcher`] downloads a remote input and hands back its bytes only if they are
//! exactly what the job says. The URI comes from whoever posted the job, so it is untrusted and
//! the policy is strict:
//!
//! - **Schemes.** `https` and `http` only, over one shared [`reqwest::Client`] (rustls with the
//!   webpki root store plus [`FetchConfig::extra_roots`]; no native TLS, no OpenSSL, no proxy
//!   from the environment). `ipfs://` is refused with a hint to post an https gateway URL
//!   instead. `file://` is refused too, so that a job cannot probe the provider's local files;
//!   only a build with the crate feature `test-hooks` (tests and local demos, never a
//!   production provider) reads `file://` URIs. Any other scheme is
//!   [`FetchError::UnsupportedScheme`].
//! - **Size.** A job may not ask for more than [`FetchConfig::max_input_bytes`]. The body is
//!   streamed and never more than the job's `len` bytes are kept: a `Content-Length` above `len`
//!   is refused before the body is read, and a body without one is cut off as soon as it passes
//!   `len` ([`FetchError::TooLong`]). A `Content-Length` below `len`, or a body that ends short,
//!   is [`FetchError::WrongLength`].
//! - **Redirects.** At most [`FetchConfig::max_redirects`] are followed (more is
//!   [`FetchError::TooManyRedirects`]); a redirect from `https` to `http` is
//!   [`FetchError::InsecureRedirect`], and one to any scheme other than `http`/`https` is
//!   [`FetchError::UnsupportedScheme`].
//! - **Time.** Connecting is bounded by [`FetchConfig::connect_timeout`] and the whole fetch,
//!   body included, by [`FetchConfig::timeout`] ([`FetchError::Timeout`]).
//! - **Integrity.** Only a `200 OK` answer is taken (anything else is [`FetchError::Http`]), and
//!   the bytes are returned only when their length is exactly `len` and their blake2-256 is the
//!   job's hash ([`FetchError::HashMismatch`]).
//!
//! Inline inputs need no fetching: the caller takes their bytes from the chain. Hosts are not
//! filtered: an `http(s)` URI may name a loopback or private address, whose answer the job
//! never sees but can test against its hash.

use std::{error::Error as StdError, fmt, path::PathBuf, time::Duration};

use futures_util::StreamExt;
use reqwest::{redirect, StatusCode, Url};

/// How a [`Fetcher`] fetches.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// Most redirects followed for one input (0: none).
    pub max_redirects: usize,
    /// Longest wait for a connection (TCP and TLS handshake) to a server.
    pub connect_timeout: Duration,
    /// Longest time for a whole fetch: connecting, redirects and the full body.
    pub timeout: Duration,
    /// Largest input this provider fetches at all, whatever a job says.
    pub max_input_bytes: u64,
    /// CA certificates trusted on top of the webpki roots (e.g. a private gateway's CA).
    pub extra_roots: Vec<reqwest::Certificate>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            max_redirects: 3,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
            max_input_bytes: 256 * 1024 * 1024,
            extra_roots: Vec::new(),
        }
    }
}

/// Why a remote input could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URI does not parse.
    #[error("invalid input URI {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The URI (or a redirect) uses a scheme this provider does not fetch.
    #[error("unsupported input URI scheme `{scheme}`: {}", scheme_hint(.scheme))]
    UnsupportedScheme {
        /// The scheme, lower case.
        scheme: String,
    },
    /// The job's input is larger than this provider accepts ([`FetchConfig::max_input_bytes`]).
    #[error("the input is {len} bytes, over this provider's limit of {max} bytes")]
    InputTooLarge {
        /// The length the job says.
        len: u64,
        /// The provider's limit.
        max: u64,
    },
    /// The server answered with a status other than `200 OK`.
    #[error("the input server answered HTTP {status}")]
    Http {
        /// The HTTP status code.
        status: u16,
    },
    /// Connecting, TLS, or reading the response failed.
    #[error("fetching the input failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The fetch took longer than [`FetchConfig::connect_timeout`] or [`FetchConfig::timeout`].
    #[error("fetching the input timed out")]
    Timeout,
    /// More redirects than [`FetchConfig::max_redirects`].
    #[error("the input URI redirected more than {max} times")]
    TooManyRedirects {
        /// The limit.
        max: usize,
    },
    /// A redirect from `https` to plain `http`.
    #[error("refused a redirect from https to plain http ({to})")]
    InsecureRedirect {
        /// Where the redirect pointed.
        to: String,
    },
    /// The body is longer than the job says.
    #[error("the input is longer than the {len} bytes the job says")]
    TooLong {
        /// The length the job says.
        len: u64,
    },
    /// The body is shorter than the job says.
    #[error("the input is {got} bytes, not the {expected} bytes the job says")]
    WrongLength {
        /// The length the job says.
        expected: u64,
        /// The length the server declared or sent.
        got: u64,
    },
    /// The bytes do not hash to the job's input hash.
    #[error("the input does not match the job's input hash")]
    HashMismatch,
    /// Reading a `file://` input failed (only with the `test-hooks` feature).
    #[error("reading the input file {} failed: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn scheme_hint(scheme: &str) -> &'static str {
    match scheme {
        "ipfs" | "ipns" => "post an https gateway URL instead (https://<gateway>/ipfs/<cid>)",
        "file" => "local files are not served to jobs; use an http(s) URL",
        _ => "only https:// and http:// inputs are fetched",
    }
}

/// Why the redirect policy stopped a fetch; carried through `reqwest::Error`'s source chain.
#[derive(Debug)]
enum RedirectRefused {
    TooMany(usize),
    Insecure(Url),
    Scheme(String),
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectRefused::TooMany(max) => write!(f, "more than {max} redirects"),
            RedirectRefused::Insecure(to) => write!(f, "redirect from https to http ({to})"),
            RedirectRefused::Scheme(scheme) => write!(f, "redirect to scheme `{scheme}`"),
        }
    }
}

impl StdError for RedirectRefused {}

impl From<reqwest::Error> for FetchError {
    fn from(error: reqwest::Error) -> Self {
        let mut source = error.source();
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<RedirectRefused>() {
                return match refused {
                    RedirectRefused::TooMany(max) => FetchError::TooManyRedirects { max: *max },
                    RedirectRefused::Insecure(to) => {
                        FetchError::InsecureRedirect { to: to.to_string() }
                    },
                    RedirectRefused::Scheme(scheme) => {
                        FetchError::UnsupportedScheme { scheme: scheme.clone() }
                    },
                };
            }
            source = cause.source();
        }
        if error.is_timeout() {
            return FetchError::Timeout;
        }
        FetchError::Transport(error)
    }
}

/// At most this much is reserved up front for a body; the rest grows as bytes arrive.
const PREALLOCATE: u64 = 1024 * 1024;

/// Fetches remote inputs; holds one HTTP client, so connections are reused. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    max_input_bytes: u64,
}

impl Fetcher {
    /// A fetcher with `config`'s limits.
    pub fn new(config: FetchConfig) -> Result<Fetcher, FetchError> {
        let max_redirects = config.max_redirects;
        let policy = redirect::Policy::custom(move |attempt| {
            let next = attempt.url();
            let scheme = next.scheme();
            if scheme != "http" && scheme != "https" {
                let scheme = scheme.to_owned();
                return attempt.error(RedirectRefused::Scheme(scheme));
            }
            let from_https = attempt.previous().last().is_some_and(|url| url.scheme() == "https");
            if from_https && scheme == "http" {
                let next = next.clone();
                return attempt.error(RedirectRefused::Insecure(next));
            }
            // `previous` holds every URL requested so far, so its length is this redirect's number.
            if attempt.previous().len() > max_redirects {
                return attempt.error(RedirectRefused::TooMany(max_redirects));
            }
            attempt.follow()
        });
        let mut builder = reqwest::Client::builder()
            .redirect(policy)
            .referer(false)
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(concat!("tessera-worker/", env!("CARGO_PKG_VERSION")));
        for root in config.extra_roots {
            builder = builder.add_root_certificate(root);
        }
        let client = builder.build().map_err(FetchError::Transport)?;
        Ok(Fetcher { client, max_input_bytes: config.max_input_bytes })
    }

    /// The input at `uri`, if it is exactly `len` bytes with blake2-256 `hash`.
    pub async fn fetch(&self, uri: &str, len: u64, hash: &[u8; 32]) -> Result<Vec<u8>, FetchError> {
        let url = Url::parse(uri)
            .map_err(|e| FetchError::InvalidUri { uri: uri.to_owned(), reason: e.to_string() })?;
        match url.scheme() {
            "http" | "https" => {},
            #[cfg(feature = "test-hooks")]
            "file" => {},
            scheme => return Err(FetchError::UnsupportedScheme { scheme: scheme.to_owned() }),
        }
        if len > self.max_input_bytes {
            return Err(FetchError::InputTooLarge { len, max: self.max_input_bytes });
        }
        let bytes = match url.scheme() {
            #[cfg(feature = "test-hooks")]
            "file" => read_file(&url, len).await?,
            _ => self.download(url, len).await?,
        };
        verify(&bytes, len, hash)?;
        Ok(bytes)
    }

    /// The body of a `GET url`, never more than `len` bytes of it.
    async fn download(&self, url: Url, len: u64) -> Result<Vec<u8>, FetchError> {
        let response = self.client.get(url).send().await?;
        let status = response.status();
        if status.is_redirection() {
            // A redirect that was not followed because its target is no URL `reqwest` takes
            // (`file:///…` has no authority): refused like any other scheme but http(s).
            let location = response.headers().get(reqwest::header::LOCATION);
            let target = location
                .and_then(|location| location.to_str().ok())
                .and_then(|location| response.url().join(location).ok());
            if let Some(target) = target {
                if target.scheme() != "http" && target.scheme() != "https" {
                    let scheme = target.scheme().to_owned();
                    return Err(FetchError::UnsupportedScheme { scheme });
                }
            }
        }
        if status != StatusCode::OK {
            return Err(FetchError::Http { status: status.as_u16() });
        }
        if let Some(declared) = response.content_length() {
            if declared > len {
                return Err(FetchError::TooLong { len });
            }
            if declared < len {
                return Err(FetchError::WrongLength { expected: len, got: declared });
            }
        }
        // `len` is at most `max_input_bytes`, and the reservation is capped besides.
        let mut body = Vec::with_capacity(usize::try_from(len.min(PREALLOCATE)).unwrap_or(0));
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            if (body.len() as u64).saturating_add(chunk.len() as u64) > len {
                return Err(FetchError::TooLong { len });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// A `file://` input, never more than `len` bytes of it (test builds only).
#[cfg(feature = "test-hooks")]
async fn read_file(url: &Url, len: u64) -> Result<Vec<u8>, FetchError> {
    use tokio::io::AsyncReadExt;

    let path = url.to_file_path().map_err(|()| FetchError::InvalidUri {
        uri: url.to_string(),
        reason: "not a local file path".into(),
    })?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(source) => return Err(FetchError::File { path, source }),
    };
    let mut bytes = Vec::new();
    if let Err(source) = file.take(len.saturating_add(1)).read_to_end(&mut bytes).await {
        return Err(FetchError::File { path, source });
    }
    Ok(bytes)
}

/// Whether `bytes` are exactly the job's input.
fn verify(bytes: &[u8], len: u64, hash: &[u8; 32]) -> Result<(), FetchError> {
    let got = bytes.len() as u64;
    if got > len {
        return Err(FetchError::TooLong { len });
    }
    if got != len {
        return Err(FetchError::WrongLength { expected: len, got });
    }
    if sp_crypto_hashing::blake2_256(bytes) != *hash {
        return Err(FetchError::HashMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, net::SocketAddr, sync::Arc};

    use tokio::{
        io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;

    const BODY: &[u8] = b"remote input for a tessera job";

    fn hash(bytes: &[u8]) -> [u8; 32] {
        sp_crypto_hashing::blake2_256(bytes)
    }

    /// What a test server does for one path.
    #[derive(Clone)]
    enum Reply {
        /// Writes these bytes (a whole response) and closes.
        Raw(Vec<u8>),
        /// `200` with this body, `Content-Length` set.
        Ok(Vec<u8>),
        /// `200`, chunked (no `Content-Length`), with this body.
        Chunked(Vec<u8>),
        /// `200`, chunked, a body that never ends: 256 KiB, then the connection is held open.
        Endless,
        /// `200` declaring this `Content-Length`, then sends nothing and holds the connection.
        DeclareAndStall(u64),
        /// Reads the request and never answers.
        Silent,
        /// `302` to this location.
        Redirect(String),
    }

    fn status_404() -> Reply {
        Reply::Raw(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
                .to_vec(),
        )
    }

    /// Serves `routes` (path to reply) on `listener`, over TLS when `tls` is given.
    fn serve(
        listener: TcpListener,
        routes: HashMap<String, Reply>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let routes = Arc::new(routes);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let routes = routes.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                answer(stream, &routes).await;
                            }
                        },
                        None => answer(stream, &routes).await,
                    }
                });
            }
        });
    }

    /// Reads one request head and answers it from `routes`; errors just end the connection.
    async fn answer(
        mut stream: impl AsyncRead + AsyncWrite + Unpin,
        routes: &HashMap<String, Reply>,
    ) {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() > 16 * 1024 || !matches!(stream.read(&mut byte).await, Ok(1)) {
                return;
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        let path = head.split(' ').nth(1).unwrap_or_default();
        let reply = routes.get(path).cloned().unwrap_or_else(status_404);
        let _ = write_reply(&mut stream, reply).await;
    }

    async fn write_reply(
        stream: &mut (impl AsyncWrite + Unpin),
        reply: Reply,
    ) -> std::io::Result<()> {
        const CHUNKED: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        match reply {
            Reply::Raw(bytes) => stream.write_all(&bytes).await?,
            Reply::Ok(body) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).await?;
                stream.write_all(&body).await?;
            },
            Reply::Chunked(body) => {
                stream.write_all(CHUNKED).await?;
                for chunk in body.chunks(7) {
                    stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await?;
                    stream.write_all(chunk).await?;
                    stream.write_all(b"\r\n").await?;
                    stream.flush().await?;
                }
                stream.write_all(b"0\r\n\r\n").await?;
            },
            Reply::Endless => {
                stream.write_all(CHUNKED).await?;
                let chunk = [b'x'; 4096];
                for _ in 0..64 {
                    stream.write_all(b"1000\r\n").await?;
                    stream.write_all(&chunk).await?;
                    stream.write_all(b"\r\n").await?;
                }
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(30)).await;
            },
            Reply::DeclareAndStall(declared) => {
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n");
                stream.write_all(head.as_bytes()).await?;
                stream.flush().await?;
                tokio::time::sleep(Duration::from_secs(30)).await;
            },
            Reply::Silent => tokio::time::sleep(Duration::from_secs(30)).await,
            Reply::Redirect(location) => {
                let head = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
            },
        }
        stream.flush().await?;
        stream.shutdown().await
    }

    async fn bind() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        (listener, addr)
    }

    /// The routes both test servers serve; `base` is the server's own `scheme://host:port`.
    fn routes(base: &str) -> HashMap<String, Reply> {
        let mut body_and_more = BODY.to_vec();
        body_and_more.extend_from_slice(b" and then some");
        let mut routes = HashMap::from([
            ("/input".to_string(), Reply::Ok(BODY.to_vec())),
            ("/longer".to_string(), Reply::Ok(body_and_more.clone())),
            ("/longer-chunked".to_string(), Reply::Chunked(body_and_more)),
            ("/short-chunked".to_string(), Reply::Chunked(BODY[..10].to_vec())),
            ("/chunked".to_string(), Reply::Chunked(BODY.to_vec())),
            ("/endless".to_string(), Reply::Endless),
            ("/huge-length".to_string(), Reply::DeclareAndStall(10 * 1024 * 1024 * 1024)),
            ("/silent".to_string(), Reply::Silent),
            ("/to-file".to_string(), Reply::Redirect("file:///etc/passwd".into())),
            ("/to-ftp".to_string(), Reply::Redirect("ftp://127.0.0.1/input".into())),
            // Content-Length says the job's length but the connection closes 10 bytes in.
            (
                "/lying-length".to_string(),
                Reply::Raw(
                    [
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            BODY.len()
                        )
                        .as_bytes(),
                        &BODY[..10],
                    ]
                    .concat(),
                ),
            ),
            // Content-Length says fewer bytes than are sent (and than the job says).
            (
                "/understated-length".to_string(),
                Reply::Raw(
                    [
                        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"
                            .as_slice(),
                        BODY,
                    ]
                    .concat(),
                ),
            ),
        ]);
        // /hop/N redirects N times (absolute and relative Locations alternately) to /input.
        for n in 1..=5 {
            let next = if n == 1 { "/input".to_string() } else { format!("/hop/{}", n - 1) };
            let location = if n % 2 == 0 { format!("{base}{next}") } else { next };
            routes.insert(format!("/hop/{n}"), Reply::Redirect(location));
        }
        routes
    }

    /// Test servers on 127.0.0.1: plain HTTP and HTTPS (self-signed for localhost/127.0.0.1).
    struct Servers {
        http: String,
        https: String,
        ca: reqwest::Certificate,
    }

    async fn servers() -> Servers {
        let (http_listener, http_addr) = bind().await;
        let http = format!("http://{http_addr}");
        serve(http_listener, routes(&http), None);

        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("self-signed certificate");
        let cert_der = cert.serialize_der().expect("certificate DER");
        let key_der = cert.serialize_private_key_der();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![rustls::pki_types::CertificateDer::from(cert_der.clone())],
                rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
            )
            .expect("server TLS config");
        let (https_listener, https_addr) = bind().await;
        let https = format!("https://{https_addr}");
        let mut https_routes = routes(&https);
        https_routes.insert("/to-http".into(), Reply::Redirect(format!("{http}/input")));
        https_routes.insert("/to-https".into(), Reply::Redirect(format!("{https}/input")));
        serve(
            https_listener,
            https_routes,
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(tls_config))),
        );

        let ca = reqwest::Certificate::from_der(&cert_der).expect("certificate for reqwest");
        Servers { http, https, ca }
    }

    fn config(servers: &Servers) -> FetchConfig {
        FetchConfig {
            timeout: Duration::from_secs(10),
            extra_roots: vec![servers.ca.clone()],
            ..FetchConfig::default()
        }
    }

    fn fetcher(servers: &Servers) -> Fetcher {
        Fetcher::new(config(servers)).expect("fetcher")
    }

    async fn fetch_body(fetcher: &Fetcher, uri: &str) -> Result<Vec<u8>, FetchError> {
        fetcher.fetch(uri, BODY.len() as u64, &hash(BODY)).await
    }

    #[tokio::test]
    async fn fetches_over_http_and_https() {
        let s = servers().await;
        let f = fetcher(&s);
        for base in [&s.http, &s.https] {
            let uri = format!("{base}/input");
            assert_eq!(fetch_body(&f, &uri).await.expect("fetches"), BODY, "{uri}");
            // Without Content-Length, in several chunks.
            let uri = format!("{base}/chunked");
            assert_eq!(fetch_body(&f, &uri).await.expect("fetches"), BODY, "{uri}");
        }
        // The same client twice (connection reuse) still works.
        assert_eq!(fetch_body(&f, &format!("{}/input", s.https)).await.expect("again"), BODY);
    }

    #[tokio::test]
    async fn https_needs_a_trusted_certificate() {
        let s = servers().await;
        let untrusting = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let err =
            fetch_body(&untrusting, &format!("{}/input", s.https)).await.expect_err("must fail");
        assert!(matches!(err, FetchError::Transport(_)), "{err:?}");
    }

    #[tokio::test]
    async fn wrong_hash_is_refused() {
        let s = servers().await;
        let f = fetcher(&s);
        for base in [&s.http, &s.https] {
            let mut wrong = hash(BODY);
            wrong[0] ^= 1;
            let err = f.fetch(&format!("{base}/input"), BODY.len() as u64, &wrong).await;
            assert!(matches!(err, Err(FetchError::HashMismatch)), "{err:?}");
        }
    }

    #[tokio::test]
    async fn longer_body_than_the_job_says_is_refused() {
        let s = servers().await;
        let f = fetcher(&s);
        let len = BODY.len() as u64;
        for base in [&s.http, &s.https] {
            // Content-Length above `len`, refused before the body.
            let err = fetch_body(&f, &format!("{base}/longer")).await;
            assert!(matches!(err, Err(FetchError::TooLong { len: l }) if l == len), "{err:?}");
            // No Content-Length: the streamed body is cut off past `len`.
            let err = fetch_body(&f, &format!("{base}/longer-chunked")).await;
            assert!(matches!(err, Err(FetchError::TooLong { len: l }) if l == len), "{err:?}");
        }
    }

    #[tokio::test]
    async fn an_endless_body_is_cut_off_at_the_length() {
        let s = servers().await;
        let f = fetcher(&s);
        // The body never ends: a fetcher that read on would time out instead.
        let started = std::time::Instant::now();
        let err = f.fetch(&format!("{}/endless", s.http), 10_000, &[0; 32]).await;
        assert!(matches!(err, Err(FetchError::TooLong { len: 10_000 })), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_huge_content_length_is_refused_before_the_body() {
        let s = servers().await;
        // The server never sends the body: reading it would end in a timeout, not TooLong.
        let f = fetcher(&s);
        let err = fetch_body(&f, &format!("{}/huge-length", s.http)).await;
        assert!(matches!(err, Err(FetchError::TooLong { .. })), "{err:?}");
    }

    #[tokio::test]
    async fn shorter_body_than_the_job_says_is_refused() {
        let s = servers().await;
        let f = fetcher(&s);
        let len = BODY.len() as u64;
        // Streamed without Content-Length, 10 bytes.
        let err = fetch_body(&f, &format!("{}/short-chunked", s.http)).await;
        assert!(
            matches!(err, Err(FetchError::WrongLength { expected, got: 10 }) if expected == len),
            "{err:?}"
        );
        // Content-Length of 10 (though more is sent): refused from the header.
        let err = fetch_body(&f, &format!("{}/understated-length", s.https)).await;
        assert!(
            matches!(err, Err(FetchError::WrongLength { expected, got: 10 }) if expected == len),
            "{err:?}"
        );
        // Content-Length right, but the body ends early: an error, never the short bytes.
        for base in [&s.http, &s.https] {
            let err = fetch_body(&f, &format!("{base}/lying-length")).await;
            assert!(matches!(err, Err(FetchError::Transport(_))), "{err:?}");
        }
        // The same bytes fetched for a job that says they are longer.
        let err = f.fetch(&format!("{}/input", s.http), len + 1, &hash(BODY)).await;
        assert!(matches!(err, Err(FetchError::WrongLength { got, .. }) if got == len), "{err:?}");
    }

    #[tokio::test]
    async fn http_errors_carry_the_status() {
        let s = servers().await;
        let f = fetcher(&s);
        for base in [&s.http, &s.https] {
            let err = fetch_body(&f, &format!("{base}/no-such-input")).await;
            assert!(matches!(err, Err(FetchError::Http { status: 404 })), "{err:?}");
        }
    }

    #[tokio::test]
    async fn redirects_are_followed_up_to_the_limit() {
        let s = servers().await;
        let f = fetcher(&s); // max_redirects: 3 (the default)
        for base in [&s.http, &s.https] {
            for hops in 1..=3 {
                let uri = format!("{base}/hop/{hops}");
                assert_eq!(fetch_body(&f, &uri).await.expect("within the limit"), BODY, "{uri}");
            }
            for hops in [4, 5] {
                let err = fetch_body(&f, &format!("{base}/hop/{hops}")).await;
                assert!(matches!(err, Err(FetchError::TooManyRedirects { max: 3 })), "{err:?}");
            }
        }
        let none = Fetcher::new(FetchConfig { max_redirects: 0, ..config(&s) }).expect("fetcher");
        let err = fetch_body(&none, &format!("{}/hop/1", s.http)).await;
        assert!(matches!(err, Err(FetchError::TooManyRedirects { max: 0 })), "{err:?}");
        assert_eq!(fetch_body(&none, &format!("{}/input", s.http)).await.expect("direct"), BODY);
    }

    #[tokio::test]
    async fn a_redirect_from_https_to_http_is_refused() {
        let s = servers().await;
        let f = fetcher(&s);
        let err = fetch_body(&f, &format!("{}/to-http", s.https)).await;
        match err {
            Err(FetchError::InsecureRedirect { to }) => assert_eq!(to, format!("{}/input", s.http)),
            other => panic!("{other:?}"),
        }
        // https to https is fine.
        assert_eq!(fetch_body(&f, &format!("{}/to-https", s.https)).await.expect("ok"), BODY);
    }

    #[tokio::test]
    async fn a_redirect_to_another_scheme_is_refused() {
        let s = servers().await;
        let f = fetcher(&s);
        for (path, scheme) in [("/to-file", "file"), ("/to-ftp", "ftp")] {
            let err = fetch_body(&f, &format!("{}{path}", s.http)).await;
            assert!(
                matches!(&err, Err(FetchError::UnsupportedScheme { scheme: s }) if s == scheme),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn timeouts_are_typed() {
        let s = servers().await;
        let f = Fetcher::new(FetchConfig { timeout: Duration::from_millis(300), ..config(&s) })
            .expect("fetcher");
        let started = std::time::Instant::now();
        let err = fetch_body(&f, &format!("{}/silent", s.http)).await;
        assert!(matches!(err, Err(FetchError::Timeout)), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn the_global_cap_applies_whatever_the_job_says() {
        let s = servers().await;
        let f = Fetcher::new(FetchConfig { max_input_bytes: 16, ..config(&s) }).expect("fetcher");
        let err = fetch_body(&f, &format!("{}/input", s.http)).await;
        assert!(
            matches!(err, Err(FetchError::InputTooLarge { len, max: 16 }) if len == BODY.len() as u64),
            "{err:?}"
        );
        assert_eq!(
            f.fetch(&format!("{}/short-chunked", s.http), 10, &hash(&BODY[..10]))
                .await
                .expect("small"),
            &BODY[..10]
        );
    }

    #[tokio::test]
    async fn unsupported_schemes_are_refused() {
        let f = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let err = fetch_body(&f, "ftp://127.0.0.1/input").await;
        assert!(
            matches!(&err, Err(FetchError::UnsupportedScheme { scheme }) if scheme == "ftp"),
            "{err:?}"
        );

        let err =
            fetch_body(&f, "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi")
                .await
                .expect_err("must fail");
        assert!(
            matches!(&err, FetchError::UnsupportedScheme { scheme } if scheme == "ipfs"),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("https gateway URL"), "{message}");

        let err = fetch_body(&f, "not a uri").await;
        assert!(matches!(err, Err(FetchError::InvalidUri { .. })), "{err:?}");
    }

    #[cfg(not(feature = "test-hooks"))]
    #[tokio::test]
    async fn local_files_are_not_served_without_test_hooks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("input.bin");
        std::fs::write(&path, BODY).expect("write");
        let f = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let err = fetch_body(&f, &format!("file://{}", path.display())).await;
        assert!(
            matches!(&err, Err(FetchError::UnsupportedScheme { scheme }) if scheme == "file"),
            "{err:?}"
        );
    }

    #[cfg(feature = "test-hooks")]
    #[tokio::test]
    async fn local_files_are_served_with_test_hooks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("input.bin");
        std::fs::write(&path, BODY).expect("write");
        let uri = format!("file://{}", path.display());
        let f = Fetcher::new(FetchConfig::default()).expect("fetcher");
        let len = BODY.len() as u64;
        assert_eq!(fetch_body(&f, &uri).await.expect("reads the file"), BODY);
        // The same checks as over the network.
        let err = f.fetch(&uri, len, &[0; 32]).await;
        assert!(matches!(err, Err(FetchError::HashMismatch)), "{err:?}");
        let err = f.fetch(&uri, len - 1, &hash(BODY)).await;
        assert!(matches!(err, Err(FetchError::TooLong { .. })), "{err:?}");
        let err = f.fetch(&uri, len + 1, &hash(BODY)).await;
        assert!(matches!(err, Err(FetchError::WrongLength { got, .. }) if got == len), "{err:?}");
        let missing = format!("file://{}", dir.path().join("missing").display());
        let err = fetch_body(&f, &missing).await;
        assert!(matches!(err, Err(FetchError::File { .. })), "{err:?}");
    }
}
