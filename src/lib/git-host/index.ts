export { type ChangedFile, type CommitOrder, commitOrder, compareCommits } from "./compare";
export { fetchFileAt } from "./contents";
export { type Changes, compareReason, MAX_PAYLOAD_COMMITS, netChanges, PushEvent, pushChanges } from "./push-event";
export { checkPushPath, displayPath, MAX_PATH_BYTES, type RefusedPath } from "./push-paths";
export { type GitHost, GitHostError, isRepoName, rateLimitWait, repoUrl } from "./request";
