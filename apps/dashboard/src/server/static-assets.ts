import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@ilkkun/core';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * This file sits two levels below the package root both as source (src/server) and as build
 * output (dist/server), so the same relative URL finds `public/` and `dist/browser/` from either.
 */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PUBLIC_DIR = join(PACKAGE_ROOT, 'public');
export const BROWSER_DIR = join(PACKAGE_ROOT, 'dist', 'browser');

function walk(dir: string, depth: number, out: string[]): void {
  if (depth > 4) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, depth + 1, out);
    else if (entry.isFile()) out.push(path);
  }
}

function urlPath(dir: string, file: string): string {
  return relative(dir, file).split(sep).join('/');
}

/**
 * Every file the server can send, read once at start into a map keyed by URL path. Requests
 * are looked up in it, never joined onto a directory, so no path can escape (`../`), and no
 * file appears that was not there at start.
 */
export function loadAssets(publicDir = PUBLIC_DIR, browserDir = BROWSER_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(browserDir, 'web', 'main.js'))) {
    throw new ConfigError(
      `the dashboard's browser code is not built (${join(browserDir, 'web', 'main.js')} is missing): run pnpm build`,
    );
  }
  const publicFiles: string[] = [];
  walk(publicDir, 0, publicFiles);
  for (const file of publicFiles) {
    const type = TYPES[extname(file)];
    if (type) assets.set(`/${urlPath(publicDir, file)}`, { body: readFileSync(file), type });
  }
  const scripts: string[] = [];
  walk(browserDir, 0, scripts);
  for (const file of scripts) {
    // compiled modules only: no source maps or declarations
    if (extname(file) === '.js') {
      assets.set(`/assets/js/${urlPath(browserDir, file)}`, {
        body: readFileSync(file),
        type: TYPES['.js']!,
      });
    }
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  return assets;
}
