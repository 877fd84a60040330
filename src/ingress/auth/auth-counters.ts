/** Authentication and ACL refusals, counted as plain numbers for whoever reports them, so the ingress needs no metrics library. */
export interface AuthCounters {
  /** CONNECTs refused with CONNACK 4 (unknown user or wrong password). */
  badCredentials: number
  /** CONNECTs refused with CONNACK 5 (anonymous where not allowed, missing client certificate). */
  notAuthorized: number
  /** Subscriptions answered with SUBACK 0x80. */
  subscribeDenied: number
  /** Publishes refused by the ACL (the client was disconnected). */
  publishDenied: number
}

export function createAuthCounters(): AuthCounters {
  return { badCredentials: 0, notAuthorized: 0, subscribeDenied: 0, publishDenied: 0 }
}
