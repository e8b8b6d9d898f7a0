// SPDX-License-Identifier: MIT
// The http module's door: the servers, and the pieces a web UI handler reuses.
export {
  startHttpServers,
  HttpServerError,
  type HttpAddress,
  type HttpHandlers,
  type HttpLog,
  type HttpLogLevel,
  type HttpServerOptions,
  type HttpServers,
  type RequestContext,
  type RpcRequestContext,
} from './server.js';
export { sendError, startReply, errorPage, httpDate, SERVER_IDENT } from './reply.js';
export type { LogChannel } from './uri.js';
