import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isWeirError, InvalidArgumentError } from '../common/errors.js';
import {
  type AuthenticationRequest,
  hashPassword,
  parseUsersFile,
  UsersAuthenticator,
  verifyPassword,
} from './auth.js';

function request(overrides: Partial<AuthenticationRequest>): AuthenticationRequest {
  return {
    protocol: 'test',
    username: undefined,
    password: undefined,
    remoteAddress: '127.0.0.1',
    loopback: true,
    ...overrides,
  };
}

const fromElsewhere = { remoteAddress: '203.0.113.9', loopback: false };

function isAuthenticationFailure(error: unknown): boolean {
  return isWeirError(error, ErrorCode.AuthenticationFailed);
}

test('hashPassword produces a salted scrypt hash that verifies only the right password', async () => {
  const first = await hashPassword('s3cret');
  const second = await hashPassword('s3cret');
  assert.match(first, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(first, second, 'each hash has its own salt');
  assert.equal(await verifyPassword('s3cret', first), true);
  assert.equal(await verifyPassword('s3cret!', first), false);
  assert.equal(
    await verifyPassword('s3cret', 'scrypt$3$8$1$AAAA$BBBB'),
    false,
    'malformed hash never verifies',
  );
});

test('users file: a listed user authenticates from anywhere with the right password only', async () => {
  const users = parseUsersFile(`# operators\nalice:${await hashPassword('wonderland')}\n\n`);
  const authenticator = new UsersAuthenticator({ users });
  const principal = await authenticator.authenticate(
    request({ username: 'alice', password: 'wonderland', ...fromElsewhere }),
  );
  assert.deepEqual(principal, { name: 'alice', anonymous: false, protocol: 'test' });
  // Twice: the second check takes the remembered-digest path and must still refuse a wrong password.
  for (let attempt = 0; attempt < 2; attempt++) {
    await assert.rejects(
      authenticator.authenticate(request({ username: 'alice', password: 'looking-glass' })),
      isAuthenticationFailure,
    );
  }
  await assert.rejects(
    authenticator.authenticate(request({ username: 'mallory', password: 'wonderland' })),
    isAuthenticationFailure,
  );
});

test('guest/guest is accepted from loopback only, and refused with a wrong password', async () => {
  const authenticator = new UsersAuthenticator({ users: [] });
  const principal = await authenticator.authenticate(request({ username: 'guest', password: 'guest' }));
  assert.equal(principal.name, 'guest');
  await assert.rejects(
    authenticator.authenticate(request({ username: 'guest', password: 'guest', ...fromElsewhere })),
    (error: unknown) => isAuthenticationFailure(error) && /loopback only/.test((error as Error).message),
  );
  await assert.rejects(
    authenticator.authenticate(request({ username: 'guest', password: 'nope' })),
    isAuthenticationFailure,
  );
  const disabled = new UsersAuthenticator({ users: [], guest: 'never' });
  await assert.rejects(
    disabled.authenticate(request({ username: 'guest', password: 'guest' })),
    isAuthenticationFailure,
  );
  const open = new UsersAuthenticator({ users: [], guest: 'any' });
  assert.equal(
    (await open.authenticate(request({ username: 'guest', password: 'guest', ...fromElsewhere }))).name,
    'guest',
  );
});

test('a guest password set in the users file replaces the built-in one', async () => {
  const users = parseUsersFile(`guest:${await hashPassword('better')}`);
  const authenticator = new UsersAuthenticator({ users });
  await assert.rejects(
    authenticator.authenticate(request({ username: 'guest', password: 'guest' })),
    isAuthenticationFailure,
  );
  assert.equal(
    (await authenticator.authenticate(request({ username: 'guest', password: 'better' }))).name,
    'guest',
  );
  await assert.rejects(
    authenticator.authenticate(request({ username: 'guest', password: 'better', ...fromElsewhere })),
    isAuthenticationFailure,
  );
});

test('anonymous clients are accepted from loopback only by default', async () => {
  const authenticator = new UsersAuthenticator({ users: [] });
  assert.deepEqual(await authenticator.authenticate(request({})), {
    name: 'anonymous',
    anonymous: true,
    protocol: 'test',
  });
  assert.equal((await authenticator.authenticate(request({ username: '' }))).anonymous, true);
  await assert.rejects(authenticator.authenticate(request(fromElsewhere)), isAuthenticationFailure);
  const closed = new UsersAuthenticator({ users: [], anonymous: 'never' });
  await assert.rejects(closed.authenticate(request({})), isAuthenticationFailure);
});

test('parseUsersFile names the file and line of a bad entry', () => {
  assert.throws(
    () =>
      parseUsersFile(
        'ok:scrypt$16384$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5\nbob:plaintext\n',
        'users.txt',
      ),
    (error: unknown) => error instanceof InvalidArgumentError && /users\.txt:2/.test(error.message),
  );
  assert.throws(() => parseUsersFile('no-colon-here', 'u'), /u:1/);
  const line = 'dup:scrypt$16384$8$1$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5';
  assert.throws(() => parseUsersFile(`${line}\n${line}`, 'u'), /listed twice/);
});
