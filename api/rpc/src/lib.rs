//! # The `tessera_*` JSON-RPC namespace
//!
//! Jobs, providers, quotes and why a job is unmatched, answered by the runtime's
//! [`TesseraApi`](tessera_runtime_api::TesseraApi) at the best block (or a block the caller
//! names). One trait, [`TesseraRpc`], is the definition of the namespace: the node serves it
//! through [`Tessera`] (feature `server`), and tools call it through the `TesseraRpcClient`
//! that jsonrpsee generates from the same trait (feature `client`), implemented for every
//! jsonrpsee client. Clients that are not written in Rust load [`DEFINITIONS`]
//! (`api/rpc/definitions.json`, the shape polkadot.js takes as its `rpc` option).
//!
//! | method | params | result |
//! |---|---|---|
//! | `tessera_job` | `id`, `at?` | `JobView` or `null` |
//! | `tessera_jobs` | `status?`, `from?`, `limit?`, `at?` | `JobPage` (ascending ids, `next` cursor) |
//! | `tessera_provider` | `account` (SS58), `at?` | `ProviderView` or `null` |
//! | `tessera_quoteJob` | `QuoteParams`, `at?` | `QuoteView`, or error 2 naming the market error |
//! | `tessera_whyUnmatched` | `id`, `at?` | `Unmatched` or `null` |
//! | `tessera_canClaim` | `id`, `account` (SS58), `at?` | `null` when it may claim, else the `Reason` |

#[cfg(not(any(feature = "client", feature = "server")))]
compile_error!("tessera-rpc: enable `client`, `server` or both");

use jsonrpsee::{core::RpcResult, proc_macros::rpc};
pub use tessera_runtime_api::{
    AccountId, JobId, JobPage, JobStatus, JobView, ProviderView, QuoteParams, QuoteView, Reason, Unmatched, MAX_PAGE,
};

#[cfg(feature = "server")]
pub use server::Tessera;

/// The namespace's definitions as polkadot.js takes them (`new ApiPromise({ rpc })`): every
/// method with its parameters and a `Json` result.
pub const DEFINITIONS: &str = include_str!("../definitions.json");

/// The runtime API call failed (or the runtime has no Tessera API at that block).
pub const RUNTIME_ERROR: i32 = 1;
/// The quoted parameters would be refused by the market; the message names the error.
pub const QUOTE_REFUSED: i32 = 2;

/// Tessera's RPC methods.
#[cfg_attr(all(feature = "client", feature = "server"), rpc(client, server, namespace = "tessera"))]
#[cfg_attr(all(feature = "client", not(feature = "server")), rpc(client, namespace = "tessera"))]
#[cfg_attr(all(feature = "server", not(feature = "client")), rpc(server, namespace = "tessera"))]
pub trait TesseraRpc<BlockHash> {
    /// A job by id, live or with its result still kept.
    #[method(name = "job")]
    fn job(&self, id: JobId, at: Option<BlockHash>) -> RpcResult<Option<JobView>>;

    /// Jobs with ids from `from` (default 0) with `status` (default: any), at most `limit`
    /// (default and maximum 100).
    #[method(name = "jobs")]
    fn jobs(
        &self,
        status: Option<JobStatus>,
        from: Option<JobId>,
        limit: Option<u32>,
        at: Option<BlockHash>,
    ) -> RpcResult<JobPage>;

    /// A registered provider.
    #[method(name = "provider")]
    fn provider(&self, account: AccountId, at: Option<BlockHash>) -> RpcResult<Option<ProviderView>>;

    /// What posting a job with these parameters would hold.
    #[method(name = "quoteJob")]
    fn quote_job(&self, params: QuoteParams, at: Option<BlockHash>) -> RpcResult<QuoteView>;

    /// Why a job's replica slots are not (all) taken.
    #[method(name = "whyUnmatched")]
    fn why_unmatched(&self, id: JobId, at: Option<BlockHash>) -> RpcResult<Option<Unmatched>>;

    /// Whether `account` may claim a replica slot of job `id` now: `null` when it may, else the
    /// first requirement it fails (the same checks `claim_slot` makes).
    #[method(name = "canClaim")]
    fn can_claim(&self, id: JobId, account: AccountId, at: Option<BlockHash>) -> RpcResult<Option<Reason>>;
}

/// The handler the node serves.
#[cfg(feature = "server")]
mod server {
    use std::{marker::PhantomData, sync::Arc};

    use jsonrpsee::{
        core::RpcResult,
        types::{error::ErrorObject, ErrorObjectOwned},
    };
    use sp_api::{ApiExt, ProvideRuntimeApi};
    use sp_blockchain::HeaderBackend;
    use sp_runtime::traits::Block as BlockT;
    use tessera_runtime_api::TesseraApi;

    use super::*;

    /// The handler, over a client of the chain.
    pub struct Tessera<C, Block> {
        client: Arc<C>,
        _block: PhantomData<Block>,
    }

    impl<C, Block> Tessera<C, Block> {
        /// A handler reading through `client`.
        pub fn new(client: Arc<C>) -> Self {
            Self { client, _block: PhantomData }
        }
    }

