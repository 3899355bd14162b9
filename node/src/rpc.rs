//! The node's JSON-RPC methods beyond the defaults of `sc-service` (chain, state, author,
//! system): account nonces, fee queries and Tessera's own `tessera_*` namespace.

use std::sync::Arc;

use jsonrpsee::RpcModule;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use tessera_runtime::{opaque::Block, AccountId, Balance, Nonce};

/// What the RPC handlers need from the node.
pub struct FullDeps<C, P> {
    /// The client: reads state, calls runtime APIs.
    pub client: Arc<C>,
    /// The transaction pool.
    pub pool: Arc<P>,
}

/// All RPC extensions of a full node.
pub fn create_full<C, P>(
    deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
    C: ProvideRuntimeApi<Block>
        + HeaderBackend<Block>
        + HeaderMetadata<Block, Error = BlockChainError>
        + Send
        + Sync
        + 'static,
    C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>
        + pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>
        + tessera_runtime_api::TesseraApi<Block>
        + BlockBuilder<Block>,
    P: TransactionPool + 'static,
{
    use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
    use substrate_frame_rpc_system::{System, SystemApiServer};
    use tessera_rpc::{Tessera, TesseraRpcServer};

    let mut module = RpcModule::new(());
    let FullDeps { client, pool } = deps;

    module.merge(System::new(client.clone(), pool).into_rpc())?;
    module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
    module.merge(Tessera::new(client).into_rpc())?;

    Ok(module)
}
