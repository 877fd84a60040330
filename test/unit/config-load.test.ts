import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../src/errors.js'
import { EX_CONFIG, loadConfig } from '../../src/config/index.js'

const load = (env: NodeJS.ProcessEnv = {}, argv: string[] = [], configFile?: string) =>
  loadConfig(configFile === undefined ? { env, argv } : { env, argv, configFile })

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgebridge-config-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.equal(err.code, 'CONFIG_INVALID')
    assert.match(err.message, message)
    assert.ok(!err.message.includes('\n'), 'one line')
    return true
  })
}

test('config - defaults are the careful operator defaults', () => {
  const c = load()
  assert.equal(c.gatewayId, hostname())
  assert.equal(c.dataDir, './data')
  assert.equal(c.log.level, 'info')
  assert.equal(c.mqtt.host, '127.0.0.1')
  assert.equal(c.mqtt.port, 1883)
  assert.equal(c.mqtt.allowAnonymous, null)
  assert.equal(c.spool.kind, 'disk')
  assert.equal(c.spool.fsync, 'always')
  assert.equal(c.spool.segmentBytes, 64 * 1024 * 1024)
  assert.equal(c.spool.maxBytes, 1024 * 1024 * 1024)
  assert.equal(c.spool.whenFull, 'block')
  assert.equal(c.core.backend, 'redis')
  assert.equal(c.core.groupId, `edgebridge-${hostname()}`)
  assert.equal(c.redis.url, 'redis://127.0.0.1:6379')
  assert.deepEqual(c.nats.servers, ['nats://127.0.0.1:4222'])
  assert.deepEqual(c.kafka.brokers, ['127.0.0.1:9092'])
  assert.equal(c.kafka.topic, 'edgebridge.ingest')
  assert.deepEqual(c.listeners, [])
  assert.deepEqual(c.routes, [])
  assert.equal(EX_CONFIG, 78)
})

test('config - dataDir defaults to systemd STATE_DIRECTORY', () => {
  assert.equal(load({ STATE_DIRECTORY: '/var/lib/edgebridge' }).dataDir, '/var/lib/edgebridge')
  assert.equal(load({ STATE_DIRECTORY: '/var/lib/a:/var/lib/b' }).dataDir, '/var/lib/a')
})

test('config - each stable environment variable sets its key', () => {
  const c = load({
    EDGEBRIDGE_BACKEND: 'kafka',
    EDGEBRIDGE_MQTT_HOST: '0.0.0.0',
    EDGEBRIDGE_MQTT_PORT: '1884',
    EDGEBRIDGE_DATA_DIR: '/srv/eb',
    EDGEBRIDGE_REDIS_URL: 'rediss://core:6380/2',
    EDGEBRIDGE_NATS_SERVERS: 'nats://a:4222, nats://b:4222',
    EDGEBRIDGE_KAFKA_BROKERS: 'k1:9092,k2:9093',
    EDGEBRIDGE_GATEWAY_ID: 'gw-7',
    EDGEBRIDGE_LOG_LEVEL: 'debug',
    EDGEBRIDGE_GROUP_ID: 'fleet',
  })
  assert.equal(c.core.backend, 'kafka')
  assert.equal(c.mqtt.host, '0.0.0.0')
  assert.equal(c.mqtt.port, 1884)
  assert.equal(c.dataDir, '/srv/eb')
  assert.equal(c.redis.url, 'rediss://core:6380/2')
  assert.deepEqual(c.nats.servers, ['nats://a:4222', 'nats://b:4222'])
  assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9093'])
  assert.equal(c.gatewayId, 'gw-7')
  assert.equal(c.log.level, 'debug')
  assert.equal(c.core.groupId, 'fleet')
})

