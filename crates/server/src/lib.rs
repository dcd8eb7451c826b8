//! Liaison's two listeners and the tasks that run beside them.
//!
//! - Federation: HTTPS with mutual TLS; only pinned peers get past the
//!   handshake, and every request carries the [`PeerIdentity`] their
//!   certificate proves.
//! - App: the API (and later UI); plain HTTP only on loopback, HTTPS with the
//!   node's certificate otherwise.
//!
//! [`start`] runs both on already-bound listeners (tests bind
//! `127.0.0.1:0`); [`Server::shutdown`] stops accepting, lets requests in
//! flight finish, and returns.

pub mod api;
pub mod auth;
mod downloads;
pub mod error;
mod extract;
mod federation_routes;
pub mod limits;
mod log_routes;
pub mod route_table;
pub mod taxii;
pub mod ui;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse as _;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use liaison_core::card::CheckedCard;
use liaison_node::tls::PinSource;
use liaison_node::{Node, NodeError};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}")]
    Node(#[from] NodeError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
}

/// The peer a federation request comes from, as proven by its certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity {
    pub card: Arc<CheckedCard>,
}

/// Bound sockets for the two listeners.
pub struct Listeners {
    pub federation: TcpListener,
    pub app: TcpListener,
}

/// Binds the addresses in the node's configuration.
pub async fn bind(node: &Node) -> Result<Listeners, ServerError> {
    let bind = |addr: String| async move {
        TcpListener::bind(&addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })
    };
    Ok(Listeners {
        federation: bind(node.config().federation.listen.clone()).await?,
        app: bind(node.config().app.listen.clone()).await?,
    })
}

/// A running node server.
pub struct Server {
    pub federation_addr: SocketAddr,
    pub app_addr: SocketAddr,
    /// Whether the app listener speaks HTTPS (it does unless on loopback).
    pub app_tls: bool,
    shutdown: watch::Sender<bool>,
    /// The listeners.
    tasks: JoinSet<()>,
    /// The node's workers (`Node::run`).
    workers: JoinSet<()>,
}

impl Server {
    /// Stops accepting, waits (up to 10 s) for requests in flight, and for
    /// background tasks to stop.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
        while self.workers.join_next().await.is_some() {}
    }

    /// Resolves when a listener task stops on its own (which is an error).
    pub async fn stopped(&mut self) {
        self.tasks.join_next().await;
    }
}

struct StorePins(Node);

impl std::fmt::Debug for StorePins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StorePins({})", self.0.party())
    }
}

impl PinSource for StorePins {
    fn is_pinned(&self, fingerprint: &[u8; 32]) -> bool {
        matches!(self.0.peer_by_fingerprint(fingerprint), Ok(Some(_)))
    }
}

/// Starts serving on bound listeners.
pub async fn start(node: Node, listeners: Listeners) -> Result<Server, ServerError> {
    node.log_card_if_changed().await?;
    // The directory entry follows the card (contacts kept).
    node.publish_directory(None).await?;
    let federation_addr = local_addr(&listeners.federation)?;
    let app_addr = local_addr(&listeners.app)?;
    let (shutdown, watcher) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let fed_tls = liaison_node::tls::server_config(
        node.tls_keys().clone(),
        Arc::new(StorePins(node.clone())),
    )?;
    let trusted = limits::TrustedProxies::parse(&node.config().limits.trusted_proxies)
        .map_err(ServerError::Config)?;
    tasks.spawn(serve_tls(
        listeners.federation,
        TlsAcceptor::from(Arc::new(fed_tls)),
        federation_router(node.clone()),
        Some(node.clone()),
        Bounds::of(&node),
        watcher.clone(),
    ));

    let app_tls = !app_addr.ip().is_loopback();
    if app_tls {
        let config = app_tls_config(&node)?;
        tasks.spawn(serve_tls(
            listeners.app,
            TlsAcceptor::from(Arc::new(config)),
            app_router(node.clone(), app_tls, app_addr, trusted.clone()),
            None,
            Bounds::of(&node),
            watcher.clone(),
        ));
    } else {
        tasks.spawn(serve_plain(
            listeners.app,
            app_router(node.clone(), app_tls, app_addr, trusted),
            Bounds::of(&node),
            watcher.clone(),
        ));
    }

    // The node's own workers (delivery, witnesses, deadlines, …) run beside the listeners.
    let workers = node.run(watcher.clone());

    tracing::info!(%federation_addr, %app_addr, party = %node.party(), "serving");
    Ok(Server {
        federation_addr,
        app_addr,
        app_tls,
        shutdown,
        tasks,
        workers,
    })
}

