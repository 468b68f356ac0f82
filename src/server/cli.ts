#!/usr/bin/env node
// The `weir` command: `weir serve` starts the broker; the other commands are clients of a
// running broker over the native protocol. Errors print as `weir: <message>` on stderr and
// exit 1 (2 for bad arguments), never with a stack trace for an operating error.

import { CommanderError } from 'commander';
import { ErrorCode, isWeirError } from '../common/errors.js';
import { buildProgram } from './cli/program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // Help and version exit 0; for its own errors commander has already printed the message.
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (!isWeirError(error)) throw error;
  console.error(`weir: ${error.message} (${error.code})`);
  process.exit(error.code === ErrorCode.InvalidArgument ? 2 : 1);
}
