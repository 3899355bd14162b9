//! Fetching a job's input: inline inputs come from the chain; remote ones from their URI
//! (`file://` or `http://`), capped at the posted length and checked against the posted hash.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use sp_core::H256;

use crate::client::InputSpec;

/// Why an input could not be had.
#[derive(Debug)]
pub enum FetchError {
    /// The URI's scheme is not supported.
    UnsupportedScheme(String),
    /// Reading or downloading failed.
    Io(String),
    /// More bytes than the job posted.
    TooLong,
    /// The bytes do not hash to the job's input hash.
    HashMismatch,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::UnsupportedScheme(s) => write!(f, "unsupported input URI (file:// and http:// are): {s}"),
            FetchError::Io(e) => write!(f, "fetching the input failed: {e}"),
            FetchError::TooLong => write!(f, "the input is longer than the job says"),
            FetchError::HashMismatch => write!(f, "the input does not match its hash"),
        }
    }
}

impl std::error::Error for FetchError {}

/// The input bytes of a job.
pub async fn input(spec: &InputSpec) -> Result<Vec<u8>, FetchError> {
    match spec {
        InputSpec::Inline(bytes) => Ok(bytes.to_vec()),
        InputSpec::Remote { hash, len, uri } => {
            let uri = String::from_utf8_lossy(uri).into_owned();
            let (hash, len) = (*hash, *len);
            tokio::task::spawn_blocking(move || remote(&uri, hash, len))
                .await
                .map_err(|e| FetchError::Io(e.to_string()))?
        },
    }
}

fn remote(uri: &str, hash: H256, len: u64) -> Result<Vec<u8>, FetchError> {
    let bytes = if let Some(path) = uri.strip_prefix("file://") {
        let file = std::fs::File::open(path).map_err(|e| FetchError::Io(format!("{path}: {e}")))?;
        read_capped(file, len)?
    } else if let Some(rest) = uri.strip_prefix("http://") {
        http_get(rest, len)?
    } else {
        return Err(FetchError::UnsupportedScheme(uri.into()));
    };
    if bytes.len() as u64 != len {
        return Err(FetchError::Io(format!("expected {len} bytes, got {}", bytes.len())));
    }
    if H256(sp_crypto_hashing::blake2_256(&bytes)) != hash {
        return Err(FetchError::HashMismatch);
    }
    Ok(bytes)
}

fn read_capped(reader: impl Read, len: u64) -> Result<Vec<u8>, FetchError> {
    let mut bytes = Vec::new();
    reader.take(len + 1).read_to_end(&mut bytes).map_err(|e| FetchError::Io(e.to_string()))?;
    if bytes.len() as u64 > len {
        return Err(FetchError::TooLong);
    }
    Ok(bytes)
}

/// A plain HTTP/1.0 GET of `host[:port]/path`, body capped at `len`.
fn http_get(rest: &str, len: u64) -> Result<Vec<u8>, FetchError> {
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let address = if authority.contains(':') { authority.to_string() } else { format!("{authority}:80") };
    let io = |e: std::io::Error| FetchError::Io(format!("{address}: {e}"));
    let mut stream = TcpStream::connect(&address).map_err(io)?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(io)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {authority}\r\n\r\n").map_err(io)?;
    // Headers are bounded too.
    let mut response = Vec::new();
    stream.take(len + 16 * 1024).read_to_end(&mut response).map_err(io)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or(FetchError::Io("malformed response".into()))?;
    let head = String::from_utf8_lossy(&response[..split]);
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(FetchError::Io(head.lines().next().unwrap_or_default().to_string()));
    }
    read_capped(&response[split + 4..], len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn remote_inputs_are_checked_against_hash_and_length() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("input.bin");
        std::fs::write(&path, b"remote input").expect("write");
        let uri = format!("file://{}", path.display());
        let spec = |hash: H256, len: u64, uri: &str| InputSpec::Remote {
            hash,
            len,
            uri: uri.as_bytes().to_vec().try_into().expect("short uri"),
        };
        let good = H256(sp_crypto_hashing::blake2_256(b"remote input"));
        assert_eq!(input(&spec(good, 12, &uri)).await.expect("fetches"), b"remote input");
        assert!(matches!(input(&spec(H256::zero(), 12, &uri)).await, Err(FetchError::HashMismatch)));
        assert!(matches!(input(&spec(good, 5, &uri)).await, Err(FetchError::TooLong)));
        assert!(matches!(input(&spec(good, 12, "ftp://x")).await, Err(FetchError::UnsupportedScheme(_))));
    }
}
