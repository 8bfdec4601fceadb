import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { OnDeviceError } from '../core/OnDeviceError';
import { checkServerRoute } from './checkServerRoute';
import { formatReleaseStatus, type ReleaseStatusBody } from './formatReleaseStatus';
import { readLocalModelSet, type LocalModelSet } from './readLocalModelSet';
import { uploadFile } from './uploadFile';
import { parseCommandLine } from './parseArgs';
import { UsageError } from './UsageError';

const SUBCOMMANDS = new Map([
  [
    'publish',
    'ondevice release publish <file.onnx> --model <id> --version <v> [--notes …] [--metrics file.json] [--breaking]\n    (with the external data files the model names, found beside it by their locations)',
  ],
  ['rollout', 'ondevice release rollout <id> <version> --percent <N>'],
  ['promote', 'ondevice release promote <id> <version> [--reason …]'],
  ['rollback', 'ondevice release rollback <id> <version> [--reason …]'],
  ['status', 'ondevice release status <id>'],
]);
const COMMON = `    every release command: [--server URL] (default $ONDEVICE_SERVER or http://127.0.0.1:8080); writes send
    $ONDEVICE_ADMIN_TOKEN, status sends $COLLECTOR_READ_TOKEN when set`;

/** The usage of `ondevice release <sub>`, or of every release command. */
export function releaseUsage(sub?: string): string {
  const one = sub === undefined ? undefined : SUBCOMMANDS.get(sub);
  return `${(one ? [one] : [...SUBCOMMANDS.values()]).map((line) => `  ${line}`).join('\n')}\n${COMMON}`;
}

/** A publish's checks run on the server under limits that grow with the set (minutes for gigabytes). */
const PUBLISH_TIMEOUT_MS = 30 * 60_000;
const CALL_TIMEOUT_MS = 30_000;
/** An upload fails when nothing moves for this long. */
const UPLOAD_STALL_TIMEOUT_MS = 60_000;

/**
 * `ondevice release …`: a thin client of the release HTTP API (docs/releases.md). Returns the exit code:
 * 0 done, 1 the server refused (its code and message are printed), 2 a usage mistake (thrown as INVALID_INPUT).
 */
export async function runRelease(args: string[], env: NodeJS.ProcessEnv = process.env, print = console.log): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || !SUBCOMMANDS.has(sub)) throw new UsageError(`unknown release command ${JSON.stringify(sub ?? '')}`);
  const { values: o, positionals: p } = parseCommandLine(rest, {
    server: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'string' },
    notes: { type: 'string' },
    metrics: { type: 'string' },
    breaking: { type: 'boolean' },
    percent: { type: 'string' },
    reason: { type: 'string' },
  });
  const server = (o.server ?? env.ONDEVICE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const admin: Record<string, string> = env.ONDEVICE_ADMIN_TOKEN ? { authorization: `Bearer ${env.ONDEVICE_ADMIN_TOKEN}` } : {};
  const need = (count: number, what: string) => {
    if (p.length !== count) throw new UsageError(`release ${sub} takes ${what}`);
  };
  const seg = encodeURIComponent;

  let response: { status: number; body: unknown };
  switch (sub) {
    case 'publish': {
      need(1, '<file.onnx> --model <id> --version <v>');
      if (!o.model || !o.version) throw new UsageError('release publish needs --model <id> and --version <v>');
      await stat(p[0]).catch((e: Error) => {
        throw new OnDeviceError('INVALID_INPUT', `cannot read ${p[0]}: ${e.message}`);
      });
      let metrics: Record<string, unknown> | undefined;
      if (o.metrics) {
        const text = await readFile(o.metrics, 'utf8').catch((e: Error) => {
          throw new OnDeviceError('INVALID_INPUT', `cannot read --metrics ${o.metrics}: ${e.message}`);
        });
        try {
          metrics = JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new OnDeviceError('INVALID_INPUT', `--metrics ${o.metrics} is not JSON`);
        }
      }
      let set;
      try {
        // The external data files beside the model, found by the locations it names, hashed.
        set = await readLocalModelSet(p[0]);
      } catch (error) {
        if (!(error instanceof OnDeviceError)) throw error;
        console.error(`ondevice release ${sub}: ${error.code}: ${error.message}`);
        return 1;
      }
      response = await publishSet(server, seg(o.model), seg(o.version), set, admin, {
        ...(o.notes ? { notes: o.notes } : {}),
        ...(metrics ? { metrics } : {}),
        ...(o.breaking ? { breaking: true } : {}),
      });
      break;
    }
    case 'rollout': {
      need(2, '<id> <version> --percent <N>');
      const percent = Number(o.percent);
      if (o.percent === undefined || !Number.isInteger(percent) || percent < 0 || percent > 100)
        throw new UsageError(`--percent must be an integer 0–100, got ${String(o.percent)}`);
      response = await send(
        `${server}/v1/releases/${seg(p[0])}/${seg(p[1])}/rollout`,
        'PUT',
        { ...admin, 'content-type': 'application/json' },
        JSON.stringify({ percent }),
      );
      break;
    }
    case 'promote':
    case 'rollback': {
      need(2, '<id> <version>');
      const body = JSON.stringify(o.reason ? { reason: o.reason } : {});
      response = await send(
        `${server}/v1/releases/${seg(p[0])}/${seg(p[1])}/${sub}`,
        'POST',
        { ...admin, 'content-type': 'application/json' },
        body,
      );
      break;
    }
    case 'status': {
      need(1, '<id>');
      const read: Record<string, string> = env.COLLECTOR_READ_TOKEN ? { authorization: `Bearer ${env.COLLECTOR_READ_TOKEN}` } : {};
      response = await send(`${server}/v1/releases/${seg(p[0])}`, 'GET', read);
      if (response.status === 200) {
        print(formatReleaseStatus(response.body as ReleaseStatusBody));
        return 0;
      }
      break;
    }
    default:
      throw new UsageError(`unknown release command ${JSON.stringify(sub)}`);
  }
  if (response.status === 404) await checkServerRoute(server, '/v1/releases', 'release API');
  if (response.status >= 200 && response.status < 300) {
    const { release: r, optimizedError } = response.body as {
      release: {
        modelId: string;
        version: string;
        state: string;
        percent: number;
        sha256: string;
        entry: { totalBytes?: number; externalData?: unknown[] };
      };
      optimizedError?: string;
    };
    const files = r.entry?.externalData?.length ? `, ${r.entry.externalData.length + 1} files, ${r.entry.totalBytes} bytes` : '';
    print(`${r.modelId} ${r.version}: ${r.state.replace('_', ' ')} at ${r.percent}% (sha256 ${r.sha256.slice(0, 12)}…${files})`);
    if (optimizedError) console.error(`ondevice release ${sub}: ${optimizedError}`);
    return 0;
  }
  const { code, error } = (response.body ?? {}) as { code?: string; error?: string };
  console.error(`ondevice release ${sub}: ${code ?? `HTTP ${response.status}`}: ${error ?? JSON.stringify(response.body)}`);
  return 1;
}

