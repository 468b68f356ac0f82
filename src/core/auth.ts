// Authentication shared by every protocol. An adapter collects what its handshake carries
// (MQTT CONNECT username/password, STOMP login/passcode, AMQP PLAIN, the native HELLO) and
// asks the server's Authenticator, which resolves with a Principal or rejects with
// AuthenticationFailedError (WEIR_AUTHENTICATION_FAILED); the adapter maps that to its
// protocol's refusal (MQTT reason 0x86/0x05, STOMP ERROR, AMQP 403 ACCESS_REFUSED).
//
// The default authenticator follows RabbitMQ's defaults: a built-in user `guest` with
// password `guest` that may connect from loopback only, and anonymous clients (no username)
// from loopback only; other users come from a users file whose passwords are stored hashed
// with scrypt. Users file format, one user a line, `#` starts a comment:
//
//   alice:scrypt$16384$8$1$<salt, base64>$<derived key, base64>
//
// `weir passwd <name>` prints such a line.

import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ErrorCode, InvalidArgumentError, WeirError } from '../common/errors.js';

export interface AuthenticationRequest {
  /** `native`, `mqtt`, `stomp`, … (for logs and per-protocol rules). */
  readonly protocol: string;
  /** Undefined or empty for an anonymous client. */
  readonly username: string | undefined;
  readonly password: string | Buffer | undefined;
  readonly remoteAddress: string;
  readonly loopback: boolean;
}

/** Who a connection acts as once authenticated. */
export interface Principal {
  /** The user name; `anonymous` for an anonymous client. */
  readonly name: string;
  readonly anonymous: boolean;
  readonly protocol: string;
}

export interface Authenticator {
  /** Resolves with the principal, or rejects with AuthenticationFailedError. */
  authenticate(request: AuthenticationRequest): Promise<Principal>;
}

export class AuthenticationFailedError extends WeirError {
  constructor(message: string) {
    super(ErrorCode.AuthenticationFailed, message);
    this.name = 'AuthenticationFailedError';
  }
}

/** Where a built-in identity (the `guest` user, anonymous clients) is accepted from. */
export type AccessRule = 'loopback' | 'any' | 'never';
export const accessRules: readonly AccessRule[] = ['loopback', 'any', 'never'];

export interface UserRecord {
  readonly name: string;
  /** `scrypt$N$r$p$salt$key`, as produced by hashPassword(). */
  readonly passwordHash: string;
}

export interface AuthenticatorOptions {
  readonly users: readonly UserRecord[];
  /** The user named `guest` (password `guest` unless the users file sets one). Default `loopback`. */
  readonly guest?: AccessRule;
  /** Clients that give no username. Default `loopback`. */
  readonly anonymous?: AccessRule;
}

const guestName = 'guest';
const anonymousName = 'anonymous';

// scrypt cost: N = 2^14, r = 8, p = 1 (the parameters RFC 7914 §2 suggests for interactive
// logins); 16-byte salt, 32-byte key.
const scryptCost = 16_384;
const scryptBlockSize = 8;
const scryptParallelism = 1;
const saltBytes = 16;
const keyBytes = 32;
/** Stored hashes may use a higher cost, up to this (memory is 128 · N · r bytes). */
const scryptCostMax = 1 << 20;

function deriveKey(
  password: string | Buffer,
  salt: Buffer,
  cost: number,
  blockSize: number,
  parallelism: number,
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      length,
      { N: cost, r: blockSize, p: parallelism, maxmem: 128 * cost * blockSize * 2 + 1024 * 1024 },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

/** Hashes a password for the users file. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await deriveKey(password, salt, scryptCost, scryptBlockSize, scryptParallelism, keyBytes);
  return [
    'scrypt',
    scryptCost,
    scryptBlockSize,
    scryptParallelism,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

interface ParsedHash {
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelism: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [cost, blockSize, parallelism] = parts
    .slice(1, 4)
    .map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : NaN)) as [number, number, number];
  const salt = Buffer.from(parts[4] ?? '', 'base64');
  const key = Buffer.from(parts[5] ?? '', 'base64');
  const powerOfTwo = Number.isInteger(cost) && cost > 1 && (cost & (cost - 1)) === 0;
  if (!powerOfTwo || cost > scryptCostMax) return undefined;
  if (!(blockSize >= 1 && blockSize <= 32) || !(parallelism >= 1 && parallelism <= 16)) return undefined;
  if (salt.length < 8 || key.length < 16 || key.length > 64) return undefined;
  return { cost, blockSize, parallelism, salt, key };
}

/** Constant-time check of a password against a stored hash; false for a malformed hash. */
export async function verifyPassword(password: string | Buffer, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === undefined) return false;
  const key = await deriveKey(
    password,
    parsed.salt,
    parsed.cost,
    parsed.blockSize,
    parsed.parallelism,
    parsed.key.length,
  );
  return timingSafeEqual(key, parsed.key);
}

