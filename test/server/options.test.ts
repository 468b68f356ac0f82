import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { resolveServeOptions } from '../../src/server/cli/serve.js';
import { loadConfigFile, optionsFromEnv, optionsFromFlags } from '../../src/server/config-sources.js';
import { mergeOptions, parseOptions } from '../../src/server/options.js';

function rejectsNaming(field: RegExp): (error: unknown) => boolean {
  return (error: unknown) => error instanceof InvalidArgumentError && field.test(error.message);
}

describe('parseOptions', () => {
  test('fills in the documented defaults', () => {
    const options = parseOptions({});
    assert.equal(options.dataDir, './data');
    assert.equal(options.host, '127.0.0.1');
    assert.equal(options.logLevel, 'info');
    assert.deepEqual(
      Object.fromEntries(Object.entries(options.protocols).map(([name, listener]) => [name, listener.port])),
      { native: 4222, mqtt: 1883, stomp: 61613, amqp: 5672 },
    );
    assert.equal(options.http.port, 8080);
    assert.equal(options.protocols.mqtt.host, '127.0.0.1');
    assert.equal(options.protocols.mqtt.enabled, undefined);
    assert.deepEqual(options.auth, { usersFile: undefined, guest: 'loopback', anonymous: 'loopback' });
  });

  test('the top-level host is the default of every listener; a listener may override it', () => {
    const options = parseOptions({ host: '0.0.0.0', protocols: { stomp: { host: '::1', port: 0 } } });
    assert.equal(options.protocols.native.host, '0.0.0.0');
    assert.equal(options.protocols.stomp.host, '::1');
    assert.equal(options.protocols.stomp.port, 0);
    assert.equal(options.http.host, '0.0.0.0');
  });

  test('rejects bad values naming the field', () => {
    assert.throws(
      () => parseOptions({ protocols: { mqtt: { port: 70000 } } }),
      rejectsNaming(/protocols\.mqtt\.port/),
    );
    assert.throws(
      () => parseOptions({ protocols: { mqtt: { port: 'abc' } } }),
      rejectsNaming(/protocols\.mqtt\.port.*"abc"/),
    );
    assert.throws(() => parseOptions({ http: { port: 1.5 } }), rejectsNaming(/http\.port/));
    assert.throws(() => parseOptions({ host: 'not a host' }), rejectsNaming(/^host must/));
    assert.throws(() => parseOptions({ logLevel: 'loud' }), rejectsNaming(/logLevel must be one of/));
    assert.throws(() => parseOptions({ auth: { guest: 'sometimes' } }), rejectsNaming(/auth\.guest/));
    assert.throws(
      () => parseOptions({ limits: { frameBytesMax: 10 } }),
      rejectsNaming(/limits\.frameBytesMax/),
    );
    assert.throws(() => parseOptions({ dataDir: '' }), rejectsNaming(/dataDir/));
    assert.throws(
      () => parseOptions({ protocols: { mqtt: { enabled: 'yes' } } }),
      rejectsNaming(/protocols\.mqtt\.enabled/),
    );
    assert.throws(() => parseOptions({ protocols: 7 }), rejectsNaming(/protocols must be an object/));
  });

  test('rejects unknown fields, so a typo is not silently ignored', () => {
    assert.throws(() => parseOptions({ dataDirectory: '/x' }), rejectsNaming(/unknown option dataDirectory/));
    assert.throws(
      () => parseOptions({ protocols: { mqqt: {} } }),
      rejectsNaming(/unknown option protocols\.mqqt/),
    );
    assert.throws(
      () => parseOptions({ protocols: { mqtt: { prot: 1 } } }),
      rejectsNaming(/protocols\.mqtt\.prot/),
    );
  });
});

