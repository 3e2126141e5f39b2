import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

const P = 'xmidt_talaria_';

/** Every Talaria metric, registered on the runtime registry. Names follow the original. */
export class TalariaMetrics {
  readonly deviceCount: Gauge;
  readonly maxDeviceCount: Gauge;
  readonly connectCount: Counter;
  readonly disconnectCount: Counter<'reason'>;
  readonly duplicateCount: Counter;
  readonly deviceLimitReached: Counter;
  readonly connectRejected: Counter<'reason' | 'code'>;
  readonly pingCount: Counter;
  readonly pongCount: Counter;
  readonly requestResponseCount: Counter;
  readonly hardwareModel: Gauge<'model' | 'partnerid' | 'firmware' | 'trust'>;
  readonly wrpSourceCheck: Counter<'outcome' | 'reason'>;
  readonly messagesReceived: Counter;
  readonly bytesReceived: Counter;
  readonly messagesSent: Counter;
  readonly bytesSent: Counter;
  readonly invalidMessages: Counter<'reason'>;
  readonly deviceQueueDepth: Gauge;
  readonly sendDuration: Histogram<'code'>;
  readonly apiRequestErrors: Counter<'code' | 'error'>;
  readonly outboundInflight: Gauge;
  readonly outboundQueueSize: Gauge;
  readonly outboundRequests: Counter<'scheme' | 'code' | 'reason'>;
  readonly outboundRequestDuration: Histogram<'scheme' | 'code' | 'reason'>;
  readonly outboundRetries: Counter;
  readonly outboundDropped: Counter<'scheme' | 'code' | 'reason'>;
  readonly totalOutboundEvents: Counter<'scheme' | 'reason' | 'outcome'>;
  readonly ackSuccess: Counter<'qos_level' | 'partner_id' | 'message_type'>;
  readonly ackFailure: Counter<'qos_level' | 'partner_id' | 'message_type'>;
  readonly gateStatus: Gauge;
  readonly drainStatus: Gauge;
  readonly drainCount: Gauge;
  readonly rehashKeep: Gauge<'service'>;
  readonly rehashDisconnect: Gauge<'service'>;
  readonly rehashTimestamp: Gauge<'service'>;
  readonly rehashDurationMs: Gauge<'service'>;
  readonly rehashDisconnectAll: Counter<'service' | 'reason'>;

  constructor(registry: Registry, maxDevices: () => number, queueDepth: () => number) {
    const r = [registry];
    const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name: P + name, help, labelNames, registers: r });
    const gauge = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name: P + name, help, labelNames, registers: r });

    this.deviceCount = gauge('device_count', 'Connected devices');
    this.maxDeviceCount = new Gauge({
      name: P + 'max_device_count',
      help: 'Configured device limit (0 = none)',
      registers: r,
      collect() {
        this.set(maxDevices());
      },
    });
    this.connectCount = counter('connect_count', 'Device connections accepted');
    this.disconnectCount = counter('disconnect_count', 'Device disconnections', ['reason']);
    this.duplicateCount = counter('duplicate_count', 'Connections replaced by a newer one');
    this.deviceLimitReached = counter('device_limit_reached_count', 'Connects over maxDevices');
    this.connectRejected = counter('connect_rejected_count', 'Connects refused before upgrade', [
      'reason',
      'code',
    ]);
    this.pingCount = counter('ping_count', 'Pings sent to devices');
    this.pongCount = counter('pong_count', 'Pongs received from devices');
    this.requestResponseCount = counter(
      'request_response_count',
      'SimpleRequestResponse messages received from devices',
    );
    this.hardwareModel = gauge('hardware_model', 'Connected devices by model', [
      'model',
      'partnerid',
      'firmware',
      'trust',
    ]);
    this.wrpSourceCheck = counter('wrp_source_check', 'WRP source check outcomes', [
      'outcome',
      'reason',
    ]);
    this.messagesReceived = counter('device_messages_received_total', 'Frames from devices');
    this.bytesReceived = counter('device_bytes_received_total', 'Frame bytes from devices');
    this.messagesSent = counter('device_messages_sent_total', 'Data frames to devices');
    this.bytesSent = counter('device_bytes_sent_total', 'Data frame bytes to devices');
    this.invalidMessages = counter('device_invalid_messages_total', 'Device frames dropped', [
      'reason',
    ]);
    this.deviceQueueDepth = new Gauge({
      name: P + 'device_queue_depth',
      help: 'Messages queued to devices and not yet written, all devices',
      registers: r,
      collect() {
        this.set(queueDepth());
      },
    });
    this.sendDuration = new Histogram({
      name: P + 'send_duration_seconds',
      help: 'Duration of /device/send requests',
      labelNames: ['code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: r,
    });
    this.apiRequestErrors = counter('api_request_errors_total', 'Failed /device/send requests', [
      'code',
      'error',
    ]);
    this.outboundInflight = gauge('outbound_inflight', 'Outbound requests in flight');
    this.outboundQueueSize = gauge('outbound_queue_size', 'Outbound requests queued');
    this.outboundRequests = counter('outbound_requests', 'Outbound request attempts', [
      'scheme',
      'code',
      'reason',
    ]);
    this.outboundRequestDuration = new Histogram({
      name: P + 'outbound_request_duration_seconds',
      help: 'Outbound request attempt duration',
      labelNames: ['scheme', 'code', 'reason'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    });
    this.outboundRetries = counter('outbound_retries', 'Outbound retries');
    this.outboundDropped = counter('outbound_dropped_messages', 'Outbound events dropped', [
      'scheme',
      'code',
      'reason',
    ]);
    this.totalOutboundEvents = counter('total_outbound_events', 'Outbound events by outcome', [
      'scheme',
      'reason',
      'outcome',
    ]);
    this.ackSuccess = counter('outbound_ack_success', 'QOS acks sent', [
      'qos_level',
      'partner_id',
      'message_type',
    ]);
    this.ackFailure = counter('outbound_ack_failure', 'QOS acks not sent', [
      'qos_level',
      'partner_id',
      'message_type',
    ]);
    this.gateStatus = gauge('gate_status', 'Gate open (1) or closed (0)');
    this.drainStatus = gauge('drain_status', 'Drain job running (1) or not (0)');
    this.drainCount = gauge('drain_count', 'Devices drained in total');
    this.rehashKeep = gauge('rehash_keep_device', 'Devices kept at the last rehash', ['service']);
    this.rehashDisconnect = gauge('rehash_disconnect_device', 'Devices moved at the last rehash', [
      'service',
    ]);
    this.rehashTimestamp = gauge('rehash_timestamp', 'Unix time of the last rehash', ['service']);
    this.rehashDurationMs = gauge('rehash_duration_ms', 'Duration of the last rehash', ['service']);
    this.rehashDisconnectAll = counter(
      'rehash_disconnect_all_count',
      'Rehashes that disconnected every device',
      ['service', 'reason'],
    );
  }
}
