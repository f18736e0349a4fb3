/**
 * Run with a node's exact permission flags (`deno run <flags of a deno.json task> this file`):
 * attempts what a compromised node might try — read or write files, spawn a process, read other
 * env vars or system details, load native code, listen or connect on unrelated ports — and
 * prints one JSON object: each attempt's outcome, `"denied"` when Deno refused it for lack of a
 * permission, `"allowed"` when it went through, or the name of the other error it met.
 *
 * Arguments (JSON, one): `{ read: string[], envAllowed: string[], ports: number[],
 * connectPorts?: number[], unrelatedPort: number }` — files to try, env vars the task should
 * grant, ports it should grant for listening, ports on 127.0.0.1 to connect to (a refused
 * connection, nothing listening there, shows the grant), and a port it should not grant.
 *
 * @module
 */

interface ProbeInput {
  read: string[];
  envAllowed: string[];
  ports: number[];
  connectPorts?: number[];
  unrelatedPort: number;
}

type Outcome = "denied" | "allowed" | string;

async function attempt(action: () => unknown): Promise<Outcome> {
  try {
    await action();
    return "allowed";
  } catch (err) {
    // NotCapable is Deno 2's "no permission"; PermissionDenied is the OS's.
    if (err instanceof Deno.errors.NotCapable) return "denied";
    return (err as Error).name;
  }
}

const input: ProbeInput = JSON.parse(Deno.args[0]);
const outcomes: Record<string, Outcome> = {};
for (const path of input.read) {
  outcomes[`read ${path}`] = await attempt(() => Deno.readFile(path));
}
outcomes["read cwd"] = await attempt(() => Deno.readDir(".")[Symbol.asyncIterator]().next());
outcomes["write tmp"] = await attempt(() => Deno.makeTempFile());
outcomes["run true"] = await attempt(() => new Deno.Command("true").output());
outcomes["run deno"] = await attempt(() =>
  new Deno.Command(Deno.execPath(), { args: ["--version"] }).output()
);
outcomes["env HOME"] = await attempt(() => Deno.env.get("HOME"));
outcomes["env PATH"] = await attempt(() => Deno.env.get("PATH"));
outcomes["env all"] = await attempt(() => Deno.env.toObject());
for (const name of input.envAllowed) {
  outcomes[`env ${name}`] = await attempt(() => Deno.env.get(name));
}
outcomes["sys hostname"] = await attempt(() => Deno.hostname());
outcomes["sys osRelease"] = await attempt(() => Deno.osRelease());
outcomes["sys networkInterfaces"] = await attempt(() => Deno.networkInterfaces());
outcomes["ffi dlopen"] = await attempt(() => Deno.dlopen("libc.so.6", {}));
const port = input.unrelatedPort;
outcomes["listen tcp unrelated"] = await attempt(() =>
  Deno.listen({ hostname: "127.0.0.1", port }).close()
);
outcomes["listen udp unrelated"] = await attempt(() =>
  Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" }).close()
);
outcomes["connect tcp unrelated"] = await attempt(async () =>
  (await Deno.connect({ hostname: "127.0.0.1", port })).close()
);
outcomes["fetch unrelated"] = await attempt(() => fetch(`http://127.0.0.1:${port}/`));
for (const p of input.ports) {
  outcomes[`listen tcp ${p}`] = await attempt(() =>
    Deno.listen({ hostname: "127.0.0.1", port: p }).close()
  );
  outcomes[`listen udp ${p}`] = await attempt(() =>
    Deno.listenDatagram({ hostname: "127.0.0.1", port: p, transport: "udp" }).close()
  );
}
for (const p of input.connectPorts ?? []) {
  outcomes[`connect tcp ${p}`] = await attempt(async () =>
    (await Deno.connect({ hostname: "127.0.0.1", port: p })).close()
  );
}
console.log(JSON.stringify(outcomes));
