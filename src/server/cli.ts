#!/usr/bin/env node
// The `weir` command. Until the server lands, `weir` (and `npm start`) reports that it has
// nothing to serve yet rather than pretending to start a broker.
console.error('weir: the broker server is not built yet; see README.md for what exists.');
process.exit(1);
