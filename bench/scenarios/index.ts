// SPDX-License-Identifier: MIT
import type { ScenarioName } from '../lib/types.js';
import { bulk } from './bulk.js';
import { chatty } from './chatty.js';
import { crashloop } from './crashloop.js';
import type { Scenario } from './common.js';
import { deps } from './deps.js';
import { many } from './many.js';
import { rpc } from './rpc.js';
import { scale } from './scale.js';

export const SCENARIOS: Record<ScenarioName, Scenario> = { bulk, chatty, many, rpc, crashloop, deps, scale };