    fn runtime_error(what: impl std::fmt::Display) -> ErrorObjectOwned {
        ErrorObject::owned(RUNTIME_ERROR, format!("runtime call failed: {what}"), None::<()>)
    }

    impl<C, Block> Tessera<C, Block>
    where
        Block: BlockT,
        C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
        C::Api: TesseraApi<Block>,
    {
        /// The runtime API at `at` (default: the best block), checked to exist there.
        fn api_at(&self, at: Option<Block::Hash>) -> RpcResult<(sp_api::ApiRef<'_, C::Api>, Block::Hash)> {
            let at = at.unwrap_or_else(|| self.client.info().best_hash);
            let api = self.client.runtime_api();
            match api.api_version::<dyn TesseraApi<Block>>(at) {
                Ok(Some(_)) => Ok((api, at)),
                Ok(None) => Err(runtime_error(format!("the runtime at {at:?} has no TesseraApi"))),
                Err(e) => Err(runtime_error(e)),
            }
        }
    }

    impl<C, Block> TesseraRpcServer<Block::Hash> for Tessera<C, Block>
    where
        Block: BlockT,
        C: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
        C::Api: TesseraApi<Block>,
    {
        fn job(&self, id: JobId, at: Option<Block::Hash>) -> RpcResult<Option<JobView>> {
            let (api, at) = self.api_at(at)?;
            api.job(at, id).map_err(runtime_error)
        }

        fn jobs(
            &self,
            status: Option<JobStatus>,
            from: Option<JobId>,
            limit: Option<u32>,
            at: Option<Block::Hash>,
        ) -> RpcResult<JobPage> {
            let (api, at) = self.api_at(at)?;
            api.jobs(at, status, from.unwrap_or(0), limit.unwrap_or(MAX_PAGE)).map_err(runtime_error)
        }

        fn provider(&self, account: AccountId, at: Option<Block::Hash>) -> RpcResult<Option<ProviderView>> {
            let (api, at) = self.api_at(at)?;
            api.provider(at, account).map_err(runtime_error)
        }

        fn quote_job(&self, params: QuoteParams, at: Option<Block::Hash>) -> RpcResult<QuoteView> {
            let (api, at) = self.api_at(at)?;
            api.quote_job(at, params).map_err(runtime_error)?.map_err(|e| {
                ErrorObject::owned(QUOTE_REFUSED, format!("Market::{}", e.name()), Some(e))
            })
        }

        fn why_unmatched(&self, id: JobId, at: Option<Block::Hash>) -> RpcResult<Option<Unmatched>> {
            let (api, at) = self.api_at(at)?;
            api.why_unmatched(at, id).map_err(runtime_error)
        }

        fn can_claim(&self, id: JobId, account: AccountId, at: Option<Block::Hash>) -> RpcResult<Option<Reason>> {
            let (api, at) = self.api_at(at)?;
            Ok(api.can_claim(at, id, account).map_err(runtime_error)?.err())
        }
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use jsonrpsee::core::RpcResult;
    use sp_core::H256;

    /// A handler that answers nothing: only its method table is looked at.
    struct Nothing;

    impl TesseraRpcServer<H256> for Nothing {
        fn job(&self, _: JobId, _: Option<H256>) -> RpcResult<Option<JobView>> {
            Ok(None)
        }
        fn jobs(&self, _: Option<JobStatus>, _: Option<JobId>, _: Option<u32>, _: Option<H256>) -> RpcResult<JobPage> {
            Ok(JobPage::default())
        }
        fn provider(&self, _: AccountId, _: Option<H256>) -> RpcResult<Option<ProviderView>> {
            Ok(None)
        }
        fn quote_job(&self, _: QuoteParams, _: Option<H256>) -> RpcResult<QuoteView> {
            Err(jsonrpsee::types::ErrorObject::owned(QUOTE_REFUSED, "unused", None::<()>))
        }
        fn why_unmatched(&self, _: JobId, _: Option<H256>) -> RpcResult<Option<Unmatched>> {
            Ok(None)
        }
        fn can_claim(&self, _: JobId, _: AccountId, _: Option<H256>) -> RpcResult<Option<Reason>> {
            Ok(None)
        }
    }

    /// The published definitions list exactly the methods the server serves, with as many
    /// parameters as each takes (a client loading them calls what exists).
    #[test]
    fn definitions_match_the_served_methods() {
        let definitions: serde_json::Value = serde_json::from_str(DEFINITIONS).expect("valid JSON");
        let published: std::collections::BTreeMap<String, usize> = definitions["tessera"]
            .as_object()
            .expect("a tessera section")
            .iter()
            .map(|(name, def)| (format!("tessera_{name}"), def["params"].as_array().expect("params").len()))
            .collect();
        let served: std::collections::BTreeSet<String> =
            Nothing.into_rpc().method_names().map(str::to_owned).collect();
        assert_eq!(published.keys().cloned().collect::<std::collections::BTreeSet<_>>(), served);
        let arity = [("tessera_job", 2), ("tessera_jobs", 4), ("tessera_provider", 2), ("tessera_quoteJob", 2),
            ("tessera_whyUnmatched", 2), ("tessera_canClaim", 3)];
        for (method, n) in arity {
            assert_eq!(published[method], n, "{method}");
        }
    }
}
