import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags every test browser gets: headless as root in CI, no background network (the sandbox has none). */
export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** WebGPU through SwiftShader (CPU Vulkan): slow, so keep WebGPU inputs small. */
export const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

export interface LaunchChromiumOptions {
  webgpu?: boolean;
  extraArgs?: string[];
  launch?: Omit<LaunchOptions, 'executablePath' | 'args'>;
}

export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`npm test\` (installs it as root) or \`apt-get install -y chromium\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...BASE_FLAGS, ...(options.webgpu ? WEBGPU_FLAGS : ['--disable-gpu']), ...(options.extraArgs ?? [])],
    ...options.launch,
  });
}
