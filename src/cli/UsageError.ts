import { OnDeviceError } from '../core/OnDeviceError';

/**
 * A mistake in how a command was called (an unknown flag, a missing argument, a malformed value): the
 * CLI prints it with that command's usage and exits 2. Everything else that stops a command exits 1.
 */
export class UsageError extends OnDeviceError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
  }
}
