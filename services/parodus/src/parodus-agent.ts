import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import {
  CloseReason,
  DEFAULT_WEBPA_PROTOCOL,
  DeviceClient,
  type DeviceClientOptions,
} from '@xmidt/device-client';
import { encodeMsgpack, MessageType, type Message } from '@xmidt/wrp';
import type { ParodusConfig } from './config.js';
import { destDevice, destService } from './dest-service.js';
import { LocalBus } from './local-bus.js';
import { handleParodusCrud, type CrudState } from './parodus-crud.js';
import { parsePartnerIds, partnerAllowed, withPartnerIds } from './partners.js';
import { upstreamMetadata, withUpstreamMetadata } from './upstream-metadata.js';

export interface ParodusOptions {
  logger?: Logger;
  /** ServiceAlive period, ms (default 30000). */
  keepAliveMs?: number;
  /** Send timeout towards local services, ms (default 2000). */
  serviceSendTimeoutMs?: number;
  /** Wait before reconnecting after a cloud-disconnect, ms (default 5 minutes). */
  cloudDisconnectDelayMs?: number;
  /** Backoff unit, ms (default 1000); tests use small values. */
  backoffUnitMs?: number;
  /** Ping-timeout check period, ms (default 5000). */
  pingCheckIntervalMs?: number;
  /** The protocol string (`PARODUS-2.0-<version>`). */
  webpaProtocol?: string;
}

export interface ParodusStats {
  downstream: number;
  upstream: number;
  /** Upstream messages dropped because the cloud connection was down (or congested). */
  upstreamDropped: number;
  unknownService: number;
  partnerRejected: number;
}

export interface Parodus {
  readonly client: DeviceClient;
  readonly bus: LocalBus;
  readonly stats: ParodusStats;
  /** Binds the local bus and starts connecting; resolves with the bus port. */
  start(): Promise<{ localPort: number }>;
  /** Closes the websocket (code 1000, `reason`), the bus and every service socket. */
  stop(reason?: string): Promise<void>;
}

const REPLY_TYPES = new Set<number>([
  MessageType.SimpleRequestResponse,
  MessageType.Create,
  MessageType.Retrieve,
  MessageType.Update,
  MessageType.Delete,
]);
const CRUD_TYPES = new Set<number>([
  MessageType.Create,
  MessageType.Retrieve,
  MessageType.Update,
  MessageType.Delete,
]);

function readOptional(path: string): string | undefined {
  return path === '' ? undefined : readFileSync(path, 'utf8');
}

/** Builds the device-client options from Parodus' settings. */
export function deviceClientOptions(
  config: ParodusConfig,
  options: ParodusOptions = {},
): DeviceClientOptions {
  const webpaProtocol = options.webpaProtocol ?? DEFAULT_WEBPA_PROTOCOL;
  const ca = readOptional(config.sslCertPath);
  const clientCert = readOptional(config.clientCertPath);
  const mtls =
    ca !== undefined && config.mtlsClientCertPath !== '' && config.mtlsClientKeyPath !== ''
      ? {
          cert: readFileSync(config.mtlsClientCertPath, 'utf8'),
          key: readFileSync(config.mtlsClientKeyPath, 'utf8'),
        }
      : {};
  return {
    url: config.webpaUrl,
    device: {
      hwMac: config.hwMac,
      hwModel: config.hwModel,
      hwSerialNumber: config.hwSerialNumber,
      hwManufacturer: config.hwManufacturer,
      hwLastRebootReason: config.hwLastRebootReason,
      fwName: config.fwName,
      bootTime: config.bootTime,
      bootTimeRetryWait: config.bootTimeRetryWait,
      interfaceUsed: config.webpaInterfaceUsed,
      webpaProtocol,
      partnerId: config.partnerId,
    },
    ...(config.tokenServerUrl !== ''
      ? {
          token: {
            url: config.tokenServerUrl,
            ...(clientCert !== undefined ? { cert: clientCert } : {}),
            ...(ca !== undefined ? { ca } : {}),
          },
        }
      : {}),
    pingTimeoutMs: config.webpaPingTimeout * 1000,
    ...(options.pingCheckIntervalMs !== undefined
      ? { pingCheckIntervalMs: options.pingCheckIntervalMs }
      : {}),
    backoff: {
      maxExponent: config.webpaBackoffMax,
      ...(options.backoffUnitMs !== undefined ? { unitMs: options.backoffUnitMs } : {}),
    },
    ...(ca !== undefined || mtls.cert !== undefined
      ? { tls: { ...(ca !== undefined ? { ca } : {}), ...mtls } }
      : {}),
    ...(config.forceIpv4 ? { family: 4 } : config.forceIpv6 ? { family: 6 } : {}),
  };
}

