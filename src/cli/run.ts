/**
 * `edgebridge run`: load the configuration, start the daemon, and live until a signal.
 *
 * SIGTERM / SIGINT: stop accepting, drain the forwarder for forwarder.drainTimeoutMs, close, exit 0.
 * A second signal while stopping exits at once (1): the disk spool keeps what was not forwarded.
 * SIGHUP: reload TLS certificates, the password and ACL files (without dropping connected clients),
 * and the routes and downlink rules from the configuration as it is now; a configuration that does
 * not load keeps the old rules, and the log says why.
 * Under systemd (Type=notify): READY=1 once the spool is recovered and every listener is bound (the
 * daemon has started), a one-line STATUS= kept current, and WATCHDOG=1 pings while the event loop
 * and the forwarder loop are alive (observability/watchdog.ts).
 */
import { Daemon } from '../daemon.js'
import { ConfigError, EdgebridgeError } from '../errors.js'
import { loadConfig, EX_CONFIG } from '../config/index.js'
import { createRootLogger, type Logger } from '../observability/logger.js'
import { gatewaySummary, summaryLine } from '../observability/gateway-status.js'
import { notifySystemd, watchdogIntervalMs } from '../observability/systemd-notify.js'
import { startWatchdog } from '../observability/watchdog.js'

/** How often STATUS= is sent again (10 s): a person running `systemctl status` sees it current. */
const STATUS_INTERVAL_MS = 10_000

export async function runDaemonCommand(args: string[]): Promise<number> {
  let config
  try {
    config = loadConfig({ argv: args })
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgebridge: invalid configuration: ${err.message}\n`)
      return EX_CONFIG
    }
    throw err
  }
  const logger = createRootLogger(config.log.level)

  let daemon: Daemon
  try {
    daemon = await Daemon.start(config, logger)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    logger.fatal({ err }, `cannot start: ${message}`)
    logger.flush()
    // One plain line for the operator at the terminal (the JSON log goes to stdout / the journal).
    const code = err instanceof EdgebridgeError ? err.code : undefined
    const hint =
      code === 'LISTEN_ADDRESS_IN_USE'
        ? ' (another MQTT broker such as Mosquitto? choose a free port with EDGEBRIDGE_MQTT_PORT or mqtt.port)'
        : code === 'HTTP_ADDRESS_IN_USE'
          ? ' (another edgebridge? choose a free port with EDGEBRIDGE_HTTP_PORT or http.port, or set http.enabled=false)'
          : ''
    process.stderr.write(`edgebridge: cannot start: ${message}${hint}\n`)
    return err instanceof EdgebridgeError && err.code === 'CONFIG_INVALID' ? EX_CONFIG : 1
  }

  const status = () => `STATUS=${summaryLine(gatewaySummary(daemon.status))}`
  notifySystemd('READY=1', status())
  // READY=1 again with each update: idempotent, and it covers a first message systemd lost (see
  // systemd-notify.ts).
  const statusTimer = process.env.NOTIFY_SOCKET
    ? setInterval(() => notifySystemd('READY=1', status()), STATUS_INTERVAL_MS).unref()
    : undefined
  const interval = watchdogIntervalMs()
  const watchdog =
    interval === undefined
      ? { stop: () => undefined }
      : startWatchdog({
          intervalMs: interval,
          stallLimitMs: config.forwarder.stallLimitMs,
          forwarder: daemon.forwarder,
          ping: () => notifySystemd('WATCHDOG=1'),
          logger: logger.child({ component: 'watchdog' }),
        })

  return new Promise<number>((resolve) => {
    let stopping = false
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal while stopping: exiting now')
        logger.flush()
        resolve(1)
        return
      }
      stopping = true
      logger.info({ signal }, 'signal received')
      clearInterval(statusTimer)
      notifySystemd('STOPPING=1', 'STATUS=stopping: draining the forwarder')
      watchdog.stop()
      daemon.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping')
          resolve(1)
        },
      )
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    process.on('SIGHUP', () => {
      logger.info('SIGHUP: reloading TLS certificates, password and ACL files, routes and downlink rules')
      void daemon.ingress.reload()
      void reloadRules(daemon, args, logger)
    })
  }).then((code) => {
    logger.flush()
    // Client libraries may keep reconnect timers alive; the daemon is stopped, so leave now.
    setImmediate(() => process.exit(code))
    return code
  })
}

/** SIGHUP: the configuration is loaded again (same file, environment and flags) for its rules. */
async function reloadRules(daemon: Daemon, args: string[], logger: Logger): Promise<void> {
  try {
    await daemon.reloadRules(loadConfig({ argv: args }))
    logger.info('routes and downlink rules reloaded')
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    logger.error(
      { reason: err.message },
      `reload refused, the current routes and downlink rules stay: ${err.message}`,
    )
  }
}
