// The explainer registry: one declaration per method, and everything that lists methods (README's
// table, the help texts, METHODS) agrees with it. No GPU needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { XaiError } from '../src/errors.js';
import { METHODS, RISE_METHODS } from '../src/explain/methods.js';
import { EXPLAINERS, explainerFor } from '../src/explain/registry.js';
import { cli, ROOT } from './cli-helpers.js';

/** The method column of the `| method | formula | paper |` table under "### Explainers". */
function readmeMethods(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Explainers'));
  const lines = section.split('\n');
  const header = lines.findIndex((l) => /^\|\s*method\s*\|\s*formula\s*\|\s*paper\s*\|$/.test(l.trim()));
  assert.ok(header >= 0, 'README.md: no "| method | formula | paper |" table under "### Explainers"');
  const rows: string[] = [];
  // A table ends at its first line that is not a row: a blank line would split it in two.
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const name = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    assert.ok(name, `README.md: a row of the explainer table without a \`method\`: ${line}`);
    rows.push(name[1]);
  }
  return rows;
}

test("README's explainer table lists exactly the registry's methods, in its order", () => {
  assert.equal(readmeMethods(), [...METHODS]);
});

test('each method is declared once; METHODS and RISE_METHODS come from the registry', () => {
  assert.equal(new Set(METHODS).size, METHODS.length);
  assert.equal([...METHODS], EXPLAINERS.map((e) => e.name));
  assert.equal(RISE_METHODS, { rise: 'binary', 'rise-gauss': 'gaussian', 'rise-perlin': 'perlin' });
  for (const e of EXPLAINERS) {
    assert.is(explainerFor(e.name), e);
    assert.ok(e.summary.length > 0 && !e.summary.includes('\n'), `${e.name}: a one-line summary`);
  }
  assert.throws(() => explainerFor('lime'), (err: Error) => err instanceof XaiError && /unknown method "lime" \(methods: abscam-init, /.test(err.message));
});

test('the help texts list every method (explain: with its summary)', () => {
  const explain = cli(['explain', '--help']).stdout;
  const lines = explain.split('\n');
  for (const e of EXPLAINERS) assert.ok(lines.some((l) => l.trim().startsWith(`${e.name} `) && l.endsWith(e.summary)), `explain --help: ${e.name}`);
  assert.ok(cli(['evaluate-dataset', '--help']).stdout.includes(METHODS.join(', ')), 'evaluate-dataset --help');
});

test.run();