/** The Parodus agent: the cloud connection plus the libparodus local bus. */
export function createParodus(config: ParodusConfig, options: ParodusOptions = {}): Parodus {
  const log = options.logger;
  const webpaProtocol = options.webpaProtocol ?? DEFAULT_WEBPA_PROTOCOL;
  const client = new DeviceClient(deviceClientOptions(config, { ...options, webpaProtocol }));
  const bus = new LocalBus({
    url: config.parodusLocalUrl,
    ...(options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {}),
    ...(options.serviceSendTimeoutMs !== undefined
      ? { sendTimeoutMs: options.serviceSendTimeoutMs }
      : {}),
  });
  const partners = parsePartnerIds(config.partnerId);
  const ownDevice = client.deviceId.toLowerCase();
  const stats: ParodusStats = {
    downstream: 0,
    upstream: 0,
    upstreamDropped: 0,
    unknownService: 0,
    partnerRejected: 0,
  };

  const crudState: CrudState = {
    config,
    webpaProtocol,
    cloudStatus: () => client.cloudStatus,
    serviceRegistered: (name) => bus.has(name),
    cloudDisconnect: (reason) => {
      log?.info({ reason }, 'cloud-disconnect requested');
      setImmediate(() => client.disconnect(reason, options.cloudDisconnectDelayMs ?? 300_000));
    },
  };

  /** Sends a message to the cloud with the agent's metadata; counts drops while offline. */
  const sendUp = (msg: Message): void => {
    const out = withUpstreamMetadata(
      msg,
      upstreamMetadata(config, webpaProtocol, client.lastReconnectReason),
    );
    if (client.send(out)) stats.upstream++;
    else {
      stats.upstreamDropped++;
      log?.debug({ msgType: msg.msgType, dest: msg.dest }, 'offline: upstream message dropped');
    }
  };

  const errorReply = (msg: Message, statusCode: number, message: string): void => {
    sendUp({
      msgType: msg.msgType,
      ...(msg.dest !== undefined ? { source: msg.dest } : {}),
      ...(msg.source !== undefined ? { dest: msg.source } : {}),
      ...(msg.transactionUuid !== undefined ? { transactionUuid: msg.transactionUuid } : {}),
      ...(CRUD_TYPES.has(msg.msgType) && msg.path !== undefined ? { path: msg.path } : {}),
      contentType: 'application/json',
      payload: Buffer.from(JSON.stringify({ statusCode, message }), 'utf8'),
    });
  };

  const forwardToService = (name: string, raw: Uint8Array): void => {
    void bus.sendTo(name, raw).then((ok) => {
      if (!ok) log?.warn({ service: name }, 'could not deliver to local service');
    });
  };

  // ---- downstream: cloud -> local services ----
  client.on('message', (msg, raw) => {
    const type = msg.msgType;
    if (type === MessageType.Authorization) {
      log?.info({ status: msg.status }, 'authorization status from server');
      return;
    }
    if (type !== MessageType.SimpleEvent && !REPLY_TYPES.has(type)) return;
    stats.downstream++;
    if (
      (type === MessageType.SimpleRequestResponse || type === MessageType.SimpleEvent) &&
      !partnerAllowed(partners, msg.partnerIds)
    ) {
      stats.partnerRejected++;
      log?.warn({ dest: msg.dest, partnerIds: msg.partnerIds }, 'invalid partner_id');
      if (type !== MessageType.SimpleEvent) errorReply(msg, 403, 'Invalid partner_id');
      return;
    }
    const service = destService(msg.dest);
    if (service !== '' && bus.has(service)) {
      forwardToService(service, raw);
      return;
    }
    if (service === 'parodus') {
      if (CRUD_TYPES.has(type)) sendUp(handleParodusCrud(msg, crudState));
      else if (type !== MessageType.SimpleEvent) errorReply(msg, 400, 'Invalid request type');
      return;
    }
    stats.unknownService++;
    log?.info({ dest: msg.dest }, 'unknown dest');
    if (type !== MessageType.SimpleEvent) errorReply(msg, 531, 'Service Unavailable');
  });

  // ---- upstream: local services -> cloud (or local) ----
  bus.on('message', (msg, raw) => {
    switch (msg.msgType) {
      case MessageType.SimpleEvent:
        sendUp(
          partners.length > 0
            ? { ...msg, partnerIds: withPartnerIds(partners, msg.partnerIds) }
            : msg,
        );
        return;
      case MessageType.SimpleRequestResponse:
      case MessageType.Create:
        sendUp(msg);
        return;
      case MessageType.Retrieve:
      case MessageType.Update:
      case MessageType.Delete: {
        if (destDevice(msg.dest).toLowerCase() !== ownDevice) {
          sendUp(msg);
          return;
        }
        const service = destService(msg.dest);
        if (service === 'parodus') {
          const reply = handleParodusCrud(msg, crudState);
          const back = destService(reply.dest);
          if (back !== '' && bus.has(back)) forwardToService(back, encodeMsgpack(reply));
          return;
        }
        if (service !== '' && bus.has(service)) forwardToService(service, raw);
        return;
      }
      default:
        // Authorization, ServiceAlive (dropped by Parodus too) and unknown types.
        return;
    }
  });

  bus.on('registered', (s) => log?.info({ service: s.name, url: s.url }, 'service registered'));
  bus.on('removed', (s, reason) =>
    log?.info({ service: s.name, url: s.url, reason }, 'service removed'),
  );
  bus.on('rejected', (reason) => log?.warn({ reason }, 'local message rejected'));
  client.on('online', (i) => {
    log?.info({ url: i.url, redirects: i.redirects }, 'connected');
    writeHealth(`{STOP=${Math.floor(Date.now() / 1000)}}`);
  });
  client.on('offline', (i) =>
    log?.info(
      { code: i.code, reason: i.reason, reconnectReason: i.reconnectReason },
      'disconnected',
    ),
  );
  client.on('connect-failure', (f) => {
    log?.info(
      { reason: f.reason, status: f.status, url: f.url, delayMs: f.delayMs },
      'connect failed',
    );
    writeHealth(`{START=${startedConnecting},${Math.floor(Date.now() / 1000)}}`);
  });
  client.on('token', (t) => {
    if (!t.ok) log?.warn({ reason: t.reason }, 'token fetch failed; connecting without a token');
  });

  let startedConnecting = 0;
  function writeHealth(text: string): void {
    if (config.connectionHealthFile === '') return;
    try {
      writeFileSync(config.connectionHealthFile, text);
    } catch (err) {
      log?.warn({ err }, 'cannot write connection health file');
    }
  }

  return {
    client,
    bus,
    stats,
    async start() {
      const localPort = await bus.start();
      startedConnecting = Math.floor(Date.now() / 1000);
      writeHealth(`{START=${startedConnecting},${startedConnecting}}`);
      client.start();
      log?.info(
        { localUrl: bus.url, webpaUrl: config.webpaUrl, device: client.deviceId },
        'parodus started',
      );
      return { localPort };
    },
    async stop(reason: string = CloseReason.Stopping) {
      await client.stop(reason);
      await bus.stop();
    },
  };
}
