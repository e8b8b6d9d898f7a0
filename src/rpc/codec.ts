// SPDX-License-Identifier: MIT
// XML-RPC bodies <-> values, as supervisord's xmlrpc.py and Python's xmlrpc.client
// write and read them, with a hand-written tokenizer that refuses hostile input.

/** Largest request body parseMethodCall accepts; the HTTP layer may refuse earlier by Content-Length. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
/**
 * Largest response body parseMethodResponse accepts by default: replies carry log data
 * (readProcessStdoutLog with length 0 returns the whole file), so they get more room.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
/** Arrays and structs nested deeper than this are refused. */
export const MAX_DEPTH = 64;
/** Values (scalars, arrays, structs) in one document. */
export const MAX_VALUES = 100_000;

// xmlrpc.client MAXINT/MININT: what dump_long() lets through.
export const MAXINT = 2 ** 31 - 1;
export const MININT = -(2 ** 31);

export type XmlRpcValue =
  | string
  | number
  | boolean
  | null
  | Buffer
  | Date
  | XmlRpcDouble
  | XmlRpcValue[]
  | XmlRpcStruct;

/**
 * A number sent as <double> even when it is whole: byte counts and seconds
 * outgrow XML-RPC's 32-bit <int>, and a client must not see the type change
 * with the value. Only ever serialized; parsing gives plain numbers.
 */
export class XmlRpcDouble {
  constructor(readonly value: number) {}
}
export interface XmlRpcStruct {
  [key: string]: XmlRpcValue;
}

/**
 * A body as one buffer, or as the pieces it arrived in (the HTTP layer hands those over
 * as they came rather than copying them into one more buffer of the whole size).
 */
export type XmlRpcBody = Uint8Array | readonly Uint8Array[];

export interface MethodCall {
  methodName: string;
  params: XmlRpcValue[];
}

export type MethodResponse =
  | { kind: 'params'; params: XmlRpcValue[] }
  | { kind: 'fault'; faultCode: number; faultString: string };

export interface ParseLimits {
  maxBytes: number;
  maxDepth: number;
  maxValues: number;
}

export type ParseErrorReason =
  | 'too_large'
  | 'invalid_utf8'
  | 'doctype'
  | 'entity'
  | 'malformed'
  | 'truncated'
  | 'wrong_root'
  | 'unexpected_element'
  | 'bad_value'
  | 'too_deep'
  | 'too_many_values'
  | 'no_method_name'
  | 'bad_fault';

/**
 * A body that is not an XML-RPC document we accept. The HTTP layer answers it with
 * `httpStatus`, never with a Fault: supervisord's continue_request() replies 400 to
 * anything its loads() cannot unmarshal and to an empty method name (there is no body
 * limit in supervisord; 413 is ours). xmlrpc.client turns either into a ProtocolError.
 */
export class XmlRpcParseError extends Error {
  readonly reason: ParseErrorReason;
  readonly httpStatus: 400 | 413;

  constructor(reason: ParseErrorReason, message: string) {
    // Messages quote element names, which a hostile body can make megabytes long; they go to the log.
    super(message.length > 200 ? `${message.slice(0, 200)}...` : message);
    this.name = 'XmlRpcParseError';
    this.reason = reason;
    this.httpStatus = reason === 'too_large' ? 413 : 400;
  }
}

/**
 * A value the wire cannot carry. supervisord lets the same TypeError/OverflowError from
 * xmlrpc.client.dumps escape continue_request(), which answers HTTP 500.
 */
export class XmlRpcSerializeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcSerializeError';
  }
}

/** xmlrpc.py capped_int(): supervisord clamps timestamps so they stay an `<int>`. */
export function cappedInt(value: number): number {
  const i = Math.trunc(value);
  return i < MININT ? MININT : i > MAXINT ? MAXINT : i;
}

/**
 * A request body, read as supervisord's supervisor_xmlrpc_handler.loads() reads it, except
 * where that is plainly wrong (see the tests): <i8>, <nil/> and <base64> are read as
 * xmlrpc.client reads them. Throws XmlRpcParseError.
 */
export function parseMethodCall(body: XmlRpcBody, limits: Partial<ParseLimits> = {}): MethodCall {
  const p = new Parser(body, { maxBytes: MAX_BODY_BYTES, maxDepth: MAX_DEPTH, maxValues: MAX_VALUES, ...limits });
  return p.document('methodCall', () => p.methodCall()) as MethodCall;
}

