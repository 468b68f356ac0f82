// `$SYS/` statistics, named as Mosquitto names them so that dashboards built for it work:
// counters the sessions bump, published every `sysIntervalMs` as retained messages on
// `$SYS/broker/...` (subjects `$SYS.broker....`). They are kept in the retained index only in
// memory — they are recomputed, not worth a write to the log — and only a filter that
// names `$SYS` literally matches them [MQTT-4.7.2-1].

export class MqttStats {
  readonly startedAtMs: number;
  clientsConnected = 0;
  clientsMaximum = 0;
  clientsTotalEver = 0;
  clientsExpired = 0;
  messagesReceived = 0;
  messagesSent = 0;
  publishReceived = 0;
  publishSent = 0;
  publishDropped = 0;
  bytesReceived = 0;
  bytesSent = 0;
  subscriptions = 0;
  persistentSessions = 0;

  constructor(nowMs: number) {
    this.startedAtMs = nowMs;
  }

  connected(): void {
    this.clientsConnected++;
    this.clientsTotalEver++;
    if (this.clientsConnected > this.clientsMaximum) this.clientsMaximum = this.clientsConnected;
  }

  disconnected(): void {
    this.clientsConnected--;
  }

  /** Topic → value of every statistic, at `nowMs`. */
  snapshot(nowMs: number, retainedCount: number, version: string): Map<string, string> {
    const uptimeS = Math.floor((nowMs - this.startedAtMs) / 1000);
    const values = new Map<string, string>();
    values.set('$SYS/broker/version', `weir ${version}`);
    values.set('$SYS/broker/uptime', `${uptimeS} seconds`);
    values.set('$SYS/broker/clients/connected', String(this.clientsConnected));
    values.set('$SYS/broker/clients/active', String(this.clientsConnected));
    values.set('$SYS/broker/clients/maximum', String(this.clientsMaximum));
    values.set('$SYS/broker/clients/total', String(this.clientsConnected + this.persistentSessions));
    values.set('$SYS/broker/clients/disconnected', String(this.persistentSessions));
    values.set('$SYS/broker/clients/expired', String(this.clientsExpired));
    values.set('$SYS/broker/messages/received', String(this.messagesReceived));
    values.set('$SYS/broker/messages/sent', String(this.messagesSent));
    values.set('$SYS/broker/publish/messages/received', String(this.publishReceived));
    values.set('$SYS/broker/publish/messages/sent', String(this.publishSent));
    values.set('$SYS/broker/publish/messages/dropped', String(this.publishDropped));
    values.set('$SYS/broker/bytes/received', String(this.bytesReceived));
    values.set('$SYS/broker/bytes/sent', String(this.bytesSent));
    values.set('$SYS/broker/subscriptions/count', String(this.subscriptions));
    values.set('$SYS/broker/retained messages/count', String(retainedCount));
    return values;
  }
}
