package dev.outbox.spring.boot;

import dev.outbox.Ordering;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code outbox.*} settings of the Spring Boot starter. Every processor setting left unset
 * keeps the core's default ({@code Outbox.Builder} documents them and their allowed ranges); the
 * outbox checks them all when it is built and names every bad one.
 */
@ConfigurationProperties(prefix = "outbox")
public class OutboxProperties {

  /** Whether the outbox is auto-configured at all. */
  private boolean enabled = true;

  /**
   * What TransactionalOutbox.publish does when no Spring-managed transaction is active: MANDATORY
   * fails, REQUIRED opens one around the write.
   */
  private TransactionMode transactionMode = TransactionMode.MANDATORY;

  /** Whether a commit that wrote messages wakes this instance's processor at once. */
  private boolean wakeOnCommit = true;

  private final Processor processor = new Processor();
  private final Jdbc jdbc = new Jdbc();
  private final Health health = new Health();
  private final Sqs sqs = new Sqs();

  private final Metrics metrics = new Metrics();

  private final Kafka kafka = new Kafka();

  /** Whether the outbox is auto-configured at all. */
  public boolean isEnabled() {
    return enabled;
  }

  /** Sets whether the outbox is auto-configured at all. */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /** What publishing does without a transaction. */
  public TransactionMode getTransactionMode() {
    return transactionMode;
  }

  /** Sets what publishing does without a transaction. */
  public void setTransactionMode(TransactionMode transactionMode) {
    this.transactionMode = transactionMode;
  }

  /** Whether a commit wakes the local processor. */
  public boolean isWakeOnCommit() {
    return wakeOnCommit;
  }

  /** Sets whether a commit wakes the local processor. */
  public void setWakeOnCommit(boolean wakeOnCommit) {
    this.wakeOnCommit = wakeOnCommit;
  }

  /** The processor's settings. */
  public Processor getProcessor() {
    return processor;
  }

  /** The JDBC storage's settings. */
  public Jdbc getJdbc() {
    return jdbc;
  }

  /** The health indicator's settings. */
  public Health getHealth() {
    return health;
  }

  /** The SQS publisher's settings. */
  public Sqs getSqs() {
    return sqs;
  }

  /** The Micrometer meters' settings. */
  public Metrics getMetrics() {
    return metrics;
  }

  /** The Kafka publisher's settings. */
  public Kafka getKafka() {
    return kafka;
  }

  /**
   * The Apache Kafka publisher (outbox-kafka-publisher), built when that module is on the class
   * path, no {@code Publisher} bean exists, and a topic or routes are set. The publisher owns the
   * producer it builds from {@code producer.*} and checks its settings (idempotence, acks=all).
   */
  public static class Kafka {

    /** The one topic every namespace goes to. */
    private String topic;

    /** Topic per namespace; a namespace without a route fails permanently (unless topic is set). */
    private Map<String, String> routes = new LinkedHashMap<>();

    /**
     * Producer settings, as Kafka names them ({@code bootstrap.servers}, {@code
     * delivery.timeout.ms}, ...); serializers, {@code enable.idempotence} and {@code acks} are the
     * publisher's, and settings that would break order or acknowledgements are refused.
     */
    private Map<String, String> producer = new LinkedHashMap<>();

    /** The one topic, or null. */
    public String getTopic() {
      return topic;
    }

    /** Sets the one topic. */
    public void setTopic(String topic) {
      this.topic = topic;
    }

    /** The routes by namespace. */
    public Map<String, String> getRoutes() {
      return routes;
    }

    /** Sets the routes by namespace. */
    public void setRoutes(Map<String, String> routes) {
      this.routes = routes;
    }

    /** The producer settings. */
    public Map<String, String> getProducer() {
      return producer;
    }

    /** Sets the producer settings. */
    public void setProducer(Map<String, String> producer) {
      this.producer = producer;
    }
  }

  /**
   * The Micrometer meters (outbox-micrometer), bound when that module and a {@code MeterRegistry}
   * are present.
   */
  public static class Metrics {

    /** Whether to bind the outbox's meters. */
    private boolean enabled = true;

    /** The {@code outbox} tag on every meter. */
    private String name = "outbox";

    /** How often the backlog gauges' cached statistics are refreshed from the database. */
    private Duration statsRefreshInterval = Duration.ofSeconds(10);

    /** Whether to bind the outbox's meters. */
    public boolean isEnabled() {
      return enabled;
    }

    /** Sets whether to bind the outbox's meters. */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /** The {@code outbox} tag on every meter. */
    public String getName() {
      return name;
    }

    /** Sets the {@code outbox} tag on every meter. */
    public void setName(String name) {
      this.name = name;
    }

    /** How often the backlog gauges' cached statistics are refreshed. */
    public Duration getStatsRefreshInterval() {
      return statsRefreshInterval;
    }

