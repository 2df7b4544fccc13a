package dev.outbox.jdbc;

import dev.outbox.BlockedKey;
import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.DeadLetterStorage;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.Ordering;
import dev.outbox.OutboxStats;
import dev.outbox.ProcessorStorage;
import dev.outbox.StatisticsStorage;
import java.sql.Connection;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A {@link JdbcStorage} seen through another transaction handle {@code T} that holds a JDBC
 * connection, such as a Jdbi {@code Handle}: a binding implements {@link #connection} (and may
 * refuse a handle outside a transaction there) and inherits everything else. This is how the Jdbi
 * modules stay thin.
 *
 * @param <T> the caller's transaction handle
 */
public abstract class ConnectionStorage<T>
    implements ProcessorStorage<T>, DeadLetterStorage, StatisticsStorage {

  private final JdbcStorage engine;

  /** Binds {@code engine} to handles of type {@code T}. */
  protected ConnectionStorage(JdbcStorage engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  /**
   * The connection of the caller's transaction handle.
   *
   * @throws IllegalStateException when the handle is not inside a transaction
   */
  protected abstract Connection connection(T txn);

  /** The engine underneath, e.g. to publish with a plain {@link Connection} as well. */
  public JdbcStorage jdbcStorage() {
    return engine;
  }

  /** Writes with the handle's connection; see {@link JdbcStorage#publish}. */
  @Override
  public void publish(T txn, List<NewEntry> entries) {
    Objects.requireNonNull(txn, "txn must not be null: publish inside your transaction");
    engine.publish(connection(txn), entries);
  }

  @Override
  public List<ClaimedEntry> claim(ClaimRequest request) {
    return engine.claim(request);
  }

  /** The engine's ordering; see {@link JdbcStorage#ordering()}. */
  @Override
  public Ordering ordering() {
    return engine.ordering();
  }

  /** The keys dead letters hold back; see {@link JdbcStorage#blockedKeys(int)}. */
  @Override
  public List<BlockedKey> blockedKeys(int limit) {
    return engine.blockedKeys(limit);
  }

  @Override
  public int delete(UUID claimToken, Collection<Long> ids) {
    return engine.delete(claimToken, ids);
  }

  @Override
  public int renew(UUID claimToken, Collection<Long> ids, Instant deadline) {
    return engine.renew(claimToken, ids, deadline);
  }

  @Override
  public int release(UUID claimToken, List<FailedEntry> failures) {
    return engine.release(claimToken, failures);
  }

  @Override
  public int deadLetter(UUID claimToken, List<FailedEntry> failures, Instant now) {
    return engine.deadLetter(claimToken, failures, now);
  }

  /** Forwards to the engine: in {@link LeaseMode#LOCK} this commits a claim's transaction. */
  @Override
  public void finish(UUID claimToken) {
    engine.finish(claimToken);
  }

  @Override
  public List<DeadLetter> deadLetters(long afterId, int limit) {
    return engine.deadLetters(afterId, limit);
  }

  @Override
  public int requeueDeadLetters(Collection<Long> ids, Instant now) {
    return engine.requeueDeadLetters(ids, now);
  }

  @Override
  public int requeueAllDeadLetters(Instant now) {
    return engine.requeueAllDeadLetters(now);
  }

  @Override
  public int purgeDeadLetters(Collection<Long> ids) {
    return engine.purgeDeadLetters(ids);
  }

  @Override
  public int purgeAllDeadLetters() {
    return engine.purgeAllDeadLetters();
  }

  @Override
  public OutboxStats stats(Instant now) {
    return engine.stats(now);
  }

  /** Creates the tables unless they exist; see {@link JdbcStorage#createSchema()}. */
  public void createSchema() {
    engine.createSchema();
  }

  /** The schema script for the configured table name; see {@link JdbcStorage#schemaSql()}. */
  public String schemaSql() {
    return engine.schemaSql();
  }

  /** The outbox table's name as configured. */
  public String tableName() {
    return engine.tableName();
  }

  /** The dead-letter table's name. */
  public String deadLetterTableName() {
    return engine.deadLetterTableName();
  }
}
