/*
 * Reads a Kafka topic back for a test's verdict with Apache Kafka's own Java consumer, without a
 * consumer group (assign + seek: nothing is committed, no group coordinator is involved, and the client
 * under test plays no part in the reading). Every partition is read from the given offset (or from its
 * beginning) up to the high-water mark it had when the reader started; each record is printed as
 * "partition<TAB>offset<TAB>value" on stdout.
 *
 * Usage: TopicReader <bootstrap> <topic> [partition:offset,...]
 */
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class TopicReader {
  private static final long TIMEOUT_MS = 60_000;

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: TopicReader <bootstrap> <topic> [partition:offset,...]");
      System.exit(64);
    }
    String topic = args[1];
    Map<Integer, Long> from = new HashMap<>();
    if (args.length > 2 && !args[2].isEmpty()) {
      for (String pair : args[2].split(",")) {
        String[] kv = pair.split(":");
        from.put(Integer.parseInt(kv[0]), Long.parseLong(kv[1]));
      }
    }
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "edgebridge-topic-reader");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());

    BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), 1 << 16);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic, Duration.ofMillis(TIMEOUT_MS))) {
        partitions.add(new TopicPartition(topic, p.partition()));
      }
      consumer.assign(partitions);
      for (TopicPartition tp : partitions) {
        Long offset = from.get(tp.partition());
        if (offset == null) consumer.seekToBeginning(List.of(tp));
        else consumer.seek(tp, offset);
      }
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofMillis(TIMEOUT_MS));
      long deadline = System.currentTimeMillis() + TIMEOUT_MS;
      for (;;) {
        boolean done = true;
        for (TopicPartition tp : partitions) {
          if (consumer.position(tp, Duration.ofMillis(TIMEOUT_MS)) < end.get(tp)) done = false;
        }
        if (done) break;
        if (System.currentTimeMillis() > deadline) {
          System.err.println("topic reader: " + topic + " not read up to its high-water marks within " + TIMEOUT_MS + " ms");
          System.exit(1);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          String value = r.value() == null ? "" : new String(r.value(), StandardCharsets.UTF_8);
          out.write(r.partition() + "\t" + r.offset() + "\t" + value.replace('\n', ' ') + "\n");
        }
      }
    }
    out.flush();
  }
}