/** A reply body, as xmlrpc.client.loads reads it (the supervisorctl side). Throws XmlRpcParseError. */
export function parseMethodResponse(body: XmlRpcBody, limits: Partial<ParseLimits> = {}): MethodResponse {
  const p = new Parser(body, {
    maxBytes: MAX_RESPONSE_BYTES,
    maxDepth: MAX_DEPTH,
    maxValues: MAX_VALUES,
    ...limits,
  });
  return p.document('methodResponse', () => p.methodResponse()) as MethodResponse;
}

/**
 * parseMethodResponse() of a body already decoded as text (a client that replaces invalid
 * UTF-8 rather than refusing it). The reply as Python's Marshaller writes it is read by
 * a few sticky regular expressions (native code, fast even before the JIT has warmed
 * up: supervisorctl parses one reply and exits); anything else goes to the full parser.
 */
export function parseMethodResponseText(text: string, limits: Partial<ParseLimits> = {}): MethodResponse {
  const all: ParseLimits = { maxBytes: MAX_RESPONSE_BYTES, maxDepth: MAX_DEPTH, maxValues: MAX_VALUES, ...limits };
  const src = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).replace(/\r\n?/g, '\n');
  if (src.length <= all.maxBytes / 3) {
    const fast = new CanonicalReply(src, all).read();
    if (fast) return fast;
  }
  return parseMethodResponse(Buffer.from(text, 'utf8'), limits);
}

const REPLY_HEAD = /<\?xml version=(?:'1\.0'|"1\.0")\?>\n?<methodResponse>\n?<params>\n?<param>\n?/y;
const REPLY_TAIL = /<\/param>\n?<\/params>\n?<\/methodResponse>\n?$/y;
const SCALAR = /<value><(string|int|i4|boolean)>([^<]*)<\/\1><\/value>\n?/y;
const ARRAY_OPEN = /<value><array><data>\n?/y;
const ARRAY_CLOSE = /<\/data><\/array><\/value>\n?/y;
const STRUCT_OPEN = /<value><struct>\n?/y;
const STRUCT_CLOSE = /<\/struct><\/value>\n?/y;
const MEMBER_OPEN = /<member>\n?<name>([^<&]*)<\/name>\n?/y;
const MEMBER_CLOSE = /<\/member>\n?/y;

/**
 * A reply in the exact shape xmlrpc.client's Marshaller (and ours) writes: one param of
 * strings, ints, booleans, arrays and structs, newlines where it puts them. read() gives
 * what Parser gives for it, or undefined at the first thing outside that shape, the
 * limits included: the full parser then reads the body and reports the error, if any.
 */
class CanonicalReply {
  private pos = 0;
  private values = 0;

  constructor(
    private readonly src: string,
    private readonly limits: ParseLimits,
  ) {}

  read(): MethodResponse | undefined {
    if (!this.eat(REPLY_HEAD)) return undefined;
    const v = this.value(0);
    if (v === undefined || !this.eat(REPLY_TAIL)) return undefined;
    return { kind: 'params', params: [v] };
  }

  private eat(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (m) this.pos = re.lastIndex;
    return m;
  }

