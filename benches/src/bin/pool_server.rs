//! `pool_server --cert C.pem --key K.pem [--threads N] [--cache-size N]`
//!
//! A minimal TCP server around the library, for `benches/s_time.sh`: it separates what the
//! library costs per connection from what the CLI's server loop costs (its worker pool,
//! its outcome handling, its flags). `N` long-lived threads (default 2) each
//! block in `accept` on the same listener and serve one connection at a time through
//! `tls12::stream::Stream`: the handshake, then one HTTP request answered (or the peer's
//! close awaited). Nothing is printed but `listening on 127.0.0.1:PORT`. It listens on
//! 127.0.0.1 only, on a port the system picks, until killed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tls12::crypto::ring::{RingProvider, RingSigningKey};
use tls12::handshake::server::ServerConfig;
use tls12::session::InMemoryCache;
use tls12::stream::{ServerEndpoint, Stream};
use tls12::ServerConnection;

const USAGE: &str = "usage: pool_server --cert C.pem --key K.pem [--threads N] [--cache-size N]";

struct Args {
    cert: String,
    key: String,
    threads: usize,
    cache_size: usize,
}

fn args() -> Result<Args, String> {
    let (mut cert, mut key, mut threads, mut cache_size) = (None, None, 2, 1024);
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--cert" => cert = Some(value()?),
            "--key" => key = Some(value()?),
            "--threads" => threads = value()?.parse().map_err(|_| "--threads: a number")?,
            "--cache-size" => {
                cache_size = value()?.parse().map_err(|_| "--cache-size: a number")?
            }
            _ => return Err(USAGE.into()),
        }
    }
    Ok(Args {
        cert: cert.ok_or(USAGE)?,
        key: key.ok_or(USAGE)?,
        threads: threads.max(1),
        cache_size,
    })
}

fn config(args: &Args) -> Result<ServerConfig<RingProvider>, String> {
    let chain = CertificateDer::pem_file_iter(&args.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", args.cert))?
        .into_iter()
        .map(|c| tls12::msgs::CertificateDer(c.to_vec()))
        .collect();
    let key = PrivateKeyDer::from_pem_file(&args.key).map_err(|e| format!("{}: {e}", args.key))?;
    let key = RingSigningKey::from_der(&key).map_err(|e| format!("{}: {e:?}", args.key))?;
    let mut config = ServerConfig::new(chain, key);
    config.resumption = args.cache_size > 0;
    Ok(config)
}

/// One connection: handshake, then one HTTP request answered, or the peer's close.
fn serve(
    socket: TcpStream,
    config: &Arc<ServerConfig<RingProvider>>,
    cache: &Arc<Mutex<InMemoryCache>>,
) {
    let _ = socket.set_nodelay(true);
    let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
    let endpoint = ServerEndpoint {
        conn: ServerConnection::new(Arc::clone(config), RingProvider::new()),
        cache: Arc::clone(cache),
    };
    let mut stream = Stream::new(endpoint, socket);
    if stream.handshake().is_err() {
        return;
    }
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let body = "tls12 pool_server\n";
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.close();
}

fn main() {
    let args = match args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let config = match config(&args) {
        Ok(c) => Arc::new(c),
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(1);
        }
    };
    let cache = Arc::new(Mutex::new(InMemoryCache::new(args.cache_size, 24 * 3600)));
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    println!("listening on 127.0.0.1:{port}");
    let _ = std::io::stdout().flush();
    let workers: Vec<_> = (0..args.threads)
        .map(|_| {
            let listener = listener.try_clone().expect("listener clone");
            let (config, cache) = (Arc::clone(&config), Arc::clone(&cache));
            std::thread::spawn(move || loop {
                if let Ok((socket, _)) = listener.accept() {
                    serve(socket, &config, &cache);
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
}
