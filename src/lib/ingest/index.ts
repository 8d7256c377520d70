export { IngestMessage, StagedBatch, stagingKey } from "./messages";
export { stageUpload, enqueue, runBatch, type StageDeps } from "./stage-upload";
export { processMessage, prepareBytes, loadProjectSettings, PermanentError, type ProcessDeps } from "./process-message";
export { readJob, insertJobStatements, recordAttemptError, markBatchFailed, finishBatchStatement, type JobView, type FileError } from "./jobs";
export { writeFiles, type WriteStats, type Statement } from "./write-files";
export { prepareTextFile, fingerprint, metadataOnly, chunkIdFor, type PreparedFile, type PreparedChunk, type ProjectSettings } from "./prepare-file";
