// Headless Chromium for tests that look at a page: Debian's `chromium` (infra/install.sh --browser
// installs it), driven with playwright-core; PARROT_CHROMIUM names another binary.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export function chromiumPath(): string {
  const candidates = [process.env.PARROT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
    (p): p is string => !!p,
  );
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found)
    throw new Error(
      `no Chromium at ${candidates.join(', ')}: run \`bash infra/install.sh --browser\` or set PARROT_CHROMIUM`,
    );
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] });
}
