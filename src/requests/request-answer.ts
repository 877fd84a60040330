/**
 * What a requester gets back: the device's answer, or one the gateway gives in its place. Statuses are
 * HTTP-like (as Hono's and Azure's command answers): the device picks its own in the answer topic;
 * the gateway's are below, with `origin: 'gateway'` and a reason, so a requester can tell "the device
 * said 404" from "there is no such device".
 */
export interface RequestAnswer {
  /** The request id (the core's correlation id when it gave one). */
  id: string
  device: string
  status: string
  payload: Buffer
  origin: 'device' | 'gateway'
  /** Why the gateway answered (gateway answers only). */
  reason?: string
}

/** The gateway's own answers. */
export const GATEWAY_STATUS = {
  /** The request names no valid device, method or id. */
  badRequest: '400',
  /** No session subscribed to the device's request topic: nobody would ever get it. */
  noDevice: '404',
  /** requests.maxInFlight or maxInFlightPerDevice reached. */
  overLimit: '429',
  /** Not handed to the device: the gateway is stopping or the broker refused. */
  unavailable: '503',
  /** No answer within the rule's timeoutMs. */
  timeout: '504',
} as const

export function gatewayAnswer(
  id: string,
  device: string,
  status: (typeof GATEWAY_STATUS)[keyof typeof GATEWAY_STATUS],
  reason: string,
): RequestAnswer {
  return { id, device, status, payload: Buffer.alloc(0), origin: 'gateway', reason }
}
