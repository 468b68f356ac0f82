// Packet ids derived from what a PUBLISH carries, so that a redelivery after a reconnect or a
// restart usually gets the id it had before [MQTT-4.4.0-1]: a durable delivery's from its
// consumer and offset, a retained delivery's from its exchange record's key. The session
// moves a derived id on to the next free one when it collides [MQTT-2.2.1-3].

import type { Delivery } from '../../core/api.js';

const packetIdMax = 65_535;

/** A hash of `text` in 0..65,534, the same in every process (no seed). */
function hashText(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) hash = (hash * 31 + text.charCodeAt(index)) % packetIdMax;
  return hash;
}

/** Consumers' hashes, so that a delivery costs one lookup, not a hash of its names. */
const consumerHashes = new Map<string, number>();
const consumerHashesMax = 10_000;

/** The preferred packet id (1..65,535) of a durable delivery. */
export function deliveryPacketId(delivery: Delivery): number {
  const key = `${delivery.stream}/${delivery.consumer}/${delivery.partition}`;
  let hash = consumerHashes.get(key);
  if (hash === undefined) {
    hash = hashText(key);
    if (consumerHashes.size >= consumerHashesMax) consumerHashes.clear();
    consumerHashes.set(key, hash);
  }
  return ((hash + delivery.offset) % packetIdMax) + 1;
}

/** The preferred packet id (1..65,535) of a retained delivery, from its exchange record's key. */
export function retainedPacketId(recordKey: string): number {
  return (hashText(recordKey) % packetIdMax) + 1;
}
