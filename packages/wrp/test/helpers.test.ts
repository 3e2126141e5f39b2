import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MessageType,
  QosLevel,
  clampQos,
  formatFromContentType,
  isQosAckPart,
  isValidMessageType,
  messageTypeFromString,
  messageTypeName,
  qosLevel,
  requiresTransaction,
  supportsQosAck,
} from '../src/index.js';

test('message type names (StringToMessageType)', () => {
  assert.equal(messageTypeFromString('SimpleEvent'), 4);
  assert.equal(messageTypeFromString('SimpleEventMessageType'), 4);
  assert.equal(messageTypeFromString('event'), 4);
  assert.equal(messageTypeFromString('4'), 4);
  assert.equal(messageTypeFromString('Unknown'), 11);
  assert.equal(messageTypeFromString('11'), 11);
  assert.equal(messageTypeFromString('ServiceAlive'), 10);
  assert.equal(messageTypeFromString('Authorization'), undefined);
  assert.equal(messageTypeFromString('2'), undefined);
  assert.equal(messageTypeFromString('simpleevent'), undefined);
  assert.equal(messageTypeFromString('12'), undefined);
  assert.equal(messageTypeName(MessageType.Create), 'Create');
  assert.equal(messageTypeName(2), '');
  assert.equal(isValidMessageType(2), true);
  assert.equal(isValidMessageType(12), false);
});

test('transactions and QoS', () => {
  assert.deepEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter(requiresTransaction), [3, 5, 6, 7, 8]);
  assert.deepEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter(supportsQosAck), [3, 4, 5, 6, 7, 8]);
  assert.deepEqual(
    [-5, 0, 24, 25, 49, 50, 74, 75, 99, 120].map(qosLevel),
    [0, 0, 0, 1, 1, 2, 2, 3, 3, 3],
  );
  assert.equal(qosLevel(60), QosLevel.High);
  assert.deepEqual([-3, 0, 50, 99, 150].map(clampQos), [0, 0, 50, 99, 99]);
  assert.equal(isQosAckPart({ msgType: 4, qos: 25 }), true);
  assert.equal(isQosAckPart({ msgType: 4, qos: 24 }), false);
  assert.equal(isQosAckPart({ msgType: 10, qos: 90 }), false);
});

test('format from content type (wrp-go v3 rules)', () => {
  assert.equal(formatFromContentType('application/json; charset=utf-8'), 'json');
  assert.equal(formatFromContentType('text/json'), 'json');
  assert.equal(formatFromContentType('application/msgpack'), 'msgpack');
  assert.equal(formatFromContentType('application/octet-stream'), undefined);
  assert.equal(formatFromContentType('', 'msgpack'), 'msgpack');
  assert.equal(formatFromContentType(undefined), undefined);
});
