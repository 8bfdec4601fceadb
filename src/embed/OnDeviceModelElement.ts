import { loadModel, type LoadModelOptions } from '../client/loadModel';
import type { Model, RunOptions } from '../client/Model';
import { OnDeviceError } from '../core/OnDeviceError';
import type { Backend, BackendPreference, Feeds, Progress } from '../core/protocol';

/** `event.detail` of the element's events. */
export interface OnDeviceModelElementEventMap {
  progress: CustomEvent<Progress>;
  ready: CustomEvent<{ model: Model; backend: Backend; fallbackReason: string | undefined }>;
  error: CustomEvent<{ error: OnDeviceError }>;
}

/**
 * `<ondevice-model src="tiny-mlp" sha256="…" backend="auto">`: loads the model when connected, reloads
 * when an attribute changes (aborting a load in flight) and releases it when removed.
 * `src` is a registry id or a model URL.
 *
 * @example
 * const el = document.querySelector('ondevice-model')!
 * el.addEventListener('ready', (e) => console.log('on', e.detail.backend))
 * const outputs = await el.run({ x: { type: 'float32', data, dims: [1, 4] } })
 */
export interface OnDeviceModelElement extends HTMLElement {
  /** The loaded model, once `ready` fired (undefined while loading, after an error or once removed). */
  readonly model: Model | undefined;
  /** The backend the model runs on, once loaded. */
  readonly backend: Backend | undefined;
  /** Why `backend="auto"` did not end up on WebGPU. */
  readonly fallbackReason: string | undefined;
  /** Resolves with the model once the current load finishes; rejects with its OnDeviceError. */
  whenReady(): Promise<Model>;
  /** Run the model (waits for a load in progress). */
  run(feeds: Feeds, options?: RunOptions): Promise<Feeds>;
  addEventListener<K extends keyof OnDeviceModelElementEventMap>(
    type: K,
    listener: (this: OnDeviceModelElement, event: OnDeviceModelElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof OnDeviceModelElementEventMap>(
    type: K,
    listener: (this: OnDeviceModelElement, event: OnDeviceModelElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'ondevice-model': OnDeviceModelElement;
  }
}

const ATTRIBUTES = ['src', 'sha256', 'backend', 'threads'] as const;

/**
 * Register `<ondevice-model>` (the classic script `ondevice.js` does this for you). Safe to call twice.
 * The class is created here, not at import time, so importing ondevice in a worker or in Node stays safe.
 *
 * @example
 * import { defineOnDeviceModelElement } from 'ondevice'
 * defineOnDeviceModelElement()
 */
export function defineOnDeviceModelElement(tagName = 'ondevice-model'): CustomElementConstructor {
  if (typeof customElements === 'undefined' || typeof HTMLElement === 'undefined') {
    throw new OnDeviceError('NOT_SUPPORTED', 'Custom elements need a document (customElements is not defined here)');
  }
  const existing = customElements.get(tagName);
  if (existing) return existing;

  class Element extends HTMLElement implements OnDeviceModelElement {
    static observedAttributes = [...ATTRIBUTES];

    private current: Model | undefined;
    private loading: Promise<Model> | undefined;
    private controller: AbortController | undefined;
    private loadedWith: string | undefined;
    private failure: OnDeviceError | undefined;
    private scheduled = false;

    get model(): Model | undefined {
      return this.current;
    }

    get backend(): Backend | undefined {
      return this.current?.backend;
    }

    get fallbackReason(): string | undefined {
      return this.current?.fallbackReason;
    }

    connectedCallback(): void {
      this.schedule();
    }

    disconnectedCallback(): void {
      // A move (remove + insert in the same task) keeps the model; only a real removal releases it.
      queueMicrotask(() => {
        if (!this.isConnected) this.release();
      });
    }

    attributeChangedCallback(_name: string, oldValue: string | null, newValue: string | null): void {
      if (oldValue !== newValue && this.isConnected) this.schedule();
    }

    whenReady(): Promise<Model> {
      // A load scheduled in this task starts in a microtask queued before this one.
      if (this.scheduled) return Promise.resolve().then(() => this.whenReady());
      if (this.loading) return this.loading;
      if (this.current) return Promise.resolve(this.current);
      if (this.failure) return Promise.reject(this.failure);
      const why = this.isConnected ? 'it has no src attribute' : 'it is not connected to the document';
      return Promise.reject(new OnDeviceError('INVALID_INPUT', `<${this.localName}> has no model: ${why}`));
    }

    async run(feeds: Feeds, options?: RunOptions): Promise<Feeds> {
      const model = await this.whenReady();
      return model.run(feeds, options);
    }

    /** Several attribute changes in one task (and the parser's initial ones) become one load. */
    private schedule(): void {
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        if (this.isConnected) this.load();
      });
    }

    private settings(): { key: string; src: string | null; options: LoadModelOptions } {
      const src = this.getAttribute('src');
      const sha256 = this.getAttribute('sha256') ?? undefined;
      const backend = (this.getAttribute('backend') ?? 'auto') as BackendPreference;
      const threadsAttr = this.getAttribute('threads');
      const threads = threadsAttr === null ? undefined : Number(threadsAttr);
      return { key: JSON.stringify([src, sha256, backend, threads]), src, options: { sha256, backend, threads } };
    }

    private load(): void {
      const { key, src, options } = this.settings();
      if (key === this.loadedWith && (this.current || this.loading || this.failure)) return;
      this.release();
      this.loadedWith = key;
      if (!src) return;
      const controller = new AbortController();
      this.controller = controller;
      const isCurrent = () => this.controller === controller;
      const loading = loadModel(src, {
        ...options,
        signal: controller.signal,
        onProgress: (progress) => {
          if (isCurrent()) this.dispatchEvent(new CustomEvent('progress', { detail: progress }));
        },
      });
      this.loading = loading;
      loading.then(
        (model) => {
          if (!isCurrent()) return model.dispose();
          this.loading = undefined;
          this.current = model;
          this.dispatchEvent(new CustomEvent('ready', { detail: { model, backend: model.backend, fallbackReason: model.fallbackReason } }));
        },
        (error: OnDeviceError) => {
          if (!isCurrent()) return;
          this.loading = undefined;
          this.failure = error;
          this.dispatchEvent(new CustomEvent('error', { detail: { error } }));
        },
      );
      // Callers of whenReady() see the rejection; the element itself reports it as an event.
      loading.catch(() => undefined);
    }

    private release(): void {
      this.controller?.abort();
      this.controller = undefined;
      this.loading = undefined;
      this.loadedWith = undefined;
      this.failure = undefined;
      this.current?.dispose();
      this.current = undefined;
    }
  }

  customElements.define(tagName, Element);
  return Element;
}
