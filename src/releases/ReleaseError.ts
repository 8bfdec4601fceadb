/** A refusal the HTTP layer answers as `{error, code, ...details}` with `status`. */
export class ReleaseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
