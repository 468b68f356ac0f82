// Versions of what is being measured, for the report.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The installed version of a Debian package, or undefined when it is not installed. */
export function debianPackageVersion(name: string): string | undefined {
  try {
    const output = execFileSync('dpkg-query', ['-W', '-f=${Status}|${Version}', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [status, version] = output.split('|');
    return status?.endsWith(' installed') === true ? version : undefined;
  } catch {
    return undefined;
  }
}

/** First line of a command's output (stdout or stderr), e.g. `nats-server --version`. */
export function commandOutputLine(
  command: string,
  args: readonly string[],
  pattern: RegExp,
): string | undefined {
  try {
    const output = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(output)?.[0];
  } catch (error) {
    const output = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    return pattern.exec(output)?.[0];
  }
}

/** The version of an installed npm package, found from where it resolves (no `exports` needed). */
export function npmPackageVersion(name: string): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    let directory = path.dirname(require.resolve(name));
    for (;;) {
      const manifestPath = path.join(directory, 'package.json');
      if (existsSync(manifestPath)) {
        const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (manifest.name === name) return manifest.version;
      }
      const parent = path.dirname(directory);
      if (parent === directory) return undefined;
      directory = parent;
    }
  } catch {
    return undefined;
  }
}
