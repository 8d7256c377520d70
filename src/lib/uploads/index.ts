export { boundedBody, ingestArchiveStream, ingestStoredArchive, type UploadProject, uploadKey } from "./ingest-archive";
export { abortUpload, completeUpload, getUpload, MAX_PART_BYTES, PART_BYTES, putPart, startUpload } from "./multipart";
