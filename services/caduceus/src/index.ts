export { caduceusConfigSchema, urlValidationSchema } from './config.js';
export type { CaduceusConfig, UrlValidationConfig } from './config.js';
export { createCaduceus } from './service.js';
export type { Caduceus, CaduceusOptions } from './service.js';
export type { WebhookStore, StoreEvent } from './store.js';
export { StoreError } from './store.js';
export { FileWebhookStore } from './store-file.js';
export { MemoryWebhookStore } from './store-memory.js';
export { EtcdWebhookStore } from './store-etcd.js';
export type { EtcdStoreOptions } from './store-etcd.js';
export { signBody, verifySignature, SIGNATURE_HEADER } from './signature.js';
export { UrlGuard, UrlCheckError, v2Policy } from './ssrf-guard.js';
export type { LookupAll } from './ssrf-guard.js';
export { CUT_OFF_TEXT, WebhookSender } from './sender.js';
export {
  decodeWebhook,
  validateWebhook,
  webhookId,
  webhookToJson,
  storedToJson,
  storedFromJson,
  WebhookError,
} from './webhook.js';
export type { Webhook, StoredWebhook } from './webhook.js';
export { METRIC_PREFIX } from './metrics.js';
