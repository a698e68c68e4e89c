import type { LiveEvent } from '../shared/api-types.js';
import type { LiveState } from './header.js';

/**
 * Live samples over Server-Sent Events. EventSource reconnects by itself (the server asks for
 * 3 s); the page only shows whether it is connected.
 */
export function connectLive(
  onEvent: (event: LiveEvent) => void,
  onState: (state: LiveState) => void,
): () => void {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => onState('live'));
  source.addEventListener('error', () => onState('reconnecting'));
  source.addEventListener('sample', (message) => {
    try {
      onEvent(JSON.parse((message as MessageEvent<string>).data) as LiveEvent);
    } catch {
      // a malformed frame is skipped; the next one replaces it
    }
  });
  return () => source.close();
}
