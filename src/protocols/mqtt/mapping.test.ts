import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Message } from '../../core/api.js';
import { subjectMatches, validateFilter, validateSubject } from '../../core/subject.js';
import {
  InvalidTopicError,
  filterToSubjectFilters,
  messageProperties,
  parseSharedFilter,
  publishToInput,
  publishedQos,
  subjectToTopic,
  topicToSubject,
  validateTopicFilter,
  validateTopicName,
} from './mapping.js';

test('topics map to subjects level by level', () => {
  assert.equal(topicToSubject('a/b/c'), 'a.b.c');
  assert.equal(topicToSubject('$SYS/broker/uptime'), '$SYS.broker.uptime');
  assert.equal(subjectToTopic('a.b.c'), 'a/b/c');
});

test('levels a subject cannot hold are escaped, reversibly', () => {
  assert.equal(topicToSubject('/a'), '%.a');
  assert.equal(topicToSubject('a//b/'), 'a.%.b.%');
  assert.equal(topicToSubject('v1.2/x y'), 'v1%2E2.x%20y');
  assert.equal(topicToSubject('100%'), '100%25');
  assert.equal(topicToSubject('a*/>'), 'a%2A.%3E');
  for (const topic of ['/a', 'a//b/', 'v1.2/x y', '100%', 'a*/>', '%', '%25', 'é/ü.x']) {
    assert.equal(subjectToTopic(topicToSubject(topic)), topic);
    validateSubject(topicToSubject(topic));
  }
});

test('every valid topic name maps to a valid subject and back', () => {
  const level = fc.string({
    maxLength: 6,
    unit: fc.constantFrom('a', 'b', '.', '%', ' ', '*', '>', '$', 'é', '\t'),
  });
  fc.assert(
    fc.property(fc.array(level, { minLength: 1, maxLength: 6 }), (levels) => {
      const topic = levels.join('/');
      if (topic.length === 0) return;
      validateTopicName(topic);
      const subject = topicToSubject(topic);
      validateSubject(subject);
      assert.equal(subjectToTopic(subject), topic);
    }),
  );
});

test('filters map to subject filters; `#` also matches the parent level', () => {
  assert.deepEqual(filterToSubjectFilters('a/+/c'), ['a.*.c']);
  assert.deepEqual(filterToSubjectFilters('a/#'), ['a', 'a.>']);
  assert.deepEqual(filterToSubjectFilters('#'), ['>']);
  assert.deepEqual(filterToSubjectFilters('+/x.y'), ['*.x%2Ey']);
  const matches = (filter: string, topic: string): boolean =>
    filterToSubjectFilters(filter).some((subjectFilter) =>
      subjectMatches(subjectFilter, topicToSubject(topic)),
    );
  assert.ok(matches('sport/tennis/player1/#', 'sport/tennis/player1'));
  assert.ok(matches('sport/tennis/player1/#', 'sport/tennis/player1/ranking'));
  assert.ok(matches('sport/+', 'sport/'));
  assert.ok(!matches('sport/+', 'sport'));
  assert.ok(matches('+/+', '/finance'));
  // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match `$` topics.
  assert.ok(!matches('#', '$SYS/x'));
  assert.ok(!matches('+/x', '$SYS/x'));
  assert.ok(matches('$SYS/#', '$SYS/x'));
  for (const filter of ['a/+/c', 'a/#', '#', '+/x.y', '/+/', '+']) {
    for (const subjectFilter of filterToSubjectFilters(filter)) validateFilter(subjectFilter);
  }
});

test('topic name and filter rules', () => {
  assert.throws(() => validateTopicName(''), InvalidTopicError);
  assert.throws(() => validateTopicName('a/+'), InvalidTopicError);
  assert.throws(() => validateTopicName('a/#'), InvalidTopicError);
  assert.throws(() => validateTopicFilter('a/#/b'), InvalidTopicError);
  assert.throws(() => validateTopicFilter('a/b#'), InvalidTopicError);
  assert.throws(() => validateTopicFilter('a+/b'), InvalidTopicError);
  validateTopicFilter('+/+/#');
  assert.deepEqual(parseSharedFilter('$share/g1/a/+'), { group: 'g1', filter: 'a/+' });
  assert.equal(parseSharedFilter('a/b'), undefined);
  assert.throws(() => parseSharedFilter('$share/g1'), InvalidTopicError);
  assert.throws(() => parseSharedFilter('$share//a'), InvalidTopicError);
});

test('v5 properties survive the trip through the core message model', () => {
  const input = publishToInput(
    {
      cmd: 'publish',
      topic: 'req/1',
      payload: Buffer.from('body'),
      qos: 1,
      dup: false,
      retain: true,
      properties: {
        userProperties: { a: '1', list: ['x', 'y'] },
        contentType: 'application/json',
        responseTopic: 'reply/me',
        correlationData: Buffer.from([0xff, 0x00]),
        messageExpiryInterval: 60,
        payloadFormatIndicator: true,
      },
    },
    'req/1',
    { clientId: 'c1', nowMs: 1000 },
  );
  assert.equal(input.subject, 'req.1');
  assert.equal(input.replyTo, 'reply.me');
  assert.equal(input.expiresAtMs, 61_000);
  const message: Message = {
    subject: input.subject,
    key: undefined,
    headers: input.headers ?? {},
    body: Buffer.from('body'),
    id: 'm1',
    timestampMs: 1000,
    priority: 4,
    expiresAtMs: input.expiresAtMs,
    deliverAfterMs: undefined,
    correlationId: input.correlationId,
    replyTo: input.replyTo,
    contentType: input.contentType,
    persistent: true,
  };
  assert.equal(publishedQos(message), 1);
  const properties = messageProperties(message, 30_500);
  assert.ok(typeof properties === 'object');
  assert.equal(properties.messageExpiryInterval, 31);
  assert.equal(properties.contentType, 'application/json');
  assert.equal(properties.responseTopic, 'reply/me');
  assert.deepEqual(properties.correlationData, Buffer.from([0xff, 0x00]));
  assert.equal(properties.payloadFormatIndicator, true);
  assert.deepEqual(properties.userProperties, { a: '1', list: ['x', 'y'] });
  assert.equal(messageProperties(message, 61_000), 'expired');
});
