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
    String orderKey = sql.ordered ? ", order_key" : "";
    return "WITH ins AS (INSERT INTO "
        + sql.t
        + " (message_id, namespace, msg_key, payload, headers, created_at, available_at"
        + orderKey
        + ") SELECT CAST(m.message_id AS uuid), m.namespace, m.msg_key, m.payload,"
        + " CAST(m.headers AS jsonb), CAST(m.created_at AS timestamptz), ?"
        + (sql.ordered ? ", m.order_key" : "")
        + " FROM unnest(CAST(? AS text[]), CAST(? AS text[]), CAST(? AS bytea[]),"
        + " CAST(? AS bytea[]), CAST(? AS text[]), CAST(? AS text[])"
        + (sql.ordered ? ", CAST(? AS bigint[])" : "")
        + ") WITH ORDINALITY AS m(message_id, namespace, msg_key, payload, headers, created_at"
        + orderKey
        + ", ord) ORDER BY m.ord RETURNING 1) "
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
        + " (message_id, namespace, msg_key, payload, headers, created_at, available_at"
        + (sql.ordered
            ? ", order_key) VALUES (?, ?, ?, ?, CAST(? AS jsonb), ?, ?, ?)"
            : ") VALUES (?, ?, ?, ?, CAST(? AS jsonb), ?, ?)");
  }

  private void insertOne(Connection c, Sql sql, NewEntry e, Long orderKey) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(insertOneSql(sql))) {
      setUuid(ps, 1, e.messageId());
      ps.setString(2, e.message().namespace());
      ps.setBytes(3, e.message().key());
      ps.setBytes(4, e.message().payload());
      ps.setString(5, HeadersJson.encode(e.message().headers()));
      setInstant(ps, 6, e.createdAt());
      setInstant(ps, 7, Sql.AVAILABLE_AT_ONCE);
      if (sql.ordered) {
        ps.setObject(8, orderKey, java.sql.Types.BIGINT);
      }
      int written = ps.executeUpdate();
      if (written != 1) {
        throw new OutboxException(
            "publish to " + sql.table + " wrote " + written + " rows for 1 entry");
      }
    }
  }

  @Override
  void insert(Connection c, Sql sql, List<NewEntry> entries, Long[] orderKeys) throws SQLException {
    int n = entries.size();
    if (n == 1 && channel == null) {
      insertOne(c, sql, entries.get(0), orderKeys == null ? null : orderKeys[0]);
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
      int next = 8;
      if (orderKeys != null) {
        ps.setArray(next++, array(c, "int8", orderKeys));
      }
      if (channel != null) {
        ps.setString(next, channel);
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

  // ---------------------------------------------------------------- ordered storages

  private static final Pattern CREATE_INDEX =
      Pattern.compile("CREATE INDEX IF NOT EXISTS (\"[a-z0-9_]+\") ON ((?:\"[a-z0-9_]+\"\\.)?)");

  /**
   * {@code CREATE INDEX IF NOT EXISTS} takes its table's SHARE lock before it looks whether the
   * index exists (measured on PostgreSQL 15): at every start it would wait for every open writer of
   * the outbox and hold up the writers queued behind it. An index that exists is skipped here
   * instead; {@code createSchema} holds an advisory lock, so no other start creates it meanwhile.
   * So is an index on a table of the schema before {@code order_key} (which {@code CREATE TABLE IF
   * NOT EXISTS} left as it was): an unordered storage works on it unchanged, and an ordered one's
   * {@code createSchema} then fails naming the upgrade script.
   */
  @Override
  boolean schemaStatementNeeded(Connection c, String statement) throws SQLException {
    java.util.regex.Matcher m = CREATE_INDEX.matcher(statement);
    if (!m.lookingAt()) {
      return true;
    }
    String table = statement.substring(m.end(2)).split("[\\s(]", 2)[0];
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT to_regclass(?) IS NULL, EXISTS (SELECT 1 FROM pg_attribute"
                + " WHERE attrelid = to_regclass(?) AND attname = 'order_key' AND NOT attisdropped)")) {
      ps.setString(1, m.group(2) + m.group(1));
      ps.setString(2, m.group(2) + table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1) && rs.getBoolean(2);
      }
    }
  }

  /**
   * The lock space of this table's advisory locks: {@code pg_advisory_xact_lock(int, int)} with
   * this as the first int and the order key folded to 32 bits as the second. The two-int locks
   * never meet one-bigint locks (PostgreSQL keeps the spaces apart), so they collide neither with
   * {@code createSchema}'s lock nor with an application's bigint locks.
   */
  static int lockSpace(Sql sql) {
    return OrderKeys.hash32("dev.outbox.publish:" + sql.table.name());
  }

  /** The order key folded to the advisory lock's 32-bit second half. */
  static int lockId(long orderKey) {
    return (int) (orderKey ^ (orderKey >>> 32));
  }

  /**
   * One statement, no table write: {@code pg_advisory_xact_lock} per key, held until the caller's
   * transaction ends. Several keys are locked in ascending order: {@code unnest} reads the sorted
   * array out in order and the function runs row by row as the scan produces them.
   */
  @Override
  void lockKeys(Connection c, Sql sql, long[] sortedOrderKeys) throws SQLException {
    int[] ids = new int[sortedOrderKeys.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = lockId(sortedOrderKeys[i]);
    }
    java.util.Arrays.sort(ids);
    Integer[] distinct = java.util.Arrays.stream(ids).distinct().boxed().toArray(Integer[]::new);
    if (distinct.length == 1) {
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ?)")) {
        ps.setInt(1, lockSpace(sql));
        ps.setInt(2, distinct[0]);
        ps.executeQuery().close();
      }
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT pg_advisory_xact_lock(?, k) FROM unnest(CAST(? AS int[])) AS k")) {
      ps.setInt(1, lockSpace(sql));
      ps.setArray(2, array(c, "int4", distinct));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // every row is one lock taken
        }
      }
    }
  }

  /**
   * The ordered claim's heads: available entries, oldest first, that no older entry of their order
   * key precedes in the outbox (and, blocking, that no dead letter of their key holds back), locked
   * with {@code SKIP LOCKED}. Parameters: now, limit. An entry without a key has no predecessor
   * ({@code order_key = NULL} is never true), so it is its own head.
   */
  String orderedHeads(Sql sql, boolean blocking) {
    return "SELECT o.id, o.order_key FROM "
        + sql.t
        + " AS o WHERE o.available_at <= ?"
        + " AND NOT EXISTS (SELECT 1 FROM "
        + sql.t
        + " AS p WHERE p.order_key = o.order_key AND p.order_key IS NOT NULL AND p.id < o.id)"
        + (blocking
            ? " AND NOT EXISTS (SELECT 1 FROM "
                + sql.dead
                + " AS d WHERE d.order_key = o.order_key AND d.order_key IS NOT NULL)"
            : "")
        + " ORDER BY o.id LIMIT ? FOR UPDATE OF o SKIP LOCKED";
  }

  /**
   * The whole ordered claim, one statement. Parameters: now, limit, [maxPerKey - 1, limit, now,]
   * token, processor, deadline.
   *
   * <p>{@code h}: the heads ({@link #orderedHeads}). {@code fa}: for each keyed head, the next
   * {@code maxPerKey - 1} entries of its key (an index probe on {@code (order_key, id)}). {@code
   * cut}: the {@code limit} oldest of heads and followers (a prefix by id keeps every run a prefix
   * too), so that no row beyond it is locked. {@code fl}: the followers in the cut this claim can
   * lock while they are available. {@code run}: a head's followers up to the first it could not
   * take, so a run never has a gap. {@code c}: the heads in the cut and the runs.
   *
   * <p><b>Why two claimers never hold two entries of one key.</b> The statement reads one snapshot
   * (READ COMMITTED takes it at the statement's start). A follower F is claimed only together with
   * its head H, whose row lock this statement holds: FOR UPDATE waits for nobody (SKIP LOCKED) but
   * rechecks a row changed since the snapshot, so a locked H is its newest version and available.
   * Another claimer sees H in its snapshot too (H is older than F and committed before F did,
   * because writers of a key serialize from publish to commit), whether or not H is being claimed
   * at that instant, so its head test rejects F: a row claimed by another transaction at the same
   * instant never lets its follower through. Once H is deleted (published) and that committed, F is
   * a head for snapshots taken after, and nobody holds H any more. Followers are locked with SKIP
   * LOCKED and rechecked like heads, so a requeued older dead letter (the one way a key gets an
   * entry older than what a claimer saw) can at most make a claimer take fewer entries.
   */
  String orderedClaimSql(Sql sql, boolean blocking, boolean runs) {
    String picked;
    if (runs) {
      picked =
          "h AS ("
              + orderedHeads(sql, blocking)
              + "), fa AS (SELECT f.id, h.id AS head FROM h CROSS JOIN LATERAL (SELECT p.id FROM "
              + sql.t
              + " AS p WHERE p.order_key = h.order_key AND p.order_key IS NOT NULL"
              + " AND p.id > h.id AND p.id <= (SELECT CASE WHEN count(*) >= ? THEN max(id)"
              + " ELSE 9223372036854775807 END FROM h) ORDER BY p.id LIMIT ?) AS f),"
              + " cut AS (SELECT id FROM (SELECT id FROM h UNION ALL SELECT id FROM fa) AS u"
              + " ORDER BY id LIMIT ?),"
              + " fl AS (SELECT o.id FROM fa JOIN cut ON cut.id = fa.id JOIN "
              + sql.t
              + " AS o ON o.id = fa.id WHERE o.available_at <= ? FOR UPDATE OF o SKIP LOCKED),"
              + " run AS (SELECT fa.id, bool_and(fl.id IS NOT NULL)"
              + " OVER (PARTITION BY fa.head ORDER BY fa.id) AS ok"
              + " FROM fa JOIN cut ON cut.id = fa.id LEFT JOIN fl ON fl.id = fa.id),"
              + " c AS (SELECT h.id FROM h JOIN cut ON cut.id = h.id"
              + " UNION ALL SELECT id FROM run WHERE ok)";
    } else {
      picked = "c AS (" + orderedHeads(sql, blocking) + ")";
    }
    return "WITH "
        + picked
        + " UPDATE "
        + sql.t
        + " AS o SET claim_token = ?, processor_id = ?, available_at = ?"
        + " WHERE o.id = ANY(ARRAY(SELECT id FROM c)) RETURNING o.id, o.message_id, o.namespace, o.msg_key, o.payload,"
        + " CAST(o.headers AS text) AS headers, o.created_at, o.attempts";
  }

  @Override
  boolean orderedClaimNeedsTransaction() {
    return false;
  }

  @Override
  List<ClaimedEntry> claimOrdered(Connection c, Sql sql, ClaimRequest r, boolean blocking)
      throws SQLException {
    boolean runs = r.maxPerKey() > 1;
    try (PreparedStatement ps = c.prepareStatement(orderedClaimSql(sql, blocking, runs))) {
      int i = 1;
      setInstant(ps, i++, r.now());
      ps.setInt(i++, r.limit());
      if (runs) {
        ps.setInt(i++, r.limit());
        ps.setInt(i++, r.maxPerKey() - 1);
        ps.setInt(i++, r.limit());
        setInstant(ps, i++, r.now());
      }
      setUuid(ps, i++, r.claimToken());
      ps.setString(i++, r.processorId());
      setInstant(ps, i, r.deadline());
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