  private value(depth: number): XmlRpcValue | undefined {
    if (++this.values > this.limits.maxValues) return undefined;
    const scalar = this.eat(SCALAR);
    if (scalar) return scalarOf(scalar[1]!, scalar[2]!);
    if (depth >= this.limits.maxDepth) return undefined;
    if (this.eat(ARRAY_OPEN)) {
      const out: XmlRpcValue[] = [];
      while (!this.eat(ARRAY_CLOSE)) {
        const v = this.value(depth + 1);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    if (this.eat(STRUCT_OPEN)) {
      const out: XmlRpcStruct = {};
      while (!this.eat(STRUCT_CLOSE)) {
        const member = this.eat(MEMBER_OPEN);
        // __proto__ would set the prototype: the full parser defines it as data instead.
        if (!member || member[1] === '__proto__') return undefined;
        const v = this.value(depth + 1);
        if (v === undefined || !this.eat(MEMBER_CLOSE)) return undefined;
        out[member[1]!] = v;
      }
      return out;
    }
    return undefined;
  }
}

/** What Parser.typed() makes of these leaf elements; undefined where it would refuse them. */
function scalarOf(tag: string, raw: string): XmlRpcValue | undefined {
  let text = raw;
  if (raw.includes('&')) {
    try {
      text = decodeEntities(raw);
    } catch {
      return undefined;
    }
  }
  if (tag === 'string') return text;
  if (tag === 'boolean') return text === '1';
  return intOf(text) ?? undefined;
}

/**
 * Python's int() of an <int>/<i4> text, or null. Python ints are unbounded;
 * past 2**53 a JS number would silently round, so those are refused too.
 */
function intOf(text: string): number | null {
  const m = INT.exec(text);
  const n = m ? Number(m[1]!.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(n)) return null;
  return n === 0 ? 0 : n; // no -0 from "-0"
}

interface OpenTok {
  t: 'open';
  name: string;
  /** The name without a namespace prefix. */
  local: string;
  empty: boolean;
}
interface CloseTok {
  t: 'close';
  name: string;
}
type Token = OpenTok | CloseTok | { t: 'text'; text: string } | { t: 'eof' };

const NAME = /[A-Za-z_:\u00C0-\uFFFF][-A-Za-z0-9_.:\u00B7\u00C0-\uFFFF]*/y;
const ALL_SPACE = /^[ \t\n]*$/;
// Python int(): optional blanks and sign, digits with single underscores between them.
const INT = /^[ \t\n\r\f\v]*([+-]?\d+(?:_\d+)*)[ \t\n\r\f\v]*$/;
// Python float(): the same, decimals with an optional exponent, or inf/infinity/nan.
const DOUBLE =
  /^[ \t\n\r\f\v]*([+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan))[ \t\n\r\f\v]*$/i;
// supervisord make_datetime() and xmlrpc.client _datetime_type(): strptime "%Y%m%dT%H:%M:%S".
const DATETIME = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const INT_TAGS = new Set(['int', 'i4', 'i8', 'i1', 'i2', 'biginteger']);
const DOUBLE_TAGS = new Set(['double', 'float']);
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Parser {
  private readonly src: string;
  private pos = 0;
  private values = 0;
  private peeked: Token | undefined;
  private readonly limits: ParseLimits;

  constructor(body: XmlRpcBody, limits: ParseLimits) {
    this.limits = limits;
    const size = bodySize(body);
    if (size > limits.maxBytes) {
      throw new XmlRpcParseError('too_large', `body of ${size} bytes exceeds ${limits.maxBytes}`);
    }
    // XML 1.0 end-of-line handling (expat): CRLF and lone CR become LF; &#13; survives.
    this.src = decodeUtf8(body).replace(/\r\n?/g, '\n');
  }

  document(root: string, body: () => unknown): unknown {
    let open: Token;
    for (;;) {
      open = this.next();
      if (open.t === 'eof') throw new XmlRpcParseError('truncated', 'no root element');
      if (open.t === 'open') break;
      if (open.t === 'close') throw this.malformed(`unexpected </${open.name}>`);
      if (!ALL_SPACE.test(open.text)) throw this.malformed('text before the root element');
    }
    if (open.local !== root) throw new XmlRpcParseError('wrong_root', `root is <${open.name}>, expected <${root}>`);
    if (open.empty) throw new XmlRpcParseError(root === 'methodCall' ? 'no_method_name' : 'malformed', `empty <${root}>`);
    const result = body();
    this.close(open.name);
    for (;;) {
      const tok = this.next();
      if (tok.t === 'eof') return result;
      if (tok.t !== 'text' || !ALL_SPACE.test(tok.text)) throw this.malformed('junk after the root element');
    }
  }

  methodCall(): MethodCall {
    let methodName: string | undefined;
    let params: XmlRpcValue[] | undefined;
    for (;;) {
      const tok = this.peekStructural();
      if (tok.t === 'close') break;
      this.next();
      if (tok.local === 'methodName' && methodName === undefined) methodName = this.textOnly(tok);
      else if (tok.local === 'params' && params === undefined) params = this.params(tok);
      else throw this.unexpected(tok, 'methodCall');
    }
    // supervisord continue_request(): "no <methodName> in the request or name is an empty string" -> 400.
    if (!methodName) throw new XmlRpcParseError('no_method_name', 'no method name');
    // ... and "we allow xml-rpc clients that do not send empty <params>".
    return { methodName, params: params ?? [] };
  }

  methodResponse(): MethodResponse {
    const tok = this.peekStructural();
    if (tok.t === 'close') throw this.malformed('<methodResponse> holds neither <params> nor <fault>');
    this.next();
    let result: MethodResponse;
    if (tok.local === 'params') {
      result = { kind: 'params', params: this.params(tok) };
    } else if (tok.local === 'fault') {
      const values = this.valuesUntilClose(tok, 0);
      const v = values[0];
      // xmlrpc.client raises Fault(**struct): exactly these two members.
      if (
        values.length !== 1 ||
        !isStruct(v) ||
        Object.keys(v).length !== 2 ||
        typeof v.faultCode !== 'number' ||
        typeof v.faultString !== 'string'
      ) {
        throw new XmlRpcParseError('bad_fault', '<fault> is not a {faultCode, faultString} struct');
      }
      result = { kind: 'fault', faultCode: v.faultCode, faultString: v.faultString };
    } else {
      throw this.unexpected(tok, 'methodResponse');
    }
    if (this.peekStructural().t !== 'close') throw this.malformed('more than one child in <methodResponse>');
    return result;
  }

  private params(open: OpenTok): XmlRpcValue[] {
    const out: XmlRpcValue[] = [];
    if (open.empty) return out;
    for (;;) {
      const tok = this.peekStructural();
      if (tok.t === 'close') break;
      this.next();
      if (tok.local !== 'param') throw this.unexpected(tok, 'params');
      // supervisord: "param": lambda x: x[0].text, one <value> each.
      const values = this.valuesUntilClose(tok, 0);
      if (values.length !== 1) throw this.malformed('<param> must hold exactly one <value>');
      out.push(values[0]!);
    }
    this.close(open.name);
    return out;
  }

  /** Children of <param>, <fault> or <data>: <value>s, with text between them ignored as Python does. */
  private valuesUntilClose(open: OpenTok, depth: number): XmlRpcValue[] {
    const out: XmlRpcValue[] = [];
    if (open.empty) return out;
    for (;;) {
      const tok = this.peekStructural();
      if (tok.t === 'close') break;
      this.next();
      if (tok.local !== 'value') throw this.unexpected(tok, open.local);
      out.push(this.value(tok, depth));
    }
    this.close(open.name);
    return out;
  }

  private value(open: OpenTok, depth: number): XmlRpcValue {
    if (++this.values > this.limits.maxValues) {
      throw new XmlRpcParseError('too_many_values', `more than ${this.limits.maxValues} values`);
    }
    if (open.empty) return '';
    const text: string[] = [];
    let typed: { v: XmlRpcValue } | undefined;
    for (;;) {
      const tok = this.next();
      if (tok.t === 'eof') throw this.truncated();
      if (tok.t === 'text') {
        text.push(tok.text);
      } else if (tok.t === 'close') {
        if (tok.name !== open.name) throw this.mismatch(open.name, tok.name);
        // An untyped <value> is a string, whitespace and all (xmlrpc.client end_value, supervisord "value").
        return typed ? typed.v : text.join('');
      } else {
        if (typed) throw this.malformed('more than one element in <value>');
        typed = { v: this.typed(tok, depth) };
      }
    }
  }

  private typed(open: OpenTok, depth: number): XmlRpcValue {
    const tag = open.local;
    if (tag === 'string') return this.textOnly(open);
    if (INT_TAGS.has(tag)) {
      const n = intOf(this.textOnly(open));
      if (n === null) throw new XmlRpcParseError('bad_value', `bad <${open.name}> value`);
      return n;
    }
    if (tag === 'boolean') {
      // supervisord's unmarshaller: x.text == "1"; anything else is False.
      return this.textOnly(open) === '1';
    }
    if (DOUBLE_TAGS.has(tag)) {
      const m = DOUBLE.exec(this.textOnly(open));
      if (!m) throw new XmlRpcParseError('bad_value', `bad <${open.name}> value`);
      const s = m[1]!.replace(/_/g, '').toLowerCase();
      const sign = s.startsWith('-') ? -1 : 1;
      const bare = s.replace(/^[+-]/, '');
      if (bare === 'nan') return NaN;
      if (bare === 'inf' || bare === 'infinity') return sign * Infinity;
      return Number(s);
    }
    if (tag === 'dateTime.iso8601') return parseDateTime(this.textOnly(open));
    // Node's base64 decoder skips what is not in the alphabet, like binascii's non-strict mode.
    if (tag === 'base64') return Buffer.from(this.textOnly(open), 'base64');
    if (tag === 'nil') {
      this.textOnly(open);
      return null;
    }
    if (tag === 'array' || tag === 'struct') {
      if (depth >= this.limits.maxDepth) {
        throw new XmlRpcParseError('too_deep', `arrays and structs nested deeper than ${this.limits.maxDepth}`);
      }
      return tag === 'array' ? this.array(open, depth + 1) : this.struct(open, depth + 1);
    }
    throw new XmlRpcParseError('unexpected_element', `unknown value type <${open.name}>`);
  }

  private array(open: OpenTok, depth: number): XmlRpcValue[] {
    let out: XmlRpcValue[] | undefined;
    if (!open.empty) {
      for (;;) {
        const tok = this.peekStructural();
        if (tok.t === 'close') break;
        this.next();
        if (tok.local !== 'data' || out) throw this.unexpected(tok, 'array');
        out = this.valuesUntilClose(tok, depth);
      }
      this.close(open.name);
    }
    return out ?? [];
  }

  private struct(open: OpenTok, depth: number): XmlRpcStruct {
    const out: XmlRpcStruct = {};
    if (open.empty) return out;
    for (;;) {
      const tok = this.peekStructural();
      if (tok.t === 'close') break;
      this.next();
      if (tok.local !== 'member') throw this.unexpected(tok, 'struct');
      // supervisord: (k.text, v.text) for k, v in x: a <name> then a <value>, nothing else.
      const name = this.peekStructural();
      if (name.t !== 'open' || name.local !== 'name') throw this.malformed('<member> must start with <name>');
      this.next();
      const key = this.textOnly(name);
      const value = this.peekStructural();
      if (value.t !== 'open' || value.local !== 'value') throw this.malformed('<member> must hold <name> then <value>');
      this.next();
      // defineProperty: a member named __proto__ is data, not the object's prototype.
      Object.defineProperty(out, key, {
        value: this.value(value, depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      if (this.peekStructural().t !== 'close') throw this.malformed('<member> must hold <name> then <value>');
      this.close(tok.name);
    }
    this.close(open.name);
    return out;
  }

  /** Content of a leaf element: text only, entities resolved. */
  private textOnly(open: OpenTok): string {
    if (open.empty) return '';
    const text: string[] = [];
    for (;;) {
      const tok = this.next();
      if (tok.t === 'text') text.push(tok.text);
      else if (tok.t === 'close') {
        if (tok.name !== open.name) throw this.mismatch(open.name, tok.name);
        return text.join('');
      } else if (tok.t === 'eof') throw this.truncated();
      else throw this.unexpected(tok, open.local);
    }
  }

  private close(name: string): void {
    const tok = this.peekStructural();
    if (tok.t !== 'close') throw this.malformed(`expected </${name}>`);
    if (tok.name !== name) throw this.mismatch(name, tok.name);
    this.next();
  }

  /**
   * The next element boundary, skipping text: between structural elements both Python
   * parsers ignore text (ElementTree keeps it as .text/.tail nobody reads).
   */
  private peekStructural(): (OpenTok) | (CloseTok) {
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'eof') throw this.truncated();
      if (tok.t !== 'text') return tok;
      this.next();
    }
  }

  private peek(): Token {
    this.peeked ??= this.lex();
    return this.peeked;
  }

  private next(): Token {
    const tok = this.peek();
    this.peeked = undefined;
    return tok;
  }

  private lex(): Token {
    const s = this.src;
    for (;;) {
      const start = this.pos;
      if (start >= s.length) return { t: 'eof' };
      if (s.charCodeAt(start) !== 0x3c /* < */) {
        let end = s.indexOf('<', start);
        if (end < 0) end = s.length;
        this.pos = end;
        return { t: 'text', text: decodeEntities(s.slice(start, end)) };
      }
      if (s.startsWith('<!--', start)) {
        this.pos = this.skipPast('-->', start + 4);
        continue;
      }
      if (s.startsWith('<![CDATA[', start)) {
        const end = s.indexOf(']]>', start + 9);
        if (end < 0) throw this.truncated();
        this.pos = end + 3;
        return { t: 'text', text: s.slice(start + 9, end) };
      }
      if (s.startsWith('<!', start)) {
        // <!DOCTYPE and with it <!ENTITY: no entity may ever be expanded (billion laughs).
        throw new XmlRpcParseError('doctype', 'DOCTYPE and other declarations are not accepted');
      }
      if (s.startsWith('<?', start)) {
        this.pos = this.skipPast('?>', start + 2);
        continue;
      }
      if (s.startsWith('</', start)) {
        const name = this.name(start + 2);
        let i = this.skipSpace(this.pos);
        if (i >= s.length) throw this.truncated();
        if (s.charCodeAt(i) !== 0x3e /* > */) throw this.malformed(`bad end tag </${name}`);
        this.pos = i + 1;
        return { t: 'close', name };
      }
      const name = this.name(start + 1);
      let i = this.pos;
      // Attributes: XML-RPC has none; parse them for well-formedness and drop them.
      for (;;) {
        const afterSpace = this.skipSpace(i);
        if (afterSpace >= s.length) throw this.truncated();
        const c = s.charCodeAt(afterSpace);
        if (c === 0x3e /* > */) {
          this.pos = afterSpace + 1;
          return { t: 'open', name, local: localName(name), empty: false };
        }
        if (c === 0x2f /* / */) {
          if (afterSpace + 1 >= s.length) throw this.truncated();
          if (s.charCodeAt(afterSpace + 1) !== 0x3e) throw this.malformed(`bad start tag <${name}`);
          this.pos = afterSpace + 2;
          return { t: 'open', name, local: localName(name), empty: true };
        }
        if (afterSpace === i) throw this.malformed(`bad start tag <${name}`);
        this.name(afterSpace);
        i = this.skipSpace(this.pos);
        if (i >= s.length) throw this.truncated();
        if (s.charCodeAt(i) !== 0x3d /* = */) throw this.malformed(`attribute without a value in <${name}`);
        i = this.skipSpace(i + 1);
        if (i >= s.length) throw this.truncated();
        const q = s[i];
        if (q !== '"' && q !== "'") throw this.malformed(`unquoted attribute in <${name}`);
        const end = s.indexOf(q, i + 1);
        if (end < 0) throw this.truncated();
        const raw = s.slice(i + 1, end);
        if (raw.includes('<')) throw this.malformed(`'<' in an attribute of <${name}`);
        decodeEntities(raw);
        i = end + 1;
      }
    }
  }

  private name(at: number): string {
    NAME.lastIndex = at;
    const m = NAME.exec(this.src);
    if (!m) {
      if (at >= this.src.length) throw this.truncated();
      throw this.malformed(`bad name at offset ${at}`);
    }
    this.pos = at + m[0].length;
    return m[0];
  }

  private skipSpace(i: number): number {
    const s = this.src;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a) break;
      i++;
    }
    return i;
  }

  private skipPast(marker: string, from: number): number {
    const end = this.src.indexOf(marker, from);
    if (end < 0) throw this.truncated();
    return end + marker.length;
  }

  private malformed(what: string): XmlRpcParseError {
    return new XmlRpcParseError('malformed', `not well-formed: ${what}`);
  }

  private truncated(): XmlRpcParseError {
    return new XmlRpcParseError('truncated', 'document ends early');
  }

  private mismatch(open: string, close: string): XmlRpcParseError {
    return this.malformed(`<${open}> closed by </${close}>`);
  }

  private unexpected(tok: Token, parent: string): XmlRpcParseError {
    const what = tok.t === 'open' ? `<${tok.name}>` : tok.t === 'close' ? `</${tok.name}>` : tok.t;
    return new XmlRpcParseError('unexpected_element', `unexpected ${what} in <${parent}>`);
  }
}

function bodySize(body: XmlRpcBody): number {
  if (!Array.isArray(body)) return (body as Uint8Array).length;
  let n = 0;
  for (const c of body as readonly Uint8Array[]) n += c.length;
  return n;
}

// Strict like supervisord's as_string(); a UTF-8 BOM is dropped, as expat does (at the
// start of the document only: NEXT decodes the pieces after the first).
const FIRST = new TextDecoder('utf-8', { fatal: true });
const NEXT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** How long the UTF-8 sequence this lead byte starts is (1 for anything the decoder will refuse). */
function sequenceLength(lead: number): number {
  return lead >= 0xf0 && lead <= 0xf7 ? 4 : lead >= 0xe0 ? (lead <= 0xef ? 3 : 1) : lead >= 0xc0 ? 2 : 1;
}

/** Bytes at the end of `b` that start a character `b` does not finish. */
function incompleteTail(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, b.length); back++) {
    const c = b[b.length - back]!;
    if ((c & 0xc0) === 0x80) continue;
    return sequenceLength(c) > back ? back : 0;
  }
  return 0;
}

