#!/usr/bin/env node
// Entry point of the `synod` command: runs the compiled CLI (built by `npm ci` via the prepare script).
import '../dist/cli/main.js';
