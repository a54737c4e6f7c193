#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is bundled by `npm run build` into dist/cli.js.
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('kserve-canary: dist/cli.js is missing.\nhint: run `npm run build` in ' + path.dirname(__dirname) + '\n');
  process.exit(1);
}
require(bundle);