/**
 * The body as text. Pieces are decoded one by one (a character split between two is
 * completed from the next), so the body never exists as one more buffer of its whole
 * size: a body of megabytes would need one from the allocator (which keeps it) each time.
 */
function decodeUtf8(body: XmlRpcBody): string {
  try {
    if (!Array.isArray(body)) return FIRST.decode(body as Uint8Array);
    let text = '';
    let first = true;
    const emit = (b: Uint8Array): void => {
      if (!b.length) return;
      text += (first ? FIRST : NEXT).decode(b);
      first = false;
    };
    let carry: Uint8Array | null = null;
    for (let p of body as readonly Uint8Array[]) {
      if (carry) {
        const need = sequenceLength(carry[0]!) - carry.length;
        if (p.length < need) {
          carry = Buffer.concat([carry, p]);
          continue;
        }
        emit(Buffer.concat([carry, p.subarray(0, need)]));
        p = p.subarray(need);
        carry = null;
      }
      const cut = incompleteTail(p);
      emit(p.subarray(0, p.length - cut));
      if (cut) carry = p.subarray(p.length - cut);
    }
    // A body that ends inside a character: the decoder refuses it.
    if (carry) emit(carry);
    return text;
  } catch {
    throw new XmlRpcParseError('invalid_utf8', 'body is not valid UTF-8');
  }
}

