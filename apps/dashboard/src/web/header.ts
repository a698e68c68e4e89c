import type { MetaResponse } from '../shared/api-types.js';
import { ApiError, postJson } from './api.js';
import { fill, h } from './dom.js';
import { describeError, notify } from './notify.js';
import { href } from './routes.js';
import { currentToken, setToken } from './token.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export interface Header {
  el: HTMLElement;
  setLive(state: LiveState, at?: number): void;
  setBackendError(message: string | undefined): void;
  /** show the token form (after a 401, or when a locked action is tried) */
  openUnlock(): void;
  /** whether write controls should be offered at all */
  canWrite(): boolean;
}

/** Top bar: name, backend, navigation, live indicator, and the write lock (read-only / token). */
export function createHeader(meta: MetaResponse, onAuthChange: () => void): Header {
  const live = h('span', { class: 'live live-connecting', role: 'status' }, 'connecting…');
  const banner = h('div', { class: 'banner', role: 'alert', hidden: true });
  const lock = h('div', { class: 'lock' });
  const input = h('input', {
    type: 'password',
    name: 'token',
    placeholder: 'dashboard token',
    autocomplete: 'current-password',
    aria: { label: 'dashboard token' },
  });
  const form = h(
    'form',
    { class: 'unlock-form', hidden: true, onSubmit: (e) => void submit(e) },
    input,
    h('button', { type: 'submit', class: 'btn' }, 'Unlock'),
  );

  async function submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const token = input.value.trim();
    if (token === '') return;
    try {
      await postJson('/api/token-check', {}, token);
      setToken(token);
      input.value = '';
      form.hidden = true;
      notify('write actions unlocked for this tab');
      renderLock();
      onAuthChange();
    } catch (err) {
      notify(err instanceof ApiError && err.status === 401 ? 'wrong token' : describeError(err), 'error');
    }
  }

  function renderLock(): void {
    if (meta.readOnly) {
      fill(
        lock,
        h(
          'span',
          { class: 'badge badge-ro', title: 'started with --read-only: no write actions' },
          'read-only',
        ),
      );
    } else if (!meta.tokenRequired) {
      fill(
        lock,
        h(
          'span',
          { class: 'badge', title: 'no token configured: write actions are open on this machine' },
          'writable',
        ),
      );
    } else if (currentToken() !== undefined) {
      fill(
        lock,
        h('span', { class: 'badge badge-ok' }, 'unlocked'),
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small',
            onClick: () => {
              setToken(undefined);
              renderLock();
              onAuthChange();
            },
          },
          'Lock',
        ),
      );
    } else {
      fill(
        lock,
        h('span', { class: 'badge badge-locked', title: 'write actions need the dashboard token' }, 'locked'),
        h('button', { type: 'button', class: 'btn btn-small', onClick: () => openUnlock() }, 'Unlock…'),
      );
    }
  }

  function openUnlock(): void {
    if (meta.readOnly) return;
    form.hidden = false;
    input.focus();
  }

  renderLock();
  const el = h(
    'header',
    { class: 'top' },
    h(
      'div',
      { class: 'top-row' },
      h(
        'a',
        { href: href.overview(), class: 'brand' },
        'ilkkun',
        h('span', { class: 'brand-sub' }, ' dashboard'),
      ),
      h(
        'nav',
        { class: 'nav', aria: { label: 'main' } },
        h('a', { href: href.overview() }, 'Queues'),
        h('a', { href: href.pools() }, 'Pools'),
      ),
      h('span', { class: 'backend', title: meta.backend.url }, `${meta.backend.name} · ${meta.backend.url}`),
      live,
      lock,
    ),
    form,
    banner,
  );

  return {
    el,
    setLive(state, at) {
      live.className = `live live-${state}`;
      live.textContent =
        state === 'live'
          ? `live${at ? ` · ${new Date(at).toLocaleTimeString(undefined, { hour12: false })}` : ''}`
          : `${state}…`;
    },
    setBackendError(message) {
      banner.hidden = message === undefined;
      banner.textContent = message === undefined ? '' : `The backend could not be read: ${message}`;
    },
    openUnlock,
    canWrite: () => !meta.readOnly,
  };
}
