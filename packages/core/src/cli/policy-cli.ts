#!/usr/bin/env node
import { main } from './policy-cli-main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`korean-together-policy: ${(error as Error)?.message ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
