import { supportsQosAck } from './message-type.js';

/** QoS levels derived from the 0..99 value. */
export const QosLevel = { Low: 0, Medium: 1, High: 2, Critical: 3 } as const;
export type QosLevelValue = (typeof QosLevel)[keyof typeof QosLevel];

/** Named QoS values. */
export const QosValue = { Low: 0, Medium: 25, High: 50, Critical: 75 } as const;

/** Level of a QoS value: < 25 Low (negatives included), < 50 Medium, < 75 High, else Critical. */
export function qosLevel(qos: number): QosLevelValue {
  if (qos < 25) return QosLevel.Low;
  if (qos < 50) return QosLevel.Medium;
  if (qos < 75) return QosLevel.High;
  return QosLevel.Critical;
}

/** True when the value is an integer in 0..99. */
export function isValidQos(qos: number): boolean {
  return Number.isInteger(qos) && qos >= 0 && qos <= 99;
}

/** Clamps a QoS value into 0..99 (wrp-go v3 `ClampQualityOfService`). */
export function clampQos(qos: number): number {
  if (!(qos > 0)) return 0;
  return qos > 99 ? 99 : Math.trunc(qos);
}

/** Whether a message asks for a QoS ack: its type supports acks and its level is Medium or higher. */
export function isQosAckPart(msg: { msgType: number; qos?: number }): boolean {
  return supportsQosAck(msg.msgType) && qosLevel(msg.qos ?? 0) >= QosLevel.Medium;
}
