/**
 * The entries of `PEERS`: a gossip address (`host:port`, `host`), or a DNS name to discover
 * members by, `dns:<name>:<port>` (every A/AAAA address of the name, on that port: a Kubernetes
 * headless Service) or `dns+srv:<name>` (each SRV record's target and port: Consul, or named
 * ports of a Service). One parser, so the loader, the run:strict grant and the node's discovery
 * read an entry the same way.
 *
 * @module
 */

/** One `PEERS` entry, parsed. */
export type PeerEntry =
  | { kind: "address"; address: string }
  | { kind: "dns"; name: string; port: number }
  | { kind: "srv"; name: string };

const NAME = "[A-Za-z0-9_](?:[A-Za-z0-9.\\-_]*[A-Za-z0-9_.])?";
const DNS_ENTRY = new RegExp(`^dns:(${NAME}):(\\d{1,5})$`);
const SRV_ENTRY = new RegExp(`^dns\\+srv:(${NAME})$`);
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-_]+)(:\d{1,5})?$/;

/** The entry `text` means, or `undefined` when it is none of the three forms. */
export function parsePeerEntry(text: string): PeerEntry | undefined {
  const dns = DNS_ENTRY.exec(text);
  if (dns && Number(dns[2]) <= 65535) return { kind: "dns", name: dns[1], port: Number(dns[2]) };
  const srv = SRV_ENTRY.exec(text);
  if (srv) return { kind: "srv", name: srv[1] };
  return ADDRESS.test(text) ? { kind: "address", address: text } : undefined;
}
