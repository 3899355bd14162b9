//! One WebSocket connection per node for everything a tool says to it: subxt's calls and
//! subscriptions and the `tessera_*` methods go over the same jsonrpsee client (the version
//! the node itself is built with), and every request is counted, so a daemon can report how
//! many calls its work costs.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use futures::{StreamExt, TryStreamExt};
use jsonrpsee::{
    core::{
        client::{ClientT, Error as RpcError, SubscriptionClientT, SubscriptionKind},
        traits::ToRpcParams,
    },
    types::SubscriptionId,
    ws_client::{WsClient, WsClientBuilder},
};
use serde_json::value::RawValue;
use subxt::rpcs::{
    client::{RawRpcFuture, RawRpcSubscription, RpcClientT},
    Error as SubxtRpcError, UserError,
};

/// A node connection shared by subxt and the RPC client, with a request counter.
#[derive(Clone)]
pub struct Transport {
    ws: Arc<WsClient>,
    requests: Arc<AtomicU64>,
}

impl Transport {
    /// Connects to `url` (`ws://` or `wss://`).
    pub async fn connect(url: &str) -> Result<Transport, RpcError> {
        let ws = WsClientBuilder::default()
            .request_timeout(Duration::from_secs(60))
            .connection_timeout(Duration::from_secs(10))
            .max_response_size(64 << 20)
            .max_buffer_capacity_per_subscription(4096)
            .build(url)
            .await?;
        Ok(Transport { ws: Arc::new(ws), requests: Arc::new(AtomicU64::new(0)) })
    }

    /// The jsonrpsee client, counting one request.
    pub fn counted(&self) -> &WsClient {
        self.requests.fetch_add(1, Ordering::Relaxed);
        &self.ws
    }

    /// Requests and subscriptions made through this connection so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.ws.is_connected()
    }
}

struct Params(Option<Box<RawValue>>);

impl ToRpcParams for Params {
    fn to_rpc_params(self) -> Result<Option<Box<RawValue>>, serde_json::Error> {
        Ok(self.0)
    }
}

fn to_subxt(error: RpcError) -> SubxtRpcError {
    match error {
        RpcError::Call(e) => SubxtRpcError::User(UserError {
            code: e.code(),
            message: e.message().to_owned(),
            data: e.data().map(|d| d.to_owned()),
        }),
        other => SubxtRpcError::Client(Box::new(other)),
    }
}

impl RpcClientT for Transport {
    fn request_raw<'a>(&'a self, method: &'a str, params: Option<Box<RawValue>>) -> RawRpcFuture<'a, Box<RawValue>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move { ClientT::request(&*self.ws, method, Params(params)).await.map_err(to_subxt) })
    }

    fn subscribe_raw<'a>(
        &'a self,
        sub: &'a str,
        params: Option<Box<RawValue>>,
        unsub: &'a str,
    ) -> RawRpcFuture<'a, RawRpcSubscription> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        Box::pin(async move {
            let stream = SubscriptionClientT::subscribe::<Box<RawValue>, _>(&*self.ws, sub, Params(params), unsub)
                .await
                .map_err(to_subxt)?;
            let id = match stream.kind() {
                SubscriptionKind::Subscription(SubscriptionId::Str(id)) => Some(id.clone().into_owned()),
                _ => None,
            };
            let stream = stream.map_err(|e| SubxtRpcError::Client(Box::new(e))).boxed();
            Ok(RawRpcSubscription { stream, id })
        })
    }
}