test('config - other keys take EDGEBRIDGE_<SECTION>_<KEY>, with typed parsing', () => {
  const c = load({
    EDGEBRIDGE_SPOOL_MAX_BYTES: '2GiB',
    EDGEBRIDGE_SPOOL_FSYNC: 'interval',
    EDGEBRIDGE_MQTT_ALLOW_ANONYMOUS: 'false',
    EDGEBRIDGE_NATS_TLS_ENABLED: 'true',
    EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'plain',
    EDGEBRIDGE_KAFKA_SASL_USERNAME: 'u',
    EDGEBRIDGE_ROUTES: '[{"match":"a/+","target":"t.{1}"}]',
    EDGEBRIDGE_LISTENERS: '[{"type":"ws","port":8080}]',
  })
  assert.equal(c.spool.maxBytes, 2 * 1024 ** 3)
  assert.equal(c.spool.fsync, 'interval')
  assert.equal(c.mqtt.allowAnonymous, false)
  assert.equal(c.nats.tls.enabled, true)
  assert.equal(c.kafka.sasl.mechanism, 'plain')
  assert.deepEqual(c.routes, [{ match: 'a/+', target: 't.{1}' }])
  assert.equal(c.listeners[0]?.path, '/mqtt')
  assert.equal(c.listeners[0]?.host, '127.0.0.1')
})

test('config - a bad value names the key, the value and what was expected', () => {
  rejects(
    () => load({ EDGEBRIDGE_MQTT_PORT: 'abc' }),
    /^mqtt\.port: "abc" is not valid: must be a port number \(0-65535\)$/,
  )
  rejects(() => load({}, ['--mqtt.port=70000']), /^mqtt\.port: 70000 is not valid: must be a port number/)
  rejects(
    () => load({ EDGEBRIDGE_BACKEND: 'mongo' }),
    /^core\.backend: "mongo" is not valid: must be one of "redis"/,
  )
  rejects(() => load({ EDGEBRIDGE_SPOOL_FSYNC: 'sometimes' }), /^spool\.fsync: "sometimes" is not valid/)
  rejects(
    () => load({ EDGEBRIDGE_MQTT_HOST: 'http://x' }),
    /^mqtt\.host: "http:\/\/x" is not valid: must be a host name/,
  )
  rejects(
    () => load({ EDGEBRIDGE_KAFKA_BROKERS: 'k1' }),
    /^kafka\.brokers: \["k1"\] is not valid: .*host:port/,
  )
  rejects(
    () => load({ EDGEBRIDGE_REDIS_URL: 'http://x' }),
    /^redis\.url: "http:\/\/x" is not valid: must be a Redis URL/,
  )
  rejects(
    () => load({ EDGEBRIDGE_NATS_TLS_ENABLED: 'maybe' }),
    /^nats\.tls\.enabled: "maybe" is not valid: must be true or false/,
  )
  rejects(
    () => load({ EDGEBRIDGE_SECURITY_PASSWORD_FILE: '/nonexistent/pw' }),
    /^security\.passwordFile: .*readable file \(no such file\)/,
  )
})

