package dev.outbox.postgres;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.Message;
import dev.outbox.internal.HeadersJson;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.mapper.RowMapper;
import org.postgresql.PGConnection;

/** Binding values to, and reading entries from, the adapter's statements. */
final class Args {

  private Args() {}

  /** An instant as {@code timestamptz}: an {@link OffsetDateTime} at UTC, microseconds kept. */
  static Argument timestamp(Instant instant) {
    OffsetDateTime value = instant.atOffset(ZoneOffset.UTC);
    return (position, statement, ctx) -> statement.setObject(position, value);
  }

  /**
   * A SQL array of {@code elementType}; {@code elements} is a Java array the driver can encode
   * ({@code long[]}, {@code int[]}, {@code String[]}, {@code byte[][]}).
   */
  static Argument array(String elementType, Object elements) {
    return (position, statement, ctx) -> {
      // PGConnection's variant also takes primitive arrays, which JDBC's Object[] one does not.
      Array array =
          statement.getConnection().unwrap(PGConnection.class).createArrayOf(elementType, elements);
      ctx.addCleanable(array::free);
      statement.setArray(position, array);
    };
  }

  /** Ids as a {@code bigint[]}. */
  static Argument ids(Collection<Long> ids) {
    long[] values = new long[ids.size()];
    int i = 0;
    for (Long id : ids) {
      values[i++] = id;
    }
    return array("int8", values);
  }

  static final RowMapper<ClaimedEntry> CLAIMED_ENTRY =
      (rs, ctx) ->
          new ClaimedEntry(
              rs.getLong("id"), message(rs), instant(rs, "created_at"), rs.getInt("attempts"));

  static final RowMapper<DeadLetter> DEAD_LETTER =
      (rs, ctx) ->
          new DeadLetter(
              rs.getLong("id"),
              message(rs),
              instant(rs, "created_at"),
              rs.getInt("attempts"),
              rs.getString("last_error"),
              instant(rs, "dead_lettered_at"));

  private static Message message(ResultSet rs) throws SQLException {
    return Message.builder()
        .namespace(rs.getString("namespace"))
        .key(rs.getBytes("msg_key")) // SQL NULL stays null, an empty bytea an empty array
        .payload(rs.getBytes("payload"))
        .headers(HeadersJson.decode(rs.getString("headers")))
        .build();
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }
}
