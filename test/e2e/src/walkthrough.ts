import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

/** One `xmidt` command of a walkthrough: its environment assignments and arguments. */
export interface WalkthroughCommand {
  env: Record<string, string>;
  /** Arguments after `xmidt` (`simulate --url …`). */
  args: string[];
  /** The line as written. */
  text: string;
}

/**
 * Splits a shell command line into words: single and double quotes, backslash escapes outside
 * single quotes. Enough for the documented commands (no expansions, pipes or redirections).
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Parses `[VAR=value …] [npx] xmidt <args>` (also `node tools/xmidt/bin/xmidt.mjs`); other
 * lines give undefined.
 */
export function parseXmidtLine(line: string): WalkthroughCommand | undefined {
  const text = line.replace(/^\s*\$\s+/, '').trim();
  if (text === '' || text.startsWith('#')) return undefined;
  const words = shellWords(text);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0] as string)) {
    const w = words.shift() as string;
    const eq = w.indexOf('=');
    env[w.slice(0, eq)] = w.slice(eq + 1);
  }
  if (words[0] === 'npx') words.shift();
  if (words[0] === 'node' && words[1]?.endsWith('xmidt.mjs')) words.splice(0, 2, 'xmidt');
  if (words[0] !== 'xmidt') return undefined;
  return { env, args: words.slice(1), text };
}

/** The fenced code lines of the README section whose heading mentions "quick start". */
export function readmeQuickStart(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^#{1,4}\s.*quick\s*start/i.test(l));
  if (start < 0) return [];
  const level = /^(#+)/.exec(lines[start] as string)?.[1]?.length ?? 2;
  const out: string[] = [];
  let fenced = false;
  let pending = '';
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const heading = /^(#+)\s/.exec(line);
    if (!fenced && heading && (heading[1]?.length ?? 0) <= level) break;
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    out.push(pending + line);
    pending = '';
  }
  return out;
}

/**
 * The `xmidt` commands of a list of shell lines; `export VAR=value` lines add to the
 * environment of the commands after them.
 */
export function xmidtCommands(lines: readonly string[]): WalkthroughCommand[] {
  const exported: Record<string, string> = {};
  const out: WalkthroughCommand[] = [];
  for (const line of lines) {
    const m = /^\s*(?:\$\s+)?export\s+(.*)$/.exec(line);
    if (m !== null) {
      for (const w of shellWords(m[1] as string)) {
        const eq = w.indexOf('=');
        if (eq > 0) exported[w.slice(0, eq)] = w.slice(eq + 1);
      }
      continue;
    }
    const cmd = parseXmidtLine(line);
    if (cmd !== undefined) out.push({ ...cmd, env: { ...exported, ...cmd.env } });
  }
  return out;
}

/** The `xmidt` commands of the README's quick start section (empty when there is none). */
export function readmeXmidtCommands(): WalkthroughCommand[] {
  return xmidtCommands(readmeQuickStart(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')));
}

/**
 * Rewrites a documented command for a system started with `portOffset`: every loopback URL
 * on a default port (6000–6699) gets the offset added, `--target` points at `target`, and a
 * command without `--url` gets `defaultUrls[<subcommand>]`.
 */
export function adaptCommand(
  cmd: WalkthroughCommand,
  portOffset: number,
  target: string,
  defaultUrls: Readonly<Record<string, string>> = {},
): WalkthroughCommand {
  const args = cmd.args.map((arg, i) => {
    if (cmd.args[i - 1] === '--target') return target;
    return arg.replace(
      /\b(127\.0\.0\.1|localhost):(6[0-6]\d\d)\b/g,
      (_m, host: string, port: string) => `${host}:${Number(port) + portOffset}`,
    );
  });
  // A command relying on its default URL (the default port) is pointed at the offset one.
  const sub = args[0];
  const url = sub !== undefined ? defaultUrls[sub] : undefined;
  if (url !== undefined && !args.some((a) => a === '--url' || a.startsWith('--url='))) {
    args.push('--url', url);
  }
  return { ...cmd, args };
}