describe('configuration sources', () => {
  let directory: string;
  before(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'weir-options-'));
  });
  after(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  test('environment variables convert and name themselves in errors', () => {
    assert.deepEqual(
      optionsFromEnv({
        WEIR_MQTT_PORT: '1999',
        WEIR_HTTP_ENABLED: 'false',
        WEIR_LOG_LEVEL: 'debug',
        WEIR_STOMP_PORT: '',
      }),
      {
        protocols: { mqtt: { port: 1999 } },
        http: { enabled: false },
        logLevel: 'debug',
      },
    );
    assert.throws(() => optionsFromEnv({ WEIR_MQTT_PORT: 'abc' }), rejectsNaming(/WEIR_MQTT_PORT/));
    assert.throws(
      () => optionsFromEnv({ WEIR_NATIVE_ENABLED: 'maybe' }),
      rejectsNaming(/WEIR_NATIVE_ENABLED/),
    );
    assert.equal(optionsFromEnv({ WEIR_DATA_DIR: 'relative' }).dataDir, path.resolve('relative'));
  });

  test('flags convert, --disable switches listeners off, and bad flags are named', () => {
    assert.deepEqual(optionsFromFlags({ nativePort: '0', disable: 'mqtt, http' }), {
      protocols: { native: { port: 0 }, mqtt: { enabled: false } },
      http: { enabled: false },
    });
    assert.throws(() => optionsFromFlags({ httpPort: 'eighty' }), rejectsNaming(/--http-port/));
    assert.throws(() => optionsFromFlags({ disable: 'smtp' }), rejectsNaming(/--disable/));
  });

  test('YAML and JSON files load; relative paths are relative to the file', async () => {
    const yamlFile = path.join(directory, 'weir.yaml');
    await writeFile(
      yamlFile,
      'dataDir: ./store\nprotocols:\n  mqtt:\n    port: 11883\nauth:\n  usersFile: users\n',
    );
    assert.deepEqual(await loadConfigFile(yamlFile), {
      dataDir: path.join(directory, 'store'),
      protocols: { mqtt: { port: 11883 } },
      auth: { usersFile: path.join(directory, 'users') },
    });
    const jsonFile = path.join(directory, 'weir.json');
    await writeFile(jsonFile, JSON.stringify({ http: { port: 18080 } }));
    assert.deepEqual(await loadConfigFile(jsonFile), { http: { port: 18080 } });
  });

  test('a broken or missing file is an InvalidArgumentError naming the file', async () => {
    const broken = path.join(directory, 'broken.yaml');
    await writeFile(broken, 'protocols: [unclosed\n');
    await assert.rejects(loadConfigFile(broken), rejectsNaming(/broken\.yaml is not valid/));
    const list = path.join(directory, 'list.yaml');
    await writeFile(list, '- a\n- b\n');
    await assert.rejects(loadConfigFile(list), rejectsNaming(/must hold an object/));
    await assert.rejects(
      loadConfigFile(path.join(directory, 'absent.yaml')),
      rejectsNaming(/absent\.yaml cannot be read/),
    );
  });

  test('flags beat environment beat file beat defaults', async () => {
    const file = path.join(directory, 'precedence.yaml');
    await writeFile(
      file,
      'logLevel: warn\nprotocols:\n  native: { port: 1001 }\n  mqtt: { port: 1002 }\n  stomp: { port: 1003 }\n',
    );
    const raw = await resolveServeOptions(
      { config: file, nativePort: '3001' },
      { WEIR_NATIVE_PORT: '2001', WEIR_MQTT_PORT: '2002' },
    );
    const options = parseOptions(raw);
    assert.equal(options.protocols.native.port, 3001, 'flag wins');
    assert.equal(options.protocols.mqtt.port, 2002, 'environment beats file');
    assert.equal(options.protocols.stomp.port, 1003, 'file beats default');
    assert.equal(options.protocols.amqp.port, 5672, 'default');
    assert.equal(options.logLevel, 'warn');
    const viaEnvironment = await resolveServeOptions({}, { WEIR_CONFIG: file });
    assert.equal(parseOptions(viaEnvironment).protocols.native.port, 1001, 'WEIR_CONFIG names the file');
  });

  test('mergeOptions merges nested objects and skips undefined', () => {
    assert.deepEqual(mergeOptions({ a: { b: 1, c: 2 } }, { a: { c: 3 }, d: undefined }, undefined), {
      a: { b: 1, c: 3 },
    });
  });
});
