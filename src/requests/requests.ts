/**
 * Request/reply between the core and devices (DESIGN.md, "requests"): a core service asks a device
 * and gets its answer.
 *
 *   core request --transport--> handle(): rule, device, method, id; bounds; is anyone subscribed?
 *     --> ingress.publishToDevices(<topic with id>)                           (the device's request)
 *   device PUBLISH <answer topic with status and id> --> claim(): the pending request by id
 *     --> its answer --transport--> the core's reply address
 *
 * - Every admitted request gets exactly one answer: the device's, or the gateway's (404 nobody
 *   subscribed, 429 over a bound, 503 not handed over, 504 timeout; request-answer.ts). A request whose
 *   id is already pending (a Kafka redelivery) joins it: the device is asked once and both get the same
 *   answer.
 * - "Nobody subscribed" is decided before publishing (Ingress.reach): no connected client and no
 *   persistent session subscribed to the request topic means no answer can ever come, so the
 *   requester learns it at once instead of at its timeout (NATS "no responders"). A persistent
 *   session that is offline gets the request queued (QoS 1 [MQTT-3.1.2-5]) and may answer in time.
 * - Answers are claimed in the ingress' publish path before routing: an answer is not telemetry and
 *   is never spooled or forwarded to the core as a device message. Answers matching no pending
 *   request (late, or unknown: e.g. asked before a gateway restart) are counted and logged at most
 *   once per interval.
 * - Nothing survives a restart: requests in flight get a 503 on a clean stop and nothing on a crash
 *   (the requester's own timeout); a device's answer after the restart matches nothing and is dropped,
 *   so no request is answered twice with different results.
 */