test('config - several bad values are reported on one line', () => {
  rejects(
    () => load({ EDGEBRIDGE_MQTT_PORT: 'x', EDGEBRIDGE_LOG_LEVEL: 'loud' }),
    /^log\.level: "loud".*\(and 1 more: mqtt\.port: "x"/,
  )
})

test('config - secrets are never echoed in errors', () => {
  assert.throws(
    () => load({ EDGEBRIDGE_NATS_USER: 'u', EDGEBRIDGE_NATS_TOKEN: 's3cret' }),
    (err: Error) =>
      err instanceof ConfigError &&
      /nats\.token: "\*\*\*\*\*\*\*\*"/.test(err.message) &&
      !err.message.includes('s3cret'),
  )
})

test('config - routes are validated: filters, placeholders, codecs, unknown keys', () => {
  rejects(
    () => load({ EDGEBRIDGE_ROUTES: '[{"match":"a/#/b","target":"x"}]' }),
    /^routes\[0\]\.match: "a\/#\/b".*'#' must be the last level/,
  )
  rejects(
    () => load({ EDGEBRIDGE_ROUTES: '[{"match":"a/+","target":"{device}"}]' }),
    /^routes\[0\]\.target: "\{device\}" is not valid: .*unknown placeholder \{device\}/,
  )
  rejects(() => load({ EDGEBRIDGE_ROUTES: '[{"match":"a/+","target":"{2}"}]' }), /filter has only 1/)
  rejects(
    () => load({ EDGEBRIDGE_ROUTES: '[{"match":"#","target":"x","codec":"xml"}]' }),
    /^routes\[0\]\.codec: "xml"/,
  )
  rejects(
    () => load({ EDGEBRIDGE_ROUTES: '[{"match":"#","target":"x","topic":"y"}]' }),
    /^routes\[0\]\.topic: "y" is not valid: must not be set/,
  )
  rejects(
    () => load({ EDGEBRIDGE_ROUTES: 'not json' }),
    /^routes: "not json" is not valid: must be a list of routes/,
  )
})

test('config - listeners are validated and completed with defaults', () => {
  rejects(
    () => load({ EDGEBRIDGE_LISTENERS: '[{"type":"tls","port":8883}]' }),
    /^listeners\[0\]\.tls\.certFile: \(missing\) is not valid: must be set for a tls listener/,
  )
  rejects(() => load({ EDGEBRIDGE_LISTENERS: '[{"type":"udp","port":1}]' }), /^listeners\[0\]\.type: "udp"/)
  rejects(
    () => load({ EDGEBRIDGE_LISTENERS: '[{"type":"tcp","port":1884},{"type":"ws","port":1884}]' }),
    /^listeners\[1\]\.port: 1884 is not valid: must differ from listeners\[0\]/,
  )
  withDir((dir) => {
    const cert = join(dir, 'cert.pem')
    const key = join(dir, 'key.pem')
    const ca = join(dir, 'ca.pem')
    for (const f of [cert, key, ca]) writeFileSync(f, 'x')
    const c = load({
      EDGEBRIDGE_LISTENERS: JSON.stringify([
        {
          type: 'tls',
          host: '0.0.0.0',
          port: 8883,
          tls: { certFile: cert, keyFile: key, caFile: ca, requireCertificate: true },
        },
      ]),
    })
    assert.deepEqual(c.listeners[0], {
      type: 'tls',
      host: '0.0.0.0',
      port: 8883,
      path: '/mqtt',
      allowAnonymous: null,
      maxConnections: 0,
      tls: {
        certFile: cert,
        keyFile: key,
        caFile: ca,
        requireCertificate: true,
        useIdentityAsUsername: false,
        minVersion: 'TLSv1.2',
      },
    })
    rejects(
      () =>
        load({
          EDGEBRIDGE_LISTENERS: JSON.stringify([
            { type: 'tls', port: 8883, tls: { certFile: cert, keyFile: key, requireCertificate: true } },
          ]),
        }),
      /listeners\[0\]\.tls\.caFile: .*must be set when requireCertificate is true/,
    )
  })
})

test('config - precedence: defaults < file < env < command line', () => {
  withDir((dir) => {
    const file = join(dir, 'edgebridge.json')
    writeFileSync(
      file,
      JSON.stringify({
        mqtt: { port: 1001, host: '10.0.0.1' },
        log: { level: 'warn' },
        gatewayId: 'from-file',
      }),
    )
    const fromFile = load({}, [], file)
    assert.equal(fromFile.mqtt.port, 1001)
    assert.equal(fromFile.mqtt.host, '10.0.0.1')
    assert.equal(fromFile.mqtt.maxTopicLevels, 32, 'keys the file leaves out keep their defaults')
    const envWins = load({ EDGEBRIDGE_MQTT_PORT: '1002' }, [], file)
    assert.equal(envWins.mqtt.port, 1002)
    assert.equal(envWins.mqtt.host, '10.0.0.1')
    const cliWins = load(
      { EDGEBRIDGE_MQTT_PORT: '1002' },
      ['run', '--mqtt.port=1003', '--log.level', 'error'],
      file,
    )
    assert.equal(cliWins.mqtt.port, 1003)
    assert.equal(cliWins.log.level, 'error')
    assert.equal(cliWins.gatewayId, 'from-file')
  })
})

test('config - the file comes from --config or EDGEBRIDGE_CONFIG', () => {
  withDir((dir) => {
    const a = join(dir, 'a.json')
    const b = join(dir, 'b.json')
    writeFileSync(a, JSON.stringify({ gatewayId: 'a' }))
    writeFileSync(b, JSON.stringify({ gatewayId: 'b' }))
    assert.equal(load({ EDGEBRIDGE_CONFIG: a }).gatewayId, 'a')
    assert.equal(load({ EDGEBRIDGE_CONFIG: a }, ['--config', b]).gatewayId, 'b')
    assert.equal(load({}, [`--config=${a}`]).gatewayId, 'a')
    rejects(
      () => load({ EDGEBRIDGE_CONFIG: join(dir, 'missing.json') }),
      /config file .*missing\.json: cannot be read \(no such file\)/,
    )
  })
})

test('config - unknown keys in a file are errors', () => {
  withDir((dir) => {
    const file = join(dir, 'c.json')
    writeFileSync(file, JSON.stringify({ mqtt: { prot: 1884 } }))
    rejects(() => load({}, [], file), /^mqtt\.prot: unknown key in config file .*c\.json$/)
    writeFileSync(file, JSON.stringify({ mqttt: {} }))
    rejects(() => load({}, [], file), /^mqttt: unknown key/)
    writeFileSync(file, JSON.stringify({ mqtt: 5 }))
    rejects(() => load({}, [], file), /^mqtt: 5 is not valid: must be a section/)
    writeFileSync(file, '{ "mqtt": ')
    rejects(() => load({}, [], file), /invalid JSON/)
  })
})

test('config - unknown dotted command-line keys are errors, other flags are left alone', () => {
  rejects(() => load({}, ['--mqtt.prot=1']), /^--mqtt\.prot: unknown configuration key$/)
  assert.equal(load({}, ['run', '--help', '--verbose']).mqtt.port, 1883)
  assert.equal(load({}, ['--spool.kind', 'memory']).spool.kind, 'memory')
  assert.equal(load({}, ['--nats.stream.create']).nats.stream.create, true)
})

test('config - YAML files by extension', () => {
  withDir((dir) => {
    const file = join(dir, 'edgebridge.yaml')
    writeFileSync(
      file,
      [
        '# comments are allowed',
        'core:',
        '  backend: kafka',
        'kafka:',
        '  brokers: [k1:9092, "k2:9092"]',
        'spool:',
        '  maxBytes: 256MiB',
        'routes:',
        '  - match: alarms/#',
        '    target: alarms',
        '    codec: json',
        '',
      ].join('\n'),
    )
    const c = load({}, [], file)
    assert.equal(c.core.backend, 'kafka')
    assert.deepEqual(c.kafka.brokers, ['k1:9092', 'k2:9092'])
    assert.equal(c.spool.maxBytes, 256 * 1024 * 1024)
    assert.deepEqual(c.routes, [{ match: 'alarms/#', target: 'alarms', codec: 'json' }])
    writeFileSync(join(dir, 'bad.yml'), 'core:\n  backend: [\n')
    rejects(() => load({}, [], join(dir, 'bad.yml')), /invalid YAML/)
  })
})

test('config - the YAML parser is loaded only by a YAML file', () => {
  withDir((dir) => {
    const file = join(dir, 'edgebridge.yaml')
    writeFileSync(file, 'core:\n  backend: redis\n')
    // A process of its own: this one may have loaded the parser already.
    const script = [
      `import { createRequire } from 'node:module'`,
      `const { loadConfig } = await import(${JSON.stringify(new URL('../../src/config/index.ts', import.meta.url).href)})`,
      `const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/node_modules/yaml/'))`,
      `loadConfig({ env: {}, argv: [] })`,
      `const before = loaded()`,
      `loadConfig({ env: {}, argv: [], configFile: ${JSON.stringify(file)} })`,
      `console.log(JSON.stringify({ before, after: loaded() }))`,
    ].join('\n')
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    })
    assert.deepEqual(JSON.parse(out), { before: false, after: true })
  })
})

test('config - rules across keys', () => {
  rejects(
    () => load({ EDGEBRIDGE_FORWARDER_RETRY_MAX_MS: '10', EDGEBRIDGE_FORWARDER_RETRY_INITIAL_MS: '100' }),
    /^forwarder\.retryMaxMs: 10 .*retryInitialMs/,
  )
  rejects(
    () => load({ EDGEBRIDGE_SPOOL_SEGMENT_BYTES: '2GiB' }),
    /^spool\.segmentBytes: .*at most spool\.maxBytes/,
  )
  rejects(
    () => load({ EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'plain' }),
    /^kafka\.sasl\.username: "" .*must be set/,
  )
  rejects(
    () => load({ EDGEBRIDGE_BACKEND: 'jetstream', EDGEBRIDGE_NATS_STREAM_CREATE: 'true' }),
    /^nats\.stream\.subjects: \[\] .*list the subjects/,
  )
  const c = load({
    EDGEBRIDGE_BACKEND: 'jetstream',
    EDGEBRIDGE_NATS_STREAM_CREATE: 'true',
    EDGEBRIDGE_NATS_SUBJECT_PREFIX: 'edge.gw1',
  })
  assert.deepEqual(c.nats.stream.subjects, ['edge.gw1.>'])
})
