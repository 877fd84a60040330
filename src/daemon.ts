/**
 * Wiring only (DESIGN.md): start spool -> backend -> forwarder -> ingress -> downlink -> http; stop in
 * reverse.
 *
 * The order is the guarantee's order. The spool opens (and recovers) before anything can be
 * acknowledged; the backend exists before the forwarder reads; ingress opens last, so no device is
 * acknowledged by a half-started gateway. On stop, ingress closes first (no new acknowledgements),
 * the forwarder drains for a bounded time, then the backend and the spool close. The downlink (core ->
 * devices) starts once devices can connect and stops first, while the broker can still deliver.
 * Requests (core -> device -> core) start last and stop first: requests in flight get their 503 while
 * the core connection can still carry it. The HTTP listener (metrics, health, the status page) opens
 * once everything it reports on is up, and closes first.
 */
import type { EdgebridgeConfig } from './config/types.js'
import { loadBackendFactory } from './backends/registry.js'
import type { Backend } from './backends/backend.js'
import { join } from 'node:path'
import { ConfigError } from './errors.js'
import { DeadLetterFile } from './forwarder/dead-letter.js'
import { Downlink } from './downlink/downlink.js'
import { Forwarder } from './forwarder/forwarder.js'
import { LOSS_LEDGER_FILE, LossLedger } from './forwarder/loss-ledger.js'
import { EventStreams } from './http/event-stream.js'
import { coreRoutes } from './http/routes.js'
import { statusPageRoutes } from './http/status-page.js'
import { HttpListener } from './http/http-listener.js'
import { Ingress } from './ingress/ingress.js'
import { DeviceActivity } from './observability/device-activity.js'
import { gatewaySummary, type StatusSources } from './observability/gateway-status.js'
import { GatewayMetrics } from './observability/metrics.js'
import { Requests } from './requests/requests.js'
import { componentLogger, type Logger } from './observability/logger.js'
import { ReloadableRouter } from './routing/reloadable-router.js'
import { createRouter } from './routing/route-table.js'
import { openSpool } from './spool/open-spool.js'
import type { Spool } from './spool/spool.js'
import { version } from './version.js'

export class Daemon {
  private stopping: Promise<void> | undefined

  private constructor(
    readonly config: EdgebridgeConfig,
    readonly spool: Spool,
    readonly backend: Backend,
    readonly forwarder: Forwarder,
    readonly ingress: Ingress,
    readonly downlink: Downlink,
    readonly requests: Requests,
    private readonly logger: Logger,
    private readonly lossLedger: LossLedger | undefined,
    readonly metrics: GatewayMetrics,
    /** What the status page, /readyz and systemd's STATUS= read. */
    readonly status: StatusSources,
    readonly activity: DeviceActivity,
    private readonly http: HttpListener | undefined,
    /** Shared with `status.running()`: /readyz says not ready from the moment stop() begins. */
    private readonly lifecycle: { stopping: boolean },
    private readonly router: ReloadableRouter,
  ) {}

  /**
   * SIGHUP with a configuration that loaded and validated: its routes and downlink rules replace the
   * current ones. The rest of the configuration (listeners, spool, the core) needs a restart; a
   * different core.backend is refused whole, since the routes were checked against it.
   */
  async reloadRules(next: EdgebridgeConfig): Promise<void> {
    if (next.core.backend !== this.config.core.backend) {
      throw new ConfigError(
        `core.backend changed from ${this.config.core.backend} to ${next.core.backend}: restart the gateway to change its core; nothing was reloaded`,
      )
    }
    this.router.replace(createRouter(next))
    await this.downlink.reload(next)
  }

  /** Port of the HTTP listener; undefined when http.enabled is false. */
  httpPort(): number | undefined {
    return this.http?.port
  }

