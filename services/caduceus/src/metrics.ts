import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const METRIC_PREFIX = 'xmidt_caduceus_';
/** The original's latency buckets (seconds). */
export const LATENCY_BUCKETS = [0.0625, 0.125, 0.25, 0.5, 1, 5, 10, 20, 40, 80, 160];

/** Every Caduceus metric, names and labels as the original exports them. */
/** What the per-webhook gauges read at collection time. */
export interface LiveSender {
  readonly queueLength: number;
  readonly inFlight: number;
}

export class CaduceusMetrics {
  // intake
  readonly errorRequestBody: Counter;
  readonly emptyRequestBody: Counter;
  readonly invalidPayload: Counter;
  readonly incomingQueueDepth: Gauge;
  readonly modifiedWrp: Counter<'reason'>;
  readonly incomingLatency: Histogram<'event'>;
  readonly incomingEventType: Counter<'event'>;
  readonly incomingQueueFull: Counter;
  // senders
  readonly delivery: Counter<'url' | 'reason' | 'event' | 'code'>;
  readonly deliveryRetry: Counter<'url' | 'event'>;
  readonly deliveryRetryMax: Gauge<'url'>;
  readonly cutOff: Counter<'url'>;
  readonly dropped: Counter<'url' | 'reason'>;
  readonly outgoingQueueDepth: Gauge<'url'>;
  readonly renewalTime: Gauge<'url'>;
  readonly deliverUntil: Gauge<'url'>;
  readonly dropUntil: Gauge<'url'>;
  readonly workers: Gauge<'url'>;
  readonly workersMax: Gauge<'url'>;
  readonly queryDuration: Histogram<'url' | 'code' | 'reason'>;
  // registry
  readonly webhookListSize: Gauge;

  constructor(registry: Registry) {
    const p = METRIC_PREFIX;
    const reg = [registry];
    this.errorRequestBody = new Counter({
      name: `${p}error_request_body_count`,
      help: 'Notify requests whose body could not be read',
      registers: reg,
    });
    this.emptyRequestBody = new Counter({
      name: `${p}empty_request_body_count`,
      help: 'Notify requests with an empty body',
      registers: reg,
    });
    this.invalidPayload = new Counter({
      name: `${p}drops_due_to_invalid_payload`,
      help: 'Notify requests whose WRP could not be decoded or was not acceptable',
      registers: reg,
    });
    const live = this.live;
    const intake = () => this.intakeDepth;
    this.incomingQueueDepth = new Gauge({
      name: `${p}incoming_queue_depth`,
      help: 'Notify requests in flight plus events waiting for fan-out',
      registers: reg,
      collect() {
        const depth = intake();
        if (depth) this.set(depth());
      },
    });
    this.modifiedWrp = new Counter({
      name: `${p}modified_wrp_count`,
      help: 'Events fixed at intake',
      labelNames: ['reason'],
      registers: reg,
    });
    this.incomingLatency = new Histogram({
      name: `${p}incoming_queue_latency_histogram_seconds`,
      help: 'Time spent handling a notify request',
      labelNames: ['event'],
      buckets: LATENCY_BUCKETS,
      registers: reg,
    });
    this.incomingEventType = new Counter({
      name: `${p}incoming_event_type_count`,
      help: 'Events accepted, by event type',
      labelNames: ['event'],
      registers: reg,
    });
    this.incomingQueueFull = new Counter({
      name: `${p}incoming_queue_full_count`,
      help: 'Notify requests answered 503 because the intake queue was full',
      registers: reg,
    });
    this.delivery = new Counter({
      name: `${p}delivery_count`,
      help: 'Event deliveries by final outcome',
      labelNames: ['url', 'reason', 'event', 'code'],
      registers: reg,
    });
    this.deliveryRetry = new Counter({
      name: `${p}delivery_retry_count`,
      help: 'Delivery retries',
      labelNames: ['url', 'event'],
      registers: reg,
    });
    this.deliveryRetryMax = new Gauge({
      name: `${p}delivery_retry_max`,
      help: 'Maximum retries per delivery',
      labelNames: ['url'],
      registers: reg,
    });
    this.cutOff = new Counter({
      name: `${p}slow_consumer_cut_off_count`,
      help: 'Times a webhook was cut off',
      labelNames: ['url'],
      registers: reg,
    });
    this.dropped = new Counter({
      name: `${p}slow_consumer_dropped_message_count`,
      help: 'Events dropped for a webhook',
      labelNames: ['url', 'reason'],
      registers: reg,
    });
    this.outgoingQueueDepth = new Gauge({
      name: `${p}outgoing_queue_depths`,
      help: 'Events queued per webhook',
      labelNames: ['url'],
      registers: reg,
      collect() {
        for (const [url, s] of live) this.set({ url }, s.queueLength);
      },
    });
    this.renewalTime = new Gauge({
      name: `${p}consumer_renewal_time`,
      help: 'When the webhook was last registered (unix seconds)',
      labelNames: ['url'],
      registers: reg,
    });
    this.deliverUntil = new Gauge({
      name: `${p}consumer_deliver_until`,
      help: 'When the webhook expires (unix seconds)',
      labelNames: ['url'],
      registers: reg,
    });
    this.dropUntil = new Gauge({
      name: `${p}consumer_drop_until`,
      help: 'When the current cut-off ends (unix seconds)',
      labelNames: ['url'],
      registers: reg,
    });
    this.workers = new Gauge({
      name: `${p}consumer_delivery_workers`,
      help: 'Deliveries in progress per webhook',
      labelNames: ['url'],
      registers: reg,
      collect() {
        for (const [url, s] of live) this.set({ url }, s.inFlight);
      },
    });
    this.workersMax = new Gauge({
      name: `${p}consumer_delivery_workers_max`,
      help: 'Concurrent deliveries allowed per webhook',
      labelNames: ['url'],
      registers: reg,
    });
    this.queryDuration = new Histogram({
      name: `${p}query_duration_histogram_seconds`,
      help: 'Time to deliver one event, all retries included',
      labelNames: ['url', 'code', 'reason'],
      buckets: LATENCY_BUCKETS,
      registers: reg,
    });
    this.webhookListSize = new Gauge({
      name: `${p}webhook_list_size`,
      help: 'Registered webhooks',
      registers: reg,
    });
  }

  /**
   * The intake depth and each webhook's queue length and deliveries in flight change with
   * every event; they are read when the metrics are collected instead of being set (a label
   * lookup each) on every change.
   */
  private readonly live = new Map<string, LiveSender>();
  private intakeDepth: (() => number) | undefined;

  /** Where `incoming_queue_depth` is read from. */
  watchIntake(depth: () => number): void {
    this.intakeDepth = depth;
  }

  /** Reports `s`'s queue length and workers under `url` until unwatchSender(url, s). */
  watchSender(url: string, s: LiveSender): void {
    this.live.set(url, s);
  }

  unwatchSender(url: string, s: LiveSender): void {
    if (this.live.get(url) === s) this.live.delete(url);
  }

  /** Forgets every series labelled with a webhook that no longer exists. */
  forgetUrl(url: string): void {
    for (const m of [
      this.deliveryRetryMax,
      this.outgoingQueueDepth,
      this.renewalTime,
      this.deliverUntil,
      this.dropUntil,
      this.workers,
      this.workersMax,
    ]) {
      m.remove({ url });
    }
  }
}
