// SPDX-License-Identifier: MIT
// HTML output that cannot echo input raw: text is escaped when it meets markup, and
// markup is a branded type only this module makes. Templates are files in web/ with
// {{name}} slots, checked when loaded, so a typo fails at start-up, not on a request.

const brand: unique symbol = Symbol('Html');

/** Markup built here from escaped parts: the only thing a template slot takes unescaped. */
export interface Html {
  readonly [brand]: true;
  readonly markup: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for an element or a quoted attribute. Control characters other than tab and newline
 * (a child's ANSI colours, NULs) cannot appear in HTML: they become U+FFFD, visible and harmless.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => ESCAPES[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
}

function raw(markup: string): Html {
  return { [brand]: true, markup };
}

export function isHtml(v: unknown): v is Html {
  return typeof v === 'object' && v !== null && (v as Html)[brand] === true;
}

/**
 * A tagged template: html`<a href="${url}">${name}</a>`. Every interpolated value is
 * escaped unless it is Html already; arrays are joined.
 */
export function html(strings: TemplateStringsArray, ...values: Array<string | number | Html | Html[]>): Html {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += fragment(v) + strings[i + 1]!;
  });
  return raw(out);
}

function fragment(v: string | number | Html | Html[]): string {
  if (Array.isArray(v)) return v.map((x) => x.markup).join('');
  if (isHtml(v)) return v.markup;
  return escapeHtml(String(v));
}

export const EMPTY: Html = raw('');

export type SlotValue = string | number | Html | Html[];

/** A page template: fixed text with {{name}} slots. */
export class Template {
  private readonly parts: string[];
  private readonly names: string[];

  constructor(
    readonly file: string,
    text: string,
  ) {
    const parts: string[] = [];
    const names: string[] = [];
    let last = 0;
    for (const m of text.matchAll(/\{\{([a-z_]+)\}\}/g)) {
      parts.push(text.slice(last, m.index));
      names.push(m[1]!);
      last = m.index! + m[0].length;
    }
    parts.push(text.slice(last));
    if (/\{\{|\}\}/.test(parts.join(''))) throw new Error(`${file}: a malformed {{slot}}`);
    this.parts = parts;
    this.names = names;
  }

  /** The slot names, once each: what render() must be given. */
  slots(): Set<string> {
    return new Set(this.names);
  }

  render(values: Record<string, SlotValue>): string {
    let out = this.parts[0]!;
    this.names.forEach((name, i) => {
      const v = values[name];
      if (v === undefined) throw new Error(`${this.file}: no value for {{${name}}}`);
      out += fragment(v) + this.parts[i + 1]!;
    });
    return out;
  }
}