fn local_addr(l: &TcpListener) -> Result<SocketAddr, ServerError> {
    l.local_addr().map_err(|source| ServerError::Bind {
        addr: "a bound socket".into(),
        source,
    })
}

fn app_tls_config(node: &Node) -> Result<rustls::ServerConfig, ServerError> {
    // The app listener authenticates users, not certificates: no client auth.
    let provider = liaison_node::tls::provider(node.tls().post_quantum);
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file_compat(&node.dir().tls_key())?;
    let cert = rustls::pki_types::CertificateDer::from_pem_slice_compat(
        node.tls().certificate_pem.as_bytes(),
    )?;
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert], key))
        .map_err(|e| ServerError::Config(format!("app TLS: {e}")))
}

trait PemCompat: Sized {
    fn from_pem_file_compat(path: &std::path::Path) -> Result<Self, ServerError>;
    fn from_pem_slice_compat(bytes: &[u8]) -> Result<Self, ServerError>;
}

impl<T: rustls::pki_types::pem::PemObject> PemCompat for T {
    fn from_pem_file_compat(path: &std::path::Path) -> Result<Self, ServerError> {
        T::from_pem_file(path).map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))
    }
    fn from_pem_slice_compat(bytes: &[u8]) -> Result<Self, ServerError> {
        T::from_pem_slice(bytes).map_err(|e| ServerError::Config(format!("certificate: {e}")))
    }
}

fn federation_router(node: Node) -> Router {
    Router::new()
        .merge(log_routes::routes())
        .merge(federation_routes::routes())
        .with_state(node)
        .layer(axum::middleware::map_response(ui::security_headers))
}

/// The app listener: health, the log (read-only), the JSON API and the web UI.
pub fn app_router(
    node: Node,
    tls: bool,
    bound: SocketAddr,
    trusted: limits::TrustedProxies,
) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(log_routes::routes())
        .merge(api::routes(&node))
        .merge(taxii::routes(&node, tls, bound))
        .with_state(node.clone())
        .merge(ui::routes(ui::UiState::new(node, tls)))
        .layer(axum::Extension(trusted))
        .layer(axum::middleware::map_response(ui::security_headers))
}

const GRACE: Duration = Duration::from_secs(10);

/// What a listener allows each connection and request (`[limits]`).
#[derive(Clone)]
struct Bounds {
    gate: limits::ConnectionGate,
    header_timeout: Duration,
    body_timeout: Duration,
    request_timeout: Duration,
}

impl Bounds {
    fn of(node: &Node) -> Bounds {
        let l = &node.config().limits;
        Bounds {
            gate: limits::ConnectionGate::new(l.max_connections, l.max_connections_per_client),
            header_timeout: Duration::from_secs(l.header_timeout_secs.max(1)),
            body_timeout: Duration::from_secs(l.body_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(l.request_timeout_secs.max(1)),
        }
    }
}

/// How a listener's connections are secured.
// One value per listener, moved into each connection task: size is irrelevant.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Transport {
    Plain,
    /// With `peers` set (the federation listener), each connection's client
    /// certificate must map to a pinned peer, whose identity is attached to
    /// every request on it.
    Tls {
        acceptor: TlsAcceptor,
        peers: Option<Node>,
    },
}

