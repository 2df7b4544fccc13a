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
  void insert(Connection c, Sql sql, List<NewEntry> entries) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql.insertOne)) {
      for (NewEntry e : entries) {
        setUuid(ps, 1, e.messageId());
        ps.setString(2, e.message().namespace());
        ps.setBytes(3, e.message().key());
        ps.setBytes(4, e.message().payload());
        ps.setString(5, HeadersJson.encode(e.message().headers()));
        setInstant(ps, 6, e.createdAt());
        setInstant(ps, 7, Sql.AVAILABLE_AT_ONCE);
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
}
