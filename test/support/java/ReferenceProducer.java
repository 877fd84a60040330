/*
 * The reference producer for the Kafka cluster tests: Apache Kafka's own Java client, idempotent,
 * acks=all, publishing the same load as the device fleet (device i sends {"d":i,"s":seq} with key
 * "device-i", seq = 0, 1, 2... per device) at a fixed aggregate rate for a fixed time. A record counts as
 * acknowledged only when its send callback reported no error; those (device, seq) pairs are written to
 * the ack file at the end, one "d s" line each, for the same verdict as the gateway's. If this producer
 * loses acknowledged records under a fault, the cluster lost them, not the client under test.
 *
 * It publishes until its stdin is closed (the test decides when the faults are over), then flushes,
 * writes the ack file and exits.
 *
 * Usage: ReferenceProducer <bootstrap> <topic> <devices> <ratePerSecond> <ackFile>
 */
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.BitSet;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

public final class ReferenceProducer {
  public static void main(String[] args) throws IOException, InterruptedException {
    if (args.length != 5) {
      System.err.println("usage: ReferenceProducer <bootstrap> <topic> <devices> <ratePerSecond> <ackFile>");
      System.exit(64);
    }
    String bootstrap = args[0];
    String topic = args[1];
    int devices = Integer.parseInt(args[2]);
    double rate = Double.parseDouble(args[3]);
    String ackFile = args[4];
    AtomicBoolean stopped = new AtomicBoolean(false);
    Thread stdinWatcher = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // anything before end of input is ignored
        }
      } catch (IOException e) {
        // a broken stdin ends the run like a closed one
      }
      stopped.set(true);
    });
    stdinWatcher.setDaemon(true);
    stdinWatcher.start();

    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "edgebridge-reference-producer");
    props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());

    BitSet[] acked = new BitSet[devices];
    for (int d = 0; d < devices; d++) acked[d] = new BitSet();
    int[] nextSeq = new int[devices];
    AtomicLong ackedCount = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long sent = 0;

    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      long start = System.nanoTime();
      int device = 0;
      for (long now = start; !stopped.get(); now = System.nanoTime()) {
        long due = (long) ((now - start) / 1e9 * rate);
        while (sent < due) {
          final int d = device;
          final int s = nextSeq[d]++;
          device = (device + 1) % devices;
          sent++;
          String value = "{\"d\":" + d + ",\"s\":" + s + "}";
          producer.send(new ProducerRecord<>(topic, "device-" + d, value), (metadata, error) -> {
            if (error != null) {
              failed.incrementAndGet();
              return;
            }
            synchronized (acked[d]) {
              acked[d].set(s);
            }
            ackedCount.incrementAndGet();
          });
        }
        Thread.sleep(10);
      }
      producer.flush();
    }

    try (BufferedWriter out = Files.newBufferedWriter(Paths.get(ackFile), StandardCharsets.UTF_8)) {
      for (int d = 0; d < devices; d++) {
        synchronized (acked[d]) {
          for (int s = acked[d].nextSetBit(0); s >= 0; s = acked[d].nextSetBit(s + 1)) {
            out.write(d + " " + s + "\n");
          }
        }
      }
    }
    System.err.println("reference producer: sent=" + sent + " acked=" + ackedCount.get() + " failed=" + failed.get());
  }
}
