// Who signs: the well-known development accounts (//Alice …) on a development chain, and the
// accounts of an injected browser extension (polkadot.js, Talisman, SubWallet …) anywhere.
import type { PolkadotSigner } from "polkadot-api";
import { getPolkadotSigner } from "polkadot-api/signer";
import { connectInjectedExtension, getInjectedExtensions } from "polkadot-api/pjs-signer";
import { sr25519CreateDerive } from "@polkadot-labs/hdkd";
import { DEV_PHRASE, entropyToMiniSecret, mnemonicToEntropy, ss58Address } from "@polkadot-labs/hdkd-helpers";

export type Account = { label: string; address: string; source: string; signer: PolkadotSigner };

export const DEV_ACCOUNTS = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];

let derive: ((path: string) => { publicKey: Uint8Array; sign: (m: Uint8Array) => Uint8Array }) | null = null;

/** A development account (//Alice …), derived from the well-known dev phrase. */
export function devAccount(name: string, ss58 = 42): Account {
  derive ??= sr25519CreateDerive(entropyToMiniSecret(mnemonicToEntropy(DEV_PHRASE)));
  const kp = derive(`//${name}`);
  return {
    label: `//${name}`,
    address: ss58Address(kp.publicKey, ss58),
    source: "dev",
    signer: getPolkadotSigner(kp.publicKey, "Sr25519", kp.sign),
  };
}

/** Accounts of every injected extension that lets this page in (asks the user once). */
export async function extensionAccounts(): Promise<Account[]> {
  const out: Account[] = [];
  for (const name of getInjectedExtensions()) {
    try {
      const ext = await connectInjectedExtension(name, "Tessera market");
      for (const a of ext.getAccounts()) {
        out.push({ label: `${a.name ?? a.address} (${name})`, address: a.address, source: name, signer: a.polkadotSigner });
      }
    } catch (e) {
      console.warn(`extension ${name} refused:`, e);
    }
  }
  return out;
}

export function hasExtensions(): boolean {
  return getInjectedExtensions().length > 0;
}
