// One line that says why a dialogue failed, for the manifest, the progress query and the UI.
const MAX_LENGTH = 300;

export function describeFailure(err: unknown): string {
  // A child's failure wraps its activity's; the innermost message says what went wrong.
  let e = err as { message?: string; cause?: unknown } | undefined;
  let message = String(e?.message ?? err);
  while (e?.cause) {
    e = e.cause;
    if (e?.message) message = e.message;
  }
  return message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH)}…` : message;
}
