/**
 * Models are stored as 4 MiB Blobs: small enough that an interrupted download loses at most one chunk,
 * large enough that a 100 MB model is a handful of records.
 */
export const CHUNK_BYTES = 4 * 1024 * 1024;
