//! A runtime upgrade that adds a field to an event or a storage item must not break a deployed
//! worker or CLI: the client decodes values against the metadata of the block they come from,
//! by field name, into its generated types. This test builds that upgraded metadata as a fixture
//! (the checked-in metadata with a field appended to `Market::ReplicaPaid` and to the provider
//! record `ProviderInfo`), encodes values in the upgraded layout, and decodes them with the
//! client's generated types exactly as subxt does when it reads an event or a storage value.

use codec::Decode;
use tessera_client::{
    chain::runtime_types::{pallet_market::pallet::Event as MarketEvent, pallet_providers::types::ProviderInfo},
    subxt::ext::{
        frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed},
        scale_decode::DecodeAsType,
        scale_encode::EncodeAsType,
    },
    AccountId,
};

type Registry = scale_info::PortableRegistry;

const METADATA: &[u8] = include_bytes!("../metadata/tessera.scale");

fn registry() -> Registry {
    let prefixed = RuntimeMetadataPrefixed::decode(&mut &METADATA[..]).expect("the checked-in metadata decodes");
    match prefixed.1 {
        RuntimeMetadata::V14(m) => m.types,
        RuntimeMetadata::V15(m) => m.types,
        RuntimeMetadata::V16(m) => m.types,
        other => panic!("unexpected metadata version {}", other.version()),
    }
}

fn type_id(registry: &Registry, path: &str) -> u32 {
    registry
        .types
        .iter()
        .find(|t| t.ty.path.segments.join("::") == path)
        .unwrap_or_else(|| panic!("{path} is in the metadata"))
        .id
}

fn u32_id(registry: &Registry) -> u32 {
    registry
        .types
        .iter()
        .find(|t| matches!(t.ty.type_def, scale_info::TypeDef::Primitive(scale_info::TypeDefPrimitive::U32)))
        .expect("u32 is in the metadata")
        .id
}

fn extra_field(registry: &Registry) -> scale_info::Field<scale_info::form::PortableForm> {
    scale_info::Field {
        name: Some("added_in_an_upgrade".into()),
        ty: u32_id(registry).into(),
        type_name: Some("u32".into()),
        docs: Vec::new(),
    }
}

#[test]
fn an_event_with_an_added_field_still_decodes() {
    let old = registry();
    let event_id = type_id(&old, "pallet_market::pallet::Event");
    let mut new = old.clone();
    let extra = extra_field(&new);
    let event = new.types.iter_mut().find(|t| t.id == event_id).expect("the event type");
    let scale_info::TypeDef::Variant(variants) = &mut event.ty.type_def else { panic!("events are an enum") };
    let paid = variants.variants.iter_mut().find(|v| v.name == "ReplicaPaid").expect("ReplicaPaid exists");
    paid.fields.push(extra);

    let value = MarketEvent::ReplicaPaid { job: 7, provider: AccountId::from([5u8; 32]), payment: 1_200, reward: 34 };
    let mut bytes = value.encode_as_type(event_id, &old).expect("encodes in today's layout");
    let stale = bytes.clone();
    bytes.extend_from_slice(&99u32.to_le_bytes());

    let decoded = MarketEvent::decode_as_type(&mut &bytes[..], event_id, &new).expect("decodes the upgraded layout");
    assert_eq!(decoded, value, "the known fields are read by name; the new one is skipped");
    // The same bytes read with the old layout would leave the new field unread: the client never
    // decodes with a layout other than the block's own.
    let mut rest = &bytes[..];
    MarketEvent::decode_as_type(&mut rest, event_id, &old).expect("the old layout reads a prefix");
    assert_eq!(rest.len(), 4, "decoding with stale metadata would misread what follows");
    assert_eq!(MarketEvent::decode_as_type(&mut &stale[..], event_id, &old).expect("round trip"), value);
}

#[test]
fn a_storage_item_with_an_added_field_still_decodes() {
    let old = registry();
    let info_id = type_id(&old, "pallet_providers::types::ProviderInfo");
    let mut new = old.clone();
    let extra = extra_field(&new);
    let info = new.types.iter_mut().find(|t| t.id == info_id).expect("the provider record type");
    let scale_info::TypeDef::Composite(record) = &mut info.ty.type_def else { panic!("a struct") };
    record.fields.push(extra);

    // A record as the chain stores it, read through the generated type from today's layout.
    let stored = sample_provider_bytes(&old, info_id);
    let value = ProviderInfo::decode_as_type(&mut &stored[..], info_id, &old).expect("today's layout");
    let mut upgraded = stored.clone();
    upgraded.extend_from_slice(&7u32.to_le_bytes());
    let decoded = ProviderInfo::decode_as_type(&mut &upgraded[..], info_id, &new).expect("the upgraded layout");
    assert_eq!(decoded, value);
}

/// Encodes a provider record field by field from the metadata's own description (zeros, empty
/// collections, `None`), so the test does not depend on the record's current fields.
fn sample_provider_bytes(registry: &Registry, id: u32) -> Vec<u8> {
    fn zero(registry: &Registry, id: u32, out: &mut Vec<u8>) {
        use scale_info::{TypeDef, TypeDefPrimitive as P};
        let ty = &registry.resolve(id).expect("the id resolves").type_def;
        match ty {
            TypeDef::Composite(c) => c.fields.iter().for_each(|f| zero(registry, f.ty.id, out)),
            TypeDef::Variant(v) => {
                let first = v.variants.iter().min_by_key(|v| v.index).expect("a variant");
                out.push(first.index);
                first.fields.iter().for_each(|f| zero(registry, f.ty.id, out));
            },
            TypeDef::Sequence(_) => out.push(0),
            TypeDef::Array(a) => (0..a.len).for_each(|_| zero(registry, a.type_param.id, out)),
            TypeDef::Tuple(t) => t.fields.iter().for_each(|f| zero(registry, f.id, out)),
            TypeDef::Compact(_) => out.push(0),
            TypeDef::Primitive(p) => out.extend(std::iter::repeat_n(
                0u8,
                match p {
                    P::Bool | P::U8 | P::I8 => 1,
                    P::U16 | P::I16 => 2,
                    P::U32 | P::I32 | P::Char => 4,
                    P::U64 | P::I64 => 8,
                    P::U128 | P::I128 => 16,
                    P::U256 | P::I256 => 32,
                    P::Str => 1,
                },
            )),
            TypeDef::BitSequence(_) => out.push(0),
        }
    }
    let mut out = Vec::new();
    zero(registry, id, &mut out);
    out
}