  static async start(config: EdgebridgeConfig, root: Logger): Promise<Daemon> {
    const logger = componentLogger(root, 'daemon')
    const lossLedger = config.dataDir
      ? new LossLedger(
          join(config.dataDir, LOSS_LEDGER_FILE),
          config.gatewayId,
          componentLogger(root, 'loss-ledger'),
        )
      : undefined
    await lossLedger?.open()
    const metrics = new GatewayMetrics()
    const activity = new DeviceActivity()
    const startedAt = Date.now()
    const lifecycle = { stopping: false }
    const spool = await openSpool(
      config,
      componentLogger(root, 'spool'),
      lossLedger?.onDrop,
      metrics.spoolObserver,
    )
    const stats = spool.stats()
    logger.info(
      { kind: config.spool.kind, backlog: stats.depthRecords, bytes: stats.depthBytes },
      'spool open',
    )

    const createBackend = await loadBackendFactory(config.core.backend)
    const backend = createBackend(config, { logger: componentLogger(root, `backend.${config.core.backend}`) })
    const deadLetter = config.dataDir
      ? new DeadLetterFile(join(config.dataDir, 'dead-letter.jsonl'), lossLedger)
      : undefined
    const forwarder = new Forwarder(
      spool,
      backend,
      config.forwarder,
      componentLogger(root, 'forwarder'),
      deadLetter,
    )
    forwarder.observer = metrics.forwarderObserver
    const router = new ReloadableRouter(createRouter(config), (route) => metrics.routedTo(route))
    const requests: Requests = new Requests({
      config,
      backend,
      publish: (topic, payload, qos) => ingress.publishToDevices(topic, payload, qos, false),
      reach: (topic) => ingress.reach(topic),
      logger: componentLogger(root, 'requests'),
      onRoundTrip: metrics.requestRoundTrip,
    })
    const ingress: Ingress = new Ingress({
      config,
      spool,
      router,
      logger: componentLogger(root, 'ingress'),
      activity,
      coreMaxPayloadBytes: () => backend.maxPayloadBytes?.(),
      claim: (clientId, topic, payload) => requests.claim(clientId, topic, payload),
    })
    const downlink = new Downlink({
      config,
      backend,
      deliver: (topic, payload, qos, retain) => ingress.publishToDevices(topic, payload, qos, retain),
      logger: componentLogger(root, 'downlink'),
    })
    const status: StatusSources = {
      gatewayId: config.gatewayId,
      version: version(),
      backend,
      spool,
      spoolMaxBytes: config.spool.maxBytes,
      forwarder,
      ingress,
      activity,
      downlink,
      requests,
      startedAt,
      listening: () => (ingress.listening() ? ingress.ports() : undefined),
      running: () => !lifecycle.stopping,
    }
    metrics.attach(status)
    let http: HttpListener | undefined
    let events: EventStreams | undefined
    try {
      await backend.connect()
      forwarder.start()
      await ingress.start()
      await downlink.start()
      await requests.start()
      if (config.http.enabled) {
        events = new EventStreams(activity, () => gatewaySummary(status))
        status.statusPage = events
        const routes = { ...coreRoutes(metrics, status), ...statusPageRoutes(), '/events': events.route }
        http = await HttpListener.start(config.http, routes, componentLogger(root, 'http'), events)
      }
    } catch (err) {
      lifecycle.stopping = true
      events?.close()
      await requests.close()
      await downlink.close()
      await ingress.close()
      await forwarder.stop(0)
      await backend.close()
      await spool.close()
      await lossLedger?.close()
      throw err
    }
    logger.info(
      {
        backend: config.core.backend,
        gatewayId: config.gatewayId,
        listeners: ingress.ports(),
        httpPort: http?.port,
      },
      'edgebridge ready',
    )
    return new Daemon(
      config,
      spool,
      backend,
      forwarder,
      ingress,
      downlink,
      requests,
      logger,
      lossLedger,
      metrics,
      status,
      activity,
      http,
      lifecycle,
      router,
    )
  }

  /** Safe to call twice; the second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping: closing listeners, draining the forwarder')
      this.lifecycle.stopping = true
      await this.http?.close()
      await this.requests.close()
      await this.downlink.close()
      await this.ingress.close()
      await this.forwarder.stop(this.config.forwarder.drainTimeoutMs)
      await this.backend.close()
      const left = this.spool.stats().depthRecords
      await this.spool.close()
      await this.lossLedger?.close()
      this.logger.info({ leftInSpool: left }, 'stopped')
    })()
    return this.stopping
  }
}
