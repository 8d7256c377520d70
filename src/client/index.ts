/** The typed client of the Winky API: REST over `fetch`, the session WebSocket, NDJSON run streams. No Node-only APIs. */
export { WinkyClient, type WinkyClientOptions } from "./client";
export { envelopeBody, WinkyApiError } from "./errors";
export { type Fetch, Http, isTransient, withRetries } from "./http";
export { readNdjson } from "./ndjson";
export type * from "./requests";
export type * from "./responses";
export { describeEvent, isRunEnd } from "./session-events";
export { isSessionEvent, SessionSocket, type SessionSocketOptions, type SocketFactory, type SocketLike } from "./session-socket";
export { type ArchiveFormat, MULTIPART_THRESHOLD, type Progress, type UploadOptions, uploadArchive } from "./uploads";
