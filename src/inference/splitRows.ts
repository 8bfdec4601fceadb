import type { Feeds, TensorData } from '../core/protocol';

/** A merged run's outputs cut back into each request's rows (the first axis), in order. */
export function splitRows(outputs: Feeds, rows: number[], totalRows: number): Feeds[] {
  const parts: Feeds[] = rows.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims[0] !== totalRows) throw new Error(`${name}: a batched run answered ${tensor.dims[0]} rows for ${totalRows}`);
    const perRow = totalRows === 0 ? 0 : tensor.data.length / totalRows;
    let offset = 0;
    rows.forEach((n, i) => {
      const data = (tensor.data as Float32Array).slice(offset * perRow, (offset + n) * perRow);
      parts[i][name] = { type: tensor.type, data, dims: [n, ...tensor.dims.slice(1)] } as TensorData;
      offset += n;
    });
  }
  return parts;
}
