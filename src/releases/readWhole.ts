import type { ObjectStore, StoredObject } from './ObjectStore';

/** An object's bytes in one buffer: for small files only (a model a retraining job starts from). */
export async function readWhole(objects: ObjectStore, object: StoredObject): Promise<Uint8Array> {
  const whole = new Uint8Array(object.bytes);
  let offset = 0;
  for (let seq = 0; seq < object.chunks; seq++) {
    const chunk = await objects.readChunk(object, seq);
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}
