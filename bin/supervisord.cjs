#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// supervisord: fastvisor's daemon, the same program as fastvisord (bin/fastvisord.cjs).
'use strict';
require('./fastvisord.cjs');
