/**
 * Test-only helpers for the codec tests: hex conversion, the golden vectors of the protocol
 * reference (§14, produced by go-msgpack v2.1.5 and Go 1.19), and an in-memory stream source.
 *
 * @module
 */

/** Lower-case hex of `bytes`. */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string (whitespace and `|` ignored). */
export function unhex(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/[\s|]/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Golden vectors of §14, hex. */
export const GOLDEN = {
  ping: "0085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a000001aa536f757263" +
    "654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a",
  pingMinimal: "0082a44e6f6465a66e6f64652d62a55365714e6f07",
  indirectPing: "0188a44e61636bc3a44e6f6465a66e6f64652d63a4506f7274cd1f0aa55365714e6f09aa536f7572" +
    "636541646472a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0aa6" +
    "546172676574a40a000001",
  ackNil: "0282a75061796c6f6164c0a55365714e6f07",
  ackPayload: "0282a75061796c6f6164a3010203a55365714e6f07",
  nack: "0b81a55365714e6f09",
  err: "0d81a54572726f72a4626f6f6d",
  suspect: "0383a446726f6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d63",
  alive: "0486a441646472a40a000001ab496e6361726e6174696f6e01a44d657461c0a44e6f6465a66e6f64652d" +
    "61a4506f7274cd1f0aa356736ea6010502000000",
  alive16: "0486a441646472b000000000000000000000ffff0a000001ab496e6361726e6174696f6ecd012ca44d65" +
    "7461aa726f6c653d6361636865a44e6f6465a66e6f64652d61a4506f7274cd1f0aa356736ea601050200000" +
    "0",
  dead: "0583a446726f6da66e6f64652d61ab496e6361726e6174696f6e02a44e6f6465a66e6f64652d61",
  pushPullHeader: "0683a44a6f696ec3a54e6f64657302ac5573657253746174654c656e00",
  pushPullHeaderV2: "0683a44a6f696ec2a54e6f646573d100c8ac5573657253746174654c656ed200011170",
  pushPullHeaderOld: "0683a44a6f696ec2a54e6f646573ccc8ac5573657253746174654c656ece00011170",
  pushPull: "0683a44a6f696ec3a54e6f64657301ac5573657253746174654c656e0387a441646472a40a000001ab49" +
    "6e6361726e6174696f6e01a44d657461c0a44e616d65a66e6f64652d61a4506f7274cd1f0aa553746174650" +
    "0a356736ea6010502000000616263",
  userMsgHeader: "0881aa557365724d73674c656e05",
  compound: "07030045002700030085a44e6f6465a66e6f64652d62a55365714e6f07aa536f757263654164647" +
    "2a40a000001aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a0383a446726f" +
    "6da66e6f64652d61ab496e6361726e6174696f6e03a44e6f6465a66e6f64652d62086869",
  compress: "0982a4416c676f00a3427566da006b000f0c005004c00900030b9172f2864c19536e1a966921a6d4943" +
    "271181e5035e54d1d3963ca042143460e2905000004e0e8116419860e214a6c1186e5c79050dec8a1d3ec8" +
    "3820183481991f3a68d4c873457257133268c1c3761e8a479e366c0428947278a4180264d40",
  crcPing: "0c7553ccdb0085a44e6f6465a66e6f64652d62a55365714e6f07aa536f7572636541646472a40a0000" +
    "01aa536f757263654e6f6465a66e6f64652d61aa536f75726365506f7274cd1f0a",
  lzwToBeOrNot: "00a93c1152e48914274fa80824687061c183090302",
  // Encryption vectors: AES-128 key 000102..0f, fixed nonce a0..ab, plaintext = the ping above.
  aesKey: "000102030405060708090a0b0c0d0e0f",
  nonce: "a0a1a2a3a4a5a6a7a8a9aaab",
  udpLabelledV1:
    "f40470726f64 01 a0a1a2a3a4a5a6a7a8a9aaab aa039cf511ed56ace417d1656b701533369f6d67" +
    "84bd6ec0506212fe03e9ebda3ea945310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb886005412" +
    "83457ecd61 c09d92ee2e90fbd6e020715ef0e99b39",
  // The ciphertext is the same as above (same key, nonce, plaintext); only the tag differs.
  streamV1: "0a00000062 01 a0a1a2a3a4a5a6a7a8a9aaab aa039cf511ed56ace417d1656b701533369f6d6784bd6" +
    "ec0506212fe03e9ebda3ea945310e40bf020aac81a1e1b46db51a3a232d56acf747d159fbb88600541283457" +
    "ecd61 7b4b0f70f6ef46e903495244b62a466a",
} as const;

/** IPv4 10.0.0.1 as 4 bytes. */
export const IP4 = unhex("0a000001");
/** Vsn `[1, 5, 2, 0, 0, 0]`. */
export const VSN = unhex("010502000000");

/** A read-only in-memory connection handing out `bytes` at most `chunk` bytes per read. */
export function memoryConn(bytes: Uint8Array, chunk = Infinity) {
  let pos = 0;
  let reads = 0;
  return {
    get reads() {
      return reads;
    },
    read(buf: Uint8Array): Promise<number | null> {
      reads++;
      if (pos >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buf.length, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
}

/** AES-GCM sealing with a fixed nonce, as the reference vectors were made (tests only). */
export async function fixedNonceSealer(keyHex: string, nonceHex: string) {
  const key = await crypto.subtle.importKey("raw", unhex(keyHex), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const nonce = unhex(nonceHex);
  return {
    sealedLength: (n: number) => 1 + 12 + n + 16,
    async seal(plain: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
      const params = { name: "AES-GCM", iv: nonce, additionalData: aad.slice(), tagLength: 128 };
      const ct = new Uint8Array(await crypto.subtle.encrypt(params, key, plain.slice()));
      const out = new Uint8Array(13 + ct.length);
      out[0] = 1;
      out.set(nonce, 1);
      out.set(ct, 13);
      return out;
    },
    async open(sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
      if (sealed[0] !== 1) throw new RangeError("unsupported vsn");
      const iv = sealed.slice(1, 13);
      const params = { name: "AES-GCM", iv, additionalData: aad.slice(), tagLength: 128 };
      return new Uint8Array(await crypto.subtle.decrypt(params, key, sealed.slice(13)));
    },
  };
}
