// SPDX-License-Identifier: MIT
// Every peer by name, as scenarios and the runner refer to them.
import type { PeerDef } from '../lib/types.js';
import { cLoopPeer } from './c-loop.js';
import { fastvisorPeer } from './fastvisor.js';
import { fastvisordBeforePeer, fastvisordPeer } from './fastvisord.js';
import { pm2Peer } from './pm2.js';
import { supervisordPeer } from './supervisord.js';

export const PEERS: Record<string, PeerDef> = {
  fastvisor: fastvisorPeer('fastvisor'),
  'fastvisor-batch0': fastvisorPeer('fastvisor-batch0', 0),
  'fastvisor-timestamped': fastvisorPeer('fastvisor-timestamped', undefined, 'timestamped'),
  'fastvisor-json': fastvisorPeer('fastvisor-json', undefined, 'json'),
  'fastvisor-gzip': fastvisorPeer('fastvisor-gzip', undefined, undefined, 'gzip'),
  fastvisord: fastvisordPeer(),
  'fastvisord-before': fastvisordBeforePeer(),
  'c-loop': cLoopPeer('c-loop', false),
  'c-splice': cLoopPeer('c-splice', true),
  supervisord: supervisordPeer(),
  pm2: pm2Peer(),
};

/** The peers that ratios are taken against. */
export const C_LOOP_PEER = 'c-loop';
export const SUPERVISORD_PEER = 'supervisord';