/** Parses the users file; rejects a bad line with InvalidArgumentError naming file and line. */
export function parseUsersFile(text: string, fileName = 'users file'): UserRecord[] {
  const users: UserRecord[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${fileName}:${index + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0)
      throw new InvalidArgumentError(`${where}: expected "name:scrypt$..." (run \`weir passwd <name>\`)`);
    const name = line.slice(0, colon);
    const passwordHash = line.slice(colon + 1);
    if (/\s/.test(name)) throw new InvalidArgumentError(`${where}: user name "${name}" contains white space`);
    if (seen.has(name)) throw new InvalidArgumentError(`${where}: user "${name}" is listed twice`);
    if (parseHash(passwordHash) === undefined) {
      throw new InvalidArgumentError(
        `${where}: the password of "${name}" is not a valid scrypt hash (run \`weir passwd ${name}\`)`,
      );
    }
    seen.add(name);
    users.push({ name, passwordHash });
  });
  return users;
}

export async function loadUsersFile(path: string): Promise<UserRecord[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`users file ${path} cannot be read: ${(error as Error).message}`);
  }
  return parseUsersFile(text, path);
}

function allowedFrom(rule: AccessRule, loopback: boolean): boolean {
  return rule === 'any' || (rule === 'loopback' && loopback);
}

function digest(name: string, password: string | Buffer): Buffer {
  return createHash('sha256').update(name).update('\0').update(password).digest();
}

/**
 * The default Authenticator. Remembers, per user, a SHA-256 digest of the last password
 * that verified, so a reconnect storm costs one scrypt per user rather than one per
 * connection; the digest never leaves memory.
 */
export class UsersAuthenticator implements Authenticator {
  readonly #users = new Map<string, string>();
  readonly #guest: AccessRule;
  readonly #anonymous: AccessRule;
  readonly #verified = new Map<string, Buffer>();
  /** Hashed for unknown users too, so a failure takes as long whether or not the user exists. */
  #decoyHash: Promise<string> | undefined;
  /** One principal per protocol for anonymous clients, shared by their connections (it is read-only). */
  readonly #anonymousPrincipals = new Map<string, Principal>();

  constructor(options: AuthenticatorOptions) {
    for (const user of options.users) this.#users.set(user.name, user.passwordHash);
    this.#guest = options.guest ?? 'loopback';
    this.#anonymous = options.anonymous ?? 'loopback';
  }

  async authenticate(request: AuthenticationRequest): Promise<Principal> {
    const { protocol, username, password, loopback } = request;
    if (username === undefined || username === '') {
      if (!allowedFrom(this.#anonymous, loopback)) {
        throw new AuthenticationFailedError(
          this.#anonymous === 'never'
            ? 'anonymous clients are not accepted: give a username and password'
            : 'anonymous clients are accepted from loopback only: give a username and password',
        );
      }
      let principal = this.#anonymousPrincipals.get(protocol);
      if (principal === undefined) {
        principal = Object.freeze({ name: anonymousName, anonymous: true, protocol });
        this.#anonymousPrincipals.set(protocol, principal);
      }
      return principal;
    }
    const failed = new AuthenticationFailedError(`authentication failed for user "${username}"`);
    if (username === guestName) {
      if (this.#guest === 'never') throw failed;
      if (!allowedFrom(this.#guest, loopback)) {
        throw new AuthenticationFailedError('user "guest" may connect from loopback only');
      }
    }
    const given = password ?? '';
    const stored = this.#users.get(username);
    if (stored === undefined && username === guestName) {
      const expected = Buffer.from('guest');
      const actual = Buffer.from(given);
      if (actual.length === expected.length && timingSafeEqual(actual, expected)) {
        return { name: guestName, anonymous: false, protocol };
      }
      throw failed;
    }
    if (stored === undefined) {
      this.#decoyHash ??= hashPassword('decoy');
      await verifyPassword(given, await this.#decoyHash);
      throw failed;
    }
    const key = digest(username, given);
    const remembered = this.#verified.get(username);
    if (remembered !== undefined && timingSafeEqual(remembered, key)) {
      return { name: username, anonymous: false, protocol };
    }
    if (!(await verifyPassword(given, stored))) throw failed;
    this.#verified.set(username, key);
    return { name: username, anonymous: false, protocol };
  }
}
