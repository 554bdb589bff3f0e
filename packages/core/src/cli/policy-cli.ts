#!/usr/bin/env node
import { main } from './policy-cli-main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // main() maps every failure to a code; this is a crash outside it: internal, not bad input.
    process.stderr.write(`korean-together-policy: internal error (exit 3): ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 3;
  },
);