import { randomBytes } from 'node:crypto'
import type { Backend, Subscription } from '../backends/backend.js'
import type { EdgebridgeConfig } from '../config/types.js'
import { ConfigError, EdgebridgeError, errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import { CorrelationTable } from './correlation-table.js'
import { GATEWAY_STATUS, gatewayAnswer, type RequestAnswer } from './request-answer.js'
import { compileRequestRules, type RequestRule } from './request-rules.js'
import type { AnswerTopicPattern } from './request-templates.js'
import { levelProblem } from './request-templates.js'
import type { CoreRequest, RequestCall, RequestTransportFactory } from './request-transport.js'
import { loadRequestTransport } from './transport-registry.js'

/** Whether a publish to a topic reaches a device now ('online'), later ('queued') or never ('none'). */
export type DeviceReach = (topic: string) => Promise<'online' | 'queued' | 'none'>

/** Publishes to the devices subscribed to `topic`: Ingress.publishToDevices. */
export type PublishRequest = (topic: string, payload: Buffer, qos: 0 | 1 | 2) => Promise<void>

/** Counters a metrics module reads (all totals since start). */
export interface RequestCounters {
  /** Requests read from the core (joined duplicates included). */
  received: number
  /** Handed to the broker for the device. */
  delivered: number
  /** Answers given to requesters, by status (device and gateway statuses alike). */
  answersByStatus: Record<string, number>
  /** Answers that came from devices. */
  deviceAnswers: number
  timeouts: number
  /** Nobody subscribed to the request topic (404). */
  noDevice: number
  /** Over requests.maxInFlight or maxInFlightPerDevice (429). */
  overLimit: number
  /** No valid device, method or id (400). */
  badRequest: number
  /** Requests whose id was already in flight: joined, not asked twice. */
  joined: number
  /** Device answers after their request's timeout. */
  lateAnswers: number
  /** Device answers matching no request in flight (unknown id, or another device's). */
  unmatchedAnswers: number
  /** Round trip of device answers (request read -> answer claimed): sum and count, in ms. */
  roundTripMsSum: number
  roundTripCount: number
}

export interface RequestsOptions {
  config: EdgebridgeConfig
  backend: Backend
  publish: PublishRequest
  reach: DeviceReach
  logger: Logger
  /** Test seam: the transport; by default the backend's own. */
  transport?: RequestTransportFactory
  /** Called with each device answer's round trip in ms (a histogram, when metrics have one). */
  onRoundTrip?: (ms: number) => void
}

/** Interval of the "answer matches no request" log line. */
const UNMATCHED_LOG_INTERVAL_MS = 10_000 // 10 s

export class Requests {
  readonly counters: RequestCounters = {
    received: 0,
    delivered: 0,
    answersByStatus: {},
    deviceAnswers: 0,
    timeouts: 0,
    noDevice: 0,
    overLimit: 0,
    badRequest: 0,
    joined: 0,
    lateAnswers: 0,
    unmatchedAnswers: 0,
    roundTripMsSum: 0,
    roundTripCount: 0,
  }
  private rules = new Map<string, RequestRule>()
  private answerPatterns: AnswerTopicPattern[] = []
  private readonly table: CorrelationTable
  private subscription: Subscription | undefined
  private closing: Promise<void> | undefined
  private readonly unmatchedLog: RateLimitedLog
  private readonly idPrefix = randomBytes(4).toString('hex')
  private nextId = 0

  constructor(private readonly options: RequestsOptions) {
    const { requests } = options.config
    this.table = new CorrelationTable(requests.maxInFlight, requests.maxInFlightPerDevice)
    this.unmatchedLog = new RateLimitedLog(options.logger, UNMATCHED_LOG_INTERVAL_MS)
  }

  /** Requests in flight (waiting for a device). */
  inFlight(): number {
    return this.table.size
  }

  /** Serves every rule's source; a no-op when disabled or without rules. Never rejects for the core. */
  async start(): Promise<void> {
    const { config, backend, logger } = this.options
    if (!config.requests.enabled || config.requests.rules.length === 0) return
    const rules = compileRequestRules(config)
    this.rules = new Map(rules.map((r) => [r.source.source, r]))
    const patterns = new Map(rules.map((r) => [r.answer.source, r.answer]))
    this.answerPatterns = [...patterns.values()]
    const sources = [...this.rules.keys()]
    try {
      const factory = this.options.transport ?? (await loadRequestTransport(config.core.backend))
      const transport = factory(config, backend, logger)
      const subscription = await transport.serve(sources, (r) => this.handle(r), config.core.groupId)
      if (this.closing !== undefined) {
        await subscription.close()
        return
      }
      this.subscription = subscription
      logger.info({ sources, answerTopics: [...patterns.keys()] }, 'requests served')
    } catch (err) {
      if (err instanceof ConfigError) throw err
      // The uplink works without requests: say so once, keep forwarding.
      logger.error({ err: errorMessage(err), sources }, 'requests could not be served; devices get none')
    }
  }

  /** One request from the core (RequestHandler). */
  handle(request: CoreRequest): RequestCall {
    this.counters.received++
    const decided = this.admit(request)
    if ('answer' in decided) return decided
    const { rule, id, device, topic } = decided
    const pending = this.table.add(id, device, rule.timeoutMs, () => {
      this.counters.timeouts++
      return gatewayAnswer(id, device, GATEWAY_STATUS.timeout, `no answer within ${rule.timeoutMs} ms`)
    })
    const answer = pending.answer.then((a) => this.counted(a))
    const settled = this.deliver(request, rule, id, device, topic)
    settled.catch(() => undefined) // only acknowledging transports care; the others must not crash on it
    return { answer, settled }
  }

  /** Everything decided before a request is published: a ready answer, or where it goes. */
  private admit(
    request: CoreRequest,
  ): RequestCall | { rule: RequestRule; id: string; device: string; topic: string } {
    const rule = this.rules.get(request.source)
    const captures = rule?.source.match(request.subject)
    const id = request.id ?? this.newId()
    if (rule === undefined || captures === undefined)
      return this.immediate(gatewayAnswer(id, '', GATEWAY_STATUS.badRequest, 'no request rule matches'))
    const fields = { captures, key: request.key ?? '', headers: request.headers }
    const device = rule.device.render(fields)
    const method = rule.method.render(fields)
    for (const [what, value] of [
      ['device id', device],
      ['method', method],
      ['request id', id],
    ] as const) {
      const problem = levelProblem(value)
      if (problem !== undefined) {
        this.counters.badRequest++
        return this.immediate(
          gatewayAnswer(id, device, GATEWAY_STATUS.badRequest, `${what} ${JSON.stringify(value)} ${problem}`),
        )
      }
    }
    const joined = this.table.get(id)
    if (joined !== undefined && joined.device === device) {
      // The same request again (an at-least-once core redelivered it): one device call, one answer.
      this.counters.joined++
      return { answer: joined.answer, settled: Promise.resolve() }
    }
    if (joined !== undefined || this.closing !== undefined)
      return this.immediate(
        gatewayAnswer(
          id,
          device,
          GATEWAY_STATUS.unavailable,
          joined === undefined ? 'gateway stopping' : 'request id in use by another device',
        ),
        this.closing !== undefined,
      )
    const admission = this.table.check(device)
    if (admission !== 'admitted') {
      this.counters.overLimit++
      const bound =
        admission === 'over-total'
          ? `requests.maxInFlight (${this.options.config.requests.maxInFlight})`
          : `requests.maxInFlightPerDevice (${this.options.config.requests.maxInFlightPerDevice})`
      return this.immediate(gatewayAnswer(id, device, GATEWAY_STATUS.overLimit, `${bound} reached`))
    }
    return { rule, id, device, topic: rule.topic.render({ device, method, id }) }
  }

  private async deliver(
    request: CoreRequest,
    rule: RequestRule,
    id: string,
    device: string,
    topic: string,
  ): Promise<void> {
    const { publish, reach, logger } = this.options
    try {
      if ((await reach(topic)) === 'none') {
        this.counters.noDevice++
        this.table.settle(
          id,
          gatewayAnswer(id, device, GATEWAY_STATUS.noDevice, `no session is subscribed to ${topic}`),
        )
        return
      }
      await publish(topic, request.payload, rule.qos)
      this.counters.delivered++
    } catch (err) {
      // Not handed over (the broker is closing): the requester is told, an acknowledging core asks again.
      logger.warn({ err: errorMessage(err), topic }, 'request not delivered to the device')
      this.table.settle(id, gatewayAnswer(id, device, GATEWAY_STATUS.unavailable, 'not delivered'))
      throw new EdgebridgeError('INGRESS_STOPPED', `request ${id} not delivered`, { cause: err })
    }
  }

  /**
   * An MQTT publish from a device: when its topic is an answer topic, it is taken here (true) and the
   * pending request answered; the ingress then acknowledges it without spooling it.
   */
  claim(clientId: string, topic: string, payload: Buffer): boolean {
    for (const pattern of this.answerPatterns) {
      const parsed = pattern.parse(topic)
      if (parsed === undefined) continue
      const pending = this.table.get(parsed.id)
      if (pending === undefined || (parsed.device !== undefined && parsed.device !== pending.device)) {
        const late = pending === undefined && this.table.timedOutRecently(parsed.id)
        if (late) this.counters.lateAnswers++
        else this.counters.unmatchedAnswers++
        this.unmatchedLog.warn(
          { clientId, topic, late: this.counters.lateAnswers, unmatched: this.counters.unmatchedAnswers },
          late ? 'answer arrived after its timeout; dropped' : 'answer matches no request in flight; dropped',
        )
        return true
      }
      const roundTripMs = performance.now() - pending.startedAt
      this.table.settle(parsed.id, {
        id: parsed.id,
        device: pending.device,
        status: parsed.status,
        payload,
        origin: 'device',
      })
      this.counters.deviceAnswers++
      this.counters.roundTripMsSum += roundTripMs
      this.counters.roundTripCount++
      this.options.onRoundTrip?.(roundTripMs)
      return true
    }
    return false
  }

  private immediate(answer: RequestAnswer, redeliver = false): RequestCall {
    const settled = redeliver
      ? Promise.reject(new EdgebridgeError('INGRESS_STOPPED', 'gateway stopping'))
      : Promise.resolve()
    settled.catch(() => undefined)
    return { answer: Promise.resolve(this.counted(answer)), settled }
  }

  private counted(answer: RequestAnswer): RequestAnswer {
    const by = this.counters.answersByStatus
    by[answer.status] = (by[answer.status] ?? 0) + 1
    return answer
  }

  /** Short, unique in this process, unguessable across restarts: a restarted gateway never reuses one. */
  private newId(): string {
    return `${this.idPrefix}${(this.nextId++).toString(36)}`
  }

  /**
   * Stops taking requests, answers those in flight with 503 (gateway stopping), then waits until the
   * transport has sent them. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const id of this.table.ids()) {
        const device = this.table.get(id)?.device ?? ''
        this.table.settle(id, gatewayAnswer(id, device, GATEWAY_STATUS.unavailable, 'gateway stopping'))
      }
      const subscription = this.subscription
      this.subscription = undefined
      await subscription?.close()
    })()
    return this.closing
  }
}
