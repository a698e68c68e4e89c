/**
 * The write token lives in sessionStorage: gone when the tab closes, never in a cookie (so no
 * other site's request can carry it), never in the URL after the page has read it.
 */
const KEY = 'ilkkun.dashboard.token';
/** fallback when storage is disabled: the token lasts as long as this page */
let memory: string | undefined;

export function getToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function setToken(token: string | undefined): void {
  try {
    if (token === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: `memory` keeps it for this page
  }
  memory = token;
}

export function currentToken(): string | undefined {
  return getToken() ?? memory;
}

/**
 * `…/#token=SECRET` opens the page unlocked: the fragment never reaches the server or its logs.
 * It is moved into storage and removed from the address bar and history at once.
 */
export function adoptTokenFromFragment(): void {
  const match = /^#token=([^&]+)$/.exec(location.hash);
  if (!match) return;
  try {
    setToken(decodeURIComponent(match[1]!));
  } catch {
    // malformed escape: ignore it, the person can still type the token
  }
  history.replaceState(null, '', `${location.pathname}#/`);
}
