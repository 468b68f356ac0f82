// Crash-test hooks, for tests only: a broker process started with the environment variable
// WEIR_TEST_MQTT_KILL_AT=<point> kills itself with SIGKILL on reaching that point, so a test
// (test/mqtt/exchanges.test.ts) stops it at a moment no timing from outside could hit.
// Nothing sets the variable outside tests; unset, a hook is one comparison.

export const KillPoint = {
  /** An inbound QoS 2 message of a persistent session is durable, PUBREC not yet sent. */
  qos2Stored: 'qos2-stored',
} as const;
export type KillPoint = (typeof KillPoint)[keyof typeof KillPoint];

const killAt = process.env['WEIR_TEST_MQTT_KILL_AT'];

/** SIGKILLs this process when the test hook names `point`. */
export function killPointReached(point: KillPoint): void {
  if (killAt === point) process.kill(process.pid, 'SIGKILL');
}
