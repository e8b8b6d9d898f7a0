// SPDX-License-Identifier: MIT
// fastvisor's time rotation, retention and compression options, as the
// native sink takes them (LogRotationSpec). null (no option set): nothing is
// passed, and the sink rotates by size alone, as supervisord's does.
import type { LogRotation } from '../config/model.js';
import type { LogRotationSpec } from '../native/index.js';

export function rotationSpec(r: LogRotation | null): LogRotationSpec | undefined {
  if (!r) return undefined;
  return {
    ...(r.every !== null ? { every: r.every } : {}),
    ...(r.max_age > 0 ? { maxAge: r.max_age } : {}),
    compress: r.compress,
  };
}
