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
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import org.jdbi.v3.core.argument.Argument;

/**
 * Conversions between rows and values.
 *
 * <p>Times are DATETIME(6) columns holding UTC. They are bound as text ({@code 2026-01-01
 * 00:00:00.123456}) and read as {@link LocalDateTime}, which Connector/J passes through unchanged,
 * so neither the session's {@code time_zone} nor the JVM's default zone nor the driver's {@code
 * connectionTimeZone}/{@code preserveInstants} settings shift them. Text rather than {@code
 * setObject(LocalDateTime)}: MariaDB 10.x announces itself as "5.5.5-10.x", and Connector/J then
 * drops the fractional seconds of temporal parameters, as for a server older than MySQL 5.6.4.
 * Instants are truncated to microseconds, the column's precision (MySQL would otherwise round,
 * MariaDB truncate).
 */
final class Rows {

  private static final DateTimeFormatter DATETIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss.SSSSSS");

  private Rows() {}

  /** An instant as a UTC DATETIME(6) argument. */
  static Argument utc(Instant t) {
    String value =
        DATETIME.format(LocalDateTime.ofInstant(t.truncatedTo(ChronoUnit.MICROS), ZoneOffset.UTC));
    return (position, statement, ctx) -> statement.setString(position, value);
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
