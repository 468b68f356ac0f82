// STOMP 1.0/1.1/1.2 adapter (DESIGN.md §6).
export {
  createStompServer,
  createStompServerWith,
  parseStompOptions,
  type StompServerOptions,
} from './server.js';
export type { StompCore, ConsumerRef } from './core-admin.js';
