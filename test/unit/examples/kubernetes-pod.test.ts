// SPDX-License-Identifier: MIT
// examples/kubernetes/pod.yaml: its ConfigMap's supervisord.conf loads, and
// the pod's probes and Prometheus annotations name what that config serves.
// No YAML parser is a dependency: Debian's python3-yaml turns the file into
// JSON (the test is skipped where python3 has no yaml module).
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../../../src/config/load.js';
import { PYTHON } from '../../helpers/python.js';
import { removeTmpDirs, tmpDir } from '../../helpers/tmp.js';

const POD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'kubernetes', 'pod.yaml');
const hasYaml = spawnSync(PYTHON, ['-c', 'import yaml'], { stdio: 'ignore' }).status === 0;

interface Probe {
  httpGet: { path: string; port: number | string };
}
interface Doc {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    containers: Array<{
      command: string[];
      ports: Array<{ name: string; containerPort: number }>;
      volumeMounts: Array<{ name: string; mountPath: string }>;
      livenessProbe: Probe;
      readinessProbe: Probe;
    }>;
    volumes: Array<{ name: string; configMap: { name: string } }>;
  };
}

afterAll(removeTmpDirs);

describe.skipIf(!hasYaml)('examples/kubernetes/pod.yaml', () => {
  const docs = JSON.parse(
    execFileSync(PYTHON, ['-c', 'import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', POD], {
      encoding: 'utf8',
    }),
  ) as Doc[];
  const cm = docs.find((d) => d.kind === 'ConfigMap')!;
  const pod = docs.find((d) => d.kind === 'Pod')!;
  const c = pod.spec!.containers[0]!;

  it('runs fastvisord in the foreground as PID 1 with the ConfigMap mounted where -c points', () => {
    expect(c.command.slice(0, 2)).toEqual(['fastvisord', '-n']);
    const conf = c.command[c.command.indexOf('-c') + 1]!;
    const mount = c.volumeMounts.find((m) => conf.startsWith(`${m.mountPath}/`))!;
    expect(mount).toBeDefined();
    expect(pod.spec!.volumes.find((v) => v.name === mount.name)!.configMap.name).toBe(cm.metadata.name);
    expect(Object.keys(cm.data!)).toContain(path.basename(conf));
  });

  it('probes /healthz and /readyz and scrapes /metrics on the config’s inet_http_server port, without auth', () => {
    const dir = tmpDir('fv-k8s-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, cm.data!['supervisord.conf']!);
    const model = loadConfig({ configfile: conf, env: {} });
    const inet = model.servers.filter((s) => s.kind === 'inet');
    expect(inet).toHaveLength(1);
    const port = inet[0]!.port;
    expect(inet[0]!.username ?? null).toBeNull();
    expect(model.supervisord.metrics).toBe(true);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port });
    expect(c.ports.map((p) => p.containerPort)).toContain(port);
    const a = pod.metadata.annotations!;
    expect(a['prometheus.io/scrape']).toBe('true');
    expect(a['prometheus.io/path']).toBe('/metrics');
    expect(Number(a['prometheus.io/port'])).toBe(port);
  });

  it('logs to the pod’s stdout with no rotation, the daemon and every program', () => {
    const dir = tmpDir('fv-k8s-');
    const conf = path.join(dir, 'supervisord.conf');
    writeFileSync(conf, cm.data!['supervisord.conf']!);
    const model = loadConfig({ configfile: conf, env: {} });
    expect(model.supervisord.nodaemon).toBe(true);
    expect(model.supervisord.logfile).toBe('/dev/stdout');
    expect(model.supervisord.logfile_maxbytes).toBe(0);
    const procs = model.groups.flatMap((g) => g.processes);
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) {
      expect(p.stdout_logfile).toEqual({ kind: 'path', path: '/dev/stdout' });
      expect(p.stdout_logfile_maxbytes).toBe(0);
      if (!p.redirect_stderr) {
        expect(p.stderr_logfile).toEqual({ kind: 'path', path: '/dev/stderr' });
        expect(p.stderr_logfile_maxbytes).toBe(0);
      }
    }
  });
});