    /** Sets how often the backlog gauges' cached statistics are refreshed. */
    public void setStatsRefreshInterval(Duration statsRefreshInterval) {
      this.statsRefreshInterval = statsRefreshInterval;
    }
  }

  /** What publishing does when no Spring-managed transaction is active. */
  public enum TransactionMode {
    /** Fail with an {@link IllegalStateException}: the messages must join the caller's work. */
    MANDATORY,
    /** Open a transaction of the application's transaction manager around the write. */
    REQUIRED
  }

  /** The background processor: whether it runs on this instance, and how. */
  public static class Processor {

    /**
     * Whether this instance runs the processor. Instances with false still write messages; others
     * publish them.
     */
    private boolean enabled = true;

    /** This processor's name in claims; unique per running instance. Default: host + random. */
    private String processorId;

    /** The most entries claimed and published at once (core default 100). */
    private Integer batchSize;

    /** How long a claim lasts (core default 30s). */
    private Duration claimDuration;

    /** The wait between passes when nothing wakes the loop (core default 1s). */
    private Duration processInterval;

    /** The wait between passes while the loop is busy (core default 20ms; 0 turns it off). */
    private Duration busyInterval;

    /**
     * Failed attempts after which an entry becomes a dead letter. Unset: retried until published.
     */
    private Integer maxAttempts;

    /** The wait after an entry's first failure (core default 1s). */
    private Duration retryBackoffInitial;

    /** The longest wait between an entry's attempts (core default 5m). */
    private Duration retryBackoffMax;

    /** The fraction of each retry wait that is randomised, 0 to 1 (core default 0.2). */
    private Double retryJitter;

    /** The loop's wait after a failed pass (core default 100ms). */
    private Duration errorBackoffInitial;

    /** The loop's longest wait after failed passes (core default 30s). */
    private Duration errorBackoffMax;

    /** The largest message publish accepts, in bytes (core default 1 MiB). */
    private Integer maxMessageBytes;

    /** How long shutdown waits for the batch in hand (core default 10s). */
    private Duration shutdownTimeout;

    /** The longest a publisher call may take before it is abandoned (core default 2m). */
    private Duration publishTimeout;

    /** Whether this instance runs the processor. */
    public boolean isEnabled() {
      return enabled;
    }

    /** Sets whether this instance runs the processor. */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /** The processor id, or null for the default. */
    public String getProcessorId() {
      return processorId;
    }

    /** Sets the processor id. */
    public void setProcessorId(String processorId) {
      this.processorId = processorId;
    }

    /** The batch size, or null for the default. */
    public Integer getBatchSize() {
      return batchSize;
    }

    /** Sets the batch size. */
    public void setBatchSize(Integer batchSize) {
      this.batchSize = batchSize;
    }

    /** The claim duration, or null for the default. */
    public Duration getClaimDuration() {
      return claimDuration;
    }

    /** Sets the claim duration. */
    public void setClaimDuration(Duration claimDuration) {
      this.claimDuration = claimDuration;
    }

    /** The process interval, or null for the default. */
    public Duration getProcessInterval() {
      return processInterval;
    }

    /** Sets the process interval. */
    public void setProcessInterval(Duration processInterval) {
      this.processInterval = processInterval;
    }

    /** The busy interval, or null for the default. */
    public Duration getBusyInterval() {
      return busyInterval;
    }

    /** Sets the busy interval. */
    public void setBusyInterval(Duration busyInterval) {
      this.busyInterval = busyInterval;
    }

    /** The most failed attempts, or null for unlimited. */
    public Integer getMaxAttempts() {
      return maxAttempts;
    }

    /** Sets the most failed attempts. */
    public void setMaxAttempts(Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /** The first retry wait, or null for the default. */
    public Duration getRetryBackoffInitial() {
      return retryBackoffInitial;
    }

    /** Sets the first retry wait. */
    public void setRetryBackoffInitial(Duration retryBackoffInitial) {
      this.retryBackoffInitial = retryBackoffInitial;
    }

    /** The longest retry wait, or null for the default. */
    public Duration getRetryBackoffMax() {
      return retryBackoffMax;
    }

    /** Sets the longest retry wait. */
    public void setRetryBackoffMax(Duration retryBackoffMax) {
      this.retryBackoffMax = retryBackoffMax;
    }

    /** The retry jitter, or null for the default. */
    public Double getRetryJitter() {
      return retryJitter;
    }

    /** Sets the retry jitter. */
    public void setRetryJitter(Double retryJitter) {
      this.retryJitter = retryJitter;
    }

    /** The first error wait, or null for the default. */
    public Duration getErrorBackoffInitial() {
      return errorBackoffInitial;
    }

    /** Sets the first error wait. */
    public void setErrorBackoffInitial(Duration errorBackoffInitial) {
      this.errorBackoffInitial = errorBackoffInitial;
    }

    /** The longest error wait, or null for the default. */
    public Duration getErrorBackoffMax() {
      return errorBackoffMax;
    }

    /** Sets the longest error wait. */
    public void setErrorBackoffMax(Duration errorBackoffMax) {
      this.errorBackoffMax = errorBackoffMax;
    }

    /** The largest message, or null for the default. */
    public Integer getMaxMessageBytes() {
      return maxMessageBytes;
    }

    /** Sets the largest message. */
    public void setMaxMessageBytes(Integer maxMessageBytes) {
      this.maxMessageBytes = maxMessageBytes;
    }

    /** The shutdown timeout, or null for the default. */
    public Duration getShutdownTimeout() {
      return shutdownTimeout;
    }

    /** Sets the shutdown timeout. */
    public void setShutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
    }

