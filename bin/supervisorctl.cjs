#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// supervisorctl: fastvisor's, the same program as fastvisorctl (bin/fastvisorctl.cjs).
'use strict';
require('./fastvisorctl.cjs');