async fn serve_plain(
    listener: TcpListener,
    router: Router,
    bounds: Bounds,
    shutdown: watch::Receiver<bool>,
) {
    serve(listener, Transport::Plain, router, bounds, shutdown).await
}

async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    peers: Option<Node>,
    bounds: Bounds,
    shutdown: watch::Receiver<bool>,
) {
    serve(
        listener,
        Transport::Tls { acceptor, peers },
        router,
        bounds,
        shutdown,
    )
    .await
}

async fn serve(
    listener: TcpListener,
    transport: Transport,
    router: Router,
    bounds: Bounds,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                while connections.try_join_next().is_some() {}
                let Ok((tcp, remote)) = accepted else {
                    // Out of file descriptors or similar: back off, keep serving.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                // Over the caps (overall, or for this client): closed at once.
                let Some(admitted) = bounds.gate.admit(remote.ip()) else {
                    drop(tcp);
                    continue;
                };
                connections.spawn(serve_connection(
                    tcp,
                    remote,
                    transport.clone(),
                    router.clone(),
                    bounds.clone(),
                    admitted,
                    shutdown.clone(),
                ));
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

async fn serve_connection(
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    transport: Transport,
    router: Router,
    bounds: Bounds,
    admitted: limits::Admitted,
    shutdown: watch::Receiver<bool>,
) {
    let _admitted = admitted;
    match transport {
        Transport::Plain => {
            serve_http(TokioIo::new(tcp), router, None, remote, &bounds, shutdown).await
        }
        Transport::Tls { acceptor, peers } => {
            let stream =
                match tokio::time::timeout(bounds.header_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::warn!(%remote, "TLS handshake refused: {e}");
                        return;
                    }
                    Err(_) => return,
                };
            let identity = match &peers {
                None => None,
                Some(node) => match peer_of(node, &stream) {
                    Some(card) => Some(PeerIdentity {
                        card: Arc::new(card),
                    }),
                    None => {
                        tracing::warn!(%remote, "connection from an unpinned certificate dropped");
                        return;
                    }
                },
            };
            serve_http(
                TokioIo::new(stream),
                router,
                identity,
                remote,
                &bounds,
                shutdown,
            )
            .await
        }
    }
}

async fn serve_http<IO>(
    io: TokioIo<IO>,
    router: Router,
    identity: Option<PeerIdentity>,
    remote: SocketAddr,
    bounds: &Bounds,
    mut shutdown: watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (body_timeout, request_timeout) = (bounds.body_timeout, bounds.request_timeout);
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        // A body that sends nothing for `body_timeout` is cut off.
        let mut req = req
            .map(|b| axum::body::Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, b)));
        req.extensions_mut().insert(limits::ClientAddr(remote));
        if let Some(id) = &identity {
            req.extensions_mut().insert(id.clone());
        }
        let router = router.clone();
        async move {
            let answer = tokio::time::timeout(request_timeout, router.oneshot(req)).await;
            Ok::<_, Infallible>(match answer {
                Ok(r) => r.unwrap_or_else(|e| match e {}),
                Err(_) => error::ApiError::new(
                    axum::http::StatusCode::REQUEST_TIMEOUT,
                    "timeout",
                    format!(
                        "the request took longer than {} s",
                        request_timeout.as_secs()
                    ),
                )
                .into_response(),
            })
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    // The header timeout also closes a kept-alive connection that sends
    // no next request: hyper starts it when it waits for a request head.
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(bounds.header_timeout)
        .max_buf_size(64 * 1024);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

fn peer_of(
    node: &Node,
    stream: &tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<CheckedCard> {
    let cert = stream.get_ref().1.peer_certificates()?.first()?;
    node.peer_by_fingerprint(&liaison_node::tls::fingerprint(cert))
        .ok()
        .flatten()
}
