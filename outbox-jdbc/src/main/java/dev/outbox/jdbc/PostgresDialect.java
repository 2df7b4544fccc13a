package dev.outbox.jdbc;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.FailedEntry;
import dev.outbox.NewEntry;
import dev.outbox.OutboxException;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * PostgreSQL 12+: arrays bound whole, so writing a batch, claiming and recording failures are one
 * statement (one round trip) each, whatever the number of entries; {@code SKIP LOCKED} claims in a
 * CTE; {@code timestamptz}, {@code uuid}, {@code bytea} and {@code jsonb} columns. Runs at the
 * session's isolation (READ COMMITTED, PostgreSQL's default): no statement of its own per
 * transaction. Optionally notifies a channel on publish and requeue.
 */
final class PostgresDialect extends JdbcDialect {

  private static final int MAX_CHANNEL_BYTES = 63;

  private static final TableName.Rules RULES =
      new TableName.Rules(
          "PostgreSQL",
          Pattern.compile("[a-z_][a-z0-9_]*"),
          "a plain lower-case identifier (a-z, 0-9, _; not starting with a digit)",
          63,
          '"',
          "schema");

  private final String channel; // null: no notification

  PostgresDialect(String channel) {
    this.channel = channel;
  }

  /** Why a channel name is unusable, or null when it is fine. */
  static String channelProblem(String channel) {
    if (channel == null) {
      return "is null";
    }
    if (channel.isEmpty()) {
      return "is empty; it must have 1 to " + MAX_CHANNEL_BYTES + " bytes";
    }
    if (channel.indexOf('\0') >= 0) {
      return "contains a NUL character";
    }
    int bytes = channel.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_CHANNEL_BYTES) {
      return "is " + bytes + " bytes of UTF-8; PostgreSQL allows at most " + MAX_CHANNEL_BYTES;
    }
    return null;
  }

  /** The channel notified on publish, or null. */
  String channel() {
    return channel;
  }

  @Override
  public String name() {
    return "PostgreSQL";
  }

  @Override
  public String toString() {
    return channel == null ? "PostgreSQL" : "PostgreSQL (notify " + channel + ")";
  }

  @Override
  TableName.Rules identifiers() {
    return RULES;
  }

  @Override
  String schemaResource() {
    return "dev/outbox/postgres/schema.sql";
  }

  @Override
  void beginWork(Connection c) {}

  @Override
  void lockSchema(Connection c, TableName table) throws SQLException {
    // Two processes creating the tables at once would otherwise race on the catalog.
    try (PreparedStatement ps =
        c.prepareStatement("SELECT 1 FROM pg_advisory_xact_lock(hashtext(?))")) {
      ps.setString(1, "dev.outbox.createSchema:" + table.name());
      ps.executeQuery().close();
    }
  }

  @Override
  void setInstant(PreparedStatement ps, int index, Instant t) throws SQLException {
    ps.setObject(index, t.truncatedTo(ChronoUnit.MICROS).atOffset(ZoneOffset.UTC));
  }

  @Override
  Instant getInstant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }

  @Override
  void setUuid(PreparedStatement ps, int index, UUID id) throws SQLException {
    ps.setObject(index, id);
  }

  @Override
  UUID getUuid(ResultSet rs, String column) throws SQLException {
    return rs.getObject(column, UUID.class);
  }

  @Override
  String idIn(String column, int n) {
    return column + " = ANY(CAST(? AS bigint[]))";
  }

  @Override
  int bindIds(PreparedStatement ps, int index, Collection<Long> ids) throws SQLException {
    ps.setArray(index, array(ps.getConnection(), "int8", ids.toArray(new Long[0])));
    return index + 1;
  }

  @Override
  String headersAsText(String column) {
    return "CAST(" + column + " AS text) AS headers";
  }

  @Override
  String overridingIdentity() {
    return " OVERRIDING SYSTEM VALUE";
  }

  @Override
  String purgeDeadLettersPage(TableName table) {
    String dead = table.deadLetterSql();
    return "DELETE FROM " + dead + " WHERE id IN (SELECT id FROM " + dead + " ORDER BY id LIMIT ?)";
  }

  private static Array array(Connection c, String type, Object[] elements) throws SQLException {
    return c.createArrayOf(type, elements);
  }

  // ---------------------------------------------------------------- publish

  /**
   * One statement: {@code unnest} keeps the list order (WITH ORDINALITY makes it explicit) and the
   * identity values are drawn in insert order, so the first entry gets the smallest id.
   */
  String insertSql(Sql sql) {
    return "WITH ins AS (INSERT INTO "
        + sql.t
        + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
        + " SELECT CAST(m.message_id AS uuid), m.namespace, m.msg_key, m.payload,"
        + " CAST(m.headers AS jsonb), CAST(m.created_at AS timestamptz), ?"
        + " FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bytea[]),"
        + " CAST(? AS bytea[]), CAST(? AS text[]), CAST(? AS text[]))"
        + " WITH ORDINALITY AS m(message_id, namespace, msg_key, payload, headers, created_at,"
        + " ord) ORDER BY m.ord RETURNING 1) "
        + countAndNotify();
  }

  /**
   * Counts the rows of the {@code ins} CTE and, when configured, signals the channel once (not per
   * row). PostgreSQL delivers a notification only when the transaction commits.
   */
  private String countAndNotify() {
    return channel != null
        ? "SELECT count(*) AS n, CASE WHEN count(*) > 0 THEN pg_notify(?, '') END AS notified"
            + " FROM ins"
        : "SELECT count(*) AS n FROM ins";
  }

  /**
   * One entry, no notification: a plain single-row INSERT. Most services publish one message per
   * business transaction from many threads; binding six one-element arrays (bytea ones travel as
   * escaped text) costs both the JVM and the server measurably more per commit than this.
   */
  String insertOneSql(Sql sql) {
    return "INSERT INTO "
        + sql.t
        + " (message_id, namespace, msg_key, payload, headers, created_at, available_at)"
        + " VALUES (?, ?, ?, ?, CAST(? AS jsonb), ?, ?)";
  }

  private void insertOne(Connection c, Sql sql, NewEntry e) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(insertOneSql(sql))) {
      setUuid(ps, 1, e.messageId());
      ps.setString(2, e.message().namespace());
      ps.setBytes(3, e.message().key());
      ps.setBytes(4, e.message().payload());
      ps.setString(5, HeadersJson.encode(e.message().headers()));
      setInstant(ps, 6, e.createdAt());
      setInstant(ps, 7, Sql.AVAILABLE_AT_ONCE);
      int written = ps.executeUpdate();
      if (written != 1) {
        throw new OutboxException(
            "publish to " + sql.table + " wrote " + written + " rows for 1 entry");
      }
    }
  }

  @Override
  void insert(Connection c, Sql sql, List<NewEntry> entries) throws SQLException {
    int n = entries.size();
    if (n == 1 && channel == null) {
      insertOne(c, sql, entries.get(0));
      return;
    }
    String[] ids = new String[n];
    String[] namespaces = new String[n];
    byte[][] keys = new byte[n][];
    byte[][] payloads = new byte[n][];
    String[] headers = new String[n];
    String[] createdAt = new String[n];
    for (int i = 0; i < n; i++) {
      NewEntry e = entries.get(i);
      ids[i] = e.messageId().toString();
      namespaces[i] = e.message().namespace();
      keys[i] = e.message().key();
      payloads[i] = e.message().payload();
      headers[i] = HeadersJson.encode(e.message().headers());
      createdAt[i] = e.createdAt().truncatedTo(ChronoUnit.MICROS).toString(); // ISO-8601, UTC
    }
    try (PreparedStatement ps = c.prepareStatement(insertSql(sql))) {
      setInstant(ps, 1, Sql.AVAILABLE_AT_ONCE);
      ps.setArray(2, array(c, "text", ids));
      ps.setArray(3, array(c, "text", namespaces));
      ps.setArray(4, array(c, "bytea", keys));
      ps.setArray(5, array(c, "bytea", payloads));
      ps.setArray(6, array(c, "text", headers));
      ps.setArray(7, array(c, "text", createdAt));
      if (channel != null) {
        ps.setString(8, channel);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        long written = rs.getLong(1);
        if (written != n) {
          throw new OutboxException(
              "publish to " + sql.table + " wrote " + written + " rows for " + n + " entries");
        }
      }
    }
  }

  // ---------------------------------------------------------------- claim

  /** The rows a claim takes: the oldest available, skipping rows another claimer holds. */
  String claimCandidates(Sql sql) {
    return "SELECT id FROM "
        + sql.t
        + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED";
  }

  /**
   * One statement: the CTE locks at most {@code limit} rows, skipping those another claimer holds,
   * and the UPDATE finds each by primary key. Parameters: now, limit, token, processor, deadline.
   */
  String claimSql(Sql sql) {
    return "WITH c AS ("
        + claimCandidates(sql)
        + ") UPDATE "
        + sql.t
        + " AS o SET claim_token = ?, processor_id = ?, available_at = ? FROM c"
        + " WHERE o.id = c.id RETURNING o.id, o.message_id, o.namespace, o.msg_key, o.payload,"
        + " CAST(o.headers AS text) AS headers, o.created_at, o.attempts";
  }

  @Override
  boolean claimNeedsTransaction() {
    return false;
  }

  @Override
  List<ClaimedEntry> claim(Connection c, Sql sql, ClaimRequest r) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(claimSql(sql))) {
      setInstant(ps, 1, r.now());
      ps.setInt(2, r.limit());
      setUuid(ps, 3, r.claimToken());
      ps.setString(4, r.processorId());
      setInstant(ps, 5, r.deadline());
      List<ClaimedEntry> claimed = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          claimed.add(Rows.claimed(rs, this));
        }
      }
      return claimed;
    }
  }

  // ---------------------------------------------------------------- release

  /** One statement for every failure, whatever their number. */
  @Override
  int release(Connection c, Sql sql, UUID token, List<FailedEntry> failures) throws SQLException {
    return release(c, sql, failures, token);
  }

  /** The same one statement for entries this transaction holds locked: no token to check. */
  @Override
  int releaseHeld(Connection c, Sql sql, List<FailedEntry> failures) throws SQLException {
    return release(c, sql, failures, null);
  }

  /** Fenced by the token, or (token null) by the caller's row locks. */
  private int release(Connection c, Sql sql, List<FailedEntry> failures, UUID token)
      throws SQLException {
    int n = failures.size();
    Long[] ids = new Long[n];
    Integer[] attempts = new Integer[n];
    String[] retryAts = new String[n];
    String[] errors = new String[n];
    for (int i = 0; i < n; i++) {
      FailedEntry f = failures.get(i);
      ids[i] = f.id();
      attempts[i] = f.attempts();
      retryAts[i] = f.retryAt().truncatedTo(ChronoUnit.MICROS).toString();
      errors[i] = Sql.description(f.error());
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + sql.t
                + " AS o SET attempts = f.attempts, last_error = f.error,"
                + " available_at = f.retry_at, claim_token = NULL"
                + " FROM unnest(CAST(? AS bigint[]), CAST(? AS int[]),"
                + " CAST(CAST(? AS text[]) AS timestamptz[]), CAST(? AS text[]))"
                + " AS f(id, attempts, retry_at, error)"
                + " WHERE o.id = f.id"
                + (token == null ? "" : " AND o.claim_token = ?"))) {
      ps.setArray(1, array(c, "int8", ids));
      ps.setArray(2, array(c, "int4", attempts));
      ps.setArray(3, array(c, "text", retryAts));
      ps.setArray(4, array(c, "text", errors));
      if (token != null) {
        setUuid(ps, 5, token);
      }
      return ps.executeUpdate();
    }
  }

  @Override
  boolean releaseNeedsTransaction() {
    return false;
  }

  /**
   * {@code DELETE ...; COMMIT} in one round trip: pgjdbc sends both statements of a prepared
   * statement together and follows the server's transaction status, so the caller's {@code
   * commit()} afterwards sends nothing. If the {@code DELETE} fails the server skips the {@code
   * COMMIT} and the transaction is left to the caller's rollback.
   */
  @Override
  int deleteLast(Connection c, Sql sql, List<Long> ids) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.deleteEntries(ids.size()) + "; COMMIT")) {
      bindIds(ps, 1, ids);
      ps.execute();
      return ps.getUpdateCount();
    }
  }

  @Override
  void afterRequeue(Connection c) throws SQLException {
    if (channel != null) {
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, '')")) {
        ps.setString(1, channel);
        ps.executeQuery().close();
      }
    }
  }
}