    /** The publish timeout, or null for the default. */
    public Duration getPublishTimeout() {
      return publishTimeout;
    }

    /** Sets the publish timeout. */
    public void setPublishTimeout(Duration publishTimeout) {
      this.publishTimeout = publishTimeout;
    }
  }

  /** The JDBC storage built on the application's {@code DataSource}. */
  public static class Jdbc {

    /** The outbox table, table or schema.table; dead letters go to table_dead_letters. */
    private String tableName = "outbox";

    /** The database: AUTO detects it from the DataSource at startup (one connection). */
    private Dialect dialect = Dialect.AUTO;

    /**
     * Whether the outbox tables are created (if missing) at startup. Off by default: create them
     * with your migrations (Flyway, Liquibase) from the schema files in outbox-jdbc.
     */
    private boolean initializeSchema = false;

    /**
     * Per-key ordering: NONE (default), BY_KEY (a key's messages are published in commit order; a
     * dead-lettered message lets its key go on) or BY_KEY_BLOCKING (a dead letter holds its key
     * until it is requeued or purged). Every application writing the table must use the same.
     */
    private Ordering ordering = Ordering.NONE;

    /** The per-key ordering. */
    public Ordering getOrdering() {
      return ordering;
    }

    /** Sets the per-key ordering. */
    public void setOrdering(Ordering ordering) {
      this.ordering = ordering;
    }

    /** The outbox table's name. */
    public String getTableName() {
      return tableName;
    }

    /** Sets the outbox table's name. */
    public void setTableName(String tableName) {
      this.tableName = tableName;
    }

    /** The database dialect. */
    public Dialect getDialect() {
      return dialect;
    }

    /** Sets the database dialect. */
    public void setDialect(Dialect dialect) {
      this.dialect = dialect;
    }

    /** Whether the tables are created at startup. */
    public boolean isInitializeSchema() {
      return initializeSchema;
    }

    /** Sets whether the tables are created at startup. */
    public void setInitializeSchema(boolean initializeSchema) {
      this.initializeSchema = initializeSchema;
    }
  }

  /** The database dialect of the JDBC storage. */
  public enum Dialect {
    /** Detected from the DataSource's database product name. */
    AUTO,
    /** PostgreSQL 12 or later. */
    POSTGRESQL,
    /** MySQL 8.0 or later, MariaDB 10.6 or later. */
    MYSQL
  }

  /** The {@code outbox} health indicator (switched by {@code management.health.outbox.enabled}). */
  public static class Health {

    /**
     * The age of the oldest unpublished entry above which the outbox reports DOWN; 0 turns the
     * check off.
     */
    private Duration maxBacklogAge = Duration.ofMinutes(10);

    /** The backlog age threshold, or null when off. */
    public Duration getMaxBacklogAge() {
      return maxBacklogAge;
    }

    /** Sets the backlog age threshold; zero or null turns the check off. */
    public void setMaxBacklogAge(Duration maxBacklogAge) {
      this.maxBacklogAge = maxBacklogAge;
    }
  }

  /**
   * The Amazon SQS publisher, built when outbox-sqs-publisher is on the class path, an {@code
   * SqsAsyncClient} bean exists, no {@code Publisher} bean does, and a queue URL or routes are set.
   */
  public static class Sqs {

    /** The one queue every namespace goes to. */
    private String queueUrl;

    /** Queue URL per namespace; a namespace without a route fails permanently. */
    private Map<String, String> routes = new LinkedHashMap<>();

    /** The largest message sent, in bytes as SQS counts them (publisher default 256 KiB). */
    private Integer maxMessageBytes;

    /** The one queue URL, or null. */
    public String getQueueUrl() {
      return queueUrl;
    }

    /** Sets the one queue URL. */
    public void setQueueUrl(String queueUrl) {
      this.queueUrl = queueUrl;
    }

    /** The routes by namespace. */
    public Map<String, String> getRoutes() {
      return routes;
    }

    /** Sets the routes by namespace. */
    public void setRoutes(Map<String, String> routes) {
      this.routes = routes;
    }

    /** The largest message, or null for the publisher's default. */
    public Integer getMaxMessageBytes() {
      return maxMessageBytes;
    }

    /** Sets the largest message. */
    public void setMaxMessageBytes(Integer maxMessageBytes) {
      this.maxMessageBytes = maxMessageBytes;
    }
  }
}
