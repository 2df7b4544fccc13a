package dev.outbox.jdbc;

import dev.outbox.ClaimRequest;
import dev.outbox.ClaimedEntry;
import dev.outbox.NewEntry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * MySQL 8.0+ and MariaDB 10.6+ (InnoDB).
 *
 * <p><b>READ COMMITTED, one statement per transaction.</b> Every unit of the storage's own work
 * starts with {@code SET TRANSACTION ISOLATION LEVEL READ COMMITTED}, which applies to the next
 * transaction only (a pooled connection's session level is left as it was), and under auto-commit
 * that next transaction is the next statement. Under REPEATABLE READ (the server default) a locking
 * read that scans to the end of the table, or a {@code DELETE ... WHERE id IN (...)} that meets a
 * missing id, takes gap and next-key locks that block producers' inserts and close deadlock cycles
 * with them; READ COMMITTED takes record locks only.
 *
 * <p><b>The claim is one statement:</b> {@code UPDATE (SELECT id ... ORDER BY id LIMIT n FOR UPDATE
 * SKIP LOCKED) c STRAIGHT_JOIN outbox o ON o.id = c.id SET ...}: the derived table walks the
 * primary key, skips rows another claimer holds and stops after n available rows (MySQL and MariaDB
 * refuse {@code LIMIT} in an {@code IN} subquery, not in a derived table); STRAIGHT_JOIN keeps the
 * join order so the outbox is reached by primary key. The claimed rows are then read back by their
 * claim token, without locks. With auto-commit on, that is two statements and no transaction
 * toggling; a batch (claim and delete) costs 5 round trips instead of the 11 that {@code
 * jdbi.inTransaction} around two statements cost.
 *
 * <p>Times are DATETIME(6) columns holding UTC, bound as text ({@code 2026-01-01 00:00:00.123456})
 * and read as {@link LocalDateTime}, so neither the session's {@code time_zone} nor the JVM's zone
 * nor Connector/J's zone settings shift them. Text rather than {@code setObject(LocalDateTime)}:
 * MariaDB 10.x announces itself as "5.5.5-10.x", and Connector/J then drops the fractional seconds
 * of temporal parameters. UUIDs are {@code BINARY(16)}, big-endian.
 */
final class MySqlDialect extends JdbcDialect {

  /** The first statement of every unit of the storage's own work. */
  static final String READ_COMMITTED = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED";

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");

  private static final TableName.Rules RULES =
      new TableName.Rules(
          "MySQL",
          Pattern.compile("[A-Za-z_][A-Za-z0-9_]*"),
          "a plain identifier (A-Z, a-z, 0-9, _; not starting with a digit)",
          64,
          '`',
          "database");

  @Override
  public String name() {
    return "MySQL/MariaDB";
  }

  @Override
  TableName.Rules identifiers() {
    return RULES;
  }

  @Override
  String schemaResource() {
    return "dev/outbox/mysql/schema.sql";
  }

  @Override
  void beginWork(Connection c) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(READ_COMMITTED);
    }
  }

  @Override
  void setInstant(PreparedStatement ps, int index, Instant t) throws SQLException {
    ps.setString(
        index,
        DATETIME.format(LocalDateTime.ofInstant(t.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC)));
  }

  @Override
  Instant getInstant(ResultSet rs, String column) throws SQLException {
    LocalDateTime value = rs.getObject(column, LocalDateTime.class);
    return value == null ? null : value.toInstant(ZoneOffset.UTC);
  }

  @Override
  void setUuid(PreparedStatement ps, int index, UUID id) throws SQLException {
    ps.setBytes(index, bytes(id));
  }

  @Override
  UUID getUuid(ResultSet rs, String column) throws SQLException {
    return uuid(rs.getBytes(column));
  }

  @Override
  String idIn(String column, int n) {
    return column + " IN (" + String.join(",", Collections.nCopies(n, "?")) + ")";
  }

  @Override
  int bindIds(PreparedStatement ps, int index, Collection<Long> ids) throws SQLException {
    for (Long id : ids) {
      ps.setLong(index++, id);
    }
    return index;
  }

  @Override
  String headersAsText(String column) {
    return column;
  }

  @Override
  String overridingIdentity() {
    return "";
  }

  @Override
  String purgeDeadLettersPage(TableName table) {
    return "DELETE FROM " + table.deadLetterSql() + " ORDER BY id LIMIT ?";
  }

  /**
   * One JDBC batch in the caller's transaction; with Connector/J's {@code
   * rewriteBatchedStatements=true} it travels as multi-row INSERTs. Ids increase in list order
   * either way.
   */
  @Override
  void insert(Connection c, Sql sql, List<NewEntry> entries, Long[] orderKeys) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.insertOne)) {
      for (int i = 0; i < entries.size(); i++) {
        NewEntry e = entries.get(i);
        setUuid(ps, 1, e.messageId());
        ps.setString(2, e.message().namespace());
        ps.setBytes(3, e.message().key());
        ps.setBytes(4, e.message().payload());
        ps.setString(5, HeadersJson.encode(e.message().headers()));
        setInstant(ps, 6, e.createdAt());
        setInstant(ps, 7, Sql.AVAILABLE_AT_ONCE);
        if (orderKeys != null) {
          ps.setObject(8, orderKeys[i], java.sql.Types.BIGINT);
        }
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  @Override
  boolean claimNeedsTransaction() {
    return false;
  }

  @Override
  List<ClaimedEntry> claim(Connection c, Sql sql, ClaimRequest r) throws SQLException {
    int claimed;
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE (SELECT id FROM "
                + sql.t
                + " WHERE available_at <= ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED) c"
                + " STRAIGHT_JOIN "
                + sql.t
                + " o ON o.id = c.id"
                + " SET o.claim_token = ?, o.processor_id = ?, o.available_at = ?")) {
      setInstant(ps, 1, r.now());
      ps.setInt(2, r.limit());
      setUuid(ps, 3, r.claimToken());
      ps.setString(4, r.processorId());
      setInstant(ps, 5, r.deadline());
      claimed = ps.executeUpdate();
    }
    List<ClaimedEntry> entries = new ArrayList<>(claimed);
    if (claimed == 0) {
      return entries;
    }
    // The token is unique to this claim: the rows carrying it are exactly the ones claimed. The
    // scan walks the primary key like the claim did and stops at the last of them.
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + sql.entryColumns
                + ", attempts FROM "
                + sql.t
                + " WHERE claim_token = ? ORDER BY id LIMIT ?")) {
      setUuid(ps, 1, r.claimToken());
      ps.setInt(2, claimed);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          entries.add(Rows.claimed(rs, this));
        }
      }
    }
    return entries;
  }

  // ---------------------------------------------------------------- ordered storages

  /** How many rows the lock table of the ordered publish has at most. */
  static final int LOCK_STRIPES = 65536;

  /** The lock-table row of an order key. */
  static int stripe(long orderKey) {
    return (int) Math.floorMod(orderKey, (long) LOCK_STRIPES);
  }

  /**
   * One statement in the caller's transaction: {@code INSERT ... ON DUPLICATE KEY UPDATE} of the
   * keys' stripes in ascending order. Either branch leaves this transaction holding an exclusive
   * lock on the stripe's primary-key record until it ends (a new row is locked by its insert, an
   * existing one as the duplicate the update finds), so a second writer of the key waits in its own
   * upsert, before its INSERT into the outbox draws an id. {@code GET_LOCK} would be simpler but
   * belongs to the session, not the transaction: it survives a rollback and goes back to a pool
   * with the connection.
   */
  @Override
  void lockKeys(Connection c, Sql sql, long[] sortedOrderKeys) throws SQLException {
    int[] stripes = new int[sortedOrderKeys.length];
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = stripe(sortedOrderKeys[i]);
    }
    int[] distinct = java.util.Arrays.stream(stripes).sorted().distinct().toArray();
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO "
                + sql.table.keyLocksSql()
                + " (stripe) VALUES "
                + String.join(",", Collections.nCopies(distinct.length, "(?)"))
                + " ON DUPLICATE KEY UPDATE stripe = stripe")) {
      for (int i = 0; i < distinct.length; i++) {
        ps.setInt(i + 1, distinct[i]);
      }
      ps.executeUpdate();
    }
  }

  @Override
  boolean orderedClaimNeedsTransaction() {
    return true;
  }

  /**
   * The ordered claim's candidate heads, a plain (non-locking) read: available entries, oldest
   * first, with no older entry of their order key in the outbox (blocking: and no dead letter of
   * it). Parameters: now, limit.
   */
  String orderedCandidates(Sql sql, boolean blocking) {
    return "SELECT o.id FROM "
        + sql.t
        + " o WHERE o.available_at <= ?"
        + " AND NOT EXISTS (SELECT 1 FROM "
        + sql.t
        + " p WHERE p.order_key = o.order_key AND p.id < o.id)"
        + (blocking
            ? " AND NOT EXISTS (SELECT 1 FROM " + sql.dead + " d WHERE d.order_key = o.order_key)"
            : "")
        + " ORDER BY o.id LIMIT ?";
  }

  /**
   * The ordered claim, in one READ COMMITTED transaction of up to six statements.
   *
   * <ol>
   *   <li>Candidate heads: {@link #orderedCandidates}, a consistent read.
   *   <li>Lock them: {@code SELECT ... WHERE id IN (...) AND available_at <= ? FOR UPDATE SKIP
   *       LOCKED}. A locking read sees the newest committed version, so a candidate claimed,
   *       deleted or released since step 1 drops out, and one another claimer is locking right now
   *       is skipped.
   *   <li>Recheck and find the runs, a consistent read with a fresh snapshot: per locked head with
   *       a key, the key's first {@code maxPerKey} entries by id. The first must be the head
   *       itself, else an older entry exists and the head is dropped; the rest are its candidate
   *       followers. Blocking: a head whose key has a dead letter is dropped as well.
   *   <li>Lock the followers like the heads (only those among the {@code limit} oldest of heads and
   *       followers), and keep each run up to the first it could not lock.
   *   <li>Claim what is kept (oldest first, at most limit) by primary key; read it back by token.
   * </ol>
   *
   * <p><b>Why step 3.</b> InnoDB's locking read (step 2) reads the newest committed rows, but a
   * consistent read's snapshot (step 1's predecessor test) may be older. Take H and F of one key, H
   * older: H's writer commits, then F's (the publish lock orders them). Step 1's snapshot may
   * predate both, while the scan, walking the primary key, passes H while H's insert is still
   * uncommitted (a locked row, skipped) and reaches F after F committed: F would look like a head
   * while H is there. Step 3's snapshot is taken after step 2 saw F committed, hence after H
   * committed: it sees H and drops F. The same holds for a head whose older entry is being claimed
   * by another transaction at this instant: that entry exists in every snapshot (claiming only
   * updates it), so its followers are never taken. Only the claimer holding a head's row lock takes
   * followers, and it locks them too: two claimers never hold entries of one key at once.
   *
   * <p>Step 1 does not lock, so concurrent claimers may pick the same candidates; the one that
   * locks them first takes them and the other takes fewer this time (never waits).
   */
  @Override
  List<ClaimedEntry> claimOrdered(Connection c, Sql sql, ClaimRequest r, boolean blocking)
      throws SQLException {
    List<Long> candidates = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(orderedCandidates(sql, blocking))) {
      setInstant(ps, 1, r.now());
      ps.setInt(2, r.limit());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          candidates.add(rs.getLong(1));
        }
      }
    }
    if (candidates.isEmpty()) {
      return new ArrayList<>();
    }
    // Step 2: lock the heads.
    java.util.Map<Long, Long> heads = new java.util.LinkedHashMap<>(); // id -> order key or null
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT id, order_key FROM "
                + sql.t
                + " WHERE "
                + idIn("id", candidates.size())
                + " AND available_at <= ? ORDER BY id FOR UPDATE SKIP LOCKED")) {
      int next = bindIds(ps, 1, candidates);
      setInstant(ps, next, r.now());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long id = rs.getLong(1);
          long key = rs.getLong(2);
          heads.put(id, rs.wasNull() ? null : key);
        }
      }
    }
    // Step 3: recheck the keyed heads with a fresh snapshot and list their followers.
    java.util.Map<Long, Long> headOfKey = new java.util.HashMap<>();
    heads.forEach(
        (id, key) -> {
          if (key != null) {
            headOfKey.put(key, id);
          }
        });
    java.util.Map<Long, List<Long>> followers = new java.util.HashMap<>(); // head id -> followers
    if (!headOfKey.isEmpty()) {
      List<Long> keys = new ArrayList<>(headOfKey.keySet());
      java.util.Set<Long> dropped = new java.util.HashSet<>();
      java.util.Map<Long, List<Long>> firstOfKey = new java.util.HashMap<>();
      if (heads.size() >= r.limit()) {
        // The heads alone fill the claim, so no follower younger than the newest head can make
        // the cut: one range read per key up to that head (older entries included, for the
        // recheck) instead of one UNION ALL branch per key, which costs MariaDB hundreds of
        // milliseconds at a thousand keys.
        long newestHead = java.util.Collections.max(heads.keySet());
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT id, order_key FROM "
                    + sql.t
                    + " WHERE "
                    + idIn("order_key", keys.size())
                    + " AND id <= ? ORDER BY order_key, id")) {
          int next = bindIds(ps, 1, keys);
          ps.setLong(next, newestHead);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              List<Long> ids = firstOfKey.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>());
              if (ids.size() < r.maxPerKey()) {
                ids.add(rs.getLong(1));
              }
            }
          }
        }
      } else {
        StringBuilder q = new StringBuilder();
        for (int i = 0; i < keys.size(); i++) {
          q.append(i == 0 ? "" : " UNION ALL ")
              .append("(SELECT id, order_key FROM ")
              .append(sql.t)
              .append(" WHERE order_key = ? ORDER BY id LIMIT ?)");
        }
        try (PreparedStatement ps = c.prepareStatement(q.toString())) {
          int i = 1;
          for (Long k : keys) {
            ps.setLong(i++, k);
            ps.setInt(i++, r.maxPerKey());
          }
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              firstOfKey.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(rs.getLong(1));
            }
          }
        }
      }
      for (Long k : keys) {
        List<Long> ids = firstOfKey.getOrDefault(k, List.of());
        ids = new ArrayList<>(ids);
        ids.sort(null);
        Long head = headOfKey.get(k);
        if (ids.isEmpty() || !ids.get(0).equals(head)) {
          dropped.add(k); // an older entry of the key exists
        } else if (ids.size() > 1) {
          followers.put(head, ids.subList(1, ids.size()));
        }
      }
      if (blocking) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT DISTINCT order_key FROM "
                    + sql.dead
                    + " WHERE "
                    + idIn("order_key", keys.size()))) {
          bindIds(ps, 1, keys);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              dropped.add(rs.getLong(1));
            }
          }
        }
      }
      for (Long k : dropped) {
        Long head = headOfKey.get(k);
        heads.remove(head);
        followers.remove(head);
      }
    }
    // Step 4: lock the followers; a run ends at the first one not locked.
    // Only followers that can make the cut (the limit oldest of heads and followers) are locked.
    List<Long> picked = new ArrayList<>(heads.keySet());
    List<Long> all = new ArrayList<>(picked);
    followers.values().forEach(all::addAll);
    all.sort(null);
    long cutoff = all.size() > r.limit() ? all.get(r.limit() - 1) : Long.MAX_VALUE;
    List<Long> allFollowers = new ArrayList<>();
    followers
        .values()
        .forEach(run -> run.stream().filter(id -> id <= cutoff).forEach(allFollowers::add));
    if (!allFollowers.isEmpty()) {
      allFollowers.sort(null);
      java.util.Set<Long> locked = new java.util.HashSet<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT id FROM "
                  + sql.t
                  + " WHERE "
                  + idIn("id", allFollowers.size())
                  + " AND available_at <= ? ORDER BY id FOR UPDATE SKIP LOCKED")) {
        int next = bindIds(ps, 1, allFollowers);
        setInstant(ps, next, r.now());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            locked.add(rs.getLong(1));
          }
        }
      }
      for (List<Long> run : followers.values()) {
        for (Long id : run) {
          if (id > cutoff || !locked.contains(id)) {
            break;
          }
          picked.add(id);
        }
      }
    }
    if (picked.isEmpty()) {
      return new ArrayList<>();
    }
    // Step 5: oldest first, at most limit (a prefix by id keeps each run a prefix), by primary key.
    picked.sort(null);
    List<Long> claim = picked.subList(0, Math.min(picked.size(), r.limit()));
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE "
                + sql.t
                + " SET claim_token = ?, processor_id = ?, available_at = ? WHERE "
                + idIn("id", claim.size()))) {
      setUuid(ps, 1, r.claimToken());
      ps.setString(2, r.processorId());
      setInstant(ps, 3, r.deadline());
      bindIds(ps, 4, claim);
      ps.executeUpdate();
    }
    List<ClaimedEntry> entries = new ArrayList<>(claim.size());
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT "
                + sql.entryColumns
                + ", attempts FROM "
                + sql.t
                + " WHERE "
                + idIn("id", claim.size())
                + " ORDER BY id")) {
      bindIds(ps, 1, claim);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          entries.add(Rows.claimed(rs, this));
        }
      }
    }
    return entries;
  }
}
