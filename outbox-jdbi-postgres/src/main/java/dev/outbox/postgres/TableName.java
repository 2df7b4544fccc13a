package dev.outbox.postgres;

import java.util.regex.Pattern;

/**
 * A validated outbox table name, optionally schema-qualified, and the names derived from it. The
 * parts are restricted to lower-case identifiers so the name means the same quoted (as this adapter
 * writes it) and unquoted (as a hand-written migration would), and so no value can smuggle SQL into
 * a statement.
 */
final class TableName {

  /** Appended to the table name to name the dead-letter table. */
  static final String DEAD_LETTER_SUFFIX = "_dead_letters";

  /** PostgreSQL truncates identifiers to 63 bytes; the dead-letter table's name must fit too. */
  static final int MAX_TABLE_LENGTH = 63 - 13;

  static final int MAX_SCHEMA_LENGTH = 63;

  private static final Pattern PART = Pattern.compile("[a-z_][a-z0-9_]*");

  private final String schema; // null when unqualified
  private final String table;

  private TableName(String schema, String table) {
    this.schema = schema;
    this.table = table;
  }

  /**
   * Parses {@code name}: {@code table} or {@code schema.table}, each part a lower-case identifier.
   *
   * @throws IllegalArgumentException naming the bad value and the rule it breaks
   */
  static TableName parse(String name) {
    if (name == null) {
      throw new IllegalArgumentException("tableName must not be null");
    }
    int dot = name.indexOf('.');
    String schema = dot < 0 ? null : name.substring(0, dot);
    String table = dot < 0 ? name : name.substring(dot + 1);
    if (schema != null) {
      checkPart(name, "schema", schema, MAX_SCHEMA_LENGTH);
    }
    checkPart(name, "table", table, MAX_TABLE_LENGTH);
    return new TableName(schema, table);
  }

  private static void checkPart(String name, String what, String part, int maxLength) {
    if (!PART.matcher(part).matches()) {
      throw new IllegalArgumentException(
          "tableName \""
              + name
              + "\" is not allowed: its "
              + what
              + " part \""
              + part
              + "\" must be a plain lower-case identifier (a-z, 0-9, _; not starting with a digit),"
              + " optionally qualified by one schema as schema.table");
    }
    if (part.length() > maxLength) {
      throw new IllegalArgumentException(
          "tableName \""
              + name
              + "\" is not allowed: its "
              + what
              + " part is "
              + part.length()
              + " characters long; the limit is "
              + maxLength
              + " (PostgreSQL keeps 63, and the dead-letter table adds \""
              + DEAD_LETTER_SUFFIX
              + "\")");
    }
  }

  /** The name as given, e.g. {@code app.outbox}. */
  String name() {
    return schema == null ? table : schema + "." + table;
  }

  /** The outbox table, quoted for SQL. */
  String sql() {
    return qualified(table);
  }

  /** The dead-letter table's name as given, e.g. {@code app.outbox_dead_letters}. */
  String deadLetterName() {
    String dead = table + DEAD_LETTER_SUFFIX;
    return schema == null ? dead : schema + "." + dead;
  }

  /** The dead-letter table, quoted for SQL. */
  String deadLetterSql() {
    return qualified(table + DEAD_LETTER_SUFFIX);
  }

  private String qualified(String t) {
    return schema == null ? quote(t) : quote(schema) + "." + quote(t);
  }

  /** Quotes an identifier; our identifiers contain no quote, but a channel name may. */
  static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }

  @Override
  public String toString() {
    return name();
  }
}
