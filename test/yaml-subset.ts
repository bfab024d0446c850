/**
 * A YAML reader for the subset the deploy/ manifests use, so a test can check their structure
 * without a YAML dependency: block mappings and block sequences by indentation (a sequence item
 * may open a mapping: "- name: x"), whole-line comments, and scalars — plain, "double" or
 * 'single' quoted; whole numbers and true/false become numbers and booleans. Anything else (flow
 * collections, anchors, multi-line scalars, tabs) is an error rather than a silent misreading.
 */
type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
interface Line {
  indent: number;
  text: string;
  no: number;
}

export function parseYamlSubset(source: string): Value {
  const lines: Line[] = [];
  source.split('\n').forEach((raw, i) => {
    if (/^\s*(#.*)?$/.test(raw)) return;
    if (/^\s*\t/.test(raw)) throw new Error(`line ${i + 1}: a tab in the indentation`);
    const text = raw.trimStart();
    if (/^[[{&*!|>]/.test(text) || /:\s+[[{&*!|>]/.test(text))
      throw new Error(`line ${i + 1}: outside the YAML subset: ${text}`);
    lines.push({ indent: raw.length - text.length, text: text.trimEnd(), no: i + 1 });
  });
  let at = 0;
  const block = (indent: number): Value => (lines[at].text.startsWith('- ') ? sequence(indent) : mapping(indent));
  function mapping(indent: number): Value {
    const out: { [key: string]: Value } = {};
    while (at < lines.length && lines[at].indent === indent && !lines[at].text.startsWith('- ')) {
      const { text, no } = lines[at++];
      const m = /^([^\s:'"][^:]*?|"[^"]*"|'[^']*'):(?:\s+(.*))?$/.exec(text);
      if (!m) throw new Error(`line ${no}: expected "key: value", got ${text}`);
      const key = String(scalar(m[1]));
      if (key in out) throw new Error(`line ${no}: ${key} given twice`);
      if (m[2] !== undefined) out[key] = scalar(m[2]);
      else out[key] = at < lines.length && lines[at].indent > indent ? block(lines[at].indent) : null;
    }
    if (at < lines.length && lines[at].indent > indent) throw new Error(`line ${lines[at].no}: unexpected indentation`);
    return out;
  }
  function sequence(indent: number): Value {
    const out: Value[] = [];
    while (at < lines.length && lines[at].indent === indent && lines[at].text.startsWith('- ')) {
      const line = lines[at];
      const item = line.text.slice(2).trimStart();
      if (/^[^\s'"][^:]*:(\s|$)/.test(item)) {
        // "- key: value" opens a mapping whose keys stand where "key" does.
        lines[at] = { indent: indent + line.text.length - item.length, text: item, no: line.no };
        out.push(mapping(lines[at].indent));
      } else {
        at++;
        out.push(scalar(item));
      }
    }
    return out;
  }
  const value = lines.length ? block(lines[0].indent) : null;
  if (at < lines.length) throw new Error(`line ${lines[at].no}: unexpected indentation`);
  return value;
}

function scalar(s: string): Value {
  if (/^"([^"\\]*)"$/.test(s) || /^'([^']*)'$/.test(s)) return s.slice(1, -1);
  if (/^["']/.test(s)) throw new Error(`an unsupported quoted scalar: ${s}`);
  if (/^-?\d+$/.test(s)) return Number(s);
  if (s === 'true' || s === 'false') return s === 'true';
  return s;
}
