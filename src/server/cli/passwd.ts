// `weir passwd <name>`: prints a users-file line with the password hashed by scrypt. The
// password is read from standard input (first line), so it never appears in a process list
// or shell history.

import { Command } from 'commander';
import { InvalidArgumentError } from '../../common/errors.js';
import { hashPassword } from '../../core/auth.js';

async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

export function passwdCommand(): Command {
  return new Command('passwd')
    .description('print a users-file line for <name>; the password is read from standard input')
    .argument('<name>', 'user name')
    .action(async (name: string) => {
      if (name.includes(':') || /\s/.test(name)) {
        throw new InvalidArgumentError('a user name may not contain ":" or white space');
      }
      if (process.stdin.isTTY) process.stderr.write(`password for ${name}: `);
      const password = await readFirstLine(process.stdin);
      if (password === '') throw new InvalidArgumentError('empty password');
      console.log(`${name}:${await hashPassword(password)}`);
    });
}
