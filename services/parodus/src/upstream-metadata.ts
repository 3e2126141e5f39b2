import type { Message } from '@xmidt/wrp';
import { WEBPA_UUID, type ParodusConfig } from './config.js';

/**
 * The 12 metadata entries Parodus adds to every upstream message, in its order. `boot-time`
 * is a string here (it is a number in the convey header).
 */
export function upstreamMetadata(
  config: ParodusConfig,
  webpaProtocol: string,
  reconnectReason: string,
): Record<string, string> {
  return {
    'hw-model': config.hwModel,
    'hw-serial-number': config.hwSerialNumber,
    'hw-manufacturer': config.hwManufacturer,
    'hw-mac': config.hwMac,
    'hw-last-reboot-reason': config.hwLastRebootReason,
    'fw-name': config.fwName,
    'boot-time': String(config.bootTime),
    'webpa-last-reconnect-reason': reconnectReason,
    'webpa-protocol': webpaProtocol,
    'webpa-uuid': WEBPA_UUID,
    'webpa-interface-used': config.webpaInterfaceUsed,
    'partner-id': config.partnerId,
  };
}

/**
 * The message with the agent's metadata merged in: the sender's own entries are kept and the
 * agent's 12 keys are set over them (as Parodus' appended map wins for a last-wins decoder).
 */
export function withUpstreamMetadata(msg: Message, metadata: Record<string, string>): Message {
  return { ...msg, metadata: { ...(msg.metadata ?? {}), ...metadata } };
}
