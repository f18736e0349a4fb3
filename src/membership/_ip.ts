/**
 * IP addresses as memberlist carries them: raw bytes (4 for IPv4, 16 for IPv6 or IPv4-mapped),
 * converted to and from the literals the transport dials. Bytes received from peers are stored
 * exactly as sent (a 4- and a 16-byte form of one IPv4 address differ on the wire, trap T5); only
 * dialing and seed matching normalise.
 *
 * @module
 */

/** Parses an IPv4 or IPv6 literal (zone ids dropped) to 4 or 16 bytes; `undefined` if not one. */
export function ipToBytes(host: string): Uint8Array | undefined {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return h.includes(":") ? parseIpv6(h.split("%")[0]) : parseIpv4(h);
}

/**
 * Formats IP bytes for dialing: 4 bytes and IPv4-mapped 16 bytes as dotted IPv4 (as Go's
 * `net.IP.String`), other 16 bytes as compressed IPv6. `undefined` for any other length.
 */
export function bytesToIp(bytes: Uint8Array): string | undefined {
  const v4 = toIpv4(bytes);
  if (v4) return v4.join(".");
  if (bytes.length !== 16) return undefined;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // Longest run (≥ 2) of zero groups becomes "::", as RFC 5952 asks.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** Whether two IP byte strings name the same address (4-byte and IPv4-mapped forms are equal). */
export function sameIp(a: Uint8Array, b: Uint8Array): boolean {
  const a4 = toIpv4(a), b4 = toIpv4(b);
  if (a4 || b4) return !!a4 && !!b4 && a4.every((x, i) => x === b4[i]);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function toIpv4(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length === 4) return bytes;
  if (bytes.length !== 16) return undefined;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  if (bytes[10] !== 0xff || bytes[11] !== 0xff) return undefined;
  return bytes.subarray(12);
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const v = Number(parts[i]);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (const [i, item] of items.entries()) {
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIpv4(item);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        out.push(parseInt(item, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]);
  const tail = halves.length === 2 ? groupsOf(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
