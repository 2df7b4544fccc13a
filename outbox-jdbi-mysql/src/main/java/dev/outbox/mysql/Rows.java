package dev.outbox.mysql;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.Message;
import dev.outbox.internal.HeadersJson;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.jdbi.v3.core.argument.Argument;

/**
 * Conversions between rows and values.
 *
 * <p>Times are DATETIME(6) columns holding UTC. They are bound and read as {@link LocalDateTime}
 * with {@code setObject}/{@code getObject}, which Connector/J passes through unchanged, so neither
 * the session's {@code time_zone} nor the JVM's default zone nor the driver's {@code
 * connectionTimeZone}/{@code preserveInstants} settings shift them. Instants are truncated to
 * microseconds, the column's precision (MySQL would otherwise round, MariaDB truncate).
 */
final class Rows {

  private Rows() {}

  /** An instant as a UTC DATETIME(6) argument. */
  static Argument utc(Instant t) {
    LocalDateTime value = LocalDateTime.ofInstant(t.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC);
    return (position, statement, ctx) -> statement.setObject(position, value);
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    LocalDateTime value = rs.getObject(column, LocalDateTime.class);
    return value == null ? null : value.toInstant(ZoneOffset.UTC);
  }

  static Message message(ResultSet rs) throws SQLException {
    return Message.builder()
        .namespace(rs.getString("namespace"))
        .key(rs.getBytes("msg_key")) // null stays null, empty stays empty
        .payload(rs.getBytes("payload"))
        .headers(HeadersJson.decode(rs.getString("headers")))
        .build();
  }

  static ClaimedEntry entry(ResultSet rs) throws SQLException {
    return new ClaimedEntry(
        rs.getLong("id"), message(rs), instant(rs, "created_at"), rs.getInt("attempts"));
  }

  static DeadLetter deadLetter(ResultSet rs) throws SQLException {
    return new DeadLetter(
        rs.getLong("id"),
        message(rs),
        instant(rs, "created_at"),
        rs.getInt("attempts"),
        rs.getString("last_error"),
        instant(rs, "dead_lettered_at"));
  }
}
