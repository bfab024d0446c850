// The command-line options are declared once (src/cli/options.ts and each command's table): every
// --help lists every declared option, README.md's usage lines name only declared options with their
// declared defaults and name them all, and every checked option refuses a bad value in one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { UsageError } from '../src/cli/args.js';
import { COMMANDS } from '../src/cli/main.js';
import { showValue } from '../src/cli/options.js';
import { cli, ROOT } from './cli-helpers.js';

test('the main --help lists every command with its summary', () => {
  const help = cli(['--help']).stdout;
  for (const { spec } of COMMANDS)
    assert.ok(
      help.split('\n').some((l) => l.trim() === `${spec.name.padEnd(17)} ${spec.summary}`.trim()),
      spec.name,
    );
});

test("every command's --help lists each declared option, with its declared default", () => {
  for (const { spec } of COMMANDS) {
    const r = cli([spec.name, '--help']);
    assert.is(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`Usage: webgpu-xai ${spec.name} `), `${spec.name}: usage line`);
    const lines = r.stdout.split('\n');
    for (const [key, o] of Object.entries(spec.options)) {
      const at = lines.findIndex((l) => l.startsWith(`  --${key}${o.arg ? ` ${o.arg}` : ''} `));
      assert.ok(at >= 0, `${spec.name} --help: no line for --${key}`);
      // The option's text runs until the next line that starts an option, a heading or a blank.
      let end = at + 1;
      while (end < lines.length && /^ {4,}\S/.test(lines[end])) end++;
      const text = lines.slice(at, end).join(' ');
      if (o.default !== undefined)
        assert.ok(text.includes(`(default ${showValue(o.default)})`), `${spec.name} --${key}: default in ${text}`);
      if (o.required)
        assert.ok(lines[0].includes(`--${key} ${o.arg}`), `${spec.name}: required --${key} in the usage line`);
    }
    assert.ok(
      lines.some((l) => l.startsWith('  -h, --help ')),
      `${spec.name}: -h, --help`,
    );
  }
});

/** Each `npx webgpu-xai <command> ...` usage of README.md's sh blocks (continuation lines joined). */
function readmeUsages(): { command: string; text: string }[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const usages: { command: string; text: string }[] = [];
  for (const [, block] of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block.replace(/\\\n\s*/g, ' ').split('\n')) {
      const m = /^npx webgpu-xai ([a-z-]+)(.*)$/.exec(line.trim());
      if (m) usages.push({ command: m[1], text: m[2] });
    }
  }
  return usages;
}

test("README's usage lines name only declared options, with the declared defaults, and every option", () => {
  const usages = readmeUsages();
  for (const { spec } of COMMANDS) {
    const mine = usages.filter((u) => u.command === spec.name);
    assert.ok(mine.length > 0, `README.md shows no usage of ${spec.name}`);
    const named = new Set<string>();
    for (const { text } of mine) {
      // --name, and a value written in the same [...] group: a number there is a default.
      for (const [, group] of text.matchAll(/\[([^\]]*)\]/g)) {
        for (const [, key, value] of group.matchAll(/--([a-z][a-z0-9-]*)(?: ([\d.,x]+)(?=[\s\]]|$))?/g)) {
          const o = spec.options[key];
          if (value !== undefined && o?.default !== undefined)
            assert.is(value, showValue(o.default), `README.md: ${spec.name} [--${key} ${value}]`);
        }
      }
      for (const [, key] of text.matchAll(/--([a-z][a-z0-9-]*)/g)) {
        assert.ok(key in spec.options, `README.md: ${spec.name} --${key} is not a declared option`);
        named.add(key);
      }
    }
    for (const key of Object.keys(spec.options))
      assert.ok(named.has(key), `README.md: the usage of ${spec.name} does not show --${key}`);
  }
});

test('every checked option refuses a malformed value with one line naming the command and option', () => {
  for (const { spec } of COMMANDS) {
    for (const [key, o] of Object.entries(spec.options)) {
      if (!o.parse) continue;
      const flag = `${spec.name}: --${key}`;
      assert.throws(
        () => o.parse!('?', flag),
        (e: Error) => e instanceof UsageError && e.message.startsWith(flag) && !e.message.includes('\n'),
        flag,
      );
    }
  }
});

test('a value out of range is a usage error (exit 2) of one line', () => {
  const r = cli(['masks', '--n', '4', '--size', '8', '--p1', '2', '--out', 'unused']);
  assert.is(r.code, 2);
  assert.is(r.stderr, 'webgpu-xai: masks: --p1 must be in (0, 1], got "2" (see webgpu-xai masks --help)');
});

test.run();
