// SPDX-License-Identifier: MIT
// options.py UnhosedConfigParser over ini-reader's document: saneget() (a
// value or its default, `%`-expanded), expand_here(), section_to_file.
import { expand, expand_here, type ExpansionValue } from './expand.js';
import { get, options, type IniDocument } from './ini-reader.js';

export type Names = Record<string, ExpansionValue>;

/** A default as options.py passes it: a str is expanded like a value, anything else is returned as is. */
export type Default = string | number | boolean | null;

export interface SanegetOptions {
  doExpand?: boolean;
  /** laid over `parser.expansions` */
  expansions?: Names;
  /**
   * Instead of `expansions`: names the caller has already laid over
   * `parser.expansions`, used as they are. Copying every ENV_* for each value
   * costs more than the rest of a thousand-program config together.
   */
  names?: Names;
}

export class ConfigParser {
  constructor(
    readonly doc: IniDocument,
    /**
     * parser.expansions: the ENV_* names. The same object as ServerOptions'
     * environ_expansions, which [supervisord] environment= extends in place,
     * so every later section sees those keys.
     */
    readonly expansions: Names,
    /** self.configfile as given: the file named for sections of the main file */
    readonly configfile: string,
  ) {}

  sections(): string[] {
    return [...this.doc.sections.keys()];
  }

  has_section(section: string): boolean {
    return this.doc.sections.has(section);
  }

  /** The raw value (section, then DEFAULT), or undefined. */
  raw(section: string, option: string): string | undefined {
    return get(this.doc, section, option)?.value;
  }

  options(section: string): string[] {
    return options(this.doc, section);
  }

  saneget(section: string, option: string, def: string, opts?: SanegetOptions): string;
  saneget<D extends Default>(section: string, option: string, def: D, opts?: SanegetOptions): string | D;
  saneget(section: string, option: string, def: Default, opts: SanegetOptions = {}): string | Default {
    const value = this.raw(section, option) ?? def;
    // Without a `%` formatting is the identity; skipping it saves building the
    // names (every ENV_*) for each of the thousands of values a big config has.
    if ((opts.doExpand ?? true) && typeof value === 'string' && value.includes('%')) {
      return expand(value, opts.names ?? { ...this.expansions, ...opts.expansions }, `${section}.${option}`);
    }
    return value;
  }

  /**
   * UnhosedConfigParser.expand_here: replaces `%(here)s` in every value of
   * every section. DEFAULT's values are copied into each section as they are
   * replaced (ConfigParser.set), and DEFAULT itself keeps the placeholder.
   */
  expand_here(here: string): void {
    for (const section of this.doc.sections.values()) {
      for (const name of options(this.doc, section.name)) {
        const opt = get(this.doc, section.name, name)!;
        if (!opt.value.includes('%(here)s')) continue;
        const value = expand_here(opt.value, here);
        const own = section.options.get(name);
        if (own) own.value = value;
        else section.options.set(name, { name, value, file: opt.file, line: opt.line });
      }
    }
  }

  /** processes_from_section's `section_to_file.get(section, self.configfile)`. */
  fileOf(section: string): string {
    return this.doc.sections.get(section)?.file ?? this.configfile;
  }
}
