#!/usr/bin/env -S node --no-concurrent-recompilation
// The installed entry point: runs the compiled CLI (npm run build writes dist/). The Node options
// on the first line are the daemon's (src/node-flags.ts); `env -S` passes them to node.
import '../dist/src/main.js'
