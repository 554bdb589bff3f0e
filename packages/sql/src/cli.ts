#!/usr/bin/env node
import { main } from './cli-main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`korean-together-sql: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
