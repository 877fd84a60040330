/**
 * The broker store's tables. One file holds them all so a reader sees the whole on-disk state at once.
 *
 * - `retained`: one row per topic [MQTT-3.3.1-5]; an empty payload deletes it [MQTT-3.3.1-10].
 * - `subscriptions`: a persistent session's subscriptions; the rowid keeps the order they were made in.
 * - `outgoing`: QoS 1/2 messages (and PUBRELs) owed to a persistent session, in `seq` order, one row
 *   per client and message, keyed by the broker id and counter aedes gave it (NULL for a message stored
 *   before its PUBACK until aedes publishes it: see SqliteStore.storeBeforeAck).
 * - `incoming`: inbound QoS 2 PUBLISHes awaiting PUBREL [MQTT-4.3.3-2].
 * - `wills`: the will of each connected client, so a gateway that crashed can still publish it.
 *
 * Columns `fields`, `payload`, `kind` are a packet as packet-codec.ts writes it.
 * `SCHEMA_VERSION` changes with any change here; a store of another version is moved aside, not migrated.
 */
export const SCHEMA_VERSION = 1

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retained (
  topic TEXT PRIMARY KEY,
  fields TEXT NOT NULL,
  payload BLOB NOT NULL,
  kind INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
  client_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  qos INTEGER NOT NULL,
  options TEXT NOT NULL,
  UNIQUE (client_id, topic)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_topic ON subscriptions (topic);
CREATE TABLE IF NOT EXISTS outgoing (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id TEXT NOT NULL,
  broker_id TEXT,
  broker_counter INTEGER,
  message_id INTEGER,
  cmd TEXT NOT NULL,
  fields TEXT NOT NULL,
  payload BLOB NOT NULL,
  kind INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS outgoing_by_packet ON outgoing (client_id, broker_id, broker_counter);
CREATE INDEX IF NOT EXISTS outgoing_by_message_id ON outgoing (client_id, message_id);
CREATE INDEX IF NOT EXISTS outgoing_queue_size ON outgoing (client_id, cmd, bytes);
CREATE TABLE IF NOT EXISTS incoming (
  client_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  fields TEXT NOT NULL,
  payload BLOB NOT NULL,
  kind INTEGER NOT NULL,
  PRIMARY KEY (client_id, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wills (
  client_id TEXT PRIMARY KEY,
  broker_id TEXT,
  fields TEXT NOT NULL,
  payload BLOB NOT NULL,
  kind INTEGER NOT NULL
);
`
