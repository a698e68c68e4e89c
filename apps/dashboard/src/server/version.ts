import { readFileSync } from 'node:fs';

/** The package's version, shown in the page footer (read from package.json two levels up, as in static-assets). */
export const DASHBOARD_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();
