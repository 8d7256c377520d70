/** The WebSocket the CLI hands the client: undici's (the WHATWG API), since Node 20 has no global WebSocket without a flag. */
import { WebSocket } from "undici";
import type { SocketFactory, SocketLike } from "../src/client";

export const nodeSocket: SocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as SocketLike;
