// SPDX-License-Identifier: MIT
// [rpcinterface:x] (options.py get_plugins): x is the XML-RPC namespace the
// factory fills; every other key is a keyword argument for the factory.
import type { RpcInterfaceConfig } from '../model.js';
import type { ConfigParser } from '../parser.js';
import { ValueError } from '../datatypes.js';
import { builtinEntryPoint } from './entry-point.js';

export const FACTORY_KEY = 'supervisor.rpcinterface_factory';
export const MAIN_RPCINTERFACE = 'supervisor.rpcinterface:make_main_rpcinterface';

/** Read before the program sections, as supervisord does (plugins may register event types). */
export function readRpcInterfaces(p: ConfigParser): RpcInterfaceConfig[] {
  const out: RpcInterfaceConfig[] = [];
  for (const section of p.sections()) {
    if (!section.startsWith('rpcinterface:')) continue;
    const name = section.slice(section.indexOf(':') + 1);
    // ENV_* only: get_plugins passes no %(here)s.
    const factory = p.saneget(section, FACTORY_KEY, null);
    if (factory === null) throw new ValueError(`section [${section}] does not specify a ${FACTORY_KEY}`);
    builtinEntryPoint(factory, MAIN_RPCINTERFACE, section, FACTORY_KEY, 'rpcinterface plugins');
    const extras: Record<string, string> = {};
    for (const k of p.options(section)) if (k !== FACTORY_KEY) extras[k] = p.saneget(section, k, '');
    out.push({ name, factory, extras });
  }
  return out;
}
