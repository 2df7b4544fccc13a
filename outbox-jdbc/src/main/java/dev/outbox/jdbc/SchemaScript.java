package dev.outbox.jdbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dialect's schema file, rendered for one table name. The file names its tables {@code outbox},
 * {@code outbox_dead_letters} and {@code outbox_key_locks} and its indexes {@code outbox_order_idx}
 * and {@code outbox_dl_order_idx}, unquoted, so that it runs as it is from Flyway or Liquibase; the
 * names are replaced in the SQL only, never in the {@code --} comments beside it. Index names are
 * not qualified (PostgreSQL creates an index in its table's schema).
 */
final class SchemaScript {

  private static final Pattern SCRIPT_TABLE =
      Pattern.compile(
          "(?<![\\w.\"`])outbox(_dead_letters|_key_locks|_order_idx|_dl_order_idx)?(?![\\w.\"`])");

  private SchemaScript() {}

  /** The script at {@code resource} with the table names of {@code table}. */
  static String render(String resource, TableName table) {
    String script;
    try (InputStream in = SchemaScript.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the class path");
      }
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
    StringBuilder out = new StringBuilder(script.length() + 64);
    for (String line : script.split("\n", -1)) {
      int comment = line.indexOf("--");
      String code = comment < 0 ? line : line.substring(0, comment);
      Matcher m = SCRIPT_TABLE.matcher(code);
      while (m.find()) {
        String name = name(m.group(1), table);
        m.appendReplacement(out, Matcher.quoteReplacement(name));
      }
      m.appendTail(out);
      if (comment >= 0) {
        out.append(line, comment, line.length());
      }
      out.append('\n');
    }
    out.setLength(out.length() - 1);
    return out.toString();
  }

  private static String name(String suffix, TableName table) {
    if (suffix == null) {
      return table.sql();
    }
    return switch (suffix) {
      case "_dead_letters" -> table.deadLetterSql();
      case "_key_locks" -> table.keyLocksSql();
      default -> table.unqualifiedSql(suffix);
    };
  }

  /**
   * The failure of a schema statement, with a hint when it names a column the table lacks: a table
   * of an older schema, which {@code createSchema()} does not change (its {@code CREATE TABLE IF
   * NOT EXISTS} leaves it as it is, and the next statement meets the missing column).
   */
  static SQLException explain(SQLException e, String statement) {
    String state = e.getSQLState();
    boolean missingColumn = "42703".equals(state) || e.getErrorCode() == 1054;
    if (!missingColumn) {
      return e;
    }
    return new SQLException(
        e.getMessage()
            + " -- the table predates this schema: run the dialect's upgrade script"
            + " (dev/outbox/<database>/upgrade-order-key.sql for order_key) first; statement: "
            + statement,
        state,
        e.getErrorCode(),
        e);
  }

  /** The script's statements, comments removed, for executing one by one over JDBC. */
  static List<String> statements(String script) {
    StringBuilder code = new StringBuilder();
    for (String line : script.split("\n", -1)) {
      int comment = line.indexOf("--");
      code.append(comment < 0 ? line : line.substring(0, comment)).append('\n');
    }
    List<String> statements = new ArrayList<>();
    for (String s : code.toString().split(";")) {
      if (!s.isBlank()) {
        statements.add(s.strip());
      }
    }
    return statements;
  }
}
