package dev.outbox.jdbc;

import dev.outbox.ClaimedEntry;
import dev.outbox.DeadLetter;
import dev.outbox.Message;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Rebuilds claimed entries and dead letters from rows, the same for every dialect: the dialect only
 * reads its own UUID and time types. Keys and payloads come back byte for byte (SQL NULL stays a
 * null key, an empty value an empty one); headers are decoded from their JSON text.
 */
final class Rows {

  private Rows() {}

  static ClaimedEntry claimed(ResultSet rs, JdbcDialect dialect) throws SQLException {
    return ClaimedEntry.builder()
        .id(rs.getLong("id"))
        .messageId(dialect.getUuid(rs, "message_id"))
        .message(message(rs))
        .createdAt(dialect.getInstant(rs, "created_at"))
        .attempts(rs.getInt("attempts"))
        .build();
  }

  static DeadLetter deadLetter(ResultSet rs, JdbcDialect dialect) throws SQLException {
    return DeadLetter.builder()
        .id(rs.getLong("id"))
        .messageId(dialect.getUuid(rs, "message_id"))
        .message(message(rs))
        .createdAt(dialect.getInstant(rs, "created_at"))
        .attempts(rs.getInt("attempts"))
        .lastError(rs.getString("last_error"))
        .deadLetteredAt(dialect.getInstant(rs, "dead_lettered_at"))
        .build();
  }

  private static Message message(ResultSet rs) throws SQLException {
    return Message.builder()
        .namespace(rs.getString("namespace"))
        .key(rs.getBytes("msg_key"))
        .payload(rs.getBytes("payload"))
        .headers(HeadersJson.decode(rs.getString("headers")))
        .build();
  }
}
