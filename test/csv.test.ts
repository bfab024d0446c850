// RFC 4180 fields: what results.csv writes and what --labels reads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvField, csvRecord, parseCsvLine } from '../src/io/csv.js';

test('fields are quoted only when they hold a comma, a quote or a line break; quotes doubled', () => {
  assert.is(csvField('a.png'), 'a.png');
  assert.is(csvField(0.25), '0.25');
  assert.is(csvField('a",b.png'), '"a"",b.png"');
  assert.is(csvField('x\ny'), '"x\ny"');
  assert.is(csvRecord(['a",b.png', 'rise', 3, '']), '"a"",b.png",rise,3,');
});

test('parseCsvLine reads what csvRecord writes, and refuses broken quoting', () => {
  for (const fields of [['a",b.png', 'rise', '3', ''], ['', ''], ['"', ',', '""'], ['plain']]) {
    assert.equal(parseCsvLine(csvRecord(fields)), fields);
  }
  assert.equal(parseCsvLine('a.png,2'), ['a.png', '2']);
  assert.equal(parseCsvLine('"a,b.png",2'), ['a,b.png', '2']);
  for (const bad of ['"a.png,2', '"a"x,2', 'a"b,2']) assert.is(parseCsvLine(bad), undefined, bad);
});

test.run();