/**
 * Publish a model set: ask the server to publish it from the files it lists (`POST …/files`); the server answers
 * FILES_MISSING with the files it does not have yet, which are uploaded (`PUT /v1/uploads/{sha256}`, streamed from
 * disk), then the publish is asked again. A file the server already has (another version's shard) is not sent.
 */
async function publishSet(
  server: string,
  model: string,
  version: string,
  set: LocalModelSet,
  admin: Record<string, string>,
  extra: { notes?: string; metrics?: Record<string, unknown>; breaking?: boolean },
) {
  const body = JSON.stringify({
    model: { sha256: set.model.sha256, bytes: set.model.bytes },
    ...(set.externalData.length > 0
      ? { externalData: set.externalData.map(({ location, sha256, bytes }) => ({ location, sha256, bytes })) }
      : {}),
    ...extra,
  });
  const url = `${server}/v1/releases/${model}/${version}/files`;
  const headers = { ...admin, 'content-type': 'application/json' };
  const first = await send(url, 'POST', headers, body, PUBLISH_TIMEOUT_MS);
  const answer = first.body as { code?: string; missing?: Array<{ sha256: string }> };
  if (first.status !== 409 || answer.code !== 'FILES_MISSING') return first;
  const files = [set.model, ...set.externalData];
  for (const { sha256 } of answer.missing ?? []) {
    const file = files.find((f) => f.sha256 === sha256);
    if (!file) throw new OnDeviceError('INVALID_INPUT', `the server asks for a file this set does not have (${sha256})`);
    const progress = uploadProgress(file.path, file.bytes);
    const uploaded = await uploadFile(`${server}/v1/uploads/${sha256}`, file, admin, {
      stallTimeoutMs: UPLOAD_STALL_TIMEOUT_MS,
      onProgress: progress.update,
    }).finally(progress.finish);
    if (uploaded.status !== 200 && uploaded.status !== 201) return uploaded;
  }
  return send(url, 'POST', headers, body, PUBLISH_TIMEOUT_MS);
}

/** `uploading model.onnx_data: 312/850 MB` on a TTY (stderr), redrawn at most every 100 ms. */
function uploadProgress(file: string, bytes: number) {
  const stream = process.stderr;
  let last = 0;
  const draw = (sent: number) =>
    stream.write(`\ruploading ${path.basename(file)}: ${Math.round(sent / 1e6)}/${Math.round(bytes / 1e6)} MB\u001b[K`);
  return {
    update(sent: number) {
      if (!stream.isTTY || performance.now() - last < 100) return;
      last = performance.now();
      draw(sent);
    },
    finish() {
      if (!stream.isTTY) return;
      draw(bytes);
      stream.write('\n');
    },
  };
}

async function send(url: string, method: string, headers: Record<string, string>, body?: string | Uint8Array, timeoutMs = CALL_TIMEOUT_MS) {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body instanceof Uint8Array ? new Uint8Array(body) : body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const e = error as Error;
    if (e.name === 'TimeoutError') throw new OnDeviceError('TIMEOUT', `${method} ${url}: no answer within ${timeoutMs} ms`);
    throw new OnDeviceError('MODEL_FETCH_FAILED', `${method} ${url}: ${(e.cause as Error | undefined)?.message ?? e.message}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: { error: text.slice(0, 200) } };
  }
}