/** xmlrpc.client strips namespace prefixes (Apache's <ex:nil/>, <ex:i8>). */
function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date);
}

/**
 * The five predefined entities and character references; anything else is an undefined
 * entity (expat, without a DTD). Character references may name any Unicode scalar value:
 * stricter XML parsers refuse &#27;, we have no reason to.
 */
function decodeEntities(raw: string): string {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  let out = '';
  let from = 0;
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp + 1);
    // The longest reference is &#x0010FFFF; keep the search bounded so bad input stays linear.
    if (semi < 0 || semi - amp > 16) throw new XmlRpcParseError('entity', 'bare & or unterminated reference');
    const ref = raw.slice(amp + 1, semi);
    let ch: string | undefined = PREDEFINED[ref];
    if (ch === undefined && ref.startsWith('#')) {
      const cp = /^#x[0-9a-fA-F]+$/.test(ref)
        ? parseInt(ref.slice(2), 16)
        : /^#[0-9]+$/.test(ref)
          ? parseInt(ref.slice(1), 10)
          : NaN;
      if (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) ch = String.fromCodePoint(cp);
    }
    if (ch === undefined) throw new XmlRpcParseError('entity', `undefined entity &${ref.slice(0, 16)};`);
    out += raw.slice(from, amp) + ch;
    from = semi + 1;
    amp = raw.indexOf('&', from);
  }
  return out + raw.slice(from);
}

