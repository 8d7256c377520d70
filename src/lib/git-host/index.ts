export { fetchFileAt, type GitHost, GitHostError } from "./contents";
export { netChanges, PushEvent } from "./push-event";
