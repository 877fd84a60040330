/**
 * The Node options the daemon is started with: `bin/edgebridge.js` (its `#!` line), `npm start`, the
 * systemd unit and the Dockerfile all pass exactly these (test/unit/node-flags.test.ts checks each),
 * and the benchmarks start the daemon with them too, so a benchmark measures the daemon as shipped.
 *
 * `--no-concurrent-recompilation`: V8 optimizes hot functions on the main thread instead of on a
 * worker thread. The optimizing compiler allocates its working memory with malloc; on a worker thread
 * that memory comes from the thread's own glibc arena, which keeps the freed pages: 5 to 8 MB of a
 * gateway idling at 68 MB, left over from the functions start-up optimized. Allocated on the main
 * thread the same memory is given back (62 MB idle). The cost: an optimization pauses the event loop
 * while it compiles, which happens while code warms up; the optimized code is the same, and the
 * throughput scenario's ratio to plain aedes did not drop (docs/benchmarks.md, "Memory").
 *
 * Started without these options (`node bin/edgebridge.js`), the daemon works the same and holds more
 * memory.
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--no-concurrent-recompilation']
