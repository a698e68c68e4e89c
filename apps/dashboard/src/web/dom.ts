/**
 * The only way the page builds DOM. Text always goes in as text nodes (`textContent`
 * semantics), attributes through `setAttribute` with a short allow-list, and no function here
 * parses HTML: job payloads, errors and ids can hold `<script>` or `onerror=` and still render
 * as the characters they are. The server's CSP (Trusted Types, no inline script) backs this up.
 */

export type Child = Node | string | number | null | undefined | false;

type Handler<E extends Event> = (event: E) => void;

export interface Attrs {
  class?: string;
  id?: string;
  /** in-page links only (`#/…`) or same-origin paths; never a scheme such as javascript: */
  href?: string;
  title?: string;
  type?: string;
  role?: string;
  name?: string;
  value?: string;
  placeholder?: string;
  for?: string;
  autocomplete?: string;
  disabled?: boolean;
  checked?: boolean;
  hidden?: boolean;
  /** `aria-*` and `data-*` attributes */
  aria?: Record<string, string>;
  data?: Record<string, string>;
  onClick?: Handler<MouseEvent>;
  onChange?: Handler<Event>;
  onSubmit?: Handler<SubmitEvent>;
}

const BOOLEAN_ATTRS = ['disabled', 'checked', 'hidden'] as const;
const STRING_ATTRS = [
  'class',
  'id',
  'title',
  'type',
  'role',
  'name',
  'placeholder',
  'for',
  'autocomplete',
] as const;

function safeHref(href: string): string {
  if (href.startsWith('#') || (href.startsWith('/') && !href.startsWith('//'))) return href;
  throw new Error(`refusing a link that leaves the dashboard: ${href.slice(0, 40)}`);
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(
      typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child,
    );
  }
}

/** Create an element: `h('td', { class: 'num' }, count)`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const name of STRING_ATTRS) {
      const value = attrs[name];
      if (value !== undefined) el.setAttribute(name, value);
    }
    for (const name of BOOLEAN_ATTRS) if (attrs[name]) el.setAttribute(name, '');
    if (attrs.href !== undefined) el.setAttribute('href', safeHref(attrs.href));
    if (attrs.value !== undefined && 'value' in el) (el as HTMLInputElement).value = attrs.value;
    if (attrs.checked !== undefined && el instanceof HTMLInputElement) el.checked = attrs.checked;
    for (const [k, v] of Object.entries(attrs.aria ?? {})) el.setAttribute(`aria-${k}`, v);
    for (const [k, v] of Object.entries(attrs.data ?? {})) el.setAttribute(`data-${k}`, v);
    const { onClick, onChange, onSubmit } = attrs;
    if (onClick) el.addEventListener('click', (e) => onClick(e as MouseEvent));
    if (onChange) el.addEventListener('change', onChange);
    if (onSubmit) el.addEventListener('submit', (e) => onSubmit(e as SubmitEvent));
  }
  append(el, children);
  return el;
}

/** Replace an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attribute values are numbers and fixed words from the chart code, never job data. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on/i.test(name) || name === 'href' || name === 'style')
      throw new Error(`refusing SVG attribute ${name}`);
    el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}
