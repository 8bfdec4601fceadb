import { createHash } from 'node:crypto';
import type { FieldSample } from './FieldSample';

export interface PreparedDataset {
  /** What the trainer sees: deduped, class-balanced, never a held-back sample. */
  train: FieldSample[];
  /** The most recent field samples, never trained on: the gate's field slice. */
  heldBack: FieldSample[];
  summary: DataSummary;
}

export interface DataSummary {
  /** Lines read from the dataset export. */
  read: number;
  /** Dropped as a repeated id or an identical input and label. */
  duplicates: number;
  heldBack: number;
  /** Deduped, not held back, before balancing. */
  trainable: number;
  /** Dropped to balance the classes. */
  balancedAway: number;
  train: number;
  /** Trained-on samples per label. */
  trainPerClass: Record<string, number>;
  heldBackPerClass: Record<string, number>;
  /** receivedMs of the oldest and newest sample read, and where the held-back slice starts. */
  oldestMs: number | null;
  newestMs: number | null;
  heldBackFromMs: number | null;
}

/**
 * Dedupe, hold back the most recent slice, class-balance the rest. Samples are taken oldest first; those
 * received at the same millisecond (one ingest request) keep the order they come in, which is the order the
 * sample stores return (received, then stored: the order a page sent them), not the order of their random
 * event ids. So the same stored samples always give the same split, in the same order. Balancing caps every
 * class at the median class count (the most recent samples of a class are kept), so one over-reported digit
 * cannot dominate while a rare one is not thrown away.
 */
export function prepareDataset(
  samples: readonly FieldSample[],
  options: { heldBackFraction: number; maxHeldBack: number },
): PreparedDataset {
  // Array.prototype.sort is stable: ties keep the stores' order.
  const ordered = [...samples].sort((a, b) => a.receivedMs - b.receivedMs);
  const ids = new Set<string>();
  const contents = new Set<string>();
  const unique: FieldSample[] = [];
  for (const s of ordered) {
    const content = contentKey(s);
    if (ids.has(s.id) || contents.has(content)) continue;
    ids.add(s.id);
    contents.add(content);
    unique.push(s);
  }
  const heldBackCount = Math.min(options.maxHeldBack, Math.ceil(unique.length * options.heldBackFraction));
  const heldBack = unique.slice(unique.length - heldBackCount);
  const trainable = unique.slice(0, unique.length - heldBackCount);
  const train = balance(trainable);
  return {
    train,
    heldBack,
    summary: {
      read: samples.length,
      duplicates: samples.length - unique.length,
      heldBack: heldBack.length,
      trainable: trainable.length,
      balancedAway: trainable.length - train.length,
      train: train.length,
      trainPerClass: countPerClass(train),
      heldBackPerClass: countPerClass(heldBack),
      oldestMs: ordered[0]?.receivedMs ?? null,
      newestMs: ordered.at(-1)?.receivedMs ?? null,
      heldBackFromMs: heldBack[0]?.receivedMs ?? null,
    },
  };
}

function contentKey(s: FieldSample): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(s.label));
  for (const name of Object.keys(s.inputs).sort()) {
    const t = s.inputs[name];
    hash.update(`\0${name}\0${t.type}\0${t.dims.join(',')}\0`);
    hash.update(new Uint8Array(Float32Array.from(t.data).buffer));
  }
  return hash.digest('hex');
}

function balance(samples: readonly FieldSample[]): FieldSample[] {
  const byClass = new Map<string, FieldSample[]>();
  for (const s of samples) {
    const key = String(s.label);
    const list = byClass.get(key) ?? [];
    list.push(s);
    byClass.set(key, list);
  }
  if (byClass.size === 0) return [];
  const counts = [...byClass.values()].map((l) => l.length).sort((a, b) => a - b);
  const cap = counts[Math.floor((counts.length - 1) / 2)];
  const keep = new Set<FieldSample>();
  for (const list of byClass.values()) for (const s of list.slice(Math.max(0, list.length - cap))) keep.add(s);
  return samples.filter((s) => keep.has(s));
}

function countPerClass(samples: readonly FieldSample[]): Record<string, number> {
  // A Map: labels come from the field, and a label `toString` must count like any other.
  const counts = new Map<string, number>();
  for (const s of samples) counts.set(String(s.label), (counts.get(String(s.label)) ?? 0) + 1);
  return Object.fromEntries(counts);
}
