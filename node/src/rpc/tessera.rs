//! The `tessera_*` JSON-RPC namespace: jobs, providers, quotes and why a job is unmatched,
//! answered by the runtime's [`TesseraApi`] at the best block (or a block the caller names).
//!
//! | method | params | result |
//! |---|---|---|
//! | `tessera_job` | `id`, `at?` | `JobView` or `null` |
//! | `tessera_jobs` | `status?`, `from?`, `limit?`, `at?` | `JobPage` (ascending ids, `next` cursor) |
//! | `tessera_provider` | `account` (SS58), `at?` | `ProviderView` or `null` |
//! | `tessera_quoteJob` | `QuoteParams`, `at?` | `QuoteView`, or error 2 naming the market error |
//! | `tessera_whyUnmatched` | `id`, `at?` | `Unmatched` or `null` |

use std::{marker::PhantomData, sync::Arc};

use jsonrpsee::{
    core::RpcResult,
    proc_macros::rpc,
    types::{error::ErrorObject, ErrorObjectOwned},
};
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::Block as BlockT;
use tessera_runtime_api::{
    AccountId, JobId, JobPage, JobStatus, JobView, ProviderView, QuoteParams, QuoteView, TesseraApi, Unmatched,
    MAX_PAGE,
};

/// The runtime API call failed (or the runtime has no Tessera API at that block).
pub const RUNTIME_ERROR: i32 = 1;
/// The quoted parameters would be refused by the market; the message names the error.
pub const QUOTE_REFUSED: i32 = 2;

/// Tessera's RPC methods.
#[rpc(client, server, namespace = "tessera")]
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
}

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
}
