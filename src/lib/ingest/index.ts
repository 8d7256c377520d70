export { indexInShard, type ShardTarget } from "./index-shard";
export { type FileError, finishBatchStatement, insertJobStatements, type JobView, markBatchFailed, readJob, recordAttemptError } from "./jobs";
export { IngestMessage, StagedBatch, stagingKey } from "./messages";
export { chunkIdFor, fingerprint, metadataOnly, type PreparedChunk, type PreparedFile, type ProjectSettings, prepareTextFile } from "./prepare-file";
export { loadProjectSettings, PermanentError, type ProcessDeps, prepareBytes, processMessage } from "./process-message";
export { enqueue, type StageDeps, type StageResult, stageUpload, type WatchJob } from "./stage-upload";
export { type Statement, type WriteStats, writeFiles } from "./write-files";
