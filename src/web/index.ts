// SPDX-License-Identifier: MIT
// The web module's door: the handler for HttpHandlers.web.
export { createWebHandler, MAX_TAIL_BYTES, type WebHandler, type WebHandlerOptions } from './handler.js';
export type { WebBackend } from './rpc.js';
