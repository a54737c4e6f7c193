// esbuild options of the CLI, shared by scripts/build.mjs and test/cli/bundle.ts (which builds it
// into a temporary folder). CommonJS files side by side:
//   cli.js          the dispatcher: argument dispatch, --help, --version (src/cli/main.ts)
//   cli-git.js      set, promote, rollback, config (src/cli/groups/git.ts)
//   cli-cluster.js  status, sandbox, traffic, rollout, and --wait's following (src/cli/groups/cluster.ts)
//   cli-errors.js   CanaryError (src/core/errors.ts), one class for all of them, so an error
//                   thrown in a group is still a CanaryError where the dispatcher reports it
//   cli-yaml.js     the yaml package (260 KB, more than the git group itself), loaded on the first
//                   use of one of its exports, not by the import: `set` parses config.yaml while
//                   git runs (src/core/publish.ts), and a simple one without yaml at all
//                   (src/core/config-fast.ts); help never loads it.
// An import of one of these modules from another file becomes a loadBundle(<dir>/cli-<x>.js)
// (src/cli/bundle-cache.ts: require with a V8 code cache) evaluated when reached (src/cli/commands/index.ts loads the group of the command that runs),
// so `set` never parses the cluster, sandbox or Kubernetes client code.
import { createRequire } from 'node:module';
import path from 'node:path';

/** Source (relative to the repository, no extension) → bundle name, for the shared modules. */
const SPLIT = {
  'src/cli/groups/git': 'cli-git',
  'src/cli/groups/cluster': 'cli-cluster',
  'src/core/errors': 'cli-errors',
};
const SPLIT_IMPORT = /(^|\/)(groups\/git|groups\/cluster|errors)$/;
const SPLIT_FILE = /^\.\/cli-[a-z]+\.js$/;
const BUNDLE_CACHE = './src/cli/bundle-cache.ts';

/**
 * The shim that stands for the yaml package in the other bundles: an object with one getter per
 * export of yaml (the list taken from the package at build time), the first of which to be read
 * loads dist/cli-yaml.js. esbuild's import interop reads an export only where the code uses it.
 */
function lazyYamlShim(root) {
  const names = Object.keys(createRequire(path.join(root, 'package.json'))('yaml')).sort();
  return `let yaml;
const load = () => (yaml ??= require(${JSON.stringify(BUNDLE_CACHE)}).loadBundle(require('node:path').join(__dirname, 'cli-yaml.js')));
module.exports = Object.defineProperties({}, Object.fromEntries(${JSON.stringify(names)}.map((k) => [k, { enumerable: true, get: () => load()[k] }])));
`;
}

function splitModules(root) {
  return {
    name: 'kserve-canary-cli-split',
    setup(build) {
      build.onResolve({ filter: /^yaml$/ }, (args) => (args.kind === 'entry-point' ? undefined : { path: 'cli-yaml', namespace: 'cli-split' }));
      build.onResolve({ filter: SPLIT_IMPORT }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        const rel = path.relative(root, path.resolve(args.resolveDir, args.path)).split(path.sep).join('/');
        const out = SPLIT[rel];
        return out ? { path: out, namespace: 'cli-split' } : undefined;
      });
      // A CommonJS shim, so an import() becomes a synchronous load in the output (an external
      // import() would go through Node's ESM loader). The groups load with a V8 code cache
      // (src/cli/bundle-cache.ts); cli-errors (2 KB) is a plain require().
      build.onLoad({ filter: /.*/, namespace: 'cli-split' }, (args) => ({
        contents:
          args.path === 'cli-yaml'
            ? lazyYamlShim(root)
            : args.path === 'cli-errors'
              ? `module.exports = require(${JSON.stringify(`./${args.path}.js`)});`
              : `module.exports = require(${JSON.stringify(BUNDLE_CACHE)}).loadBundle(require('node:path').join(__dirname, ${JSON.stringify(`${args.path}.js`)}));`,
        loader: 'js',
        resolveDir: root,
      }));
      build.onResolve({ filter: SPLIT_FILE }, (args) => ({ path: args.path, external: true }));
    },
  };
}

/**
 * @param {{ absWorkingDir: string, outdir: string, bundleDeps?: boolean }} where bundleDeps: bundle
 *   the big dependencies too (a build that runs away from node_modules, e.g. in a temp folder)
 * @param {object} base other esbuild options (sourcemap, minify, ...)
 */
export function cliBuildOptions(where, base = {}) {
  return {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    legalComments: 'none',
    ...base,
    absWorkingDir: where.absWorkingDir,
    outdir: where.outdir,
    entryPoints: [
      { in: 'src/cli/main.ts', out: 'cli' },
      ...Object.entries(SPLIT).map(([src, out]) => ({ in: `${src}.ts`, out })),
      { in: createRequire(path.join(where.absWorkingDir, 'package.json')).resolve('yaml'), out: 'cli-yaml' },
    ],
    // The CLI is an npm package with its dependencies installed next to it, so its bundles leave
    // the big ones out: @kubernetes/client-node (14 MB, ESM-only, reached only through `await
    // import()` by the commands that talk to a cluster) and node-forge (the sandbox's certificates).
    external: [...(base.external ?? []), ...(where.bundleDeps ? [] : ['@kubernetes/client-node', 'node-forge'])],
    plugins: [...(base.plugins ?? []), splitModules(where.absWorkingDir)],
  };
}
