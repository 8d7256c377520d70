export { fetchFileAt, GitHostError, type GitHost } from "./contents";
export { PushEvent, netChanges } from "./push-event";
