/**
 * The program that runs an install command inside the sandbox: the sandbox's network namespace has only
 * loopback, so this listens on 127.0.0.1 there and carries each connection over the Unix socket bound into
 * the sandbox to the runner's egress proxy, then starts the command and exits with its status. Written into
 * the run's private directory and bound read-only; plain CommonJS, so any Node the sandbox has runs it.
 */
export const FORWARDER_PATH = "/run/winky/forward.cjs";
export const PROXY_SOCKET_PATH = "/run/winky/proxy.sock";
// A fixed port inside the run's own network namespace: nothing else listens there.
export const FORWARDER_PORT = 3128;

export const FORWARDER_SOURCE = `"use strict";
const net = require("node:net");
const { spawn } = require("node:child_process");
const [port, socketPath, ...command] = process.argv.slice(2);
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on("error", close);
  upstream.on("error", close);
  client.on("close", close);
  upstream.on("close", close);
  client.pipe(upstream).pipe(client);
});
server.listen(Number(port), "127.0.0.1", () => {
  const child = spawn(command[0], command.slice(1), { stdio: "inherit" });
  child.on("error", (e) => { console.error(String(e)); process.exit(127); });
  child.on("exit", (code, signal) => process.exit(code === null ? 128 + (require("node:os").constants.signals[signal] || 0) : code));
});
`;
