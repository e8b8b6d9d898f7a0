// SPDX-License-Identifier: MIT
// Request-target handling against Python: urllib.parse.unquote, and what supervisord's
// channel + logtail_handler make of a URI (run on supervisor's own code where it can be).
import { describe, expect, it } from 'vitest';

import { medusaUri, parseLogtailPath, pyUnquote, uriPath } from '../../../src/http/uri.js';
import { python } from '../../helpers/python.js';

const SAMPLES = [
  '/logtail/cat',
  '/logtail/%63at',
  '/%zz',
  '/a%2',
  '/a%',
  '/%E2%82%AC',
  '/%ff%fe',
  '/%C3',
  '/x%2Fy',
  '/caf\u00e9%20x',
  '/%41%42?q=%41',
  '',
];

describe('pyUnquote', () => {
  it('decodes as urllib.parse.unquote does, invalid escapes and bad UTF-8 included', () => {
    const expected = python<string[]>(
      'import json,sys\nfrom urllib.parse import unquote\nprint(json.dumps([unquote(s) for s in json.load(sys.stdin)]))',
      SAMPLES,
    );
    expect(SAMPLES.map(pyUnquote)).toEqual(expected);
  });
});

describe('medusaUri', () => {
  it('unquotes the part before the last ? and keeps the query as sent (deferring_http_channel)', () => {
    const expected = python<string[]>(
      `import json,sys,warnings
warnings.simplefilter('ignore')  # splitquery is deprecated, and it is what medusa calls
from supervisor.medusa import http_server
out = []
for uri in json.load(sys.stdin):
    rpath, rquery = http_server.splitquery(uri)
    if '%' in rpath:
        uri = http_server.unquote(rpath) + ('?' + rquery if rquery else '')
    out.append(uri)
print(json.dumps(out))`,
      SAMPLES,
    );
    expect(SAMPLES.map(medusaUri)).toEqual(expected);
  });

  it('lets /%52PC2 reach the RPC route, as medusa unquotes before matching', () => {
    expect(medusaUri('/%52PC2')).toBe('/RPC2');
  });
});

describe('parseLogtailPath', () => {
  it('splits NAME and CHANNEL as logtail_handler does, stdout by default', () => {
    expect(parseLogtailPath('/logtail/cat')).toEqual({ name: 'cat', channel: 'stdout' });
    expect(parseLogtailPath('/logtail/grp:cat/stderr')).toEqual({ name: 'grp:cat', channel: 'stderr' });
    expect(parseLogtailPath('/logtail/cat?x=1')).toEqual({ name: 'cat', channel: 'stdout' });
    expect(parseLogtailPath('/logtail/%63at/std%6Fut')).toEqual({ name: 'cat', channel: 'stdout' });
    // supervisord matched '/logtail' as a prefix and never looks at the first segment again.
    expect(parseLogtailPath('/logtailx/cat')).toEqual({ name: 'cat', channel: 'stdout' });
    expect(parseLogtailPath('///logtail/cat')).toEqual({ name: 'cat', channel: 'stdout' });
  });

  it('refuses what supervisord answers with 404 or 500: other channels, no name segment', () => {
    expect(parseLogtailPath('/logtail/cat/bogus')).toBeNull();
    expect(parseLogtailPath('/logtail/cat/stdout/extra')).toBeNull();
    expect(parseLogtailPath('/logtail/cat/')).toBeNull();
    expect(parseLogtailPath('/logtail')).toBeNull();
  });

  it('never yields a path: traversal attempts are names (looked up, not opened)', () => {
    // The name is one segment; whatever it holds goes to the resolver as a key.
    expect(parseLogtailPath('/logtail/..%2F..%2Fetc%2Fpasswd')).toBeNull();
    expect(parseLogtailPath('/logtail/../../etc/passwd')).toBeNull();
    expect(parseLogtailPath('/logtail/..')).toEqual({ name: '..', channel: 'stdout' });
    expect(parseLogtailPath('/logtail/%2e%2e/stderr')).toEqual({ name: '..', channel: 'stderr' });
  });

  it('takes the path from path;params?query#fragment (split_uri)', () => {
    expect(uriPath('/a;b?c#d')).toBe('/a');
    expect(uriPath('/a#b?c')).toBe('/a');
    expect(uriPath('/a?b;c')).toBe('/a');
  });
});
