/**
 * The aedes hooks for who may connect and what they may do:
 *
 * - `authenticate`: the listener's anonymous policy, the password file, or (useIdentityAsUsername)
 *   the verified TLS client certificate's CN as the username. Refusals answer CONNACK 4 "bad user
 *   name or password" for wrong credentials and CONNACK 5 "not authorized" when no credentials are
 *   acceptable on that listener [MQTT-3.2.2-5]. (Mosquitto 2 answers 5 to both; telling a device
 *   operator which one it is saves a support call and reveals nothing: unknown users and wrong
 *   passwords look alike.) Each refusal is logged with the peer address and counted.
 * - `authorizeSubscribe`: ACL refused -> the subscription becomes null, which aedes answers with
 *   return code 0x80 in the SUBACK [MQTT-3.9.3-1]; the client stays connected.
 * - `canPublish`: for the ingress' authorizePublish. MQTT 3.1.1 has no negative PUBACK, so a refused
 *   publish closes that client's connection; the caller passes the returned error to aedes.
 * - `authorizeForward`: the ACL's read check at delivery, as Mosquitto filters wide subscriptions.
 *
 * The identity (username) of each client is kept here; `identityOf(client)` gives it to the router.
 */
import type { Client, Subscription } from 'aedes'
import { EdgebridgeError } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { connectionInfo } from '../listeners/connection-info.js'
import { allowAllAcl, type Acl } from './acl-file.js'
import { createAuthCounters, type AuthCounters } from './auth-counters.js'
import type { PasswordFile } from './password-file.js'

export interface ClientIdentity {
  clientId: string
  /** null for an anonymous client. */
  username: string | null
}

export interface AuthenticatorOptions {
  /** null = no password file: only anonymous or certificate-identified clients can connect. */
  passwords: PasswordFile | null
  /** null = no ACL file: allowAllAcl(). */
  acl: Acl | null
  counters?: AuthCounters
}

/** aedes' error shape for a refused CONNECT: `returnCode` goes into the CONNACK. */
export type ConnackError = Error & { returnCode: number }

const BAD_USERNAME_OR_PASSWORD = 4
const NOT_AUTHORIZED = 5

function refusal(returnCode: number, message: string): ConnackError {
  return Object.assign(new Error(message), { returnCode })
}

const identities = new WeakMap<object, ClientIdentity>()

/** The authenticated identity of a connected client (undefined before authentication). */
export function identityOf(client: Client): ClientIdentity | undefined {
  return identities.get(client)
}

export class Authenticator {
  readonly counters: AuthCounters
  private passwords: PasswordFile | null
  private acl: Acl

  constructor(
    options: AuthenticatorOptions,
    private readonly logger: Logger,
  ) {
    this.passwords = options.passwords
    this.acl = options.acl ?? allowAllAcl()
    this.counters = options.counters ?? createAuthCounters()
  }

  /** Swap in reloaded files (SIGHUP); connected clients keep their session, new checks use the new rules. */
  reload(options: { passwords: PasswordFile | null; acl: Acl | null }): void {
    this.passwords = options.passwords
    this.acl = options.acl ?? allowAllAcl()
  }

  /** aedes `authenticate` option. */
  readonly authenticate = (
    client: Client,
    username: Readonly<string | undefined>,
    password: Readonly<Buffer | undefined>,
    done: (error: ConnackError | null, success: boolean | null) => void,
  ): void => {
    this.decide(client, username, password).then(
      (result) => {
        if (typeof result === 'string') {
          identities.set(client, { clientId: client.id, username: result === '' ? null : result })
          done(null, true)
        } else {
          done(result, false)
        }
      },
      (err: unknown) => {
        this.logger.error({ err, clientId: client.id }, 'authentication failed unexpectedly')
        done(refusal(3, 'server unavailable'), false) // CONNACK 3: our fault, not the client's
      },
    )
  }

  /** aedes `authorizeSubscribe` option. */
  readonly authorizeSubscribe = (
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void => {
    if (this.acl.canSubscribe(this.identity(client), sub.topic)) return done(null, sub)
    this.counters.subscribeDenied++
    this.logger.info({ clientId: client.id, filter: sub.topic }, 'subscription refused by ACL')
    done(null, null) // SUBACK 0x80 [MQTT-3.9.3-1]
  }

  /** aedes `authorizeForward` option: drops a message the subscriber may not read. */
  readonly authorizeForward = <P extends { topic: string }>(client: Client, packet: P): P | null =>
    this.acl.canRead(this.identity(client), packet.topic) ? packet : null

  /**
   * For the ingress' authorizePublish: null when allowed, else the error to hand aedes, which then
   * closes the connection (MQTT 3.1.1 has no negative PUBACK).
   */
  canPublish(client: Client, topic: string): EdgebridgeError | null {
    if (this.acl.canPublish(this.identity(client), topic)) return null
    this.counters.publishDenied++
    const info = connectionInfo(client.conn)
    this.logger.warn(
      { clientId: client.id, topic, remoteAddress: info?.remoteAddress },
      'publish refused by ACL, disconnecting client',
    )
    return new EdgebridgeError('PUBLISH_DENIED', `publish to "${topic}" not authorized`)
  }

  private identity(client: Client): ClientIdentity {
    return identities.get(client) ?? { clientId: client.id, username: null }
  }

  /** The username to record ('' = anonymous) or the CONNACK refusal. */
  private async decide(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<string | ConnackError> {
    const info = connectionInfo(client.conn)
    const where = { clientId: client.id, remoteAddress: info?.remoteAddress, listener: info?.listener }
    const refuse = (code: number, reason: string): ConnackError => {
      if (code === BAD_USERNAME_OR_PASSWORD) this.counters.badCredentials++
      else this.counters.notAuthorized++
      this.logger.warn({ ...where, username, reason }, 'connection refused')
      return refusal(code, reason)
    }

    if (info?.useIdentityAsUsername) {
      // The certificate is the credential; the password file is not consulted (as Mosquitto).
      if (!info.certificateCn) return refuse(NOT_AUTHORIZED, 'no verified client certificate')
      return info.certificateCn
    }
    if (username === undefined || username === null) {
      // Connections that did not come through our listeners are treated as non-loopback.
      if (info?.allowAnonymous) return ''
      return refuse(NOT_AUTHORIZED, 'anonymous clients are not allowed on this listener')
    }
    if (!this.passwords) {
      // Nothing can verify the name, so it grants nothing: the client is anonymous, if that is allowed.
      if (info?.allowAnonymous) return ''
      return refuse(BAD_USERNAME_OR_PASSWORD, 'no password file configured')
    }
    if (password === undefined || !(await this.passwords.verify(username, password))) {
      return refuse(BAD_USERNAME_OR_PASSWORD, 'bad user name or password')
    }
    return username
  }
}
