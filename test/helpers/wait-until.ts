// Polling for a condition in a test, with a deadline that names what was awaited.

/** Resolves once `check` holds, trying every 200 ms until `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  what = 'the condition',
  timeoutMs = 60_000,
): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
