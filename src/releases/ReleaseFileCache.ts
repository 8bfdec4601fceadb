import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore, StoredObject } from './ObjectStore';

/** The name the ONNX file has in an assembled folder; no external data location may start with it. */
export const MODEL_FILE_NAME = 'model.onnx';

/** A folder holding a model set as onnxruntime-node reads it: the ONNX file with its data files beside it. */
export interface AssembledSet {
  dir: string;
  /** Path of the ONNX file (`<dir>/model.onnx`). */
  onnx: string;
  /** The ONNX file and its data files together. */
  bytes: number;
  /** Remove the folder (the objects it links to stay). */
  dispose(): Promise<void>;
}

/**
 * The release files on this server's disk, where onnxruntime-node (in a sandbox process) reads them: the
 * database is the truth, this is a copy made as files are uploaded or, on another instance, copied out of the
 * database on first use, each checked against its sha256. Objects live at `objects/<sha256>` (what /v2 runs a
 * published version from); a model set is assembled as hard links under `tmp/` for a publish's checks.
 */
export class ReleaseFileCache {
  private readonly copying = new Map<string, Promise<string>>();

  private constructor(
    readonly root: string,
    private readonly objects: ObjectStore,
  ) {}

  /**
   * Open the cache at `root` (created when missing). Scratch files older than `staleAfterMs` are what a killed
   * process left half-written, and are removed (younger ones may be another instance's upload in progress).
   */
  static async open(root: string, objects: ObjectStore, staleAfterMs = 60 * 60_000): Promise<ReleaseFileCache> {
    const tmp = path.join(root, 'tmp');
    await mkdir(tmp, { recursive: true });
    await mkdir(path.join(root, 'objects'), { recursive: true });
    for (const name of await readdir(tmp)) {
      const info = await stat(path.join(tmp, name)).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > staleAfterMs) await rm(path.join(tmp, name), { recursive: true, force: true });
    }
    return new ReleaseFileCache(root, objects);
  }

  /** A fresh path to write a file being received (writeObject's `copyTo`); `keep` it, or it is removed with tmp/. */
  scratchPath(): string {
    return path.join(this.root, 'tmp', randomUUID());
  }

  /** Keep a complete, checked file written at `scratch` as object `sha256`. */
  async keep(scratch: string, sha256: string): Promise<void> {
    await rename(scratch, this.objectPath(sha256));
  }

  /** The object's path on disk when this server has a complete copy of it; undefined otherwise. */
  async pathIfPresent(object: { sha256: string; bytes: number }): Promise<string | undefined> {
    const target = this.objectPath(object.sha256);
    return (await stat(target).catch(() => undefined))?.size === object.bytes ? target : undefined;
  }

  /** The object's path on disk, copied out of the database first when it is not there yet. */
  async ensure(object: StoredObject): Promise<string> {
    const present = await this.pathIfPresent(object);
    if (present) return present;
    const target = this.objectPath(object.sha256);
    let copying = this.copying.get(object.sha256);
    if (!copying) {
      copying = this.copyOut(object, target).finally(() => this.copying.delete(object.sha256));
      this.copying.set(object.sha256, copying);
    }
    return copying;
  }

  /** A scratch folder with `model` as model.onnx and each data file at its location (hard links). */
  async assemble(model: StoredObject, data: ReadonlyArray<{ location: string; object: StoredObject }>): Promise<AssembledSet> {
    const dir = path.join(this.root, 'tmp', `set-${randomUUID()}`);
    await this.fill(dir, model, data);
    return {
      dir,
      onnx: path.join(dir, MODEL_FILE_NAME),
      bytes: data.reduce((sum, d) => sum + d.object.bytes, model.bytes),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }

  /** Remove objects on disk that `keep` does not name and that are older than `olderThanMs`. */
  async prune(keep: ReadonlySet<string>, olderThanMs = 60 * 60_000): Promise<number> {
    let removed = 0;
    for (const name of await readdir(path.join(this.root, 'objects'))) {
      if (keep.has(name)) continue;
      // `keep` was read before this listing: a file kept since (an upload on this or another instance sharing the
      // folder, whose object was stored after the read) is young, and stays.
      const info = await stat(path.join(this.root, 'objects', name)).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < olderThanMs) continue;
      await rm(path.join(this.root, 'objects', name), { force: true });
      removed++;
    }
    return removed;
  }

  private objectPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
    return path.join(this.root, 'objects', sha256);
  }

  private async fill(dir: string, model: StoredObject, data: ReadonlyArray<{ location: string; object: StoredObject }>): Promise<void> {
    await mkdir(dir, { recursive: true });
    for (const { location, object } of [{ location: MODEL_FILE_NAME, object: model }, ...data]) {
      try {
        await this.place(await this.ensure(object), dir, location);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // Another instance sharing this folder replaced or pruned the file between our check and the link:
        // copy it out of the database again (the database is the truth) and link that.
        await this.place(await this.copyOut(object, this.objectPath(object.sha256)), dir, location);
      }
    }
  }

  private async place(from: string, dir: string, name: string): Promise<void> {
    const to = path.resolve(dir, name);
    // Locations were checked (no leading /, no .. segment); this keeps a mistake from writing outside the folder.
    if (!to.startsWith(dir + path.sep)) throw new Error(`${JSON.stringify(name)} is outside the model's folder`);
    await mkdir(path.dirname(to), { recursive: true });
    try {
      await link(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await copyFile(from, to);
    }
  }

  private async copyOut(object: StoredObject, target: string): Promise<string> {
    const scratch = this.scratchPath();
    const file = await open(scratch, 'w');
    const hash = createHash('sha256');
    try {
      for (let seq = 0; seq < object.chunks; seq++) {
        const chunk = await this.objects.readChunk(object, seq);
        hash.update(chunk);
        await file.write(chunk);
      }
    } finally {
      await file.close();
    }
    const sha256 = hash.digest('hex');
    if (sha256 !== object.sha256) {
      await rm(scratch, { force: true });
      throw new Error(`object ${object.sha256} reads back as ${sha256}: the database copy is damaged`);
    }
    await rename(scratch, target);
    return target;
  }
}