function parseDateTime(text: string): Date {
  const m = DATETIME.exec(text);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    // Naive time, read as UTC so serialising the Date gives the same text back.
    const date = new Date(0);
    date.setUTCFullYear(y, mo - 1, d);
    date.setUTCHours(h, mi, s, 0);
    // datetime() refuses what Date would roll over (Feb 30, 24:00, second 60) and year 0.
    if (y >= 1 && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && s < 60) {
      return date;
    }
  }
  throw new XmlRpcParseError('bad_value', `bad <dateTime.iso8601> value`);
}

export interface SerializeOptions {
  /** xmlrpc.client allow_none: supervisord never sets it, so null is an error by default. */
  allowNone?: boolean;
  /**
   * Integers outside 32 bits. 'throw' is xmlrpc.client's OverflowError "int exceeds XML-RPC
   * limits" (supervisord: HTTP 500, e.g. tailProcessStdoutLog on a log past 2 GiB). 'int'
   * writes them as `<int>` anyway: xmlrpc.client.loads reads any size.
   */
  wideInts?: 'throw' | 'int';
}

/** xmlrpc.py xmlrpc_marshal(value): the body of a successful reply. */
export function serializeResponse(value: XmlRpcValue, options: SerializeOptions = {}): Buffer {
  return Buffer.from(serializeResponseText(value, options), 'utf8');
}

