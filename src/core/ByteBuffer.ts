/** A growable byte array: preallocated to the expected size so a download is copied exactly once. */
export class ByteBuffer {
  private data: Uint8Array<ArrayBuffer>;
  length = 0;

  constructor(capacityBytes = 0) {
    this.data = new Uint8Array(Math.max(0, capacityBytes));
  }

  append(chunk: Uint8Array): void {
    const needed = this.length + chunk.byteLength;
    if (needed > this.data.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.data.byteLength * 2, 1 << 20));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data.set(chunk, this.length);
    this.length = needed;
  }

  view(start: number, end: number): Uint8Array<ArrayBuffer> {
    return this.data.subarray(start, Math.min(end, this.length));
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.length === this.data.byteLength ? this.data : this.data.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }
}
