// onnxruntime-web keeps its Emscripten module private, so to report the wasm heap size we note every
// WebAssembly.Memory created or exported in this worker. Installed before onnxruntime is imported.
const memories = new Set<WebAssembly.Memory>();

export function trackWasmMemory(): void {
  const W = WebAssembly as unknown as Record<string, unknown>;
  if (W.__ondeviceTracked) return;
  W.__ondeviceTracked = true;
  const OriginalMemory = WebAssembly.Memory;
  const TrackedMemory = function (this: unknown, descriptor: WebAssembly.MemoryDescriptor) {
    const memory = new OriginalMemory(descriptor);
    memories.add(memory);
    return memory;
  } as unknown as typeof WebAssembly.Memory;
  TrackedMemory.prototype = OriginalMemory.prototype;
  W.Memory = TrackedMemory;
  const noteExports = (instance: WebAssembly.Instance) => {
    for (const value of Object.values(instance.exports)) if (value instanceof OriginalMemory) memories.add(value);
  };
  const originalInstantiate = WebAssembly.instantiate.bind(WebAssembly);
  W.instantiate = async (...args: Parameters<typeof WebAssembly.instantiate>) => {
    const result = (await originalInstantiate(...(args as [BufferSource]))) as unknown;
    noteExports(result instanceof WebAssembly.Instance ? result : (result as WebAssembly.WebAssemblyInstantiatedSource).instance);
    return result;
  };
  if (WebAssembly.instantiateStreaming) {
    const originalStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
    W.instantiateStreaming = async (...args: Parameters<typeof WebAssembly.instantiateStreaming>) => {
      const result = await originalStreaming(...args);
      noteExports(result.instance);
      return result;
    };
  }
}

export function wasmHeapBytes(): number {
  let total = 0;
  for (const m of memories) total += m.buffer.byteLength;
  return total;
}
