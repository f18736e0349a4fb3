/**
 * Test support for TLS tests: a throwaway certificate authority and a node certificate it signs
 * (EC P-256, valid for 127.0.0.1 and localhost, one day), made with `openssl` in a temporary
 * directory that {@link TestCertificates.remove} deletes.
 *
 * @module
 */

/** Paths of the generated PEM files. */
export interface TestCertificates {
  /** Directory holding every file. */
  dir: string;
  /** The authority's certificate (what peers trust: `TLS_CA`). */
  ca: string;
  /** The node certificate, signed by the authority (`TLS_CERT`). */
  cert: string;
  /** The node certificate's private key (`TLS_KEY`). */
  key: string;
  /** A self-signed certificate for 127.0.0.1 (its own trust anchor) and its key. */
  selfSigned: { cert: string; key: string };
  /** Deletes the directory. */
  remove(): Promise<void>;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
const LEAF = ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=critical,CA:FALSE"];

/** Makes a CA, a node certificate it signs, and a self-signed certificate. */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-tls-" });
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=cachenode test CA",
  );
  await openssl(dir, "req", ...EC, "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=node");
  await Deno.writeTextFile(`${dir}/leaf.cnf`, LEAF.join("\n") + "\n");
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "node.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "node.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.cnf",
  );
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "1",
    "-subj",
    "/CN=self",
    ...LEAF.flatMap((e) => ["-addext", e]),
  );
  return {
    dir,
    ca: `${dir}/ca.pem`,
    cert: `${dir}/node.pem`,
    key: `${dir}/node.key`,
    selfSigned: { cert: `${dir}/self.pem`, key: `${dir}/self.key` },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}
