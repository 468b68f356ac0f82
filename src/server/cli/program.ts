// The `weir` command tree (commander). cli.ts runs it; tests build it to check parsing.

import { Command } from 'commander';
import { clientCommands } from './client-commands.js';
import { passwdCommand } from './passwd.js';
import { serveCommand } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('weir')
    .description('Weir, a message broker for Node.js')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(serveCommand());
  for (const command of clientCommands()) program.addCommand(command);
  program.addCommand(passwdCommand());
  return program;
}
