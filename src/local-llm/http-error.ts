// The error a request handler throws to answer with an OpenAI-shaped error body and status.
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The 400 OpenAI returns when a prompt does not fit, so clients see the same `code`. */
export function contextLengthExceeded(message: string): HttpError {
  return new HttpError(400, message, 'invalid_request_error', 'context_length_exceeded');
}
