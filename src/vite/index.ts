// The public API of `ondevice/vite` (built into lib/vite.mjs; runs in Node, inside Vite).
export { ondevice, ondevice as default, type OnDeviceViteOptions } from './ondevice';
