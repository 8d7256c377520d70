/**
 * Faults in miniflare's own plumbing, which runs in this Node process: miniflare's Durable Objects (the
 * local queue broker among them) write their log lines to a loopback HTTP server here. `POST /break-next-log`
 * arms a trap that cuts the connection of the next such write, as a reset socket would; `GET /fired` counts
 * the writes cut so far.
 */
import { createServer, Server } from "node:http";

type WithHandles = { _getActiveHandles(): unknown[] };

export async function startLoopbackFaults(): Promise<{ url: string; close(): Promise<void> }> {
  let armed = false;
  let fired = 0;
  const hooked = new WeakSet<Server>();
  const trap = (req: { url?: string; socket: { destroy(): void } }): void => {
    if (!armed || !req.url?.startsWith("/core/log")) return;
    armed = false;
    fired++;
    req.socket.destroy();
  };
  const control = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/break-next-log") {
      // Miniflare starts its loopback server lazily, so the servers are looked up when the trap is armed.
      for (const handle of (process as unknown as WithHandles)._getActiveHandles())
        if (handle instanceof Server && handle !== control && !hooked.has(handle)) {
          hooked.add(handle);
          handle.prependListener("request", trap);
        }
      armed = true;
      res.writeHead(204).end();
    } else if (req.method === "GET" && req.url === "/fired") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ fired }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));
  const address = control.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((r) => control.close(() => r())) };
}