/**
 * serializeResponse() as text, for a writer that sends it in pieces: a reply of megabytes
 * (a multicall, a log) then never exists as one more buffer of its whole size.
 */
export function serializeResponseText(value: XmlRpcValue, options: SerializeOptions = {}): string {
  const m = new Marshaller(options, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
  m.dump(value);
  return `${m.text}</param>\n</params>\n</methodResponse>\n`;
}

/** xmlrpc_marshal(Fault(code, text)): xmlrpc.client.dumps writes a fault as a methodResponse. */
export function serializeFault(faultCode: number, faultString: string): Buffer {
  return Buffer.from(serializeFaultText(faultCode, faultString), 'utf8');
}

export function serializeFaultText(faultCode: number, faultString: string): string {
  const m = new Marshaller({}, "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
  m.dump({ faultCode, faultString });
  return `${m.text}</fault>\n</methodResponse>\n`;
}

/** xmlrpc.client.dumps(params, methodName): a request, for the client side. */
export function serializeMethodCall(
  methodName: string,
  params: readonly XmlRpcValue[],
  options: SerializeOptions = {},
): Buffer {
  // Python writes the method name unescaped; escaping it keeps the document well-formed.
  const m = new Marshaller(options, `<?xml version='1.0'?>\n<methodCall>\n<methodName>${escapeText(methodName)}</methodName>\n<params>\n`);
  for (const p of params) {
    m.text += '<param>\n';
    m.dump(p);
    m.text += '</param>\n';
  }
  return Buffer.from(`${m.text}</params>\n</methodCall>\n`, 'utf8');
}

// Characters XML 1.0 cannot carry (Char production): C0 controls other than \t \n \r,
// lone surrogates, U+FFFE and U+FFFF.
const XML_ILLEGAL =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const XML_SPECIAL = /[&<>\r]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
// Any character either replace above would touch (surrogates: all, paired or not). Most
// strings (names, paths, keys) have none: one test instead of two replaces, which is most
// of what serialising getAllProcessInfo for hundreds of processes costs.
const NEEDS_ESCAPE = /[&<>\x00-\x08\x0B-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Text as it goes into an element. xmlrpc.client's escape() handles & < > only and writes
 * the rest raw; supervisord 4.2.5 thus sends \x1b from coloured output and the reader's
 * expat fails ("not well-formed (invalid token)"). Here each character XML 1.0 cannot
 * carry becomes U+FFFD, one UTF-16 unit for one, so character offsets stay put.
 * \r goes as &#13;: written raw, XML end-of-line handling would turn it into \n.
 */
export function escapeText(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(XML_ILLEGAL, '\uFFFD').replace(XML_SPECIAL, (c) => ESCAPES[c]!);
}

// `<member>\n<name>KEY</name>\n` per key, made once: replies repeat the same few keys
// (14 per process in getAllProcessInfo). Bounded: short keys only, and keys from arbitrary
// callers stop being cached once there are 1024.
const memberOpens = new Map<string, string>();
function memberOpen(key: string): string {
  let s = memberOpens.get(key);
  if (s === undefined) {
    s = `<member>\n<name>${escapeText(key)}</name>\n`;
    if (memberOpens.size < 1024 && key.length <= 64) memberOpens.set(key, s);
  }
  return s;
}

// The document grows by string concatenation (V8 keeps it as a rope until the one
// Buffer.from at the end): for a 500-process getAllProcessInfo that is about half the
// cost of pushing ~100k pieces into an array and joining them.
class Marshaller {
  private readonly path = new Set<object>();

  constructor(
    private readonly options: SerializeOptions,
    public text: string,
  ) {}

  // Element layout, newlines included, is xmlrpc.client.Marshaller's dump_* byte for byte.
  dump(v: XmlRpcValue): void {
    switch (typeof v) {
      case 'string':
        this.text += `<value><string>${escapeText(v)}</string></value>\n`;
        return;
      case 'boolean':
        this.text += v ? '<value><boolean>1</boolean></value>\n' : '<value><boolean>0</boolean></value>\n';
        return;
      case 'number':
        if (Number.isInteger(v)) {
          if ((v > MAXINT || v < MININT) && (this.options.wideInts !== 'int' || !Number.isSafeInteger(v))) {
            throw new XmlRpcSerializeError('int exceeds XML-RPC limits');
          }
          this.text += `<value><int>${v}</int></value>\n`;
        } else {
          this.text += `<value><double>${pyFloatRepr(v)}</double></value>\n`;
        }
        return;
      case 'object':
        break;
      default:
        throw new XmlRpcSerializeError(`cannot marshal ${typeof v} objects`);
    }
    if (v === null) {
      if (!this.options.allowNone) throw new XmlRpcSerializeError('cannot marshal None unless allow_none is enabled');
      // Python's dump_nil alone writes no newline after </value>.
      this.text += '<value><nil/></value>';
      return;
    }
    if (v instanceof Uint8Array) {
      this.text += `<value><base64>\n${base64Lines(v)}</base64></value>\n`;
      return;
    }
    if (v instanceof XmlRpcDouble) {
      this.text += `<value><double>${pyFloatRepr(v.value)}</double></value>\n`;
      return;
    }
    if (v instanceof Date) {
      this.text += `<value><dateTime.iso8601>${formatDateTime(v)}</dateTime.iso8601></value>\n`;
      return;
    }
    if (this.path.has(v)) throw new XmlRpcSerializeError('cannot marshal recursive structures');
    this.path.add(v);
    if (Array.isArray(v)) {
      this.text += '<value><array><data>\n';
      for (const item of v) this.dump(item);
      this.text += '</data></array></value>\n';
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw new XmlRpcSerializeError(`cannot marshal ${(v as object).constructor?.name ?? 'unknown'} objects`);
      }
      this.text += '<value><struct>\n';
      for (const key of Object.keys(v)) {
        this.text += memberOpen(key);
        this.dump(v[key]!);
        this.text += '</member>\n';
      }
      this.text += '</struct></value>\n';
    }
    this.path.delete(v);
  }
}

/** base64.encodebytes(): lines of 76 characters, each ending in \n. */
function base64Lines(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < s.length; i += 76) out += s.slice(i, i + 76) + '\n';
  return out;
}

/** xmlrpc.client _iso8601_format(): "%4Y%m%dT%H:%M:%S" of the naive time, read here as UTC. */
function formatDateTime(d: Date): string {
  const y = d.getUTCFullYear();
  if (Number.isNaN(y) || y < 1 || y > 9999) throw new XmlRpcSerializeError('date out of range for dateTime.iso8601');
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    `${String(y).padStart(4, '0')}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}` +
    `T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`
  );
}

/**
 * Python's repr(float): the shortest round-tripping digits (as JS has them), positional
 * for exponents -4..15 with at least one decimal, else d.ddde+XX with two exponent digits.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = String(Math.abs(exp)).padStart(2, '0');
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign}${int}.${frac || '0'}`;
}
