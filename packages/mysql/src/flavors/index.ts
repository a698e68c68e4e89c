import { QUDO } from './qudo.js';
import { THESCHWARTZ } from './theschwartz.js';
import type { Flavor } from './types.js';

export { QUDO } from './qudo.js';
export { THESCHWARTZ } from './theschwartz.js';
export { type Flavor, q } from './types.js';

export type FlavorName = Flavor['name'];

/** The fixed flavour object for a (validated) flavour name. */
export const flavorOf = (name: FlavorName): Flavor => (name === 'qudo' ? QUDO : THESCHWARTZ);
