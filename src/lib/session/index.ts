/** The session's feature modules; `durable-objects/session.ts` is the host that gives them storage and sockets. */
export * from "./conversation-memory";
export * from "./cost-meter";
export * from "./event-log";
export * from "./hot-window";
export * from "./idle-expiry";
export * from "./ownership";
export * from "./replay";
export * from "./session-generation";
export * from "./session-schema";
export * from "./session-store";
export * from "./socket-keys";
export * from "./sockets";
export * from "./token-batcher";
export * from "./window-assembler";
