import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { loadModel } from '../node/loadModel';
import { decodeInferRequest } from '../inference/decodeInferRequest';
import { encodeInferResponse } from '../inference/encodeInferResponse';
import { createProgress } from './createProgress';
import { parseArgs, positiveInt } from './parseArgs';
import { readWrittenIds } from './readWrittenIds';
import { UsageError } from './UsageError';

export const BATCH_USAGE = `  ondevice batch --model <id|file.onnx|url> --input in.jsonl|- --output out.jsonl|- [--concurrency N] [--threads N] [--models-dir DIR]
    one v2 infer request per input line, its response per output line, in order; resumes where the output stops`;

/**
 * `ondevice batch --model M --input in.jsonl --output out.jsonl [--concurrency N]`: each input line is a
 * v2 infer request body, each output line its v2 response, in input order. Rows already in the output are
 * skipped (resume); a failing row is reported on stderr and not written (a rerun retries it).
 * Resolves to the exit code: 0, or 1 when any row failed.
 */
export async function runBatch(args: string[]): Promise<number> {
  const values = parseArgs(args, {
    model: { type: 'string' },
    input: { type: 'string' },
    output: { type: 'string' },
    concurrency: { type: 'string' },
    threads: { type: 'string' },
    'models-dir': { type: 'string' },
  });
  const { model: source, input, output } = values as Record<string, string | undefined>;
  if (!source || !input || !output) throw new UsageError('batch needs --model, --input and --output');
  const concurrency = positiveInt(values.concurrency, 'concurrency', 1);
  const model = await loadModel(source, {
    modelsDir: values['models-dir'] as string | undefined,
    threads: values.threads === undefined ? undefined : positiveInt(values.threads, 'threads', 1),
  });
  const written = output === '-' ? new Set<string>() : await readWrittenIds(output);
  const total = input === '-' ? undefined : await countLines(input);
  const out = output === '-' ? process.stdout : createWriteStream(output, { flags: 'a' });
  const lines = createInterface({ input: input === '-' ? process.stdin : createReadStream(input), crlfDelay: Infinity });
  const progress = createProgress(process.stderr, total);

  // Rows finish out of order; `ready` holds finished rows until every earlier one is written or failed.
  const ready = new Map<number, string | null>();
  let nextToWrite = 1;
  let inFlight = 0;
  let failures = 0;
  let wake: (() => void) | undefined;
  const settle = async (lineNo: number, text: string | null) => {
    ready.set(lineNo, text);
    while (ready.has(nextToWrite)) {
      const row = ready.get(nextToWrite)!;
      ready.delete(nextToWrite++);
      if (row !== null && !out.write(row + '\n')) await once(out, 'drain');
    }
  };
  const fail = (lineNo: number, reason: string) => {
    failures++;
    console.error(`line ${lineNo}: ${reason}`);
  };

  let lineNo = 0;
  const pending: Promise<void>[] = [];
  for await (const line of lines) {
    const n = ++lineNo;
    if (!line.trim()) {
      await settle(n, null);
      continue;
    }
    // Bounded: at most `concurrency` rows run and at most 4× that wait to be written.
    while (inFlight >= concurrency || ready.size >= 4 * concurrency) await new Promise<void>((r) => (wake = r));
    inFlight++;
    const task = processRow(n, line)
      .then(
        (text) => settle(n, text),
        (error: Error) => {
          fail(n, error.message);
          return settle(n, null);
        },
      )
      .finally(() => {
        inFlight--;
        const w = wake;
        wake = undefined;
        w?.();
      });
    pending.push(task);
    if (pending.length > 4 * concurrency) pending.splice(0, pending.length - 4 * concurrency);
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  await Promise.all(pending);
  progress.finish();
  if (out !== process.stdout) {
    (out as ReturnType<typeof createWriteStream>).end();
    await once(out, 'finish');
  }
  model.dispose();
  return failures > 0 ? 1 : 0;

  async function processRow(n: number, line: string): Promise<string | null> {
    let ok = false;
    try {
      const idGuess = peekId(line) ?? String(n);
      if (written.has(idGuess)) {
        ok = true;
        return null;
      }
      const request = decodeInferRequest(Buffer.from(line), undefined, model);
      const outputs = await model.run(request.feeds);
      const selection = request.outputs.map((o) => ({ name: o.name, binary: false }));
      const encoded = encodeInferResponse(
        { modelName: model.id, modelVersion: model.version, id: request.id ?? String(n) },
        outputs,
        selection,
      );
      ok = true;
      return encoded.body.toString();
    } finally {
      progress.tick(ok);
    }
  }
}

function peekId(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function countLines(file: string): Promise<number> {
  let count = 0;
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line.trim()) count++;
  return count;
}
