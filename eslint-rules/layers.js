// Enforces the import table of DESIGN.md §2: layers import downwards only.
// A file's layer is the first folder under src/ (for protocols, `protocols/<name>`, and
// its pure `protocols/<name>/codec`). Tests and benchmarks outside src/ may import anything.
import path from 'node:path';

const srcRoot = path.resolve(import.meta.dirname, '..', 'src');

/** Which layers each layer may import, besides itself. */
const allowed = {
  common: [],
  storage: ['common'],
  core: ['storage', 'common'],
  cluster: ['core', 'storage', 'common', 'protocols/native/codec'],
  client: ['core', 'protocols/native/codec', 'common'],
  server: ['*'],
  console: [],
};

/** Node modules a pure codec must not touch: no I/O, no timers. */
const impureModules = new Set([
  'fs',
  'fs/promises',
  'net',
  'tls',
  'http',
  'https',
  'dgram',
  'child_process',
  'timers',
  'timers/promises',
  'worker_threads',
  'cluster',
  'http2',
]);

function layerOf(file) {
  const relative = path.relative(srcRoot, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
  const parts = relative.split(path.sep);
  if (parts.length < 2) return 'root';
  if (parts[0] === 'protocols') {
    if (parts.length < 3) return 'protocols';
    if (parts[2] === 'codec') return `protocols/${parts[1]}/codec`;
    return `protocols/${parts[1]}`;
  }
  return parts[0];
}

function mayImport(from, to) {
  if (from === to || from === 'root' || from === 'server') return true;
  if (from.endsWith('/codec')) return to === 'common';
  if (from.startsWith('protocols/')) {
    return ['core', 'cluster', 'common', 'protocols', `${from}/codec`].includes(to);
  }
  if (from === 'protocols') return ['core', 'cluster', 'common'].includes(to);
  const list = allowed[from];
  return list !== undefined && (list.includes('*') || list.includes(to));
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Layers import downwards only (DESIGN.md §2).' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (from === undefined) return {};
    function check(node, source) {
      if (typeof source !== 'string') return;
      if (from.endsWith('/codec')) {
        const bare = source.replace(/^node:/, '');
        if (impureModules.has(bare)) {
          context.report({
            node,
            message: `A codec is pure (no I/O, no timers): '${source}' is not allowed in ${from}.`,
          });
        }
      }
      if (!source.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(file), source));
      if (to === undefined || mayImport(from, to)) return;
      context.report({ node, message: `Layer '${from}' may not import from '${to}' (DESIGN.md §2).` });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
