import type { LiveEvent } from '../../shared/api-types.js';
import type { Header } from '../header.js';
import type { AppState } from '../state.js';

export interface ViewContext {
  state: AppState;
  header: Header;
}

/** A page of the app: built once per navigation, then updated in place on every live sample. */
export interface View {
  el: HTMLElement;
  update(event: LiveEvent): void;
  /** the write lock changed: re-render controls */
  authChanged?(): void;
}
